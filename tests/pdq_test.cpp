// Conformance of celtrace's PDQ with Meta's reference vectors (tests/data/pdq-vectors),
// plus oracle tests of its parts.
#include "celtrace/pdq.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <vector>

#include "celtrace/error.h"
#include "celtrace/image_io.h"
#include "test_util.h"

namespace celtrace {
namespace {

using testing::DataPath;

std::filesystem::path Vector(const std::string& relative) {
  return DataPath("pdq-vectors/" + relative);
}

Pdq HashFile(const std::string& relative, ExifPolicy exif = ExifPolicy::kIgnore) {
  return ComputePdq(LoadImage(Vector(relative), exif));
}

// A drawing of random filled shapes: structure at the scales PDQ keeps, like a cel.
cv::Mat RandomImage(int rows, int cols, int type, unsigned seed) {
  cv::RNG rng(seed);
  cv::Mat image(rows, cols, type, cv::Scalar::all(128));
  for (int i = 0; i < 40; ++i) {
    const cv::Point centre(rng.uniform(0, cols), rng.uniform(0, rows));
    const cv::Scalar colour(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
    const int size = rng.uniform(rows / 20, rows / 4);
    if (i % 2) {
      cv::circle(image, centre, size, colour, cv::FILLED, cv::LINE_AA);
    } else {
      cv::rectangle(image, centre, centre + cv::Point(size, size / 2), colour, cv::FILLED);
    }
  }
  return image;
}

TEST(PdqHex, RoundTripsAndUsesReferenceBitOrder) {
  Pdq hash;
  hash.bytes[31] = 0x80;  // bit 255: the first hex digit's top bit
  hash.bytes[0] = 0x01;   // bit 0: the last hex digit's bottom bit
  EXPECT_EQ(ToHex(hash), "8" + std::string(62, '0') + "1");
  const std::string hex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
  EXPECT_EQ(ToHex(PdqFromHex(hex)), hex);
  std::string upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  EXPECT_EQ(PdqFromHex(upper), PdqFromHex(hex));
  EXPECT_THROW(PdqFromHex("abc"), Error);
  EXPECT_THROW(PdqFromHex(std::string(63, '0') + "g"), Error);
}

TEST(PdqHamming, MatchesBitByBitOracle) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 100; ++trial) {
    Pdq a, b;
    for (auto& byte : a.bytes) byte = static_cast<std::uint8_t>(rng());
    for (auto& byte : b.bytes) byte = static_cast<std::uint8_t>(rng());
    int oracle = 0;
    for (int k = 0; k < 256; ++k) {
      oracle += ((a.bytes[k / 8] >> (k % 8)) & 1) != ((b.bytes[k / 8] >> (k % 8)) & 1);
    }
    EXPECT_EQ(HammingDistance(a, b), oracle);
  }
}

TEST(PdqTorben, EqualsLowerMedianFromSorting) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-1000, 1000);
  for (int count : {1, 2, 3, 16, 255, 256}) {
    std::vector<float> values(count);
    for (auto& v : values) v = uniform(rng);
    if (count > 4) values[1] = values[2] = values[3];  // ties
    std::vector<float> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(TorbenMedian(values.data(), count), sorted[(count + 1) / 2 - 1]) << count;
  }
}

TEST(PdqHash, HasHalfTheBitsSet) {
  const Pdq hash = ComputePdq(RandomImage(300, 400, CV_8UC3, 3));
  int ones = 0;
  for (auto byte : hash.bytes) ones += std::popcount(byte);
  EXPECT_EQ(ones, 128);  // values above the median of 256 distinct coefficients
}

// pdqhash-python's expected bits were made by the C++ reference on an OpenCV decode.
TEST(PdqConformance, PdqhashPythonImagesWithinListedTolerance) {
  const auto rows = testing::ReadCsv(Vector("expected/pdqhash-python-expected.csv"));
  ASSERT_EQ(rows.size(), 10u);
  for (const auto& row : rows) {
    const cv::Mat bgr = LoadImage(Vector(row.at("image")));
    const int distance = HammingDistance(ComputePdq(bgr), PdqFromHex(row.at("hash")));
    EXPECT_LE(distance, std::stoi(row.at("max_hamming"))) << row.at("image");
  }
}

