// AlignSegments against constructed drawings and entries whose true alignment is known.
#include "clip_matcher.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// A clip cut across two long holds fits wherever both drawings' holds allow: the segment
// spans every such time, as a still's match spans its hold, instead of a precise-looking
// time in the middle that need not be the truth.
TEST(AlignSegments, ACutAcrossHoldsSpansWhereItFits) {
  // Episode 0: a drawing held 10-14 s, the next held 14-18 s.
  const std::vector<EntryInfo> entries = {{0, 100, 10.0, 14.0}, {0, 100, 14.0, 18.0}};
  // The clip: 1 s of the first drawing, then 1 s of the second (24 frames each). It fits
  // at any offset (episode time - clip time) from 13 s (the second drawing starts its hold
  // at clip time 1 s) to 14 s (the first drawing's hold ends as the clip starts).
  const std::vector<QueryDrawing> drawings = {{0.0, 0.958, 24, Pdq{}}, {1.0, 1.958, 24, Pdq{}}};
  const std::vector<std::vector<Neighbor>> neighbors = {{{0, 2}}, {{1, 2}}};
  const auto segments = AlignSegments(drawings, neighbors, entries, 2, 24);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_NEAR(segments[0].ref_start, 0.0 + 13.0, 1e-6);
  EXPECT_NEAR(segments[0].ref_end, 1.958 + 14.0, 1e-6);
  // Distinct drawings still pin the offset down (the other tests), within the slack.
}

// A shot the episode shows twice (a loop, a recap): a clip of it fits both showings equally,
// and both are listed, as a still lists each occurrence. Only the first was, and the clip's
// true time could be the other one, at confidence 1.
TEST(AlignSegments, AShotShownTwiceGivesBothOccurrences) {
  std::vector<EntryInfo> entries;
  AddEpisode(0, 60, &entries);
  std::vector<QueryDrawing> drawings;
  std::vector<std::vector<Neighbor>> neighbors;
  // The clip shows 10-14 s; the episode shows the same drawings again at 30-34 s.
  AddQuery(0, 0, 4, 1.0, 10.0, 24000.0 / 1001.0, entries, &drawings, &neighbors);
  std::vector<std::vector<Neighbor>> again;
  AddQuery(0, 0, 4, 1.0, 30.0, 24000.0 / 1001.0, entries, &drawings, &again);
  drawings.resize(neighbors.size());
  for (size_t i = 0; i < neighbors.size(); ++i) {
    neighbors[i].insert(neighbors[i].end(), again[i].begin(), again[i].end());
  }
  const auto segments = AlignSegments(drawings, neighbors, entries, 3, 24);
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_NEAR(segments[0].ref_start, 10.0, 0.1);
  EXPECT_NEAR(segments[1].ref_start, 30.0, 0.1);
  for (const Segment& s : segments) {
    EXPECT_EQ(s.drawings, static_cast<int>(drawings.size()));
    EXPECT_NEAR(s.query_start, 0.0, 1e-9);
  }
}

