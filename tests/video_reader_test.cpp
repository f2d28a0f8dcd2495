#include "celtrace/video_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "celtrace/error.h"
#include "celtrace/video_writer.h"
#include "test_util.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;

using testing::DataPath;
using testing::TempDir;

// Cel-like content: flat background and hard-edged shapes, different in every frame so
// that a dropped, duplicated or reordered frame shows up in the pixel comparison.
cv::Mat DrawFrame(int index, cv::Size size) {
  cv::RNG rng(0xce17 + index);
  cv::Mat image(size, CV_8UC3, cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), 180));
  for (int shape = 0; shape < 6; ++shape) {
    const cv::Scalar colour(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
    const cv::Point centre(rng.uniform(0, size.width), rng.uniform(0, size.height));
    const int radius = rng.uniform(size.height / 12, size.height / 4);
    if (shape % 2 == 0) {
      cv::circle(image, centre, radius, colour, cv::FILLED, cv::LINE_AA);
    } else {
      cv::rectangle(image, centre, centre + cv::Point(radius, radius / 2), colour, cv::FILLED);
    }
  }
  cv::putText(image, std::to_string(index), cv::Point(size.width / 10, size.height / 2),
              cv::FONT_HERSHEY_SIMPLEX, size.height / 120.0, cv::Scalar(0, 0, 0), 3);
  return image;
}

// Mean absolute difference per channel sample, 0..255.
double MeanAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  return cv::norm(a, b, cv::NORM_L1) / static_cast<double>(a.total() * a.channels());
}

// Irregular gaps (24 fps, 12 fps and a 0.2 s hold), as in limited animation.
std::vector<double> VariableTimes(int count) {
  const double gaps[] = {1.0 / 24, 1.0 / 24, 1.0 / 12, 0.2, 1.0 / 24, 1.0 / 12};
  std::vector<double> times;
  double t = 0;
  for (int i = 0; i < count; ++i) {
    times.push_back(t);
    t += gaps[i % std::size(gaps)];
  }
  return times;
}

std::vector<Frame> ReadAll(const fs::path& path, VideoReaderOptions options = {}) {
  VideoReader reader(path, options);
  std::vector<Frame> frames;
  Frame frame;
  while (reader.Read(&frame)) frames.push_back(frame);
  return frames;
}

class VideoRoundTripTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VideoRoundTripTest, VariableFrameRateTimesAndPixelsSurvive) {
  TempDir dir;
  const fs::path path = dir.path() / (std::string("vfr") + GetParam());
  const cv::Size size(320, 240);
  const std::vector<double> times = VariableTimes(40);
  std::vector<cv::Mat> written;
  {
    VideoWriterOptions options;
    options.width = size.width;
    options.height = size.height;
    options.frame_rate = 24;
    VideoWriter writer(path, options);
    for (int i = 0; i < static_cast<int>(times.size()); ++i) {
      written.push_back(DrawFrame(i, size));
      writer.Write(written.back(), times[i]);
    }
    writer.Close();
    writer.Close();  // idempotent
  }

  VideoReader reader(path);
  EXPECT_EQ(reader.width(), size.width);
  EXPECT_EQ(reader.height(), size.height);
  EXPECT_GT(reader.duration_seconds(), times.back() - 0.01);
  EXPECT_GT(reader.frame_rate(), 0);

  Frame frame;
  int count = 0;
  while (reader.Read(&frame)) {
    ASSERT_LT(count, static_cast<int>(times.size())) << "more frames than written";
    EXPECT_EQ(frame.index, count);
    EXPECT_NEAR(frame.seconds, times[count], 0.001) << "frame " << count;
    ASSERT_EQ(frame.image.type(), CV_8UC3);
    ASSERT_EQ(frame.image.size(), size);
    EXPECT_LT(MeanAbsDiff(frame.image, written[count]), 10.0) << "frame " << count;
    ++count;
  }
  EXPECT_EQ(count, static_cast<int>(times.size()));
  EXPECT_FALSE(reader.Read(&frame)) << "end of stream is sticky";
}

INSTANTIATE_TEST_SUITE_P(Containers, VideoRoundTripTest, ::testing::Values(".mkv", ".mp4"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param + 1);
                         });

TEST(VideoReaderTest, FramesOutliveTheNextRead) {
  TempDir dir;
  const fs::path path = dir.path() / "keep.mkv";
  const cv::Size size(160, 120);
  {
    VideoWriterOptions options;
    options.width = size.width;
    options.height = size.height;
    VideoWriter writer(path, options);
    for (int i = 0; i < 5; ++i) writer.Write(DrawFrame(i, size), i / 10.0);
  }  // the destructor finishes the file
  const std::vector<Frame> frames = ReadAll(path);
  ASSERT_EQ(frames.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_LT(MeanAbsDiff(frames[i].image, DrawFrame(i, size)), 10.0) << "frame " << i;
  }
}

