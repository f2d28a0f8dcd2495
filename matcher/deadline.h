// The per-file time limit (MatchOptions::max_seconds_per_file) as a point in time, which the
// long steps of an analysis check between their units of work (a clip's frames, the stroke
// search's candidate keyframes, the keypoints' verifications), so that a file past its limit
// ends in a `timeout` record of its own, in this process, instead of running on until the
// sandbox kills its worker (or, with --no-sandbox, unbounded).
#pragma once

#include <chrono>
#include <string_view>

#include "celtrace/error.h"

namespace celtrace {

using Deadline = std::chrono::steady_clock::time_point;

// No limit: the library's callers that have no file (tests, benchmarks).
inline constexpr Deadline kNoDeadline = Deadline::max();

// The largest --max-seconds: 11.5 days, far inside steady_clock's range and alarm(2)'s.
inline constexpr double kMaxSecondsPerFile = 1e6;

// Thrown when a file's analysis runs past MatchOptions::max_seconds_per_file.
struct TimeoutError : Error {
  using Error::Error;
};

// The deadline `seconds` from now; `seconds` is clamped to [0, kMaxSecondsPerFile] (NaN: 0),
// so no value overflows the clock.
Deadline DeadlineIn(double seconds);

// Whether `deadline` has passed.
inline bool Passed(Deadline deadline) {
  return deadline != kNoDeadline && std::chrono::steady_clock::now() > deadline;
}

// Throws TimeoutError "timeout: analysis ran past <seconds> s" (the per-file limit), followed
// by " (<where>)" when `where` is not empty: where the analysis stopped.
[[noreturn]] void ThrowTimeout(double seconds, std::string_view where = {});

// ThrowTimeout(seconds) if `deadline` has passed.
inline void CheckDeadline(Deadline deadline, double seconds) {
  if (Passed(deadline)) ThrowTimeout(seconds);
}

}  // namespace celtrace
