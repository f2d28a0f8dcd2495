#include "celtrace/catalog.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstring>

#include "celtrace/error.h"

namespace celtrace {

std::string EpisodeKey(const std::string& title, int season, int episode) {
  return title + "\x1f" + std::to_string(season) + "\x1f" + std::to_string(episode);
}

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE titles (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL UNIQUE
);
CREATE TABLE episodes (
  id        INTEGER PRIMARY KEY,
  title_id  INTEGER NOT NULL REFERENCES titles(id),
  season    INTEGER NOT NULL,
  episode   INTEGER NOT NULL,
  source    TEXT NOT NULL,
  sha256    TEXT NOT NULL,
  duration  REAL NOT NULL,
  frames    INTEGER NOT NULL,
  extra     TEXT NOT NULL DEFAULT '{}',
  UNIQUE (title_id, season, episode)
);
CREATE TABLE entries (
  id          INTEGER PRIMARY KEY,
  episode_id  INTEGER NOT NULL REFERENCES episodes(id),
  start       REAL NOT NULL,
  end         REAL NOT NULL,
  quality     INTEGER NOT NULL,
  frames      INTEGER NOT NULL,
  hash        BLOB NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX entries_by_episode ON entries (episode_id, start);
)sql";

constexpr const char* kEpisodeColumns =
    "e.id, t.name, e.season, e.episode, e.source, e.sha256, e.duration, e.frames, e.extra "
    "FROM episodes e JOIN titles t ON t.id = e.title_id";
constexpr const char* kEntryColumns =
    "id, episode_id, start, end, quality, frames, hash FROM entries";

EpisodeRecord ReadEpisode(SQLite::Statement& row) {
  EpisodeRecord episode;
  episode.id = row.getColumn(0).getInt64();
  episode.title = row.getColumn(1).getString();
  episode.season = row.getColumn(2).getInt();
  episode.episode = row.getColumn(3).getInt();
  episode.source = row.getColumn(4).getString();
  episode.sha256 = row.getColumn(5).getString();
  episode.duration = row.getColumn(6).getDouble();
  episode.frames = row.getColumn(7).getInt64();
  episode.extra_json = row.getColumn(8).getString();
  return episode;
}

Entry ReadEntry(SQLite::Statement& row) {
  Entry entry;
  entry.id = row.getColumn(0).getInt64();
  entry.episode_id = row.getColumn(1).getInt64();
  entry.start = row.getColumn(2).getDouble();
  entry.end = row.getColumn(3).getDouble();
  entry.quality = row.getColumn(4).getInt();
  entry.frames = row.getColumn(5).getInt();
  const SQLite::Column blob = row.getColumn(6);
  if (blob.getBytes() != static_cast<int>(entry.hash.bytes.size())) {
    throw IndexError("catalogue entry " + std::to_string(entry.id) + " has a malformed hash");
  }
  std::memcpy(entry.hash.bytes.data(), blob.getBlob(), entry.hash.bytes.size());
  entry.hash.quality = entry.quality;
  return entry;
}

template <typename Fn>
auto Translate(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const SQLite::Exception& e) {
    throw Error(std::string("catalogue ") + what + ": " + e.what());
  }
}

}  // namespace

Catalog::Catalog(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)) {}
Catalog::Catalog(Catalog&&) noexcept = default;
Catalog& Catalog::operator=(Catalog&&) noexcept = default;
Catalog::~Catalog() = default;