// A walk cycle ties at every cycle of its shot: those are one showing, not occurrences, and
// however many ties there are they must not crowd out a compilation's other part (a review
// found 16 walk "segments" and the second part gone).
TEST(AlignSegments, AWalkCycleDoesNotCrowdOutTheRest) {
  std::vector<EntryInfo> entries;
  AddEpisode(0, 40, &entries);  // a 4-drawing cycle on 2s throughout
  AddEpisode(1, 60, &entries);
  const double fps = 24000.0 / 1001.0;
  std::vector<QueryDrawing> drawings;
  std::vector<std::vector<Neighbor>> neighbors;
  // 3 s of the walk: each drawing matches every entry of episode 0 in its phase.
  for (int k = 0; k < static_cast<int>(3 * fps / 2); ++k) {
    drawings.push_back({k * 2 / fps, (k * 2 + 1) / fps, 2, Pdq{}});
    std::vector<Neighbor> found;
    for (size_t id = 0; id < entries.size(); ++id) {
      if (entries[id].episode == 0 && static_cast<int>(id) % 4 == (k + 1) % 4) {
        found.push_back({static_cast<std::int64_t>(id), 4});
      }
    }
    neighbors.push_back(found);
  }
  // Then 2 s of episode 1 from 42 s.
  AddQuery(1, 3, 2, 1.0, 42.0, fps, entries, &drawings, &neighbors);
  const auto segments = AlignSegments(drawings, neighbors, entries, 3, 24);
  const auto other = std::find_if(segments.begin(), segments.end(),
                                  [](const Segment& s) { return s.episode == 1; });
  ASSERT_NE(other, segments.end()) << segments.size() << " segments";
  EXPECT_NEAR(other->ref_start, 42.0, 0.1);
  // The walk's occurrences are apart in episode time and at most 4.
  std::vector<const Segment*> walk;
  for (const Segment& s : segments) {
    if (s.episode == 0) walk.push_back(&s);
  }
  ASSERT_FALSE(walk.empty());
  EXPECT_LE(walk.size(), 5u);
  for (size_t a = 0; a < walk.size(); ++a) {
    for (size_t b = a + 1; b < walk.size(); ++b) {
      EXPECT_TRUE(walk[a]->ref_end <= walk[b]->ref_start || walk[b]->ref_end <= walk[a]->ref_start)
          << walk[a]->ref_start << "-" << walk[a]->ref_end << " and " << walk[b]->ref_start << "-"
          << walk[b]->ref_end;
    }
  }
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

TEST(UnexplainedGaps, AreThePartsNoSegmentAligns) {
  // A compilation whose second part PDQ does not find (cropped): its drawings have no
  // neighbours, so alignment explains the first part only and the second is the gap.
  std::vector<EntryInfo> entries;
  AddEpisode(0, 60, &entries);
  std::vector<QueryDrawing> drawings;
  std::vector<std::vector<Neighbor>> neighbors;
  const double fps = 24000.0 / 1001.0;
  AddQuery(0, 0, 3, 1.0, 10.0, fps, entries, &drawings, &neighbors);
  const size_t first_part = drawings.size();
  for (double t = 3; t < 6; t += 2 / fps) {
    drawings.push_back({t, t + 1 / fps, 2, Pdq{}});
    neighbors.emplace_back();
  }
  const auto segments = AlignSegments(drawings, neighbors, entries, 3, 24);
  ASSERT_EQ(segments.size(), 1u);
  const auto gaps = UnexplainedGaps(drawings, segments, 2.0);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].first, first_part);
  EXPECT_EQ(gaps[0].last, drawings.size() - 1);
  EXPECT_DOUBLE_EQ(gaps[0].start, drawings[first_part].start);
  EXPECT_DOUBLE_EQ(gaps[0].end, drawings.back().end);
  // A part shorter than the bar is left alone; without segments the clip is one gap.
  EXPECT_TRUE(UnexplainedGaps(drawings, segments, 3.5).empty());
  const auto whole = UnexplainedGaps(drawings, {}, 1e9);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0], (ClipGap{0, drawings.size() - 1, drawings[0].start, drawings.back().end}));
}

