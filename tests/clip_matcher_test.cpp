// AlignSegments against constructed drawings and entries whose true alignment is known.
#include "clip_matcher.h"

#include <gtest/gtest.h>

#include <map>
#include <opencv2/imgproc.hpp>
#include <random>

#include "border_trim.h"
#include "still_matcher.h"

namespace celtrace {
namespace {

// An "episode" of entries: one drawing every 2 frames at 23.976 fps for `seconds`.
void AddEpisode(std::int32_t episode, double seconds, std::vector<EntryInfo>* entries) {
  const double frame = 1001.0 / 24000.0;
  for (double t = 0; t < seconds; t += 2 * frame) {
    entries->push_back({episode, 100, t, t + frame});
  }
}

// Query drawings showing reference times ref(t) = speed * t + offset for t in [0, length),
// each matched exactly to the entry that holds that time.
void AddQuery(std::int32_t episode, double query_offset, double length, double speed,
              double ref_offset, double fps, const std::vector<EntryInfo>& entries,
              std::vector<QueryDrawing>* drawings, std::vector<std::vector<Neighbor>>* neighbors) {
  for (double t = 0; t < length; t += 2.0 / fps) {
    const double ref = speed * t + ref_offset;
    std::vector<Neighbor> found;
    for (size_t id = 0; id < entries.size(); ++id) {
      const EntryInfo& e = entries[id];
      if (e.episode == episode && ref >= e.start - 1e-9 && ref < e.start + 2 * 1001.0 / 24000.0) {
        found.push_back({static_cast<std::int64_t>(id), 4});
      }
    }
    drawings->push_back({query_offset + t, query_offset + t + 1.0 / fps, 2, Pdq{}});
    neighbors->push_back(found);
  }
}

TEST(AlignSegments, FindsOneSegmentWithItsRanges) {
  std::vector<EntryInfo> entries;
  AddEpisode(0, 60, &entries);
  AddEpisode(1, 60, &entries);
  std::vector<QueryDrawing> drawings;
  std::vector<std::vector<Neighbor>> neighbors;
  AddQuery(1, 0, 4, 1.0, 20.0, 24000.0 / 1001.0, entries, &drawings, &neighbors);
  const auto segments = AlignSegments(drawings, neighbors, entries, 3, 24);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].episode, 1);
  EXPECT_DOUBLE_EQ(segments[0].speed, 1.0);
  EXPECT_NEAR(segments[0].ref_start, 20.0, 0.1);
  EXPECT_NEAR(segments[0].ref_end, 24.0, 0.15);
  EXPECT_NEAR(segments[0].query_start, 0.0, 1e-9);
  EXPECT_EQ(segments[0].drawings, static_cast<int>(drawings.size()));
}

TEST(AlignSegments, SplitsACompilationOfTwoEpisodes) {
  std::vector<EntryInfo> entries;
  AddEpisode(0, 60, &entries);
  AddEpisode(1, 60, &entries);
  std::vector<QueryDrawing> drawings;
  std::vector<std::vector<Neighbor>> neighbors;
  const double fps = 24000.0 / 1001.0;
  AddQuery(0, 0, 3, 1.0, 10.0, fps, entries, &drawings, &neighbors);
  AddQuery(1, 3, 3, 1.0, 42.0, fps, entries, &drawings, &neighbors);
  const auto segments = AlignSegments(drawings, neighbors, entries, 3, 24);
  ASSERT_EQ(segments.size(), 2u);
  std::map<int, Segment> by_episode;
  for (const auto& s : segments) by_episode[s.episode] = s;
  EXPECT_NEAR(by_episode[0].query_start, 0, 0.01);
  EXPECT_NEAR(by_episode[0].query_end, 3, 0.15);
  EXPECT_NEAR(by_episode[0].ref_start, 10, 0.1);
  EXPECT_NEAR(by_episode[1].query_start, 3, 0.01);
  EXPECT_NEAR(by_episode[1].ref_start, 42, 0.1);
  EXPECT_NEAR(by_episode[1].ref_end, 45, 0.15);
}

TEST(AlignSegments, RecognisesPalSpeedUp) {
  std::vector<EntryInfo> entries;
  AddEpisode(0, 60, &entries);
  std::vector<QueryDrawing> drawings;
  std::vector<std::vector<Neighbor>> neighbors;
  const double speed = 25.0 / (24000.0 / 1001.0);
  AddQuery(0, 0, 8, speed, 30.0, 25.0, entries, &drawings, &neighbors);
  const auto segments = AlignSegments(drawings, neighbors, entries, 3, 24);
  ASSERT_GE(segments.size(), 1u);
  EXPECT_NEAR(segments[0].speed, speed, 1e-9);
  EXPECT_NEAR(segments[0].ref_start, 30.0, 0.1);
  EXPECT_NEAR(segments[0].ref_end, 30.0 + 8 * speed, 0.2);
  EXPECT_GE(segments[0].drawings, static_cast<int>(drawings.size()) * 9 / 10);
}

TEST(AlignSegments, ScatteredCoincidencesMakeNoSegment) {
  std::vector<EntryInfo> entries;
  AddEpisode(0, 600, &entries);
  std::vector<QueryDrawing> drawings;
  std::vector<std::vector<Neighbor>> neighbors;
  // Each query drawing matches one entry at a random, inconsistent time.
  std::mt19937 rng(4);
  for (int i = 0; i < 50; ++i) {
    drawings.push_back({i * 0.1, i * 0.1 + 0.04, 2, Pdq{}});
    neighbors.push_back({{static_cast<std::int64_t>(rng() % entries.size()), 20}});
  }
  EXPECT_TRUE(AlignSegments(drawings, neighbors, entries, 3, 24).empty());
}

TEST(Confidence, FallsWithDistanceAndAmbiguity) {
  EXPECT_GT(Confidence(0, 200, 31), 0.99);
  EXPECT_GT(Confidence(6, 200, 31), Confidence(20, 200, 31));
  EXPECT_LE(Confidence(6, 6, 31), 0.5);  // another episode just as close
  EXPECT_GT(Confidence(6, 40, 31), 0.9);
}

TEST(BorderTrim, FindsBarsButNotFlatContent) {
  cv::Mat picture(180, 320, CV_8UC3);
  cv::randu(picture, 0, 255);
  cv::Mat letterboxed(240, 320, CV_8UC3, cv::Scalar::all(0));
  picture.copyTo(letterboxed(cv::Rect(0, 30, 320, 180)));
  EXPECT_EQ(FindContentRect(letterboxed), cv::Rect(0, 30, 320, 180));
  cv::Mat pillarboxed(180, 400, CV_8UC3, cv::Scalar(250, 250, 250));
  picture.copyTo(pillarboxed(cv::Rect(40, 0, 320, 180)));
  EXPECT_EQ(FindContentRect(pillarboxed), cv::Rect(40, 0, 320, 180));
  EXPECT_EQ(FindContentRect(picture), cv::Rect(0, 0, 320, 180));
  // A mostly flat sky is not a bar: trimming would keep less than 40%.
  cv::Mat sky(180, 320, CV_8UC3, cv::Scalar(200, 150, 90));
  cv::circle(sky, {160, 170}, 20, cv::Scalar(0, 0, 0), cv::FILLED);
  EXPECT_EQ(FindContentRect(sky), cv::Rect(0, 0, 320, 180));
}

}  // namespace
}  // namespace celtrace
