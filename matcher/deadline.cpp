#include "deadline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace celtrace {

Deadline DeadlineIn(double seconds) {
  const double bounded = std::isnan(seconds) ? 0 : std::clamp(seconds, 0.0, kMaxSecondsPerFile);
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
             std::chrono::duration<double>(bounded));
}

void ThrowTimeout(double seconds, std::string_view where) {
  std::string message = fmt::format("timeout: analysis ran past {:g} s", seconds);
  if (!where.empty()) message += fmt::format(" ({})", where);
  throw TimeoutError(message);
}

}  // namespace celtrace
