// celtrace-match: attributes the files of a leaked archive to titles, episodes and
// timecodes. Parses flags, runs the matcher's batch job, maps the outcome to an exit code
// (DESIGN.md: 0 all inputs processed, 1 some inputs recorded as `error`, 2 usage, 3 index
// missing or unusable; extended: 4 the run stopped part-way, 130 interrupted).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>

#include "acceptance_options.h"
#include "celtrace/cli_checks.h"
#include "celtrace/error.h"
#include "celtrace/local_features.h"
#include "deadline.h"
#include "input_walker.h"
#include "match_job.h"
#include "result_record.h"
#include "sandbox.h"

namespace {

std::atomic<bool> g_cancel{false};

void OnSignal(int) { g_cancel = true; }

}  // namespace

// What a job's records depend on besides its inputs (OutputOptions::settings): every
// option's value, defaults included, but the inputs and outputs and how the run is carried
// out (threads, progress, the sandbox, the time limit).
std::string RecordSettings(const CLI::App& app) {
  static const std::set<std::string> kNotSettings = {
      "inputs",  "index",       "out",        "csv",           "job",    "report",     "footage",
      "threads", "no-progress", "no-sandbox", "worker-memory", "worker", "max-seconds"};
  std::istringstream config(app.config_to_str(true, false));
  std::string line, settings;
  while (std::getline(config, line)) {
    const size_t equals = line.find('=');
    if (line.empty() || line[0] == '#' || equals == std::string::npos) continue;
    std::string name = line.substr(0, equals);
    name.erase(name.find_last_not_of(' ') + 1);
    if (kNotSettings.contains(name)) continue;
    // Numbers as the values CLI11 parses, not as typed: ".92" and "0.92" are one setting,
    // "0x1F" and "31" another, and "010" is 8 (CLI11 reads integers in C's bases).
    std::string value = line.substr(equals + 1);
    const CLI::Option* option = app.get_option_no_throw("--" + name);
    const std::string type = option ? option->get_type_name() : "";
    char* end = nullptr;
    if (type.starts_with("FLOAT")) {
      const double number = std::strtod(value.c_str(), &end);
      if (!value.empty() && *end == '\0') value = fmt::format("{}", number);
    } else if (type.starts_with("INT")) {
      const long long number = std::strtoll(value.c_str(), &end, 0);
      if (!value.empty() && *end == '\0') value = std::to_string(number);
    } else if (type.starts_with("UINT")) {
      const unsigned long long number = std::strtoull(value.c_str(), &end, 0);
      if (!value.empty() && *end == '\0') value = std::to_string(number);
    }
    settings += name + "=" + value + "\n";
  }
  return settings;
}

