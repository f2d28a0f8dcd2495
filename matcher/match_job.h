// The batch attribution job behind celtrace-match: walks the inputs, analyses them on TBB
// workers (identical contents once), and writes one record per input, in input order, as
// JSON Lines and optionally CSV and an HTML evidence report. With a job folder the run is
// resumable: records (and report thumbnails) are journaled as they complete, a rerun after
// a crash or Ctrl-C analyses only what is left, and the final outputs equal an
// uninterrupted run's.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "match_options.h"

namespace celtrace {

struct OutputOptions {
  std::filesystem::path out;      // JSON Lines file; empty: standard output
  std::filesystem::path csv;      // CSV file; empty: none
  std::filesystem::path job_dir;  // resumable job folder; empty: none
  // HTML evidence report (html_report.h), written when every input is done; empty: none.
  std::filesystem::path report;
  // Where the report finds the catalogue footage for reference frames (ReportOptions).
  std::filesystem::path footage_dir;
  // The options the records depend on, one "name=value" per line (celtrace-match: every
  // option but the inputs, outputs, threads, progress and sandbox): a job folder keeps them
  // with the index generation, and refuses to resume under others.
  std::string settings;
};

struct MatchSummary {
  std::int64_t inputs = 0;
  std::int64_t analysed = 0;  // analysed in this run (not resumed, not duplicates)
  std::int64_t resumed = 0;   // taken from the job journal
  std::map<std::string, std::int64_t> statuses;  // status -> inputs
  std::map<std::string, std::int64_t> episodes;  // "Title S01E02" -> inputs matched
  bool interrupted = false;
};

// Runs the job over `roots` (paths; "-" entries already expanded by the caller). Throws
// celtrace::IndexError if the index is unusable and celtrace::Error for unusable outputs
// or a job folder started with other inputs.
MatchSummary RunMatchJob(std::vector<std::string> roots, const MatchOptions& options,
                         const OutputOptions& outputs, const std::atomic<bool>* cancel,
                         std::ostream& log);

// Writes the human summary: per title and episode, unidentified, low information, errors.
void WriteSummary(const MatchSummary& summary, std::ostream& out);

}  // namespace celtrace
