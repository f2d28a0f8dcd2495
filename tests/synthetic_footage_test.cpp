#include "synthetic_footage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <vector>

#include "celtrace/error.h"
#include "celtrace/line_art.h"
#include "celtrace/pdq.h"
#include "celtrace/video_reader.h"
#include "test_util.h"

namespace celtrace::synth {
namespace {

using testing::TempDir;

EpisodeSpec Spec(std::uint64_t seed, double seconds = 40) {
  EpisodeSpec spec;
  spec.seed = seed;
  spec.duration_seconds = seconds;
  return spec;
}

bool Identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

std::vector<int> ShotsOfKind(const Episode& episode, ShotKind kind) {
  std::vector<int> indices;
  for (int i = 0; i < static_cast<int>(episode.shots.size()); ++i) {
    if (episode.shots[i].kind == kind) indices.push_back(i);
  }
  return indices;
}

cv::Mat ShotFrame(const EpisodeSpec& spec, const Episode& episode, int shot, std::int64_t local) {
  return RenderFrame(spec, episode, episode.shots[shot].first_frame + local);
}

int Median(std::vector<int> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The informative hashes (PDQ quality >= 50) of every 12th frame (half a second).
std::vector<Pdq> SampleHashes(const EpisodeSpec& spec, const Episode& episode) {
  std::vector<Pdq> hashes;
  for (std::int64_t frame = 0; frame < episode.frame_count; frame += 12) {
    const Pdq hash = ComputePdq(RenderFrame(spec, episode, frame));
    if (hash.quality >= 50) hashes.push_back(hash);
  }
  return hashes;
}

TEST(SyntheticFootage, SameSeedGivesSamePlanAndPixels) {
  const EpisodeSpec spec = Spec(7, 20);
  const Episode first = PlanEpisode(spec);
  const Episode second = PlanEpisode(spec);
  ASSERT_EQ(first, second);
  for (const Shot& shot : first.shots) {
    const std::int64_t middle = shot.first_frame + shot.frame_count() / 2;
    const cv::Mat frame = RenderFrame(spec, first, middle);
    EXPECT_EQ(frame.type(), CV_8UC3);
    EXPECT_EQ(frame.size(), spec.size);
    EXPECT_TRUE(Identical(frame, RenderFrame(spec, second, middle))) << "frame " << middle;
  }
  EXPECT_FALSE(
      Identical(RenderFrame(spec, first, first.frame_count - 1),
                RenderFrame(Spec(8, 20), PlanEpisode(Spec(8, 20)), first.frame_count - 1)));
}

TEST(SyntheticFootage, PlanCoversTheEpisodeWithEveryKindOfShot) {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE(seed);
    const EpisodeSpec spec = Spec(seed);
    const Episode episode = PlanEpisode(spec);
    ASSERT_EQ(episode.frame_count, std::llround(40 * spec.fps));
    ASSERT_FALSE(episode.shots.empty());
    EXPECT_EQ(episode.shots.front().first_frame, 0);
    EXPECT_EQ(episode.shots.back().end_frame, episode.frame_count);
    EXPECT_EQ(episode.shots.front().kind, ShotKind::kTitleCard);
    EXPECT_FALSE(episode.title.empty());
    std::set<ShotKind> kinds;
    for (size_t i = 0; i < episode.shots.size(); ++i) {
      const Shot& shot = episode.shots[i];
      kinds.insert(shot.kind);
      if (i > 0) {
        EXPECT_EQ(shot.first_frame, episode.shots[i - 1].end_frame);
      }
      EXPECT_DOUBLE_EQ(shot.start, shot.first_frame / spec.fps);
      EXPECT_DOUBLE_EQ(shot.end, shot.end_frame / spec.fps);
      const double seconds = shot.end - shot.start;
      // The last shot is cut by the episode's end (to no less than a second) or takes a tail
      // shorter than a second.
      const bool last = i + 1 == episode.shots.size();
      const double slack = last ? 1.0 : 0.05;
      const auto expect_seconds = [&](double lo, double hi) {
        EXPECT_GE(seconds, (last ? std::min(lo, 1.0) : lo) - 0.05) << "shot " << i;
        EXPECT_LE(seconds, hi + slack) << "shot " << i;
      };
      switch (shot.kind) {
        case ShotKind::kHeld:
          expect_seconds(1.5, 4);
          break;
        case ShotKind::kFadeToBlack:
          expect_seconds(0.5, 1);
          break;
        case ShotKind::kLoopRepeat:
          ASSERT_GE(shot.source_shot, 0);
          ASSERT_LT(shot.source_shot, static_cast<int>(i) - 1);
          EXPECT_LE(shot.frame_count(), episode.shots[shot.source_shot].frame_count());
          expect_seconds(1, 5);
          break;
        default:
          expect_seconds(1, 5);
      }
      if (shot.kind == ShotKind::kFadeToBlack) {
        const ShotKind before = episode.shots[i - 1].kind;
        EXPECT_TRUE(before != ShotKind::kTitleCard && before != ShotKind::kFadeToBlack);
      }
      if (shot.kind != ShotKind::kLoopRepeat) {
        EXPECT_EQ(shot.source_shot, -1);
      }
    }
    for (const ShotKind kind :
         {ShotKind::kAnimatedOn2s, ShotKind::kAnimatedOn3s, ShotKind::kHeld, ShotKind::kPan,
          ShotKind::kFadeToBlack, ShotKind::kTitleCard, ShotKind::kLoopRepeat}) {
      EXPECT_TRUE(kinds.count(kind)) << ShotKindName(kind);
    }
    EXPECT_FALSE(kinds.count(ShotKind::kOpening));
  }
}

TEST(SyntheticFootage, TwentyFiveSecondsHoldEveryKindOfShot) {
  for (std::uint64_t seed = 100; seed < 400; ++seed) {
    EpisodeSpec spec = Spec(seed, 25);
    if (seed % 2 == 1) {  // the opening comes on top
      spec.with_opening = true;
      spec.duration_seconds += 5;
    }
    const Episode episode = PlanEpisode(spec);
    std::set<ShotKind> kinds;
    for (const Shot& shot : episode.shots) kinds.insert(shot.kind);
    EXPECT_EQ(kinds.size(), spec.with_opening ? 8u : 7u) << "seed " << seed;
  }
}

TEST(SyntheticFootage, ShotIndexAtFindsTheShotOfAFrame) {
  const Episode episode = PlanEpisode(Spec(3));
  for (int i = 0; i < static_cast<int>(episode.shots.size()); ++i) {
    EXPECT_EQ(ShotIndexAt(episode, episode.shots[i].first_frame), i);
    EXPECT_EQ(ShotIndexAt(episode, episode.shots[i].end_frame - 1), i);
  }
  EXPECT_EQ(ShotIndexAt(episode, -1), -1);
  EXPECT_EQ(ShotIndexAt(episode, episode.frame_count), -1);
}

TEST(SyntheticFootage, HeldShotFramesArePixelIdentical) {
  const EpisodeSpec spec = Spec(3);
  const Episode episode = PlanEpisode(spec);
  std::vector<int> shots = ShotsOfKind(episode, ShotKind::kHeld);
  ASSERT_FALSE(shots.empty());
  shots.resize(std::min<size_t>(shots.size(), 2));
  for (const int shot : shots) {
    const cv::Mat first = ShotFrame(spec, episode, shot, 0);
    for (std::int64_t local = 1; local < episode.shots[shot].frame_count(); ++local) {
      ASSERT_TRUE(Identical(first, ShotFrame(spec, episode, shot, local))) << "shot " << shot;
    }
  }
}

// Frames step*k .. step*k + step - 1 of a shot show one drawing; the next frame a new one.
void ExpectDrawingsOn(int step, ShotKind kind) {
  const EpisodeSpec spec = Spec(4);
  const Episode episode = PlanEpisode(spec);
  std::vector<int> shots = ShotsOfKind(episode, kind);
  ASSERT_FALSE(shots.empty());
  shots.resize(std::min<size_t>(shots.size(), 2));
  for (const int shot : shots) {
    cv::Mat previous = ShotFrame(spec, episode, shot, 0);
    for (std::int64_t local = 1; local < episode.shots[shot].frame_count(); ++local) {
      const cv::Mat frame = ShotFrame(spec, episode, shot, local);
      if (local % step == 0) {
        EXPECT_FALSE(Identical(previous, frame)) << "shot " << shot << " frame " << local;
      } else {
        EXPECT_TRUE(Identical(previous, frame)) << "shot " << shot << " frame " << local;
      }
      previous = frame;
    }
  }
}

TEST(SyntheticFootage, AnimationOnTwosShowsEachDrawingTwice) {
  ExpectDrawingsOn(2, ShotKind::kAnimatedOn2s);
}

TEST(SyntheticFootage, AnimationOnThreesShowsEachDrawingThreeTimes) {
  ExpectDrawingsOn(3, ShotKind::kAnimatedOn3s);
}

TEST(SyntheticFootage, SuccessiveDrawingsDifferByMoreThanTwentyPdqBits) {
  std::vector<int> distances;
  for (std::uint64_t seed = 5; seed <= 6; ++seed) {
    const EpisodeSpec spec = Spec(seed, 20);
    const Episode episode = PlanEpisode(spec);
    for (const int shot : ShotsOfKind(episode, ShotKind::kAnimatedOn2s)) {
      Pdq previous = ComputePdq(ShotFrame(spec, episode, shot, 0));
      for (std::int64_t local = 2; local < episode.shots[shot].frame_count(); local += 2) {
        const Pdq hash = ComputePdq(ShotFrame(spec, episode, shot, local));
        distances.push_back(HammingDistance(previous, hash));
        previous = hash;
      }
    }
  }
  ASSERT_GE(distances.size(), 40u);
  // Measured: median 60, 10th percentile 28, 5% at or under 20 (60 s episodes, seeds
  // 1000-1011).
  EXPECT_GT(Median(distances), 20);
  const auto similar =
      std::count_if(distances.begin(), distances.end(), [](int d) { return d <= 20; });
  EXPECT_LT(similar, static_cast<long>(distances.size() / 4));
}

TEST(SyntheticFootage, PanSlidesTheBackgroundEveryFrame) {
  const EpisodeSpec spec = Spec(2);
  const Episode episode = PlanEpisode(spec);
  for (const int shot : ShotsOfKind(episode, ShotKind::kPan)) {
    std::vector<int> distances;
    Pdq previous = ComputePdq(ShotFrame(spec, episode, shot, 0));
    cv::Mat previous_frame = ShotFrame(spec, episode, shot, 0);
    for (std::int64_t local = 1;
         local < std::min<std::int64_t>(24, episode.shots[shot].frame_count()); ++local) {
      const cv::Mat frame = ShotFrame(spec, episode, shot, local);
      EXPECT_FALSE(Identical(previous_frame, frame));
      const Pdq hash = ComputePdq(frame);
      distances.push_back(HammingDistance(previous, hash));
      previous = hash;
      previous_frame = frame;
    }
    // A few pixels a frame: neighbouring frames stay close.
    EXPECT_LT(Median(distances), 32) << "shot " << shot;
  }
}

TEST(SyntheticFootage, LoopRepeatsItsSourceShotFrameForFrame) {
  const EpisodeSpec spec = Spec(9);
  const Episode episode = PlanEpisode(spec);
  const std::vector<int> loops = ShotsOfKind(episode, ShotKind::kLoopRepeat);
  ASSERT_FALSE(loops.empty());
  for (const int loop : loops) {
    const int source = episode.shots[loop].source_shot;
    for (std::int64_t local = 0; local < episode.shots[loop].frame_count(); ++local) {
      ASSERT_TRUE(
          Identical(ShotFrame(spec, episode, loop, local), ShotFrame(spec, episode, source, local)))
          << "loop " << loop << " frame " << local;
    }
    // A cut, not a continuation: the loop does not start where the shot before it ended.
    EXPECT_FALSE(Identical(ShotFrame(spec, episode, loop, 0),
                           RenderFrame(spec, episode, episode.shots[loop].first_frame - 1)));
  }
}

TEST(SyntheticFootage, FadeEndsInBlack) {
  const EpisodeSpec spec = Spec(10);
  const Episode episode = PlanEpisode(spec);
  const std::vector<int> fades = ShotsOfKind(episode, ShotKind::kFadeToBlack);
  ASSERT_FALSE(fades.empty());
  for (const int fade : fades) {
    const Shot& shot = episode.shots[fade];
    const cv::Mat before = RenderFrame(spec, episode, shot.first_frame - 1);
    const cv::Mat first = ShotFrame(spec, episode, fade, 0);
    const cv::Mat last = ShotFrame(spec, episode, fade, shot.frame_count() - 1);
    EXPECT_LT(cv::mean(first)[1], cv::mean(before)[1]);
    EXPECT_GT(cv::mean(first)[1], 0);
    EXPECT_EQ(cv::countNonZero(last.reshape(1)), 0);
    EXPECT_EQ(ComputePdq(last).quality, 0);
  }
}

TEST(SyntheticFootage, TitleCardIsHeldAndLowInformation) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const EpisodeSpec spec = Spec(seed, 8);
    const Episode episode = PlanEpisode(spec);
    const Shot& card = episode.shots.front();
    ASSERT_EQ(card.kind, ShotKind::kTitleCard);
    const cv::Mat first = RenderFrame(spec, episode, 0);
    EXPECT_TRUE(Identical(first, RenderFrame(spec, episode, card.end_frame - 1)));
    // Measured: quality 13-36 over seeds 1000-1011; drawn frames mostly score 100.
    EXPECT_LT(ComputePdq(first).quality, 50) << "seed " << seed;
  }
}

