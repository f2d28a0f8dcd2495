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
};

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
  std::atomic<std::int64_t> work_milli_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread reporter_;
};

}  // namespace celtrace