TEST(UnexplainedGaps, CoverEveryUnexplainedDrawingOnceAndAreMaximal) {
  std::mt19937 rng(12);
  for (int round = 0; round < 50; ++round) {
    std::vector<QueryDrawing> drawings;
    double t = 0;
    for (int i = 0; i < 80; ++i) {
      const double length = 0.04 * (1 + rng() % 10);
      drawings.push_back({t, t + length, 1, Pdq{}});
      t += length + 0.04 * (rng() % 3);
    }
    std::vector<Segment> segments(rng() % 4);
    for (Segment& s : segments) {
      s.query_start = drawings[rng() % drawings.size()].start;
      s.query_end = s.query_start + 0.5 * (rng() % 8);
    }
    auto explained = [&](const QueryDrawing& d) {
      for (const Segment& s : segments) {
        if (d.start >= s.query_start && d.end <= s.query_end) return true;
      }
      return false;
    };
    const auto gaps = UnexplainedGaps(drawings, segments, 0);
    std::vector<int> covered(drawings.size(), 0);
    for (size_t g = 0; g < gaps.size(); ++g) {
      const ClipGap& gap = gaps[g];
      ASSERT_LE(gap.first, gap.last);
      ASSERT_LT(gap.last, drawings.size());
      if (g > 0) {
        EXPECT_GT(gap.first, gaps[g - 1].last + 1) << "gaps are maximal";
      }
      if (gap.first > 0) {
        EXPECT_TRUE(explained(drawings[gap.first - 1]));
      }
      if (gap.last + 1 < drawings.size()) {
        EXPECT_TRUE(explained(drawings[gap.last + 1]));
      }
      for (size_t i = gap.first; i <= gap.last; ++i) ++covered[i];
    }
    for (size_t i = 0; i < drawings.size(); ++i) {
      EXPECT_EQ(covered[i], explained(drawings[i]) ? 0 : 1) << "drawing " << i;
    }
    // The bar drops exactly the shorter gaps (with segments; without, the clip is one gap).
    if (!segments.empty()) {
      const auto long_ones = UnexplainedGaps(drawings, segments, 1.0);
      size_t expected = 0;
      for (const ClipGap& gap : gaps) expected += gap.end - gap.start >= 1.0;
      EXPECT_EQ(long_ones.size(), expected);
    }
  }
}

TEST(GapSampleTimes, SpreadOverTheGapOnItsDrawings) {
  // Drawings 0.5 s long with 0.5 s of uninformative frames between them.
  std::vector<QueryDrawing> drawings;
  for (int i = 0; i < 10; ++i) drawings.push_back({i * 1.0, i * 1.0 + 0.5, 12, Pdq{}});
  const ClipGap gap{2, 7, 2.0, 7.5};
  const auto times = GapSampleTimes(drawings, gap, 6);
  ASSERT_EQ(times.size(), 6u);
  EXPECT_DOUBLE_EQ(times.front(), 2.0);
  EXPECT_DOUBLE_EQ(times.back(), 7.5);
  for (size_t k = 0; k < times.size(); ++k) {
    if (k > 0) {
      EXPECT_GT(times[k], times[k - 1]);
    }
    bool on_drawing = false;
    for (size_t i = gap.first; i <= gap.last; ++i) {
      on_drawing |= times[k] >= drawings[i].start && times[k] <= drawings[i].end;
    }
    EXPECT_TRUE(on_drawing) << times[k] << " s lies on no drawing of the gap";
  }
  // 3.75 s falls between drawings 3 and 4: the next drawing's start is taken.
  EXPECT_EQ(GapSampleTimes(drawings, {3, 4, 3.0, 4.5}, 3), (std::vector<double>{3.0, 4.0, 4.5}));
  // One held drawing: times spread over its hold; one wanted: its start.
  EXPECT_EQ(GapSampleTimes(drawings, {5, 5, 5.0, 5.5}, 4),
            (std::vector<double>{5.0, 5.0 + 0.5 / 3, 5.0 + 1.0 / 3, 5.5}));
  EXPECT_EQ(GapSampleTimes(drawings, {5, 5, 5.0, 5.5}, 1), (std::vector<double>{5.0}));
  // Two times in one hole between drawings both move to the next start: taken once.
  const std::vector<QueryDrawing> sparse = {{0, 0.1, 2, Pdq{}}, {5, 5.1, 2, Pdq{}}};
  EXPECT_EQ(GapSampleTimes(sparse, {0, 1, 0, 5.1}, 4), (std::vector<double>{0, 5.0, 5.1}));
  // A gap outside the drawings gives nothing.
  EXPECT_TRUE(GapSampleTimes(sparse, {1, 0, 5, 0.1}, 4).empty());
  EXPECT_TRUE(GapSampleTimes(sparse, {1, 2, 5, 9}, 4).empty());
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