TEST(SyntheticFootage, OpeningIsIdenticalAcrossEpisodesSharingIt) {
  EpisodeSpec a = Spec(11, 12), b = Spec(12, 12), other = Spec(11, 12);
  a.with_opening = b.with_opening = other.with_opening = true;
  a.opening_seed = b.opening_seed = 5;
  other.opening_seed = 6;
  const Episode ea = PlanEpisode(a), eb = PlanEpisode(b), eo = PlanEpisode(other);
  ASSERT_EQ(ea.shots.front().kind, ShotKind::kOpening);
  ASSERT_EQ(eb.shots.front().kind, ShotKind::kOpening);
  ASSERT_EQ(ea.shots.front().end_frame, eb.shots.front().end_frame);
  EXPECT_EQ(ea.shots.front().frame_count(), std::llround(5 * a.fps));
  EXPECT_EQ(ea.opening_shots, eb.opening_shots);
  EXPECT_GE(ea.opening_shots.size(), 3u);
  EXPECT_EQ(ea.opening_shots.back().kind, ShotKind::kTitleCard);  // the show's logo
  const std::int64_t opening = ea.shots.front().end_frame;
  for (std::int64_t frame = 0; frame < opening; ++frame) {
    ASSERT_TRUE(Identical(RenderFrame(a, ea, frame), RenderFrame(b, eb, frame)))
        << "frame " << frame;
  }
  EXPECT_FALSE(Identical(RenderFrame(a, ea, opening), RenderFrame(b, eb, opening)));
  EXPECT_FALSE(Identical(RenderFrame(a, ea, 0), RenderFrame(other, eo, 0)));
}

