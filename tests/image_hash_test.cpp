#include "celtrace/image_hash.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "celtrace/error.h"
#include "celtrace/image_io.h"
#include "celtrace/pdq.h"
#include "test_util.h"

namespace celtrace {
namespace {

cv::Mat Bridge() {
  return LoadImage(
      testing::DataPath("pdq-vectors/pdq/data/reg-test-input/dih/bridge-1-original.jpg"));
}

TEST(ImageHasher, PdqChannelIsComputePdq) {
  const auto hasher = MakeImageHasher("pdq");
  EXPECT_EQ(hasher->name(), "pdq");
  EXPECT_EQ(hasher->bit_count(), 256);
  const cv::Mat image = Bridge();
  const ImageHash hash = hasher->Compute(image);
  const Pdq pdq = ComputePdq(image);
  EXPECT_EQ(hash.bytes, std::vector<std::uint8_t>(pdq.bytes.begin(), pdq.bytes.end()));
  EXPECT_EQ(hash.quality, pdq.quality);
}

TEST(ImageHasher, PhashChannelMeasuresInBitsOf64) {
  const auto hasher = MakeImageHasher("phash");
  EXPECT_EQ(hasher->bit_count(), 64);
  const cv::Mat bridge = Bridge();
  cv::Mat small;
  cv::resize(bridge, small, cv::Size(), 0.25, 0.25, cv::INTER_AREA);
  const ImageHash a = hasher->Compute(bridge);
  ASSERT_EQ(a.bytes.size(), 8u);
  EXPECT_EQ(a.quality, 100);
  EXPECT_LE(HammingDistance(a.bytes, hasher->Compute(small).bytes), 4);
  const cv::Mat pen =
      LoadImage(testing::DataPath("pdq-vectors/pdq/data/reg-test-input/pen-and-coaster.png"));
  EXPECT_GE(HammingDistance(a.bytes, hasher->Compute(pen).bytes), 16);
  EXPECT_EQ(hasher->Compute(cv::Mat(100, 100, CV_8UC3, cv::Scalar(9, 9, 9))).quality, 0);
}

TEST(ImageHasher, RejectsUnknownChannelsAndMismatchedSizes) {
  EXPECT_THROW(MakeImageHasher("md5"), Error);
  const std::vector<std::uint8_t> a(8), b(32);
  EXPECT_THROW(HammingDistance(a, b), Error);
  const std::vector<std::uint8_t> x = {0xff, 0x0f}, y = {0x00, 0x0e};
  EXPECT_EQ(HammingDistance(x, y), 9);
}

}  // namespace
}  // namespace celtrace
