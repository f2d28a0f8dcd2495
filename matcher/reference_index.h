// ReferenceIndex is the read-only view of a verified index generation that the matcher
// searches: the FAISS index plus every entry's episode and time range held in memory
// (24 bytes per entry), so that attribution needs no SQLite access. Thread-safe once built.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "celtrace/catalog.h"
#include "celtrace/hash_index.h"
#include "celtrace/index_store.h"

namespace celtrace {

struct EntryInfo {
  std::int32_t episode = 0;  // index into ReferenceIndex::episodes()
  std::int32_t quality = 0;
  double start = 0;  // seconds
  double end = 0;
};

class ReferenceIndex {
 public:
  // Opens and verifies INDEX (Index::Open). Throws celtrace::IndexError.
  explicit ReferenceIndex(const std::filesystem::path& index_dir);

  const GenerationInfo& info() const { return index_.info(); }
  const std::vector<EpisodeRecord>& episodes() const { return episodes_; }
  std::span<const EntryInfo> entries() const { return entries_; }

  // As HashIndex::Search: per query, entries within max_distance, nearest first.
  std::vector<std::vector<Neighbor>> Search(std::span<const std::uint8_t> queries, int max_distance,
                                            int limit) const {
    return index_.pdq().Search(queries, max_distance, limit);
  }

  // The extra channel of that name (kOrbChannel, kLineArtChannel), or null when the
  // generation has none.
  const FeatureIndex* channel(const std::string& name) const { return index_.channel(name); }

 private:
  Index index_;
  std::vector<EpisodeRecord> episodes_;
  std::vector<EntryInfo> entries_;
};

}  // namespace celtrace