TEST(SyntheticFootage, DifferentEpisodesAreFarApartByPdq) {
  const EpisodeSpec a = Spec(21, 30), b = Spec(22, 30);
  const std::vector<Pdq> ha = SampleHashes(a, PlanEpisode(a));
  const std::vector<Pdq> hb = SampleHashes(b, PlanEpisode(b));
  ASSERT_GE(ha.size(), 40u);
  ASSERT_GE(hb.size(), 40u);
  std::vector<int> distances;
  for (const Pdq& x : ha) {
    for (const Pdq& y : hb) distances.push_back(HammingDistance(x, y));
  }
  // Measured over 12 episodes: median 128, 1st percentile 108, minimum 72.
  EXPECT_GT(Median(distances), 100);
  EXPECT_GT(*std::min_element(distances.begin(), distances.end()), 64);
}

TEST(SyntheticFootage, UnrelatedArtIsFarFromEpisodes) {
  const EpisodeSpec spec = Spec(31, 30);
  const std::vector<Pdq> episode = SampleHashes(spec, PlanEpisode(spec));
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    const cv::Mat art = RenderUnrelatedArt(seed, spec.size);
    ASSERT_EQ(art.size(), spec.size);
    EXPECT_TRUE(Identical(art, RenderUnrelatedArt(seed, spec.size)));
    const Pdq hash = ComputePdq(art);
    for (const Pdq& frame : episode) EXPECT_GT(HammingDistance(hash, frame), 64) << "seed " << seed;
  }
  EXPECT_FALSE(Identical(RenderUnrelatedArt(1, spec.size), RenderUnrelatedArt(2, spec.size)));
}

