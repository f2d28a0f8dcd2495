// The write path: catalogue episodes -> decoded, scaled frames -> PDQ -> hold detection ->
// one new index generation. A TBB pipeline decodes and hashes several episodes in
// parallel, and a single writer appends their entries to the FAISS index and the SQLite
// catalogue, then publishes the generation atomically. A bad episode is reported and
// skipped; cancellation or an error before publishing leaves the previous generation live.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "celtrace/catalog.h"
#include "celtrace/catalog_csv.h"
#include "celtrace/index_store.h"

namespace celtrace {

struct IndexOptions {
  std::filesystem::path index_dir;  // INDEX folder (created by build)
  IndexParameters parameters;       // build only; add reuses the index's own
  // Worker threads (episodes decoded at once). Default 0: one per core.
  int threads = 0;
  bool progress = true;  // progress on stderr
  // Set (e.g. by a signal handler) to stop early; nothing is published then.
  const std::atomic<bool>* cancel = nullptr;
};

struct EpisodeFailure {
  std::string source;  // catalogue path
  std::string reason;
};

struct IndexReport {
  std::string generation;  // the generation published
  int episodes = 0;        // in the published generation
  int episodes_decoded = 0;
  int episodes_kept = 0;     // carried over from the previous generation without decoding
  int episodes_removed = 0;  // dropped by remove
  std::vector<EpisodeFailure> failures;
  std::int64_t entries = 0;  // in the published generation
  std::int64_t frames_decoded = 0;
  std::int64_t low_quality_frames = 0;  // decoded frames not indexed (quality gate)
  double footage_seconds = 0;           // of video decoded
  double elapsed_seconds = 0;
  std::int64_t keyframes = 0;  // feature keyframes in the published generation
  double feature_seconds = 0;  // thread-seconds spent extracting features (decoded only)
};

// Builds a new generation holding exactly `episodes` (a rebuild if the index exists).
// Throws celtrace::Error if nothing could be indexed or publishing fails.
IndexReport BuildIndex(std::span<const EpisodeSource> episodes, const IndexOptions& options);

// Publishes a new generation with the existing episodes plus those of `episodes` not yet
// indexed (same title, season, episode); indexed ones are not decoded again. An episode
// already indexed from a file with another SHA-256 is a failure ("remove it first").
// Throws celtrace::IndexError if the index is unusable.
IndexReport AddToIndex(std::span<const EpisodeSource> episodes, const IndexOptions& options);

struct EpisodeSelector {
  std::string title;
  std::optional<int> season;   // unset: every season
  std::optional<int> episode;  // unset: every episode (requires season)
};

// Publishes a new generation without the selected episodes. Throws celtrace::Error if
// none match.
IndexReport RemoveFromIndex(const EpisodeSelector& selector, const IndexOptions& options);

// Decodes and hashes one episode: its catalogue record (SHA-256, duration, frames) and its
// entries (ids unset). `on_frames(seconds_done, frames)` is called as decoding advances.
// Throws celtrace::Error if the file cannot be decoded, or, before decoding, if its SHA-256
// is one of `indexed_files` (SHA-256 -> the episode indexed from it, for the message).
// Keyframes' first_entry and last_entry are positions in `entries` (0-based), not ids.
struct HashedEpisode {
  EpisodeRecord record;
  std::vector<Entry> entries;
  std::int64_t low_quality_frames = 0;
  std::vector<FeatureKeyframe> orb;       // parameters.local_features: luma features
  std::vector<FeatureKeyframe> line_art;  // parameters.line_art: ink-map features
  double feature_seconds = 0;             // time spent extracting features (both channels)
};
HashedEpisode HashEpisode(const EpisodeSource& source, const IndexParameters& parameters,
                          int decoder_threads, const std::atomic<bool>* cancel,
                          const std::function<void(double, std::int64_t)>& on_frames,
                          const std::map<std::string, std::string>& indexed_files = {});

}  // namespace celtrace
