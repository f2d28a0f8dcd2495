// Frame hashes of Meta's TMK sample videos against vPDQ's expected output
// (tests/data/vpdq/*.txt: frame,quality,hex,seconds for every frame).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "celtrace/pdq.h"
#include "celtrace/video_reader.h"
#include "test_util.h"

namespace celtrace {
namespace {

struct ReferenceFrame {
  int quality;
  Pdq hash;
  double seconds;
};

std::vector<ReferenceFrame> ReadVpdq(const std::string& name) {
  std::ifstream in(testing::DataPath("vpdq/" + name + ".txt"));
  std::vector<ReferenceFrame> frames;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string frame, quality, hex, seconds;
    std::getline(fields, frame, ',');
    std::getline(fields, quality, ',');
    std::getline(fields, hex, ',');
    std::getline(fields, seconds, ',');
    frames.push_back({std::stoi(quality), PdqFromHex(hex), std::stod(seconds)});
  }
  return frames;
}

class VpdqConformance : public ::testing::TestWithParam<const char*> {};

// Same frames, same timestamps, and >= 95% of the informative frames (reference quality
// >= 50) within Meta's 10-bit port tolerance.
TEST_P(VpdqConformance, FrameHashesAgreeWithReference) {
  const std::string name = GetParam();
  const auto reference = ReadVpdq(name);
  ASSERT_FALSE(reference.empty());
  VideoReader reader(testing::DataPath("vpdq/" + name + ".mp4"));
  Frame frame;
  std::vector<int> distances;
  int informative = 0, within = 0;
  size_t count = 0;
  while (reader.Read(&frame)) {
    ASSERT_LT(count, reference.size()) << "more frames than the reference";
    const ReferenceFrame& ref = reference[count++];
    EXPECT_NEAR(frame.seconds, ref.seconds, 0.0015) << "frame " << frame.index;
    const int distance = HammingDistance(ComputePdq(frame.image), ref.hash);
    distances.push_back(distance);
    if (ref.quality >= 50) {
      ++informative;
      within += distance <= 10;
    }
  }
  EXPECT_EQ(count, reference.size());
  ASSERT_GT(informative, 0);
  std::nth_element(distances.begin(), distances.begin() + distances.size() / 2, distances.end());
  const double share = static_cast<double>(within) / informative;
  std::cout << name << ": frames " << count << ", informative " << informative
            << ", within 10 bits " << 100.0 * share << "%, median distance "
            << distances[distances.size() / 2] << "\n";
  EXPECT_GE(share, 0.95);
}

INSTANTIATE_TEST_SUITE_P(TmkSamples, VpdqConformance,
                         ::testing::Values("chair-19-sd-bar", "chair-22-sd-grey-bar",
                                           "pattern-hd-no-bar", "doorknob-hd-no-bar"));

}  // namespace
}  // namespace celtrace

namespace celtrace {
namespace {

// The indexer hashes the luma of frames scaled to 384x384 by swscale while decoding.
// Measures that those hashes stay within a few bits of full-resolution BGR hashes.
class FrameScaling : public ::testing::TestWithParam<std::tuple<const char*, bool>> {};

TEST_P(FrameScaling, ScaledHashesStayWithinAFewBitsOfFullResolution) {
  const auto [name, luma_only] = GetParam();
  const auto path = testing::DataPath(std::string("vpdq/") + name + ".mp4");
  VideoReaderOptions scaled_options;
  scaled_options.square_side = 384;
  scaled_options.luma_only = luma_only;
  VideoReader full(path), scaled(path, scaled_options);
  Frame a, b;
  std::vector<int> distances;
  while (full.Read(&a) && scaled.Read(&b)) {
    ASSERT_EQ(b.image.cols, 384);
    ASSERT_EQ(b.image.rows, 384);
    const Pdq reference = ComputePdq(a.image);
    if (reference.quality >= 50)
      distances.push_back(HammingDistance(reference, ComputePdq(b.image)));
  }
  ASSERT_GT(distances.size(), 100u);
  std::sort(distances.begin(), distances.end());
  double mean = 0;
  for (int d : distances) mean += d;
  mean /= distances.size();
  const int p95 = distances[distances.size() * 95 / 100];
  std::cout << name << (luma_only ? " luma" : " BGR") << ": mean " << mean << ", p95 " << p95
            << ", max " << distances.back() << " bits\n";
  EXPECT_LE(mean, 4.0);
  EXPECT_LE(p95, 10);
}

INSTANTIATE_TEST_SUITE_P(TmkSamples, FrameScaling,
                         ::testing::Combine(::testing::Values("chair-19-sd-bar",
                                                              "pattern-hd-no-bar"),
                                            ::testing::Bool()));

}  // namespace
}  // namespace celtrace