// Another studio's line art is still line art (it reaches the line-art channels as the
// evaluation's negatives must), deterministic, and differs from the house style's drawing of
// the same picture, in a part of it (the heads, and shoulders under long hair).
TEST(SyntheticFootage, OtherStudioLineArtRedrawsOnlyTheCharacters) {
  const cv::Size size(640, 360);
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    const cv::Mat house = RenderUnrelatedLineArt(seed, size, DrawingStyle::kHouse);
    const cv::Mat other = RenderUnrelatedLineArt(seed, size, DrawingStyle::kOtherStudio);
    EXPECT_TRUE(Identical(other, RenderUnrelatedLineArt(seed, size, DrawingStyle::kOtherStudio)));
    EXPECT_TRUE(MeasureLineArt(other).line_art) << "seed " << seed;
    cv::Mat differs;
    cv::absdiff(house, other, differs);
    cv::cvtColor(differs, differs, cv::COLOR_BGR2GRAY);
    const int changed = cv::countNonZero(differs > 40);
    EXPECT_GT(changed, 0) << "seed " << seed;
    // The heads are redrawn, the picture is not: under a quarter of it changes.
    EXPECT_LT(changed, static_cast<int>(size.area() / 4)) << "seed " << seed;
  }
}

TEST(SyntheticFootage, WriteEpisodeRoundTrips) {
  TempDir dir;
  EpisodeSpec spec = Spec(41, 3);
  spec.size = cv::Size(320, 180);
  const Episode episode = PlanEpisode(spec);
  const std::filesystem::path path = dir / "episode.mkv";
  WriteEpisode(spec, episode, path);

  VideoReader reader(path);
  EXPECT_EQ(reader.width(), 320);
  EXPECT_EQ(reader.height(), 180);
  Frame frame;
  std::int64_t count = 0;
  while (reader.Read(&frame)) {
    ASSERT_LT(count, episode.frame_count);
    EXPECT_NEAR(frame.seconds, count / spec.fps, 0.0015) << "frame " << count;
    const cv::Mat drawn = RenderFrame(spec, episode, count);
    const double mean_error =
        cv::norm(frame.image, drawn, cv::NORM_L1) / static_cast<double>(drawn.total() * 3);
    EXPECT_LT(mean_error, 6) << "frame " << count;
    ++count;
  }
  EXPECT_EQ(count, episode.frame_count);
}

