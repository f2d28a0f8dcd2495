// Progress reports long work on stderr: a redrawn bar on a terminal, a plain line every
// few seconds otherwise (logs, CI, cluster jobs). Advance() is thread-safe; the report is
// drawn by a background thread owned by the Progress object.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

namespace celtrace {

struct ProgressOptions {
  std::string label = "progress";    // first word of every line
  std::string item_name = "items";   // what `items` counts: "episodes", "files"
  std::string rate_name = "frames";  // what the rate counts: "frames", "files"
  bool enabled = true;               // false: print nothing
  // Seconds between plain lines when stderr is not a terminal. Default 10.
  double plain_interval = 10;
  // Whether lines show items against `total_items` ("12/40 episodes") or the items alone
  // ("5000 files"): the matcher's total is a count of the inputs named, and an archive among
  // them holds an unknown number of files. The share done always comes from the work.
  bool show_total = true;
};

// What one report line is made of.
struct ProgressSnapshot {
  std::int64_t items = 0;
  std::int64_t total_items = 0;
  double work = 0;          // units done, resumed ones included
  double total_work = 0;    // units in all
  double resumed_work = 0;  // units done before this run (Progress::Resume): no time was spent
  std::int64_t counted = 0;
  double elapsed = 0;  // seconds since this run started
};

// Returns the line for `snapshot`: the items, the share of the work done, the rate (counted
// units per second), the elapsed time and, unless `final`, an ETA from the rate at which this
// run did its own work (resumed work took no time and does not shorten it).
std::string ProgressLine(const ProgressOptions& options, const ProgressSnapshot& snapshot, bool bar,
                         bool final);

class Progress {
 public:
  // Starts reporting `total_items` of work worth `total_work` units (e.g. seconds of
  // footage; drives the ETA) to `out` (normally std::cerr).
  Progress(ProgressOptions options, std::int64_t total_items, double total_work, std::ostream& out);
  // Stops the reporter and prints a final line.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Records progress: `items` finished, `work` units done, `counted` rate units (frames).
  void Advance(std::int64_t items, double work, std::int64_t counted);
  // Records items done by an earlier run (a resumed job): they count as done, but not in the
  // rate or the ETA.
  void Resume(std::int64_t items, double work);

 private:
  void Run();
  std::string Line(bool final) const;

  ProgressOptions options_;
  std::int64_t total_items_;
  double total_work_;
  std::ostream& out_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<std::int64_t> items_{0};
  std::atomic<std::int64_t> counted_{0};
  std::atomic<double> work_{0};
  std::atomic<double> resumed_work_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread reporter_;
};

}  // namespace celtrace
