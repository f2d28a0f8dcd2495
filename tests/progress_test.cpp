// The progress line: its share of work done, its rate and ETA, and what a resumed job's
// earlier work may and may not change in them.
#include "celtrace/progress.h"

#include <gtest/gtest.h>

#include <string>

namespace celtrace {
namespace {

ProgressOptions Matching() {
  return {.label = "match", .item_name = "files", .rate_name = "files", .show_total = false};
}

TEST(Progress, TheShareComesFromTheWorkNotTheItems) {
  // An archive among 4 inputs, half read, has given 5000 files: 2 of 4 inputs done is 50%,
  // not 5000 of 4.
  ProgressSnapshot s{
      .items = 5000, .total_items = 4, .work = 2, .total_work = 4, .counted = 5000, .elapsed = 100};
  EXPECT_EQ(ProgressLine(Matching(), s, false, false),
            "match: 5000 files, 50%, 50.0 files/s, elapsed 0:01:40, ETA 0:01:40");
  ProgressOptions indexing{.label = "index", .item_name = "episodes", .rate_name = "frames"};
  s = {.items = 1, .total_items = 4, .work = 30, .total_work = 120, .counted = 720, .elapsed = 60};
  EXPECT_EQ(ProgressLine(indexing, s, false, false),
            "index: 1/4 episodes, 25%, 12.0 frames/s, elapsed 0:01:00, ETA 0:03:00");
  EXPECT_EQ(ProgressLine(indexing, s, false, true),
            "index: 1/4 episodes, 25%, 12.0 frames/s, elapsed 0:01:00");
  EXPECT_EQ(ProgressLine(indexing, s, true, false),
            "index: [######..................] 1/4 episodes, 25%, 12.0 frames/s, elapsed 0:01:00, "
            "ETA 0:03:00");
}

TEST(Progress, ResumedWorkCountsAsDoneButNotInTheRateOrTheEta) {
  // 90 of 100 inputs were done by the run before; this one did 5 in 50 s. The ETA for the
  // last 5 is 50 s, not the 2.8 s that 95 done in 50 s would suggest, and the rate is 0.1/s.
  const ProgressSnapshot s{.items = 95,
                           .total_items = 100,
                           .work = 95,
                           .total_work = 100,
                           .resumed_work = 90,
                           .counted = 5,
                           .elapsed = 50};
  EXPECT_EQ(ProgressLine(Matching(), s, false, false),
            "match: 95 files, 95%, 0.1 files/s, elapsed 0:00:50, ETA 0:00:50");
  // Nothing done by this run yet: no ETA to give.
  const ProgressSnapshot start{.items = 90,
                               .total_items = 100,
                               .work = 90,
                               .total_work = 100,
                               .resumed_work = 90,
                               .elapsed = 3};
  EXPECT_EQ(ProgressLine(Matching(), start, false, false),
            "match: 90 files, 90%, 0.0 files/s, elapsed 0:00:03");
}

}  // namespace
}  // namespace celtrace