TEST(SyntheticFootage, RejectsBadSpecsAndFrames) {
  EpisodeSpec spec = Spec(1, 0);
  EXPECT_THROW(PlanEpisode(spec), Error);
  spec = Spec(1);
  spec.fps = -1;
  EXPECT_THROW(PlanEpisode(spec), Error);
  spec = Spec(1);
  spec.size = cv::Size(32, 32);
  EXPECT_THROW(PlanEpisode(spec), Error);
  spec = Spec(1, 2);
  const Episode episode = PlanEpisode(spec);
  EXPECT_THROW(RenderFrame(spec, episode, episode.frame_count), Error);
  EXPECT_THROW(RenderFrame(spec, episode, -1), Error);
}

TEST(SyntheticFootage, CatalogAlternatesTwoShowsWithSharedOpenings) {
  CatalogSpec spec;
  spec.episodes = 5;
  spec.with_opening = true;
  const std::vector<CatalogEntry> entries = PlanCatalog(spec);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].path, "skyfolk_s01e01.mkv");
  EXPECT_EQ(entries[1].path, "marrow_lane_s01e01.mkv");
  EXPECT_EQ(entries[2].path, "skyfolk_s01e02.mkv");
  EXPECT_EQ(entries[1].title, "Marrow Lane");
  EXPECT_EQ(entries[4].episode, 3);
  std::set<std::uint64_t> seeds;
  for (const CatalogEntry& entry : entries) {
    seeds.insert(entry.spec.seed);
    EXPECT_TRUE(entry.spec.with_opening);
    EXPECT_EQ(entry.spec.opening_seed, entries[entry.title == "Skyfolk" ? 0 : 1].spec.opening_seed);
  }
  EXPECT_EQ(seeds.size(), 5u);
  EXPECT_NE(entries[0].spec.opening_seed, entries[1].spec.opening_seed);
  EXPECT_EQ(entries[3].spec.seed, EpisodeSeed(spec.seed, 3));
}

}  // namespace
}  // namespace celtrace::synth
