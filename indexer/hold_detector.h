// HoldDetector turns an episode's stream of frame hashes into entries: consecutive frames
// within `hold_distance` bits of the entry's first frame are one entry with a [start, end]
// time range (animation on 2s and 3s, held drawings, static shots). A drawing that comes
// back later (loops, reused shots, recaps) starts a new entry with its own times. Frames
// below `min_quality` (black, flat colour, fades, title cards) end the current entry and
// are not indexed: they carry no information a query could be attributed by. Not
// thread-safe; one detector per episode.
#pragma once

#include <cstdint>
#include <vector>

#include "celtrace/catalog.h"
#include "celtrace/index_store.h"
#include "celtrace/pdq.h"

namespace celtrace {

class HoldDetector {
 public:
  explicit HoldDetector(const IndexParameters& parameters) : parameters_(parameters) {}

  // Adds the next frame (presentation times must increase).
  void Add(const Pdq& hash, double seconds);
  // Closes the open entry and returns all entries in time order (ids and episode unset).
  std::vector<Entry> Finish();

  std::int64_t low_quality_frames() const { return low_quality_frames_; }
  // Entries opened so far; it grows by one exactly when Add starts a new entry.
  std::int64_t entries_started() const {
    return static_cast<std::int64_t>(entries_.size()) + (has_open_ ? 1 : 0);
  }

 private:
  void Close();

  IndexParameters parameters_;
  std::vector<Entry> entries_;
  Entry open_;
  bool has_open_ = false;
  std::int64_t low_quality_frames_ = 0;
};

}  // namespace celtrace