TEST(VideoReaderTest, MaxSideScalesDownKeepingAspect) {
  TempDir dir;
  for (const cv::Size size : {cv::Size(640, 360), cv::Size(360, 640)}) {
    const fs::path path = dir.path() / ("big-" + std::to_string(size.width) + ".mp4");
    {
      VideoWriterOptions options;
      options.width = size.width;
      options.height = size.height;
      VideoWriter writer(path, options);
      for (int i = 0; i < 3; ++i) writer.Write(DrawFrame(i, size), i / 24.0);
      writer.Close();
    }
    VideoReaderOptions small;
    small.max_side = 160;
    const std::vector<Frame> frames = ReadAll(path, small);
    ASSERT_EQ(frames.size(), 3u);
    const cv::Size expected = size.width > size.height ? cv::Size(160, 90) : cv::Size(90, 160);
    for (const Frame& frame : frames) EXPECT_EQ(frame.image.size(), expected);

    VideoReaderOptions roomy;
    roomy.max_side = 1000;  // larger than the frame: left alone
    const std::vector<Frame> native = ReadAll(path, roomy);
    ASSERT_EQ(native.size(), 3u);
    EXPECT_EQ(native[0].image.size(), size);
  }
}

TEST(VideoReaderTest, MissingFileThrows) {
  TempDir dir;
  EXPECT_THROW(VideoReader(dir.path() / "no-such-file.mp4"), Error);
}

TEST(VideoReaderTest, RandomBytesThrow) {
  TempDir dir;
  std::mt19937 random(42);
  for (const char* name : {"noise.mp4", "noise.bin"}) {
    const fs::path path = dir.path() / name;
    {
      std::ofstream out(path, std::ios::binary);
      for (int i = 0; i < 64 * 1024; ++i) out.put(static_cast<char>(random() & 0xff));
    }
    EXPECT_THROW(
        {
          VideoReader reader(path);
          Frame frame;
          while (reader.Read(&frame)) {
          }
        },
        Error)
        << name;
  }
}

