// Catalog is the SQLite catalogue of one index generation: titles, episodes and entries
// (entry id = FAISS id -> episode, time range, quality, hash). It is written once by the
// indexer's single writer and then opened read-only (immutable). A Catalog object is not
// thread-safe; open one per thread to read concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "celtrace/pdq.h"

namespace SQLite {
class Database;
}

namespace celtrace {

// One text per (title, season, episode), for maps of episodes: the catalogue's duplicate
// check, the index's kept episodes and their catalogue folders.
std::string EpisodeKey(const std::string& title, int season, int episode);

struct EpisodeRecord {
  std::int64_t id = 0;  // assigned by AddEpisode
  std::string title;
  int season = 0;
  int episode = 0;
  std::string source;             // the catalogue path as the user wrote it
  std::string sha256;             // of the episode file
  double duration = 0;            // seconds of video decoded
  std::int64_t frames = 0;        // frames decoded
  std::string extra_json = "{}";  // further catalogue columns, as a JSON object

  friend bool operator==(const EpisodeRecord&, const EpisodeRecord&) = default;
};

// One distinct image of an episode: consecutive frames within the hold distance of the
// first. `start` and `end` are the presentation times (seconds) of its first and last frame.
struct Entry {
  std::int64_t id = 0;  // = FAISS id in the generation's pdq.faiss
  std::int64_t episode_id = 0;
  double start = 0;
  double end = 0;
  int quality = 0;  // PDQ quality of the first frame
  int frames = 0;   // frames merged into the entry
  Pdq hash;

  friend bool operator==(const Entry&, const Entry&) = default;
};

class Catalog {
 public:
  // Creates an empty catalogue with the schema (WAL journal while building). Throws
  // celtrace::Error if the file exists or cannot be created.
  static Catalog Create(const std::filesystem::path& path);
  // Opens a published catalogue read-only. Throws celtrace::IndexError if it is not one.
  static Catalog Open(const std::filesystem::path& path);

  Catalog(Catalog&&) noexcept;
  Catalog& operator=(Catalog&&) noexcept;
  ~Catalog();

  // Adds an episode (and its title if new); returns its id.
  std::int64_t AddEpisode(const EpisodeRecord& episode);
  // Adds entries with their ids, in one transaction.
  void AddEntries(std::span<const Entry> entries);
  // Checkpoints the WAL and switches to a rollback journal, so the published catalogue is
  // one self-contained file whose checksum never changes.
  void Finish();

  std::vector<EpisodeRecord> Episodes() const;                  // ordered by title, season, episode
  std::vector<Entry> EntriesOf(std::int64_t episode_id) const;  // ordered by start
  std::vector<Entry> AllEntries() const;                        // ordered by id
  std::optional<Entry> FindEntry(std::int64_t id) const;
  std::optional<EpisodeRecord> FindEpisode(std::int64_t episode_id) const;
  std::int64_t EntryCount() const;
  std::int64_t TitleCount() const;

 private:
  explicit Catalog(std::unique_ptr<SQLite::Database> db);
  std::unique_ptr<SQLite::Database> db_;
};

}  // namespace celtrace