Catalog Catalog::Create(const std::filesystem::path& path) {
  if (std::filesystem::exists(path)) throw Error("catalogue already exists: " + path.string());
  return Translate("create", [&] {
    auto db = std::make_unique<SQLite::Database>(path.string(),
                                                 SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db->exec("PRAGMA journal_mode=WAL");
    db->exec("PRAGMA synchronous=NORMAL");
    db->exec(kSchema);
    return Catalog(std::move(db));
  });
}

Catalog Catalog::Open(const std::filesystem::path& path) {
  try {
    // immutable=1: no locks, no journal files beside a published generation.
    auto db = std::make_unique<SQLite::Database>("file:" + path.string() + "?immutable=1",
                                                 SQLite::OPEN_READONLY | SQLite::OPEN_URI);
    db->execAndGet("SELECT count(*) FROM entries");
    return Catalog(std::move(db));
  } catch (const SQLite::Exception& e) {
    throw IndexError("cannot open catalogue " + path.string() + ": " + e.what());
  }
}

std::int64_t Catalog::AddEpisode(const EpisodeRecord& episode) {
  return Translate("add episode", [&] {
    SQLite::Transaction transaction(*db_);
    SQLite::Statement title(*db_, "INSERT OR IGNORE INTO titles (name) VALUES (?)");
    title.bind(1, episode.title);
    title.exec();
    SQLite::Statement insert(*db_,
                             "INSERT INTO episodes (title_id, season, episode, source, sha256, "
                             "duration, frames, extra) VALUES ((SELECT id FROM titles WHERE "
                             "name = ?), ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, episode.title);
    insert.bind(2, episode.season);
    insert.bind(3, episode.episode);
    insert.bind(4, episode.source);
    insert.bind(5, episode.sha256);
    insert.bind(6, episode.duration);
    insert.bind(7, static_cast<int64_t>(episode.frames));
    insert.bind(8, episode.extra_json);
    insert.exec();
    const std::int64_t id = db_->getLastInsertRowid();
    transaction.commit();
    return id;
  });
}

void Catalog::AddEntries(std::span<const Entry> entries) {
  Translate("add entries", [&] {
    SQLite::Transaction transaction(*db_);
    SQLite::Statement insert(*db_,
                             "INSERT INTO entries (id, episode_id, start, end, quality, frames, "
                             "hash) VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const Entry& entry : entries) {
      insert.bind(1, static_cast<int64_t>(entry.id));
      insert.bind(2, static_cast<int64_t>(entry.episode_id));
      insert.bind(3, entry.start);
      insert.bind(4, entry.end);
      insert.bind(5, entry.quality);
      insert.bind(6, entry.frames);
      insert.bind(7, entry.hash.bytes.data(), static_cast<int>(entry.hash.bytes.size()));
      insert.exec();
      insert.reset();
    }
    transaction.commit();
    return 0;
  });
}

void Catalog::Finish() {
  Translate("finish", [&] {
    db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db_->exec("PRAGMA journal_mode=DELETE");
    db_.reset();  // closing removes the -wal and -shm files
    return 0;
  });
}

std::vector<EpisodeRecord> Catalog::Episodes() const {
  return Translate("read episodes", [&] {
    SQLite::Statement query(
        *db_, std::string("SELECT ") + kEpisodeColumns + " ORDER BY t.name, e.season, e.episode");
    std::vector<EpisodeRecord> episodes;
    while (query.executeStep()) episodes.push_back(ReadEpisode(query));
    return episodes;
  });
}

std::optional<EpisodeRecord> Catalog::FindEpisode(std::int64_t episode_id) const {
  return Translate("read episode", [&]() -> std::optional<EpisodeRecord> {
    SQLite::Statement query(*db_, std::string("SELECT ") + kEpisodeColumns + " WHERE e.id = ?");
    query.bind(1, static_cast<int64_t>(episode_id));
    if (!query.executeStep()) return std::nullopt;
    return ReadEpisode(query);
  });
}

std::vector<Entry> Catalog::EntriesOf(std::int64_t episode_id) const {
  return Translate("read entries", [&] {
    SQLite::Statement query(
        *db_, std::string("SELECT ") + kEntryColumns + " WHERE episode_id = ? ORDER BY start, id");
    query.bind(1, static_cast<int64_t>(episode_id));
    std::vector<Entry> entries;
    while (query.executeStep()) entries.push_back(ReadEntry(query));
    return entries;
  });
}

std::vector<Entry> Catalog::AllEntries() const {
  return Translate("read entries", [&] {
    SQLite::Statement query(*db_, std::string("SELECT ") + kEntryColumns + " ORDER BY id");
    std::vector<Entry> entries;
    while (query.executeStep()) entries.push_back(ReadEntry(query));
    return entries;
  });
}

std::optional<Entry> Catalog::FindEntry(std::int64_t id) const {
  return Translate("read entry", [&]() -> std::optional<Entry> {
    SQLite::Statement query(*db_, std::string("SELECT ") + kEntryColumns + " WHERE id = ?");
    query.bind(1, static_cast<int64_t>(id));
    if (!query.executeStep()) return std::nullopt;
    return ReadEntry(query);
  });
}

std::int64_t Catalog::EntryCount() const {
  return Translate("count",
                   [&] { return db_->execAndGet("SELECT count(*) FROM entries").getInt64(); });
}

std::int64_t Catalog::TitleCount() const {
  return Translate("count",
                   [&] { return db_->execAndGet("SELECT count(*) FROM titles").getInt64(); });
}

}  // namespace celtrace