TEST(VideoReaderTest, ErrorNamesTheFile) {
  TempDir dir;
  const fs::path path = dir.path() / "absent.mkv";
  try {
    VideoReader reader(path);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(VideoWriterTest, RejectsBadSetupAndNonIncreasingTimes) {
  TempDir dir;
  VideoWriterOptions bad_codec;
  bad_codec.codec = "no-such-encoder";
  EXPECT_THROW(VideoWriter(dir.path() / "a.mkv", bad_codec), Error);
  EXPECT_THROW(VideoWriter(dir.path() / "a.not-a-container"), Error);

  VideoWriterOptions options;
  options.width = 64;
  options.height = 48;
  VideoWriter writer(dir.path() / "b.mkv", options);
  const cv::Mat image = DrawFrame(0, cv::Size(64, 48));
  writer.Write(image, 0.5);
  EXPECT_THROW(writer.Write(image, 0.5), Error);
  EXPECT_THROW(writer.Write(image, 0.25), Error);
  EXPECT_THROW(writer.Write(cv::Mat(48, 64, CV_8UC1, cv::Scalar(0)), 1.0), Error);
  writer.Write(image, 1.0);
  writer.Close();
  EXPECT_THROW(writer.Write(image, 2.0), Error);
}

TEST(VideoWriterTest, ScalesFramesOfAnotherSize) {
  TempDir dir;
  const fs::path path = dir.path() / "scaled.mp4";
  VideoWriterOptions options;
  options.width = 320;
  options.height = 240;
  {
    VideoWriter writer(path, options);
    writer.Write(DrawFrame(0, cv::Size(640, 480)), 0);
    writer.Write(DrawFrame(1, cv::Size(160, 120)), 0.1);
    writer.Close();
  }
  const std::vector<Frame> frames = ReadAll(path);
  ASSERT_EQ(frames.size(), 2u);
  cv::Mat expected;
  cv::resize(DrawFrame(0, cv::Size(640, 480)), expected, cv::Size(320, 240), 0, 0, cv::INTER_AREA);
  EXPECT_EQ(frames[0].image.size(), cv::Size(320, 240));
  EXPECT_LT(MeanAbsDiff(frames[0].image, expected), 10.0);
}

// One vPDQ reference output line: frameNumber,quality,pdqHex,timestampSeconds.
struct VpdqLine {
  int frame_number = 0;
  double seconds = 0;
};

std::vector<VpdqLine> ReadVpdqHashes(const fs::path& path) {
  std::ifstream in(path);
  std::vector<VpdqLine> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::istringstream parts(line);
    std::string field;
    while (std::getline(parts, field, ',')) fields.push_back(field);
    if (fields.size() != 4) throw Error("bad vPDQ line in " + path.string() + ": " + line);
    lines.push_back({std::stoi(fields[0]), std::stod(fields[3])});
  }
  return lines;
}

class VpdqReferenceTest : public ::testing::TestWithParam<const char*> {};

// vPDQ's reference output lists every decoded frame; our reader must see the same frames
// at the same times for the per-frame hashes to be comparable.
TEST_P(VpdqReferenceTest, SameFramesAtSameTimes) {
  const fs::path dir = DataPath("vpdq");
  const std::vector<VpdqLine> expected = ReadVpdqHashes(dir / (std::string(GetParam()) + ".txt"));
  ASSERT_FALSE(expected.empty());

  VideoReader reader(dir / (std::string(GetParam()) + ".mp4"));
  Frame frame;
  std::size_t count = 0;
  while (reader.Read(&frame)) {
    if (count < expected.size()) {
      EXPECT_EQ(frame.index, expected[count].frame_number);
      EXPECT_NEAR(frame.seconds, expected[count].seconds, 0.0015) << "frame " << count;
      // Stored size, no display rotation: the reference hashes the frames as coded.
      EXPECT_EQ(frame.image.cols, reader.width());
      EXPECT_EQ(frame.image.rows, reader.height());
    }
    ++count;
  }
  EXPECT_EQ(count, expected.size());
}

INSTANTIATE_TEST_SUITE_P(SampleVideos, VpdqReferenceTest,
                         ::testing::Values("chair-19-sd-bar", "pattern-hd-no-bar",
                                           "chair-22-sd-grey-bar", "doorknob-hd-no-bar"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(VideoReaderTest, PortraitSampleKeepsItsStoredSize) {
  VideoReader reader(DataPath("vpdq") / "chair-19-sd-bar.mp4");
  EXPECT_EQ(reader.width(), 480);
  EXPECT_EQ(reader.height(), 720);
  EXPECT_NEAR(reader.frame_rate(), 30.0, 1e-9);
  EXPECT_NEAR(reader.duration_seconds(), 18.8, 0.05);
}

// Leaked files are often cut short: the frames before the cut must still come out, with
// the damaged last packet skipped instead of failing the whole file.
TEST(VideoReaderTest, TruncatedFileYieldsFramesBeforeTheCut) {
  TempDir dir;
  const fs::path path = dir.path() / "cut.mp4";
  {
    std::ifstream in(DataPath("vpdq") / "chair-19-sd-bar.mp4", std::ios::binary);
    std::string head(1'000'000, '\0');  // about half the file; its moov atom comes first
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream(path, std::ios::binary).write(head.data(), in.gcount());
  }
  const std::vector<Frame> frames = ReadAll(path);
  EXPECT_GT(frames.size(), 100u);
  EXPECT_LT(frames.size(), 564u);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_NEAR(frames[i].seconds, static_cast<double>(i) / 30, 0.0015) << "frame " << i;
  }
}

TEST(VideoReaderTest, DecoderThreadsGiveTheSameFrames) {
  const fs::path path = DataPath("vpdq") / "doorknob-hd-no-bar.mp4";
  VideoReaderOptions one;
  one.max_side = 320;
  VideoReaderOptions two = one;
  two.threads = 2;
  const std::vector<Frame> a = ReadAll(path, one);
  const std::vector<Frame> b = ReadAll(path, two);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].seconds, b[i].seconds);
    EXPECT_EQ(cv::norm(a[i].image, b[i].image, cv::NORM_INF), 0) << "frame " << i;
  }
}

}  // namespace
// Archive members are decoded from memory through a custom I/O context: same frames,
// same times as from the file; garbage in memory fails like garbage on disk.
TEST(VideoReaderTest, InMemoryInputEqualsFileInput) {
  const fs::path path = DataPath("vpdq") / "doorknob-hd-no-bar.mp4";
  std::ifstream in(path, std::ios::binary);
  auto bytes = std::make_shared<std::vector<std::uint8_t>>((std::istreambuf_iterator<char>(in)),
                                                           std::istreambuf_iterator<char>());
  VideoReaderOptions options;
  options.max_side = 320;
  const std::vector<Frame> from_file = ReadAll(path, options);
  VideoReader reader(bytes, "archive.zip!/doorknob.mp4", options);
  Frame frame;
  std::size_t count = 0;
  while (reader.Read(&frame)) {
    ASSERT_LT(count, from_file.size());
    EXPECT_EQ(frame.seconds, from_file[count].seconds);
    EXPECT_EQ(cv::norm(frame.image, from_file[count].image, cv::NORM_INF), 0);
    ++count;
  }
  EXPECT_EQ(count, from_file.size());
  auto garbage = std::make_shared<std::vector<std::uint8_t>>(4096, 0x42);
  try {
    VideoReader bad(garbage, "archive.zip!/bad.mp4");
    FAIL() << "garbage opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("archive.zip!/bad.mp4"), std::string::npos);
  }
}

}  // namespace celtrace
