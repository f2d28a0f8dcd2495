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
  work_milli_ += static_cast<std::int64_t>(work * 1000);
}

std::string Progress::Line(bool final) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double work = work_milli_.load() / 1000.0;
  const double fraction = total_work_ > 0 ? std::clamp(work / total_work_, 0.0, 1.0) : 0.0;
  const double rate = elapsed > 0 ? counted_.load() / elapsed : 0;
  std::string line =
      fmt::format("{}: {}/{} {}", options_.label, items_.load(), total_items_, options_.item_name);
  if (terminal_ && !final) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(fraction * kWidth);
    line = fmt::format("{}: [{}{}] {}/{} {}", options_.label, std::string(filled, '#'),
                       std::string(kWidth - filled, '.'), items_.load(), total_items_,
                       options_.item_name);
  }
  line += fmt::format(", {:.0f}%, {:.1f} {}/s, elapsed {}", 100 * fraction, rate,
                      options_.rate_name, Clock(elapsed));
  if (!final && fraction > 0.001) line += ", ETA " + Clock(elapsed * (1 - fraction) / fraction);
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