// Meta's rule for ports: with its own decoder, a hash of quality >= 80 lies within 10 bits
// of the reference. Covers every `exact` row of the expected-hash table.
TEST(PdqConformance, ExactReferenceRowsWithinTenBits) {
  const auto rows = testing::ReadCsv(Vector("expected/pdq-expected-hashes.csv"));
  static const std::map<std::string, Orientation> kPixelRotations = {
      {"ORIGINAL", Orientation::kOriginal},   {"ROTATE90", Orientation::kRotate90},
      {"ROTATE180", Orientation::kRotate180}, {"ROTATE270", Orientation::kRotate270},
      {"FLIPX", Orientation::kFlipX},         {"FLIPY", Orientation::kFlipY},
      {"FLIPPLUS1", Orientation::kFlipPlus1}, {"FLIPMINUS1", Orientation::kFlipMinus1}};
  int checked = 0;
  for (const auto& row : rows) {
    if (row.at("comparison").rfind("exact", 0) != 0) continue;
    const std::string& variant = row.at("variant");
    if (variant == "unletterboxed") continue;  // needs the matcher's border trim
    // Non-original rows hash the image after rotating its pixels.
    const cv::Mat image = LoadImage(Vector(row.at("image")));
    const Orientation orientation =
        variant == "original" ? Orientation::kOriginal : kPixelRotations.at(variant);
    const Pdq ours = ComputePdq(OrientImage(image, orientation));
    const int reference_quality = row.at("quality").empty() ? 100 : std::stoi(row.at("quality"));
    if (reference_quality < 80 || ours.quality < 80) continue;
    ++checked;
    EXPECT_LE(HammingDistance(ours, PdqFromHex(row.at("hash"))), 10)
        << row.at("image") << " " << variant << " ours " << ToHex(ours);
  }
  EXPECT_GE(checked, 12);
}

TEST(PdqConformance, BridgeDihedralFromOneDctMatchesRotatedFiles) {
  static const char* kFiles[kOrientationCount] = {
      "bridge-1-original.jpg",    "bridge-2-rotate-90.jpg",   "bridge-3-rotate-180.jpg",
      "bridge-4-rotate-270.jpg",  "bridge-5-flipx.jpg",       "bridge-6-flipy.jpg",
      "bridge-7-flip-plus-1.jpg", "bridge-8-flip-minus-1.jpg"};
  const std::string dir = "pdq/data/reg-test-input/dih/";
  const auto dihedral = ComputePdqDihedral(LoadImage(Vector(dir + kFiles[0])));
  EXPECT_EQ(dihedral[0], ComputePdq(LoadImage(Vector(dir + kFiles[0]))));
  for (int o = 0; o < kOrientationCount; ++o) {
    const Pdq actual = HashFile(dir + kFiles[o]);
    EXPECT_LE(HammingDistance(dihedral[o], actual), 10) << kFiles[o];
    if (o > 0) {
      EXPECT_GE(HammingDistance(dihedral[0], actual), 90) << kFiles[o];
    }
  }
}

TEST(PdqDihedral, AgreesWithPixelDomainTransformsOfSyntheticImage) {
  const cv::Mat image = RandomImage(720, 720, CV_8UC1, 5);
  const auto dihedral = ComputePdqDihedral(image);
  for (int o = 0; o < kOrientationCount; ++o) {
    const auto orientation = static_cast<Orientation>(o);
    const Pdq pixel_route = ComputePdq(OrientImage(image, orientation));
    // Hard-edged drawings drift more than photos between the two routes (the box filter
    // and the decimation grid are not mirror-symmetric); 16 is upstream's port tolerance.
    EXPECT_LE(HammingDistance(dihedral[o], pixel_route), 16) << OrientationName(orientation);
    for (int other = 0; other < kOrientationCount; ++other) {
      if (other == o) continue;
      EXPECT_GE(HammingDistance(dihedral[other], pixel_route), 64) << o << " vs " << other;
    }
  }
  // OrientImage's names: rot90 is counter-clockwise, flipx turns the image upside down.
  const cv::Mat probe = (cv::Mat_<std::uint8_t>(2, 2) << 1, 2, 3, 4);
  const cv::Mat rot90 = (cv::Mat_<std::uint8_t>(2, 2) << 2, 4, 1, 3);
  const cv::Mat flipx = (cv::Mat_<std::uint8_t>(2, 2) << 3, 4, 1, 2);
  const cv::Mat flipminus1 = (cv::Mat_<std::uint8_t>(2, 2) << 4, 2, 3, 1);
  EXPECT_EQ(cv::norm(OrientImage(probe, Orientation::kRotate90), rot90), 0);
  EXPECT_EQ(cv::norm(OrientImage(probe, Orientation::kFlipX), flipx), 0);
  EXPECT_EQ(cv::norm(OrientImage(probe, Orientation::kFlipMinus1), flipminus1), 0);
}

