// The HTML evidence report (celtrace-match --report): one self-contained static page with a
// summary per title and episode and one row per input, the leaked image beside the
// reference frame it matched. The page makes no network request (a CSP meta tag forbids
// it), and every string from the leak or the catalogue is data rendered as text, never
// markup. HtmlReport is not thread-safe.
//
// Size budget: at most kReportBytesPerInput bytes per input, so 10,000 inputs stay under
// 60 MB even when every input matched a different reference frame: two thumbnails of at
// most ThumbnailOptions::max_bytes (2,048 B, 2,732 B as base64) plus ~300-500 B of row data.
// Identical thumbnails are stored once (duplicates, inputs that matched the same frame).
// Measured (2 vCPU EPYC): 10,000 inputs with every thumbnail distinct, 53.6 MB; a real run
// over 10,000 frames of 4 episodes (773 distinct reference frames), 23.1 MB. Chromium fires
// the load event after 2.8 s and 2.2 s.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "celtrace/catalog.h"
#include "match_options.h"
#include "reference_index.h"
#include "result_record.h"
#include "thumbnail.h"

namespace celtrace {

inline constexpr std::uint64_t kReportBytesPerInput = 6000;

// Returns `text` with & < > " ' replaced by character references, for HTML text and
// attribute values.
std::string EscapeHtml(std::string_view text);

// The facts the page's header states.
struct ReportContext {
  std::string index;       // the index folder as given
  std::string generation;  // its live generation, e.g. "gen-000003"
  std::string created;     // when the report was made (UTC, ISO 8601); empty: not shown
  int threshold = 0;       // MatchOptions::threshold of the run
  int min_quality = 0;     // MatchOptions::min_quality of the run
  // The index's episodes: their durations scale the timelines. May be empty (the timelines
  // then span the matched times).
  std::vector<EpisodeRecord> episodes;
};

class HtmlReport {
 public:
  explicit HtmlReport(ReportContext context);

  // Adds the next input's row, in input order. The JPEGs (ThumbnailOptions-sized) may be
  // empty: the row then shows a placeholder, with `reference_note` saying why for the
  // reference frame.
  void Add(const ResultRecord& record, std::span<const std::uint8_t> leak_jpeg,
           std::span<const std::uint8_t> reference_jpeg, std::string_view reference_note);

  // Writes the page.
  void Write(std::ostream& out) const;

  std::size_t rows() const { return rows_.size(); }

 private:
  struct EpisodeSummary {
    std::int64_t files = 0;
    double first = 0;  // seconds
    double last = 0;
  };
  int Intern(std::vector<std::string>* table, std::unordered_map<std::string, int>* index,
             const std::string& value);
  int Thumbnail(std::span<const std::uint8_t> jpeg);
  int EpisodeOf(const MatchRecord& match);
  std::string SummaryHtml() const;
  std::string DataJson() const;

  ReportContext context_;
  std::vector<std::string> rows_;                         // each row's JSON array
  std::vector<std::string> thumbnails_;                   // base64 JPEGs
  std::unordered_map<std::string, int> thumbnail_index_;  // XXH3-128 of the JPEG -> index
  std::vector<std::string> titles_, statuses_, media_, notes_;
  std::unordered_map<std::string, int> title_index_, status_index_, media_index_, note_index_;
  struct EpisodeKey {
    int title = 0, season = 0, episode = 0;
    double duration = 0;
  };
  std::vector<EpisodeKey> episodes_;
  std::map<std::tuple<int, int, int>, int> episode_index_;  // (title, season, episode) -> index
  std::map<int, EpisodeSummary> summary_;                   // episode index -> summary
  std::map<int, std::int64_t> status_counts_;               // status index -> inputs
};

struct ReportOptions {
  // Folder that relative catalogue sources are resolved against before the catalogue
  // folder the index recorded; empty: that folder only.
  std::filesystem::path footage_dir;
  ThumbnailOptions thumbnails;
};

// Writes the report of a run to `page`: `records` in input order, leaked thumbnails by
// content SHA-256. Grabs the reference frame of every matched record's best match from the
// catalogue footage (GrabReferenceThumbnails); `log` gets what could not be grabbed. The
// caller puts the page where the user asked (match_job.cpp: through links, atomically).
void WriteMatchReport(std::span<const ResultRecord> records,
                      const std::map<std::string, std::vector<std::uint8_t>>& leak_thumbnails,
                      const ReferenceIndex& index, const MatchOptions& options,
                      const ReportOptions& report, std::ostream& page, std::ostream& log);

}  // namespace celtrace
