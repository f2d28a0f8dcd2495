// The catalogue manifest (DESIGN.md contract): a CSV with a header row
// `path,title,season,episode` and optional further columns, listing licensed episodes.
// Reading validates everything before any decoding starts. Thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace celtrace {

struct EpisodeSource {
  std::filesystem::path path;  // resolved: relative paths are taken from the CSV's folder
  std::string source;          // the path as written in the CSV (reported in results)
  std::string title;
  int season = 0;
  int episode = 0;
  std::map<std::string, std::string> extra;  // other columns, e.g. episode_title

  friend bool operator==(const EpisodeSource&, const EpisodeSource&) = default;
};

// Reads and validates a catalogue CSV: required columns, field counts, non-empty titles,
// non-negative integer season/episode, existing regular files, no duplicate
// (title, season, episode) or file. Throws celtrace::Error listing every problem found, one
// per line as `FILE:LINE: message`.
std::vector<EpisodeSource> ReadCatalogCsv(const std::filesystem::path& csv);

}  // namespace celtrace
