#include "hold_detector.h"

#include <gtest/gtest.h>

#include <random>

namespace celtrace {
namespace {

Pdq RandomHash(std::mt19937& rng, int quality = 100) {
  Pdq hash;
  for (auto& b : hash.bytes) b = static_cast<std::uint8_t>(rng());
  hash.quality = quality;
  return hash;
}

Pdq Flip(Pdq hash, int bits, std::mt19937& rng) {
  for (int i = 0; i < bits; ++i) hash.bytes[rng() % 32] ^= 1 << (rng() % 8);
  return hash;
}

TEST(HoldDetector, MergesHoldsSplitsChangesAndKeepsRepeatsSeparate) {
  std::mt19937 rng(5);
  IndexParameters parameters;  // hold_distance 10, min_quality 20
  HoldDetector holds(parameters);
  const Pdq a = RandomHash(rng), b = RandomHash(rng);
  const double dt = 1.0 / 24;
  int frame = 0;
  // A: 6 frames with codec noise of up to 4 bits.
  for (int i = 0; i < 6; ++i) holds.Add(Flip(a, i % 3, rng), frame++ * dt);
  // B: 2 frames (a drawing on 2s).
  for (int i = 0; i < 2; ++i) holds.Add(b, frame++ * dt);
  // Black: 3 frames, quality 0.
  for (int i = 0; i < 3; ++i) holds.Add(RandomHash(rng, 0), frame++ * dt);
  // A again (a loop): a separate entry with its own time.
  for (int i = 0; i < 4; ++i) holds.Add(a, frame++ * dt);
  const auto entries = holds.Finish();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].hash, a);
  EXPECT_DOUBLE_EQ(entries[0].start, 0);
  EXPECT_DOUBLE_EQ(entries[0].end, 5 * dt);
  EXPECT_EQ(entries[0].frames, 6);
  EXPECT_EQ(entries[1].hash, b);
  EXPECT_DOUBLE_EQ(entries[1].start, 6 * dt);
  EXPECT_DOUBLE_EQ(entries[1].end, 7 * dt);
  EXPECT_DOUBLE_EQ(entries[2].start, 11 * dt);
  EXPECT_DOUBLE_EQ(entries[2].end, 14 * dt);
  EXPECT_EQ(holds.low_quality_frames(), 3);
}

TEST(HoldDetector, SlowDriftStartsNewEntriesInsteadOfChaining) {
  std::mt19937 rng(6);
  HoldDetector holds(IndexParameters{});
  Pdq hash = RandomHash(rng);
  const Pdq first = hash;
  // Each frame moves 3 bits from the previous: consecutive frames are always close, but
  // the pan drifts far from where it started.
  for (int i = 0; i < 40; ++i) {
    holds.Add(hash, i * 0.04);
    hash = Flip(hash, 3, rng);
  }
  const auto entries = holds.Finish();
  ASSERT_GT(entries.size(), 3u);
  for (const auto& entry : entries) EXPECT_LE(entry.frames, 8);
  EXPECT_EQ(entries[0].hash, first);
}

}  // namespace
}  // namespace celtrace