TEST(PdqQuality, LowInformationImagesScoreLow) {
  EXPECT_LT(HashFile("pdq/data/misc-images/small.jpg").quality, 50);
  EXPECT_LT(HashFile("pdq/data/reg-test-input/labelme-subset/q0003.jpg").quality, 50);
  EXPECT_LT(HashFile("pdq/data/reg-test-input/labelme-subset/q0004.jpg").quality, 50);
  EXPECT_EQ(HashFile("pdq/data/reg-test-input/dih/bridge-1-original.jpg").quality, 100);
}

TEST(PdqQuality, FlatImagesScoreZero) {
  for (const cv::Scalar& colour : {cv::Scalar(0, 0, 0), cv::Scalar(255, 255, 255),
                                   cv::Scalar(40, 90, 200), cv::Scalar(128, 128, 128)}) {
    for (const cv::Size size : {cv::Size(64, 64), cv::Size(1280, 720), cv::Size(7, 5)}) {
      const Pdq hash = ComputePdq(cv::Mat(size, CV_8UC3, colour));
      EXPECT_EQ(hash.quality, 0) << colour << " " << size;
    }
  }
  // A gentle fade is nearly as uninformative.
  cv::Mat ramp(360, 640, CV_8UC1);
  for (int c = 0; c < ramp.cols; ++c) ramp.col(c).setTo(c * 40 / ramp.cols);
  EXPECT_LT(ComputePdq(ramp).quality, 10);
}

TEST(PdqDepths, EightSixteenBitGreyAndAlphaAgree) {
  const cv::Mat bgr = RandomImage(240, 320, CV_8UC3, 9);
  const Pdq reference = ComputePdq(bgr);
  cv::Mat wide, bgra, floats;
  bgr.convertTo(wide, CV_16UC3, 257.0);
  EXPECT_EQ(ComputePdq(wide).bytes, reference.bytes);
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  EXPECT_EQ(ComputePdq(bgra).bytes, reference.bytes);
  bgr.convertTo(floats, CV_32FC3, 1.0 / 255);
  EXPECT_LE(HammingDistance(ComputePdq(floats), reference), 2);
  const cv::Mat grey = RandomImage(240, 320, CV_8UC1, 10);
  cv::Mat grey_bgr;
  cv::cvtColor(grey, grey_bgr, cv::COLOR_GRAY2BGR);
  EXPECT_LE(HammingDistance(ComputePdq(grey), ComputePdq(grey_bgr)), 2);
  EXPECT_THROW(ComputePdq(cv::Mat()), Error);
  EXPECT_THROW(ComputePdq(cv::Mat(4, 4, CV_8UC2)), Error);
}

// OpenCV applies EXIF orientation by default; the reference hashers do not. celtrace
// ignores it by default so that its hashes agree with other tools' (README, "EXIF").
TEST(PdqExif, OrientationTagIgnoredByDefaultAndAppliedOnRequest) {
  const std::string dir = "pdq/data/reg-test-input/exif-rotn/";
  // Tag 1: nothing to apply.
  const cv::Mat one = LoadImage(Vector(dir + "exif-rotn-1.jpg"));
  EXPECT_EQ(cv::norm(one, LoadImage(Vector(dir + "exif-rotn-1.jpg"), ExifPolicy::kApply)), 0);
  // Tag 6: "rotate 90 degrees clockwise to display".
  const cv::Mat stored = LoadImage(Vector(dir + "exif-rotn-6.jpg"));
  const cv::Mat shown = LoadImage(Vector(dir + "exif-rotn-6.jpg"), ExifPolicy::kApply);
  ASSERT_EQ(stored.size(), one.size());
  EXPECT_EQ(cv::norm(shown, OrientImage(stored, Orientation::kRotate270)), 0);
  // The hash of what a viewer shows is the stored image's rot270 dihedral hash, so a query
  // in 8 orientations finds the file whichever policy made the reference hash.
  const auto dihedral = ComputePdqDihedral(stored);
  EXPECT_LE(HammingDistance(ComputePdq(shown), dihedral[static_cast<int>(Orientation::kRotate270)]),
            10);
  EXPECT_GE(HammingDistance(ComputePdq(shown), dihedral[0]), 90);
}

TEST(PdqInput, UnrelatedImagesAreFarApart) {
  const Pdq bridge = HashFile("pdq/data/reg-test-input/dih/bridge-1-original.jpg");
  const Pdq pen = HashFile("pdq/data/reg-test-input/pen-and-coaster.png");
  EXPECT_GE(HammingDistance(bridge, pen), 100);  // Java reference test: 138
}

}  // namespace
}  // namespace celtrace
