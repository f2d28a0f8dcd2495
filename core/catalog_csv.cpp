#include "celtrace/catalog_csv.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "celtrace/catalog.h"
#include "celtrace/csv.h"
#include "celtrace/error.h"
#include "celtrace/utf8.h"

namespace celtrace {
namespace {

constexpr const char* kRequired[] = {"path", "title", "season", "episode"};

bool ParseNumber(const std::string& text, int* value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return ec == std::errc() && ptr == end && *value >= 0;
}

}  // namespace

std::vector<EpisodeSource> ReadCatalogCsv(const std::filesystem::path& csv) {
  std::ifstream in(csv, std::ios::binary);
  if (!in) throw Error("cannot open catalogue " + csv.string());
  std::stringstream text;
  text << in.rdbuf();
  std::string_view content = text.view();
  // A byte-order mark, as spreadsheets write "CSV UTF-8": not part of the first column's name.
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> lines;  // each row's line in the file
  try {
    rows = ParseCsv(content, &lines);
  } catch (const Error& e) {
    throw Error(csv.string() + ": " + e.what());
  }
  if (rows.empty()) throw Error(csv.string() + ": empty catalogue (expected a header row)");

  const std::string where = csv.string() + ":";
  std::vector<std::string> problems;
  std::map<std::string, size_t> column;
  const std::string header_line = where + std::to_string(lines[0]) + ": ";
  for (size_t c = 0; c < rows[0].size(); ++c) {
    const std::string& name = rows[0][c];
    if (!IsValidUtf8(name)) {
      problems.push_back(header_line + "column " + std::to_string(c + 1) +
                         "'s name is not valid UTF-8 (save the catalogue as UTF-8)");
    } else if (const auto [it, inserted] = column.emplace(name, c); !inserted) {
      problems.push_back(header_line + "column '" + name + "' appears twice (columns " +
                         std::to_string(it->second + 1) + " and " + std::to_string(c + 1) + ")");
    }
  }
  for (const char* name : kRequired) {
    if (!column.contains(name)) {
      problems.push_back(header_line + "missing column '" + name +
                         "' (header must name path,title,season,episode)");
    }
  }
  if (!problems.empty()) throw Error(problems.front() + (problems.size() > 1 ? " (and more)" : ""));

  const std::filesystem::path base = csv.parent_path();
  std::vector<EpisodeSource> episodes;
  std::map<std::string, size_t> seen_keys, seen_files;
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::string line = where + std::to_string(lines[r]) + ": ";
    const auto& fields = rows[r];
    if (fields.size() != rows[0].size()) {
      problems.push_back(line + "has " + std::to_string(fields.size()) + " fields, header has " +
                         std::to_string(rows[0].size()));
      continue;
    }
    // The index keeps its text as UTF-8 (the manifest is JSON): refused here, before hours of
    // decoding, not when the generation is written.
    bool utf8 = true;
    for (const auto& [name, index] : column) {
      if (!IsValidUtf8(fields[index])) {
        problems.push_back(line + "'" + name + "' is not valid UTF-8 (save the catalogue as " +
                           "UTF-8; a file name that is not must be renamed)");
        utf8 = false;
      }
    }
    if (!utf8) continue;
    EpisodeSource episode;
    episode.source = fields[column["path"]];
    episode.title = fields[column["title"]];
    for (const auto& [name, index] : column) {
      if (name != "path" && name != "title" && name != "season" && name != "episode") {
        episode.extra[name] = fields[index];
      }
    }
    bool ok = true;
    if (episode.title.empty()) {
      problems.push_back(line + "empty title");
      ok = false;
    }
    if (!ParseNumber(fields[column["season"]], &episode.season)) {
      problems.push_back(line + "season '" + fields[column["season"]] +
                         "' is not a non-negative integer");
      ok = false;
    }
    if (!ParseNumber(fields[column["episode"]], &episode.episode)) {
      problems.push_back(line + "episode '" + fields[column["episode"]] +
                         "' is not a non-negative integer");
      ok = false;
    }
    if (episode.source.empty()) {
      problems.push_back(line + "empty path");
      continue;
    }
    episode.path = std::filesystem::path(episode.source).is_absolute()
                       ? std::filesystem::path(episode.source)
                       : base / episode.source;
    std::error_code error;
    if (!std::filesystem::is_regular_file(episode.path, error)) {
      problems.push_back(line + "file not found or not a regular file: " + episode.path.string());
      ok = false;
    } else {
      const std::string canonical = std::filesystem::canonical(episode.path, error).string();
      if (const auto [it, inserted] = seen_files.emplace(canonical, lines[r]); !inserted) {
        problems.push_back(line + "same file as line " + std::to_string(it->second) + ": " +
                           episode.source);
        ok = false;
      }
    }
    if (!ok) continue;
    const std::string key = EpisodeKey(episode.title, episode.season, episode.episode);
    if (const auto [it, inserted] = seen_keys.emplace(key, lines[r]); !inserted) {
      problems.push_back(line + "duplicate of line " + std::to_string(it->second) + ": " +
                         episode.title + " S" + std::to_string(episode.season) + "E" +
                         std::to_string(episode.episode));
      continue;
    }
    episodes.push_back(std::move(episode));
  }
  if (!problems.empty()) {
    std::string message = std::to_string(problems.size()) + " problem(s) in the catalogue:";
    for (const auto& problem : problems) message += "\n  " + problem;
    throw Error(message);
  }
  if (episodes.empty()) throw Error(csv.string() + ": the catalogue lists no episodes");
  return episodes;
}

}  // namespace celtrace
