#include "celtrace/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace celtrace {
namespace {

std::string Clock(double seconds) {
  const auto total = static_cast<long>(seconds + 0.5);
  return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
}

}  // namespace

Progress::Progress(ProgressOptions options, std::int64_t total_items, double total_work,
                   std::ostream& out)
    : options_(std::move(options)),
      total_items_(total_items),
      total_work_(total_work),
      out_(out),
      terminal_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {
  if (options_.enabled) reporter_ = std::thread([this] { Run(); });
}

Progress::~Progress() {
  if (!options_.enabled) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  reporter_.join();
  out_ << (terminal_ ? "\r\033[K" : "") << Line(true) << '\n' << std::flush;
}

void Progress::Advance(std::int64_t items, double work, std::int64_t counted) {
  items_ += items;
  counted_ += counted;
  work_.fetch_add(work);
}

void Progress::Resume(std::int64_t items, double work) {
  items_ += items;
  work_.fetch_add(work);
  resumed_work_.fetch_add(work);
}

std::string Progress::Line(bool final) const {
  ProgressSnapshot snapshot;
  snapshot.items = items_.load();
  snapshot.total_items = total_items_;
  snapshot.work = work_.load();
  snapshot.total_work = total_work_;
  snapshot.resumed_work = resumed_work_.load();
  snapshot.counted = counted_.load();
  snapshot.elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return ProgressLine(options_, snapshot, terminal_ && !final, final);
}

std::string ProgressLine(const ProgressOptions& options, const ProgressSnapshot& s, bool bar,
                         bool final) {
  const double fraction = s.total_work > 0 ? std::clamp(s.work / s.total_work, 0.0, 1.0) : 0.0;
  const double rate = s.elapsed > 0 ? static_cast<double>(s.counted) / s.elapsed : 0;
  const std::string items = options.show_total
                                ? fmt::format("{}/{} {}", s.items, s.total_items, options.item_name)
                                : fmt::format("{} {}", s.items, options.item_name);
  std::string line = fmt::format("{}: {}", options.label, items);
  if (bar) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(fraction * kWidth);
    line = fmt::format("{}: [{}{}] {}", options.label, std::string(filled, '#'),
                       std::string(kWidth - filled, '.'), items);
  }
  line += fmt::format(", {:.0f}%, {:.1f} {}/s, elapsed {}", 100 * fraction, rate, options.rate_name,
                      Clock(s.elapsed));
  // The ETA extrapolates this run's own pace: work resumed from an earlier run took no time.
  const double own = s.work - s.resumed_work;
  const double remaining = std::max(0.0, s.total_work - s.work);
  if (!final && s.total_work > 0 && own > 0.001 * s.total_work) {
    line += ", ETA " + Clock(s.elapsed * remaining / own);
  }
  return line;
}

void Progress::Run() {
  const auto interval =
      terminal_ ? std::chrono::milliseconds(250)
                : std::chrono::milliseconds(static_cast<long>(options_.plain_interval * 1000));
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stop_; })) {
    if (terminal_) {
      out_ << "\r\033[K" << Line(false) << std::flush;
    } else {
      out_ << Line(false) << '\n' << std::flush;
    }
  }
}

}  // namespace celtrace