int main(int argc, char** argv) {
  CLI::App app{
      "celtrace-match: attribute stills, clips, folders and archives (zip, tar, 7z, ...) to the "
      "episodes of a celtrace index. One JSON record per input file (archive members as "
      "archive.zip!/inner/path): title, season, episode, timecode range, distance, confidence, or "
      "no_match / low_information / unsupported / error. `-` reads newline-separated paths from "
      "stdin, `-0` NUL-separated ones.\nExit codes: 0 all inputs processed, 1 some inputs are "
      "`error` records, 2 usage (also: outputs that cannot be written, a job folder started "
      "with other inputs or options or in use), 3 index missing or unusable, 4 the run stopped "
      "part-way (a full disk, decode workers that cannot start; a --job resumes), 130 "
      "interrupted."};
  celtrace::MatchOptions options;
  celtrace::OutputOptions outputs;
  std::vector<std::string> inputs;
  app.add_option("--index", options.index_dir, "Index folder (celtrace-index build)")->required();
  app.add_option("inputs", inputs, "Files, folders, archives; - or -0 for paths on stdin");
  app.add_option("--out", outputs.out, "JSON Lines output (default: stdout)");
  app.add_option("--csv", outputs.csv, "Also write CSV (escaped against formula injection)");
  app.add_option("--job", outputs.job_dir,
                 "Job folder: journal records so that a rerun after a crash or Ctrl-C finishes "
                 "the remaining inputs; outputs are written when all inputs are done");
  app.add_option("--report", outputs.report,
                 "Also write an HTML evidence report: leaked image beside the matched reference "
                 "frame, per episode summary (self-contained page, no network requests)");
  app.add_option("--footage", outputs.footage_dir,
                 "Report: folder the catalogue's relative footage paths are resolved against "
                 "(default: the catalogue CSV's folder recorded in the index)");
  app.add_option("--threads", options.threads, "Analysis threads (0: one per core)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--threshold", options.threshold, "Match distance, bits of 256 (default 31)")
      ->check(CLI::Range(0, 256));
  app.add_option("--clip-threshold", options.clip_threshold,
                 "Clips: per-frame match distance, bits of 256; segments also need 3 drawings "
                 "at one time offset (default 40)")
      ->check(CLI::Range(0, 256));
  app.add_option("--min-quality", options.min_quality,
                 "Queries below this PDQ quality are low_information (default 50)")
      ->check(CLI::Range(0, 100));
  app.add_option("--max-matches", options.max_matches, "Occurrences listed per still (20)")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--no-trim{false}", options.trim_borders, "Do not also query without borders");
  app.add_flag("--no-local-features{false}", options.local_features,
               "Do not query the local-feature channel (orb) when PDQ finds no match (with "
               "--stroke-lookup 0 too: PDQ alone)");
  app.add_flag("--line-art", options.line_art,
               "Also query the line-art channel's keypoints for stills that look like line art "
               "and the stroke lookup does not attribute: crops, drawings on larger sheets (off "
               "by default: not yet free of false attributions, README \"Channels\")");
  app.add_flag("--line-art-ladder", options.line_art_ladder,
               "With --line-art: stills its keypoints verify nothing for are tried again at "
               "half-octave steps (x 0.71) down to --retry-scale: finds more crops of drawings "
               "saved larger than the index's keyframes, and more unrelated drawings too "
               "(README \"The line-art ladder\")")
      ->needs("--line-art");
  app.add_option("--stroke-lookup", options.stroke_lookup,
                 "Stills that look like line art, as whole drawings: entries with the nearest "
                 "stroke hashes compared stroke by stroke (needs an index with stroke hashes; "
                 "default 16 entries, 0: off)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--stroke-lookup-distance", options.stroke_lookup_distance,
                 "Stroke lookup: entries within this many bits of 256 of the still's stroke "
                 "hash (default 96)")
      ->check(CLI::Range(0, 256));
  app.add_flag("--stroke-search", options.stroke_search,
               "Stills that look like line art and the stroke lookup does not attribute (crops "
               "of drawings): placed on candidate entries' stroke maps at every place and "
               "width (needs an index with stroke maps; off by default: seconds a still, and "
               "it also attributes drawings of the show's own characters in a pose an episode "
               "shows, such as model sheets, README \"The stroke search\")");
  app.add_option("--stroke-search-keyframes", options.stroke_search_keyframes,
                 "Stroke search: candidate keyframes per scale, those with most keypoint "
                 "correspondences (default 96)")
      ->check(CLI::Range(1, 4096))
      ->needs("--stroke-search");
  app.add_option("--stroke-search-min-width", options.stroke_search_min_width,
                 "Stroke search: the narrowest placement tried, as a share of the frame's "
                 "width (default 0.5)")
      ->check(celtrace::Within(0.05, 1.0))
      ->needs("--stroke-search");
  AddAcceptanceOptions(app, options);
  // The ink and margin bars were options of the search alone before records carried their
  // measures (celtrace-evaluate --replay takes them now); celtrace-match still asks
  // --stroke-search of them, as it always did.
  for (const char* bar : {"--min-search-ink", "--min-search-margin"}) {
    app.get_option(bar)->needs("--stroke-search");
  }
  app.add_option("--clip-channel-frames", options.clip_channel_frames,
                 "Clips PDQ does not match, or parts of clips it leaves unexplained: frames "
                 "tried with orb/lineart; a segment needs 2 on one episode and time offset "
                 "(default 6 per part, 0: off)")
      ->check(CLI::Range(0, 64));
  app.add_option("--clip-gap-seconds", options.clip_gap_seconds,
                 "Clips PDQ aligns in part: stretches it leaves unexplained of at least this "
                 "many seconds (up to 4 per clip) are tried with the channels too (default 2, "
                 "0: only clips PDQ aligns nothing in)")
      ->check(celtrace::Within(0.0, 1e6));
  app.add_option("--query-side", options.query_side,
                 "Pixels: the longer side stills are scaled to for orb and lineart (800; 64-8192)")
      ->check(CLI::Range(64, 8192));
  app.add_option("--retry-scale", options.retry_scale,
                 "Stills orb verifies nothing for are tried again scaled by this "
                 "factor: a crop of half the frame then meets the index's keyframes at their "
                 "scale; with --line-art-ladder, line art is tried at half-octave steps "
                 "(x 0.71) down to it (default 0.5, 0: off for both)")
      ->check(celtrace::Within(0.0, 0.9));
  app.add_option("--query-features", options.query_features,
                 "ORB keypoints taken from a still for orb and lineart (default 1000)")
      ->check(CLI::Range(16, 20000));
  app.add_option("--query-edge", options.query_edge,
                 "Pixels: a still's keypoints may lie this close to the edge of each of ORB's "
                 "pyramid levels, for orb and lineart (default 16; 31, ORB's own, leaves the "
                 "margins a crop's edges cut through bare)")
      ->check(CLI::Range(celtrace::kMinEdgeThreshold, 64));
  app.add_option("--verify-candidates", options.verify_candidates,
                 "Keyframes with the most correspondences verified by RANSAC per still "
                 "(default 16)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--min-spread", options.min_spread,
                 "Share of the frame's width and height the RANSAC inliers of an orb or "
                 "lineart match must span, each (default 0.05)")
      ->check(celtrace::Within(0.0, 1.0));
  app.add_option("--max-pixels", options.max_pixels, "Per-image pixel limit (100000000)")
      ->check(CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max()));
  app.add_option("--max-seconds", options.max_seconds_per_file,
                 "Per-file analysis time limit, seconds (120; more than 0, at most 1000000): "
                 "a file past it gets a timeout error record")
      ->check(celtrace::Within(0.001, celtrace::kMaxSecondsPerFile));
  app.add_option("--max-file-bytes", options.max_file_bytes, "Per-file size limit (8 GiB)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-archive-depth", options.max_archive_depth, "Nested archives opened (3)")
      ->check(CLI::Range(0, 16));
  app.add_option("--max-archive-bytes", options.max_archive_bytes,
                 "Uncompressed bytes read from one archive, nested ones included (8 GiB)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-archive-entries", options.max_archive_entries,
                 "Entries read from one archive, nested ones included (100000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-compression-ratio", options.max_compression_ratio,
                 "Archive expansion ratio past 16 MiB that marks a compression bomb (200)")
      ->check(celtrace::Within(1.0, std::numeric_limits<double>::infinity()));
  app.add_flag("--no-progress{false}", options.progress, "No progress on stderr");
  bool no_sandbox = false, worker = false;
  app.add_flag("--no-sandbox", no_sandbox,
               "Decode in this process instead of sandboxed worker processes (default: one "
               "worker per thread, each with an address-space limit, a CPU-time limit, no file "
               "writes, killed after --max-seconds plus 10 s and restarted; a crash or a kill "
               "is that file's `error` record)");
  app.add_option("--worker-memory", options.worker_memory_bytes,
                 "Sandbox: a worker's address-space limit in bytes beyond 3x the index size "
                 "(4294967296)")
      ->check(CLI::PositiveNumber);
  // The sandbox worker: this program re-executed with the job's own flags.
  app.add_flag("--worker", worker)->group("");
  // Each option's default as text (the --help shows it, and the job's settings compare an
  // option left out with one given at its default as equal).
  for (CLI::Option* option : app.get_options()) option->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error is exit code 2 (DESIGN.md).
    return app.exit(e) == 0 ? 0 : 2;
  }
  // OpenCV reads its decoder limits (the pixel limit a backstop for image formats whose size
  // the matcher cannot read from the header) from the environment once, as it loads: set
  // after that, they do nothing. Analysing in this process (--no-sandbox), the program starts
  // again with them set (sandbox workers get them in their environment before they start).
  // Without /proc/self/exe it goes on without them, and says so.
  if (no_sandbox && !worker) {
    bool restart = false;
    for (const auto& [name, value] : celtrace::OpenCvDecoderLimits(options)) {
      const char* set = std::getenv(name.c_str());
      if (set == nullptr || value != set) {
        setenv(name.c_str(), value.c_str(), 1);
        restart = true;
      }
    }
    if (restart) {
      execv("/proc/self/exe", argv);
      std::cerr << "celtrace-match: warning: cannot restart with OpenCV's decoder limits set ("
                << std::strerror(errno) << "); images are checked by their headers only\n";
    }
  }
  if (worker) return celtrace::RunSandboxWorker(3, options);
  outputs.settings = RecordSettings(app);
  if (!no_sandbox) {
    // The workers run this very program with the same flags (so every option reaches them).
    options.worker_command = {std::filesystem::read_symlink("/proc/self/exe").string(), "--worker"};
    for (int i = 1; i < argc; ++i) options.worker_command.emplace_back(argv[i]);
  }

  // Expand stdin lists in place, so `-` keeps its position among the inputs.
  std::vector<std::string> roots;
  for (const std::string& input : inputs) {
    if (input == "-" || input == "-0") {
      for (auto& path : celtrace::ReadPathList(std::cin, input == "-0")) roots.push_back(path);
    } else {
      roots.push_back(input);
    }
  }
  if (roots.empty() && outputs.job_dir.empty()) {
    std::cerr << "celtrace-match: no inputs (give files, folders, archives, or - for stdin)\n";
    return 2;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  try {
    const auto summary = celtrace::RunMatchJob(roots, options, outputs, &g_cancel, std::cerr);
    celtrace::WriteSummary(summary, std::cerr);
    if (summary.interrupted) return 130;
    const auto errors = summary.statuses.find("error");
    return errors != summary.statuses.end() && errors->second > 0 ? 1 : 0;
  } catch (const celtrace::IndexError& e) {
    std::cerr << "celtrace-match: " << celtrace::EscapeForDisplay(e.what()) << '\n';
    return 3;
  } catch (const celtrace::UsageError& e) {
    std::cerr << "celtrace-match: " << celtrace::EscapeForDisplay(e.what()) << '\n';
    return 2;
  } catch (const std::exception& e) {
    // The run stopped part-way (a full disk, a worker that cannot start): not a usage error,
    // and not "processed" either. A job folder keeps what was journaled; rerun to resume.
    std::cerr << "celtrace-match: " << celtrace::EscapeForDisplay(e.what()) << '\n';
    return 4;
  }
}
