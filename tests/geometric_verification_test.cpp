// Geometric verification, local features, the keyframe table and the line-art measures, each
// against a construction whose answer is known.
#include "celtrace/geometric_verification.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <random>
#include <span>

#include "celtrace/error.h"
#include "celtrace/feature_index.h"
#include "celtrace/line_art.h"
#include "celtrace/local_features.h"
#include "synthetic_footage.h"

namespace celtrace {
namespace {

cv::Point2f Apply(const cv::Matx23d& t, cv::Point2f p) {
  return {static_cast<float>(t(0, 0) * p.x + t(0, 1) * p.y + t(0, 2)),
          static_cast<float>(t(1, 0) * p.x + t(1, 1) * p.y + t(1, 2))};
}

TEST(GeometricVerification, RecoversAKnownSimilarityAmongOutliers) {
  // Query -> reference: rotate 5 degrees counter-clockwise, scale 1.6, shift.
  cv::Matx23d truth = cv::getRotationMatrix2D(cv::Point2f(0, 0), 5, 1.6);
  truth(0, 2) = 37;
  truth(1, 2) = -12;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> x(0, 380), y(0, 210), rx(0, 640), ry(0, 360);
  std::normal_distribution<float> noise(0, 0.7f);
  std::vector<cv::Point2f> query, reference;
  for (int i = 0; i < 60; ++i) {  // 60 true correspondences, 1-pixel noise
    const cv::Point2f q(x(rng), y(rng));
    const cv::Point2f r = Apply(truth, q);
    query.push_back(q);
    reference.push_back({r.x + noise(rng), r.y + noise(rng)});
  }
  for (int i = 0; i < 140; ++i) {  // 70% outliers
    query.push_back({x(rng), y(rng)});
    reference.push_back({rx(rng), ry(rng)});
  }
  const Verification v = VerifyCorrespondences(query, reference, {640, 360}, {});
  ASSERT_TRUE(v.accepted);
  EXPECT_GE(v.inliers, 55);
  EXPECT_LE(v.inliers, 70);  // a few outliers may fall within 4 px by chance
  EXPECT_NEAR(v.scale, 1.6, 0.02);
  EXPECT_NEAR(v.rotation_degrees, 5, 0.3);
  EXPECT_NEAR(v.transform(0, 2), 37, 1.5);
  EXPECT_NEAR(v.transform(1, 2), -12, 1.5);
}

TEST(GeometricVerification, RejectsRandomCorrespondencesAndBunchedInliers) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> rx(0, 640), ry(0, 360);
  std::vector<cv::Point2f> query, reference;
  for (int i = 0; i < 300; ++i) {
    query.push_back({rx(rng), ry(rng)});
    reference.push_back({rx(rng), ry(rng)});
  }
  const Verification random = VerifyCorrespondences(query, reference, {640, 360}, {});
  EXPECT_FALSE(random.accepted);
  EXPECT_LT(random.inliers, 20);

  // 40 exact correspondences, all inside one 40x40 patch: enough inliers, no spread.
  std::uniform_real_distribution<float> patch(100, 140);
  query.clear();
  reference.clear();
  for (int i = 0; i < 40; ++i) {
    const cv::Point2f p(patch(rng), patch(rng));
    query.push_back(p);
    reference.push_back(p);
  }
  const Verification bunched = VerifyCorrespondences(query, reference, {640, 360}, {});
  EXPECT_GE(bunched.inliers, 40);
  EXPECT_FALSE(bunched.accepted);
  EXPECT_FALSE(VerifyCorrespondences({{1, 1}, {2, 2}}, {{1, 1}, {2, 2}}, {640, 360}, {}).accepted);
}

cv::Mat ContentFrame(std::uint64_t seed);

TEST(GeometricVerification, WarpedQueryCorrelatesWithItsReferenceOnly) {
  cv::Mat reference, other;
  cv::cvtColor(ContentFrame(3), reference, cv::COLOR_BGR2GRAY);
  cv::cvtColor(ContentFrame(8), other, cv::COLOR_BGR2GRAY);
  // The query: the reference cropped at (100, 50), 400x250, rotated 5 degrees and scaled 1.3.
  const cv::Matx23d crop_to_query = cv::getRotationMatrix2D(cv::Point2f(200, 125), 5, 1.3);
  cv::Mat query;
  cv::warpAffine(reference(cv::Rect(100, 50, 400, 250)), query, cv::Mat(crop_to_query),
                 cv::Size(520, 325));
  // Its inverse, then the crop offset: query pixels -> reference pixels.
  cv::Matx23d query_to_reference;
  cv::invertAffineTransform(crop_to_query, query_to_reference);
  query_to_reference(0, 2) += 100;
  query_to_reference(1, 2) += 50;
  const WarpedQuery warped = WarpQuery(query, query_to_reference, reference.size());
  EXPECT_GT(warped.valid_pixels, 64 * 36 / 4);
  EXPECT_GT(CorrelateWarped(warped, VerificationThumbnail(reference)), 0.9);
  EXPECT_LT(CorrelateWarped(warped, VerificationThumbnail(other)), 0.5);
  // Flat references and mismatched sizes never correlate.
  EXPECT_EQ(CorrelateWarped(warped, cv::Mat(36, 64, CV_8UC1, cv::Scalar(90))), -1);
  EXPECT_EQ(CorrelateWarped(warped, cv::Mat(10, 10, CV_8UC1, cv::Scalar(90))), -1);
}

// Normalised cross-correlation over the valid pixels, straight from its definition.
double PlainCorrelation(const WarpedQuery& q, const cv::Mat& r) {
  cv::Mat a, b;
  q.thumbnail.convertTo(a, CV_64F);
  r.convertTo(b, CV_64F);
  const cv::Scalar ma = cv::mean(a, q.valid), mb = cv::mean(b, q.valid);
  cv::Mat da = a - ma[0], db = b - mb[0];
  const cv::Mat valid = q.valid / 255;
  cv::Mat v;
  valid.convertTo(v, CV_64F);
  return cv::sum(da.mul(db).mul(v))[0] /
         std::sqrt(cv::sum(da.mul(da).mul(v))[0] * cv::sum(db.mul(db).mul(v))[0]);
}

// A 400x250 crop of a content frame (grey), the transform that places it (a shift), and
// one 6 degrees and 12 pixels off, as a RANSAC fit on keypoints of a moving character can be.
struct SkewedCrop {
  cv::Mat reference;
  cv::Mat crop;
  cv::Matx23d right;
  cv::Matx23d off;
};

SkewedCrop MakeSkewedCrop() {
  SkewedCrop c;
  cv::cvtColor(ContentFrame(3), c.reference, cv::COLOR_BGR2GRAY);
  c.crop = c.reference(cv::Rect(100, 50, 400, 250)).clone();
  c.right = cv::Matx23d(1, 0, 100, 0, 1, 50);
  c.off = cv::getRotationMatrix2D(cv::Point2f(200, 125), 6, 1.0);
  c.off(0, 2) += 112;
  c.off(1, 2) += 50;
  return c;
}

TEST(GeometricVerification, CorrelationRefinesAnAlignmentThatIsAFewDegreesOff) {
  const SkewedCrop skew = MakeSkewedCrop();
  const cv::Mat& reference = skew.reference;
  const cv::Mat& query = skew.crop;
  const cv::Matx23d& right = skew.right;
  const cv::Matx23d& off = skew.off;
  cv::Mat other;
  cv::cvtColor(ContentFrame(8), other, cv::COLOR_BGR2GRAY);
  const cv::Mat thumbnail = VerificationThumbnail(reference);
  const WarpedQuery exact = WarpQuery(query, right, reference.size());
  const WarpedQuery skewed = WarpQuery(query, off, reference.size());
  const double exact_plain = PlainCorrelation(exact, thumbnail);
  const double skewed_plain = PlainCorrelation(skewed, thumbnail);
  EXPECT_GT(exact_plain, 0.99);
  EXPECT_NEAR(CorrelateWarped(exact, thumbnail), exact_plain, 0.01);
  EXPECT_LT(skewed_plain, exact_plain - 0.05);  // measured 0.935
  // Refined: back at the exact alignment's correlation.
  cv::Matx23f refinement;
  EXPECT_GT(CorrelateWarped(skewed, thumbnail, &refinement), exact_plain - 0.01);  // 0.998
  // The refinement composed with the skewed transform puts the query's corners back where
  // the right one does, to within a thumbnail pixel (10 pixels here); the skewed one is off
  // by up to ~40 pixels.
  const cv::Matx23d refined = RefinedTransform(off, refinement, reference.size());
  double refined_error = 0, skewed_error = 0;
  for (const cv::Point2f corner :
       {cv::Point2f(0, 0), cv::Point2f(400, 0), cv::Point2f(400, 250), cv::Point2f(0, 250)}) {
    refined_error =
        std::max<double>(refined_error, cv::norm(Apply(refined, corner) - Apply(right, corner)));
    skewed_error =
        std::max<double>(skewed_error, cv::norm(Apply(off, corner) - Apply(right, corner)));
  }
  EXPECT_LT(refined_error, 10);
  EXPECT_GT(skewed_error, 25);
  const cv::Matx23d unmoved = RefinedTransform(right, cv::Matx23f::eye(), reference.size());
  EXPECT_LT(cv::norm(cv::Mat(unmoved), cv::Mat(right)), 1e-9);
  // An unrelated frame stays unrelated: it starts below the refinement's bar or gains little.
  const WarpedQuery unrelated = WarpQuery(query, off, other.size());
  const cv::Mat other_thumbnail = VerificationThumbnail(other);
  EXPECT_LT(CorrelateWarped(unrelated, other_thumbnail), 0.5);
}

// The realignment: how far the refinement moved the query's pixels from where the transform
// put them, as a share of the thumbnail's width.
TEST(GeometricVerification, RealignmentIsHowFarTheRefinementMovedTheQuery) {
  // Oracle: a query covering columns 8-39 and rows 4-19 of a 64x36 thumbnail.
  WarpedQuery query;
  query.thumbnail = cv::Mat(36, 64, CV_8UC1, cv::Scalar(0));
  query.valid = cv::Mat(36, 64, CV_8UC1, cv::Scalar(0));
  query.valid(cv::Rect(8, 4, 32, 16)).setTo(255);
  query.valid_pixels = 32 * 16;
  EXPECT_EQ(Realignment(query, cv::Matx23f::eye()), 0);
  EXPECT_NEAR(Realignment(query, cv::Matx23f(1, 0, 3, 0, 1, 4)), 5.0 / 64, 1e-6);
  // A rotation about the thumbnail's origin moves the box's farthest corner, (40, 20), most:
  // a chord of the circle through it.
  const double angle = 10 * CV_PI / 180;
  const cv::Matx23f rotation(
      static_cast<float>(std::cos(angle)), static_cast<float>(-std::sin(angle)), 0,
      static_cast<float>(std::sin(angle)), static_cast<float>(std::cos(angle)), 0);
  EXPECT_NEAR(Realignment(query, rotation), 2 * std::hypot(40, 20) * std::sin(angle / 2) / 64,
              1e-5);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(Realignment(query, cv::Matx23f(1, 0, nan, 0, 1, 0)),
            std::numeric_limits<double>::infinity());
  WarpedQuery nothing = query;
  nothing.valid.setTo(0);
  nothing.valid_pixels = 0;
  EXPECT_EQ(Realignment(nothing, cv::Matx23f(1, 0, 3, 0, 1, 4)), 0);

  // On ECC's own refinements: an alignment already right is barely moved, one 6 degrees and
  // 12 pixels off (as in the test above) is moved back by about as far as it was off.
  const SkewedCrop skew = MakeSkewedCrop();
  const cv::Mat& reference = skew.reference;
  const cv::Matx23d& right = skew.right;
  const cv::Matx23d& off = skew.off;
  const cv::Mat thumbnail = VerificationThumbnail(reference);
  const WarpedQuery exact = WarpQuery(skew.crop, right, reference.size());
  const WarpedQuery skewed = WarpQuery(skew.crop, off, reference.size());
  cv::Matx23f refinement;
  CorrelateWarped(exact, thumbnail, &refinement);
  EXPECT_LT(Realignment(exact, refinement), 0.5 / 64);  // under half a thumbnail pixel
  CorrelateWarped(skewed, thumbnail, &refinement);
  double skewed_error = 0;  // reference pixels, at the crop's corners
  for (const cv::Point2f corner :
       {cv::Point2f(0, 0), cv::Point2f(400, 0), cv::Point2f(400, 250), cv::Point2f(0, 250)}) {
    skewed_error =
        std::max<double>(skewed_error, cv::norm(Apply(off, corner) - Apply(right, corner)));
  }
  std::cout << "[ measured ] realignment of the skewed alignment "
            << Realignment(skewed, refinement) << ", its error " << skewed_error / reference.cols
            << " of the width\n";
  // Within the refinement's own error (10 pixels, the test above) of the skew.
  EXPECT_NEAR(Realignment(skewed, refinement), skewed_error / reference.cols,
              10.0 / reference.cols);
}

// The colour check: the same drawing painted in other colours agrees in light and shade
// but not in chroma; colour grading keeps a true frame's chroma; grey has none to compare.
TEST(GeometricVerification, ChromaCorrelationTellsRepaintedFromGraded) {
  const cv::Mat reference = ContentFrame(3);
  const cv::Size chroma_size = ThumbnailSize(reference.size(), kChromaWidth);
  const cv::Mat reference_chroma = ChromaThumbnail(reference, chroma_size);
  ASSERT_EQ(reference_chroma.type(), CV_8UC2);
  ASSERT_EQ(reference_chroma.size(), chroma_size);
  const cv::Matx23d right(1, 0, 100, 0, 1, 50);
  const auto chroma_of = [&](const cv::Mat& colour) {
    cv::Mat grey;
    cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
    return CorrelateChroma(WarpQuery(grey, right, reference.size(), colour), reference_chroma);
  };
  const cv::Mat crop = reference(cv::Rect(100, 50, 400, 250)).clone();
  EXPECT_GT(chroma_of(crop), 0.9);
  cv::Mat graded;  // gamma 0.7 and a blue cast
  crop.convertTo(graded, CV_32F, 1.0 / 255);
  cv::pow(graded, 0.7, graded);
  graded = graded.mul(cv::Scalar(1.1, 1.0, 0.9));
  graded.convertTo(graded, CV_8U, 255);
  EXPECT_GT(chroma_of(graded), 0.9);  // measured 0.981
  cv::Mat repainted;                  // red and blue swapped: the same drawing, other colours
  cv::cvtColor(crop, repainted, cv::COLOR_BGR2RGB);
  EXPECT_LT(chroma_of(repainted), 0.3);  // measured -0.391
  cv::Mat grey, grey_bgr;
  cv::cvtColor(crop, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(grey, grey_bgr, cv::COLOR_GRAY2BGR);
  EXPECT_EQ(chroma_of(grey_bgr), kChromaNotMeasured);
  // Without colours on either side nothing is measured; a grey reference scores 0.
  const WarpedQuery no_colour = WarpQuery(grey, right, reference.size());
  EXPECT_TRUE(no_colour.chroma.empty());
  EXPECT_EQ(CorrelateChroma(no_colour, reference_chroma), kChromaNotMeasured);
  const WarpedQuery coloured = WarpQuery(grey, right, reference.size(), crop);
  EXPECT_EQ(CorrelateChroma(coloured, cv::Mat()), kChromaNotMeasured);
  EXPECT_EQ(CorrelateChroma(coloured, cv::Mat(chroma_size, CV_8UC2, cv::Scalar(128, 128))), 0);
  // An alignment 6 degrees and 12 pixels off: the grey correlation's ECC refinement also
  // moves the chroma back into place.
  cv::Matx23d off = cv::getRotationMatrix2D(cv::Point2f(200, 125), 6, 1.0);
  off(0, 2) += 112;
  off(1, 2) += 50;
  const WarpedQuery skewed = WarpQuery(grey, off, reference.size(), crop);
  cv::Mat reference_grey;
  cv::cvtColor(reference, reference_grey, cv::COLOR_BGR2GRAY);
  cv::Matx23f refinement;
  CorrelateWarped(skewed, VerificationThumbnail(reference_grey), &refinement);
  EXPECT_NE(refinement, cv::Matx23f::eye());
  const double unrefined = CorrelateChroma(skewed, reference_chroma);
  const double refined = CorrelateChroma(skewed, reference_chroma, refinement);
  EXPECT_GT(refined, unrefined + 0.03);  // measured 0.924 -> 0.983
  EXPECT_GT(refined, 0.95);
}

cv::Mat ContentFrame(std::uint64_t seed) {
  synth::EpisodeSpec spec;
  spec.seed = seed;
  spec.duration_seconds = 20;
  const synth::Episode episode = synth::PlanEpisode(spec);
  for (const synth::Shot& shot : episode.shots) {
    if (shot.kind == synth::ShotKind::kHeld || shot.kind == synth::ShotKind::kAnimatedOn2s) {
      return synth::RenderFrame(spec, episode, (shot.first_frame + shot.end_frame) / 2);
    }
  }
  ADD_FAILURE() << "no content shot";
  return {};
}

// Nesting against a count over a fine grid: the share of sample points of the mapped query's
// box (the transform's scale and shift, its rotation left out) inside the reference, and of
// the reference's inside the box.
double NestingBySampling(cv::Size query, const cv::Matx23d& t, cv::Size reference) {
  const double scale = std::hypot(t(0, 0), t(1, 0));
  const cv::Point2f centre = Apply(t, cv::Point2f(query.width / 2.0f, query.height / 2.0f));
  const cv::Rect2d box(centre.x - scale * query.width / 2, centre.y - scale * query.height / 2,
                       scale * query.width, scale * query.height);
  const cv::Rect2d frame(0, 0, reference.width, reference.height);
  auto share = [](const cv::Rect2d& from, const cv::Rect2d& to) {
    int hits = 0, n = 0;
    for (int y = 0; y < 200; ++y) {
      for (int x = 0; x < 200; ++x, ++n) {
        hits += to.contains(
            {from.x + (x + 0.5) * from.width / 200, from.y + (y + 0.5) * from.height / 200});
      }
    }
    return static_cast<double>(hits) / n;
  };
  return std::max(share(box, frame), share(frame, box));
}

TEST(GeometricVerification, NestingTellsCropsAndScreenshotsFromStraddlingPictures) {
  const cv::Size frame(640, 360);
  struct Case {
    const char* what;
    cv::Size query;
    cv::Matx23d transform;
    double low, high;  // the expected range, besides the sampled value
  };
  cv::Matx23d shifted = cv::Matx23d::eye();
  shifted(0, 2) = 0.27 * 640;  // the straddling drawing of README "Accuracy": 73% shared
  cv::Matx23d crop = cv::getRotationMatrix2D(cv::Point2f(0, 0), 0, 0.4);  // 800 -> 320 px
  crop(0, 2) = 300;
  crop(1, 2) = 20;
  cv::Matx23d screenshot = cv::getRotationMatrix2D(cv::Point2f(0, 0), 0, 1 / 0.55);
  screenshot(0, 2) = -200;
  screenshot(1, 2) = -150;
  const cv::Matx23d rotated = cv::getRotationMatrix2D(cv::Point2f(320, 180), 5, 1.0);
  cv::Matx23d rotated_shifted = rotated;  // the rotation does not hide the straddle
  rotated_shifted(0, 2) += 0.27 * 640;
  cv::Matx23d apart = cv::Matx23d::eye();
  apart(0, 2) = 700;
  const std::vector<Case> cases = {
      {"the frame itself", frame, cv::Matx23d::eye(), 0.999, 1.0},
      {"a crop inside the frame", {800, 450}, crop, 0.999, 1.0},
      {"the frame inside a screenshot", {1280, 800}, screenshot, 0.999, 1.0},
      {"a 5-degree rotation of the frame in its canvas", frame, rotated, 0.999, 1.0},
      {"a picture shifted by 27%", frame, shifted, 0.72, 0.74},
      {"a rotated picture shifted by 27%", frame, rotated_shifted, 0.72, 0.74},
      {"pictures apart", frame, apart, 0.0, 0.0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const double nesting = Nesting(c.query, c.transform, frame);
    EXPECT_GE(nesting, c.low);
    EXPECT_LE(nesting, c.high);
    EXPECT_NEAR(nesting, NestingBySampling(c.query, c.transform, frame), 0.01);
  }
  EXPECT_EQ(Nesting({0, 0}, cv::Matx23d::eye(), frame), 0);
  EXPECT_EQ(Nesting(frame, cv::Matx23d::zeros(), frame), 0);  // degenerate: no area
  cv::Matx23d not_a_number = cv::Matx23d::eye();
  not_a_number(0, 2) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(Nesting(frame, not_a_number, frame), 0);  // never a NaN that passes a bar
}

TEST(LocalFeatures, KeypointsFollowTheScaledPictureAndFlatPicturesHaveNone) {
  const cv::Mat frame = ContentFrame(3);
  cv::Mat large;
  cv::resize(frame, large, {1280, 720});
  FeatureOptions options;
  const FeatureSet set = ExtractFeatures(large, options);
  EXPECT_EQ(set.size, cv::Size(640, 360));
  EXPECT_GE(set.count(), 150u);
  EXPECT_LE(set.count(), 300u);
  EXPECT_EQ(set.descriptors.size(), set.count() * kFeatureDescriptorBytes);
  for (const cv::Point2f& p : set.points) {
    EXPECT_TRUE(p.x >= 0 && p.y >= 0 && p.x < 640 && p.y < 360);
  }
  EXPECT_EQ(ExtractFeatures(cv::Mat(360, 640, CV_8UC3, cv::Scalar(40, 90, 200)), options).count(),
            0u);
  EXPECT_THROW(ExtractFeatures(cv::Mat(), options), Error);
}

// The cell of the 8-column grid over a 640x360 picture (5 rows) that a point falls in.
int CellOf8x5(cv::Point2f p) {
  return std::min(static_cast<int>(p.y * 5 / 360), 4) * 8 +
         std::min(static_cast<int>(p.x * 8 / 640), 7);
}

TEST(LocalFeatures, SpreadKeepsEachCellsStrongestRoundAfterRound) {
  std::mt19937 rng(61);
  std::uniform_real_distribution<float> x(0, 640), y(0, 360), response(0, 1);
  std::vector<cv::KeyPoint> keypoints;
  for (int i = 0; i < 900; ++i) {  // a dense, strong patch in one cell...
    keypoints.emplace_back(cv::Point2f(x(rng) / 8, y(rng) / 5), 31.f, -1.f, 1 + response(rng));
  }
  for (int i = 0; i < 300; ++i) {  // ...and weaker points everywhere
    keypoints.emplace_back(cv::Point2f(x(rng), y(rng)), 31.f, -1.f, response(rng));
  }
  const std::vector<int> kept = SpreadKeypoints(keypoints, {640, 360}, 200, 8);
  ASSERT_EQ(kept.size(), 200u);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
  EXPECT_EQ(std::adjacent_find(kept.begin(), kept.end()), kept.end());
  // Oracle: per cell, the kept are that cell's strongest, and cells not exhausted differ
  // by at most one round.
  std::vector<std::vector<float>> all(40), chosen(40);
  for (const cv::KeyPoint& k : keypoints) all[CellOf8x5(k.pt)].push_back(k.response);
  for (int i : kept) chosen[CellOf8x5(keypoints[i].pt)].push_back(keypoints[i].response);
  size_t most = 0, fewest_left = std::numeric_limits<size_t>::max();
  for (size_t c = 0; c < all.size(); ++c) {
    std::sort(all[c].rbegin(), all[c].rend());
    std::sort(chosen[c].rbegin(), chosen[c].rend());
    EXPECT_TRUE(std::equal(chosen[c].begin(), chosen[c].end(), all[c].begin())) << "cell " << c;
    most = std::max(most, chosen[c].size());
    if (chosen[c].size() < all[c].size()) fewest_left = std::min(fewest_left, chosen[c].size());
  }
  EXPECT_LE(most, fewest_left + 1);
  EXPECT_LT(chosen[0].size(), 20u);  // the strong patch no longer takes most of them
  // Fewer than asked, or no grid: the first ones, untouched.
  EXPECT_EQ(SpreadKeypoints(keypoints, {640, 360}, 5000, 8).size(), keypoints.size());
  const std::vector<int> first = SpreadKeypoints(keypoints, {640, 360}, 3, 0);
  EXPECT_EQ(first, (std::vector<int>{0, 1, 2}));
}

TEST(LocalFeatures, ASpreadReachesThePlainerPartsOfAPicture) {
  // Strong corners on the left quarter, faint ones on the rest.
  cv::Mat picture(360, 640, CV_8UC1, cv::Scalar(128));
  std::mt19937 rng(67);
  std::uniform_int_distribution<int> px(0, 620), py(0, 340), side(6, 18);
  for (int i = 0; i < 900; ++i) {
    const cv::Point corner(px(rng), py(rng));
    const int contrast = corner.x < 160 ? 110 : 40;
    cv::rectangle(picture, cv::Rect(corner, cv::Size(side(rng), side(rng))),
                  cv::Scalar(128 + (i % 2 ? contrast : -contrast)), cv::FILLED);
  }
  const auto share_right = [](const FeatureSet& set) {
    const auto right = std::count_if(set.points.begin(), set.points.end(),
                                     [](cv::Point2f p) { return p.x >= 160; });
    return static_cast<double>(right) / std::max<size_t>(set.count(), 1);
  };
  FeatureOptions options;
  const FeatureSet strongest = ExtractFeatures(picture, options);
  options.grid_columns = 8;
  const FeatureSet spread = ExtractFeatures(picture, options);
  EXPECT_EQ(spread.count(), 300u);  // exactly as many as asked
  EXPECT_EQ(spread.descriptors.size(), spread.count() * kFeatureDescriptorBytes);
  std::cout << "[ measured ] keypoints right of the detailed quarter: strongest "
            << share_right(strongest) << ", spread " << share_right(spread) << "\n";
  // Measured 0.10 and 0.52 (the area is 0.75; the faint part has fewer corners at coarse
  // levels).
  EXPECT_GT(share_right(spread), 0.4);
  EXPECT_GT(share_right(spread), 3 * share_right(strongest));
}

TEST(LocalFeatures, TheEdgeThresholdBoundsHowNearTheEdgeKeypointsLie) {
  // Corners everywhere on a small picture (a crop at the keyframes' scale).
  cv::Mat picture(180, 320, CV_8UC1, cv::Scalar(128));
  std::mt19937 rng(71);
  std::uniform_int_distribution<int> px(-10, 310), py(-10, 170), side(6, 18), tone(20, 235);
  for (int i = 0; i < 400; ++i) {
    cv::rectangle(picture, cv::Rect(cv::Point(px(rng), py(rng)), cv::Size(side(rng), side(rng))),
                  cv::Scalar(tone(rng)), cv::FILLED);
  }
  // A keypoint of pyramid level l lies at least edge_threshold pixels of that level, so at
  // least edge_threshold of the picture's, from every edge.
  const auto nearest_edge = [&](const FeatureSet& set) {
    float nearest = std::numeric_limits<float>::max();
    for (const cv::Point2f p : set.points) {
      nearest = std::min({nearest, p.x, p.y, picture.cols - 1 - p.x, picture.rows - 1 - p.y});
    }
    return nearest;
  };
  FeatureOptions options;
  options.max_features = 1000;
  const FeatureSet orb_border = ExtractFeatures(picture, options);  // 31, ORB's own
  options.edge_threshold = 16;
  const FeatureSet nearer = ExtractFeatures(picture, options);
  options.edge_threshold = 0;  // below kMinEdgeThreshold: taken as kMinEdgeThreshold
  const FeatureSet floor = ExtractFeatures(picture, options);
  std::cout << "[ measured ] keypoints at edge 31 / 16 / 0: " << orb_border.count() << " / "
            << nearer.count() << " / " << floor.count() << "; nearest the edge "
            << nearest_edge(orb_border) << " / " << nearest_edge(nearer) << " / "
            << nearest_edge(floor) << "\n";
  ASSERT_GT(orb_border.count(), 0u);
  EXPECT_GE(nearest_edge(orb_border), 31 - 0.5f);
  EXPECT_GE(nearest_edge(nearer), 16 - 0.5f);
  EXPECT_LT(nearest_edge(nearer), 31 - 0.5f);
  ASSERT_GT(floor.count(), 0u);
  EXPECT_GE(nearest_edge(floor), kMinEdgeThreshold - 0.5f);
  EXPECT_LT(nearest_edge(floor), 16 - 0.5f);
  // The band between 16 and 31 pixels of a 320x180 picture is about a fifth of its area (40%
  // of what lies inside 31), more at the coarser levels.
  EXPECT_GT(nearer.count(), orb_border.count() * 5 / 4);
  EXPECT_EQ(nearer.descriptors.size(), nearer.count() * kFeatureDescriptorBytes);
}

// CRC-32 (ISO 3309, as PNG chunks use it), bit by bit: the test's oracle.
std::uint32_t Crc32(std::span<const std::uint8_t> bytes) {
  std::uint32_t crc = 0xffffffffu;
  for (const std::uint8_t byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xffffffffu;
}

TEST(FeatureIndex, TableRoundTripsAndMapsDescriptorsToKeyframes) {
  FeatureIndex index;
  FeatureOptions options;
  const FeatureSet a = ExtractFeatures(ContentFrame(3), options);
  const FeatureSet b = ExtractFeatures(ContentFrame(4), options);
  std::vector<cv::Mat> thumbs, chroma;
  for (int i = 0; i < 4; ++i) {
    thumbs.push_back(cv::Mat(36, 64, CV_8UC1, cv::Scalar(10 * i)));
    chroma.push_back(cv::Mat(18, 32, CV_8UC2, cv::Scalar(100 + i, 150 - i)));
  }
  index.Add({0, 4, a, {}, {}, {}});
  index.Add(
      {5, 5, FeatureSet{{}, {}, {640, 360}}, {}, {}, {}});  // a keyframe may have no keypoints
  index.Add({6, 9, b, thumbs, chroma, {}});
  const FeatureIndex copy =
      FeatureIndex::Deserialize(index.SerializeDescriptors(), index.SerializeTable());
  ASSERT_EQ(copy.keyframe_count(), 3);
  ASSERT_EQ(copy.descriptor_count(), static_cast<std::int64_t>(a.count() + b.count()));
  EXPECT_EQ(copy.KeyframeOf(0), 0);
  EXPECT_EQ(copy.KeyframeOf(static_cast<std::int64_t>(a.count()) - 1), 0);
  EXPECT_EQ(copy.KeyframeOf(static_cast<std::int64_t>(a.count())), 2);
  EXPECT_EQ(copy.FirstEntry(2), 6);
  EXPECT_EQ(copy.LastEntry(2), 9);
  const FeatureKeyframe back = copy.Keyframe(2);
  EXPECT_EQ(back.features.descriptors, b.descriptors);
  ASSERT_EQ(back.thumbnails.size(), 4u);
  EXPECT_EQ(back.thumbnails[3].at<std::uint8_t>(20, 30), 30);
  EXPECT_EQ(copy.Thumbnail(2, 2).at<std::uint8_t>(0, 0), 20);
  EXPECT_TRUE(copy.Thumbnail(0, 0).empty());
  ASSERT_EQ(back.chroma.size(), 4u);
  EXPECT_EQ(back.chroma[3].at<cv::Vec2b>(17, 31), cv::Vec2b(103, 147));
  EXPECT_EQ(copy.Chroma(2, 1).at<cv::Vec2b>(0, 0), cv::Vec2b(101, 149));
  EXPECT_TRUE(copy.Chroma(0, 0).empty());
  EXPECT_TRUE(copy.Chroma(2, 4).empty());
  ASSERT_EQ(back.features.points.size(), b.points.size());
  for (size_t i = 0; i < b.points.size(); ++i) {
    EXPECT_NEAR(back.features.points[i].x, b.points[i].x, 1.0 / 32);
    EXPECT_NEAR(back.features.points[i].y, b.points[i].y, 1.0 / 32);
  }
  // A descriptor searched for finds itself at distance 0.
  const auto found = copy.Search(std::span(b.descriptors).first(32), 0, 4);
  ASSERT_FALSE(found[0].empty());
  EXPECT_EQ(copy.KeyframeOf(found[0][0].id), 2);

  auto table = index.SerializeTable();
  table.resize(table.size() - 2);
  EXPECT_THROW(FeatureIndex::Deserialize(index.SerializeDescriptors(), table), IndexError);
  EXPECT_THROW(index.Add({0, 0, FeatureSet{{1, 2, 3}, {}, {640, 360}}, {}, {}, {}}), Error);
  EXPECT_THROW(index.Add({0, 1, a, {thumbs[0]}, {}, {}}), Error);  // two entries, one thumbnail
  EXPECT_THROW(index.Add({0, 1, a, {}, {chroma[0]}, {}}), Error);  // two entries, one chroma
  EXPECT_THROW(index.Add({0, 1, a, {}, {thumbs[0], thumbs[1]}, {}}), Error);  // grey as chroma
}

// Older tables: version 1 (before chroma thumbnails) rows lack the chroma block's 8 bytes and
// no chroma pixels follow; version 2 (before stroke maps) rows lack the stroke count and no
// stroke maps follow. An index written then still loads, without those checks.
TEST(FeatureIndex, ReadsVersionOneAndTwoTables) {
  FeatureIndex index;
  const FeatureSet a = ExtractFeatures(ContentFrame(3), FeatureOptions{});
  const cv::Mat thumbnail(36, 64, CV_8UC1, cv::Scalar(7));
  index.Add({0, 1, a, {thumbnail, thumbnail}, {}, {}});
  index.Add({2, 2, FeatureSet{{}, {}, {640, 360}}, {}, {}, {}});
  std::vector<std::uint8_t> table = index.SerializeTable();
  constexpr size_t kHeader = 8 + 8 + 8, kRow = 48;
  for (const auto& [magic, row_bytes] : {std::pair{"CTKEYS01", 36}, std::pair{"CTKEYS02", 44}}) {
    SCOPED_TRACE(magic);
    std::vector<std::uint8_t> old(table.begin(), table.begin() + kHeader);
    std::copy_n(magic, 8, old.begin());
    for (size_t row = 0; row < 2; ++row) {
      const auto start = table.begin() + kHeader + row * kRow;
      ASSERT_TRUE(
          std::all_of(start + row_bytes, start + kRow, [](std::uint8_t b) { return b == 0; }));
      old.insert(old.end(), start, start + row_bytes);  // the row without its empty blocks
    }
    // The rest without the (empty) stroke hash section's count, which version 4 added.
    ASSERT_TRUE(std::all_of(table.end() - 8, table.end(), [](std::uint8_t b) { return b == 0; }));
    old.insert(old.end(), table.begin() + kHeader + 2 * kRow, table.end() - 8);
    const FeatureIndex copy = FeatureIndex::Deserialize(index.SerializeDescriptors(), old);
    ASSERT_EQ(copy.keyframe_count(), 2);
    EXPECT_EQ(copy.Thumbnail(0, 0).at<std::uint8_t>(5, 5), 7);
    EXPECT_TRUE(copy.Chroma(0, 0).empty());
    EXPECT_TRUE(copy.StrokeMap(0, 0).empty());
    EXPECT_EQ(copy.Keyframe(0).features.descriptors, a.descriptors);
    EXPECT_EQ(copy.SerializeTable(), table);  // written again as the current version
  }
}

// Stroke maps go through the table losslessly (a 1-bit PNG each), one per entry.
TEST(FeatureIndex, StrokeMapsRoundTrip) {
  FeatureIndex index;
  const FeatureSet a = ExtractFeatures(ContentFrame(3), FeatureOptions{});
  ASSERT_EQ(a.size, cv::Size(640, 360));
  std::vector<cv::Mat> maps;
  for (int i = 0; i < 3; ++i) maps.push_back(StrokeMap(InkMap(FeatureLuma(ContentFrame(i), 640))));
  ASSERT_EQ(maps[0].size(), cv::Size(320, 180));
  ASSERT_GT(cv::countNonZero(maps[0] == 0), 100);
  const std::vector<cv::Mat> thumbnails(2, cv::Mat(36, 64, CV_8UC1, cv::Scalar(7)));
  index.Add({0, 1, a, thumbnails, {}, {maps[0], maps[1]}});
  index.Add({2, 2, a, {thumbnails[0]}, {}, {}});  // a keyframe without stroke maps
  index.Add({3, 3, a, {thumbnails[0]}, {}, {maps[2]}});
  const FeatureIndex copy =
      FeatureIndex::Deserialize(index.SerializeDescriptors(), index.SerializeTable());
  const auto same = [](const cv::Mat& x, const cv::Mat& y) {
    return x.size() == y.size() && x.type() == y.type() && cv::countNonZero(x != y) == 0;
  };
  EXPECT_TRUE(same(copy.StrokeMap(0, 0), maps[0]));
  EXPECT_TRUE(same(copy.StrokeMap(0, 1), maps[1]));
  EXPECT_TRUE(copy.StrokeMap(0, 2).empty());
  EXPECT_TRUE(copy.StrokeMap(1, 0).empty());
  EXPECT_TRUE(same(copy.StrokeMap(2, 0), maps[2]));
  const FeatureKeyframe back = copy.Keyframe(0);
  ASSERT_EQ(back.strokes.size(), 2u);
  EXPECT_TRUE(same(back.strokes[1], maps[1]));
  EXPECT_EQ(copy.SerializeTable(), index.SerializeTable());

  // A stroke map per entry, of half the picture's size.
  EXPECT_THROW(index.Add({0, 1, a, {}, {}, {maps[0]}}), Error);
  EXPECT_THROW(index.Add({0, 0, a, {}, {}, {cv::Mat(360, 640, CV_8UC1, cv::Scalar(255))}}), Error);
  // A map whose PNG declares another size is not decoded (its header's CRC made right, so a
  // decoder would take it), nor one that is not a PNG.
  const std::array<std::uint8_t, 4> signature = {0x89, 'P', 'N', 'G'};
  auto patched = index.SerializeTable();
  auto png = std::search(patched.begin(), patched.end(), signature.begin(), signature.end());
  ASSERT_NE(png, patched.end());
  *(png + 18) = 0xea;  // width 0x0000ea60: 60,000 pixels (it was 320, 0x00000140)
  *(png + 19) = 0x60;
  const std::uint32_t crc = Crc32(std::span(&*(png + 12), 17));  // IHDR type and data
  for (int i = 0; i < 4; ++i) *(png + 29 + i) = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  const FeatureIndex wide = FeatureIndex::Deserialize(index.SerializeDescriptors(), patched);
  EXPECT_TRUE(wide.StrokeMap(0, 0).empty());
  EXPECT_TRUE(same(wide.StrokeMap(0, 1), maps[1]));
  EXPECT_THROW(wide.Keyframe(0), IndexError);
  patched = index.SerializeTable();
  png = std::search(patched.begin(), patched.end(), signature.begin(), signature.end());
  *(png + 1) = 'B';  // "\x89BNG": not a PNG any more
  EXPECT_TRUE(
      FeatureIndex::Deserialize(index.SerializeDescriptors(), patched).StrokeMap(0, 0).empty());
  // A truncated or overlong stroke section is refused.
  auto table = index.SerializeTable();
  table.pop_back();
  EXPECT_THROW(FeatureIndex::Deserialize(index.SerializeDescriptors(), table), IndexError);
  table = index.SerializeTable();
  table.push_back(0);
  EXPECT_THROW(FeatureIndex::Deserialize(index.SerializeDescriptors(), table), IndexError);
}

// Every stroke map gets its stroke hash; the hashes go through the table and find their
// entries. A version-3 table (stroke maps, no hashes) reads without them, and a keyframe
// added to it hashes its maps too, so that hash i stays map i's.
TEST(FeatureIndex, StrokeHashesRoundTripAndFindTheirEntries) {
  FeatureIndex index;
  const FeatureSet a = ExtractFeatures(ContentFrame(3), FeatureOptions{});
  std::vector<cv::Mat> maps;
  for (int i = 0; i < 4; ++i) maps.push_back(StrokeMap(InkMap(FeatureLuma(ContentFrame(i), 640))));
  const std::vector<cv::Mat> thumbnails(2, cv::Mat(36, 64, CV_8UC1, cv::Scalar(7)));
  index.Add({0, 1, a, thumbnails, {}, {maps[0], maps[1]}});
  index.Add({2, 2, a, {thumbnails[0]}, {}, {}});  // a keyframe without stroke maps
  index.Add({3, 3, a, {thumbnails[0]}, {}, {maps[2]}});
  ASSERT_EQ(index.stroke_hash_count(), 3);
  const FeatureIndex copy =
      FeatureIndex::Deserialize(index.SerializeDescriptors(), index.SerializeTable());
  ASSERT_EQ(copy.stroke_hash_count(), 3);
  // Each map's own hash finds it first, at 0 bits; the keyframe without maps is skipped.
  const std::array<std::pair<std::int64_t, std::int64_t>, 3> owners = {
      std::pair{0, 0}, std::pair{0, 1}, std::pair{2, 0}};
  for (int i = 0; i < 3; ++i) {
    const auto found = copy.NearestStrokeMaps(StrokeHash(maps[i]), 256, 2);
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].keyframe, owners[i].first);
    EXPECT_EQ(found[0].offset, owners[i].second);
    EXPECT_EQ(found[0].distance, 0);
    EXPECT_GT(found[1].distance, 0);
  }
  EXPECT_TRUE(copy.NearestStrokeMaps(StrokeHash(maps[0]), 256, 0).empty());
  const int apart = copy.NearestStrokeMaps(StrokeHash(maps[3]), 256, 1).at(0).distance;
  EXPECT_EQ(copy.NearestStrokeMaps(StrokeHash(maps[3]), apart - 1, 3).size(), 0u);

  // The same table as version 3: the hash section (count and 32 bytes a map) cut off.
  const auto table = index.SerializeTable();
  std::vector<std::uint8_t> old(table.begin(), table.end() - 8 - 3 * 32);
  std::copy_n("CTKEYS03", 8, old.begin());
  FeatureIndex older = FeatureIndex::Deserialize(index.SerializeDescriptors(), old);
  EXPECT_EQ(older.stroke_map_count(), 3);
  EXPECT_EQ(older.stroke_hash_count(), 0);
  EXPECT_TRUE(older.NearestStrokeMaps(StrokeHash(maps[0]), 256, 4).empty());
  older.Add({4, 4, a, {thumbnails[0]}, {}, {maps[3]}});
  ASSERT_EQ(older.stroke_hash_count(), 4);
  const auto first = older.NearestStrokeMaps(StrokeHash(maps[0]), 0, 4);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].keyframe, 0);
  EXPECT_EQ(older.NearestStrokeMaps(StrokeHash(maps[3]), 0, 4).at(0).keyframe, 3);

  // A hash count that is neither 0 nor one per map, or hashes cut short, is refused.
  auto patched = table;
  patched[patched.size() - 3 * 32 - 8] = 2;
  EXPECT_THROW(FeatureIndex::Deserialize(index.SerializeDescriptors(), patched), IndexError);
  patched = table;
  patched.resize(patched.size() - 32);
  EXPECT_THROW(FeatureIndex::Deserialize(index.SerializeDescriptors(), patched), IndexError);
}

TEST(LineArt, PaintedFramesAreNotLineArtInkOnPaperIs) {
  const cv::Mat frame = ContentFrame(5);
  EXPECT_FALSE(MeasureLineArt(frame).line_art);
  EXPECT_FALSE(MeasureLineArt(cv::Mat(360, 640, CV_8UC3, cv::Scalar::all(255))).line_art);
  EXPECT_FALSE(MeasureLineArt(cv::Mat(360, 640, CV_8UC3, cv::Scalar::all(0))).line_art);
  cv::Mat drawing(360, 640, CV_8UC3, cv::Scalar(236, 242, 245));  // off-white paper
  cv::circle(drawing, {320, 180}, 80, cv::Scalar::all(30), 3, cv::LINE_AA);
  cv::line(drawing, {100, 300}, {540, 40}, cv::Scalar::all(20), 4, cv::LINE_AA);
  const LineArtStats stats = MeasureLineArt(drawing);
  EXPECT_TRUE(stats.line_art);
  EXPECT_GT(stats.paper, 0.9);

  // The ink map keeps the thin strokes and drops a wide dark region.
  cv::Mat luma(360, 640, CV_8UC1, cv::Scalar(200));
  cv::rectangle(luma, cv::Rect(20, 20, 200, 200), cv::Scalar(30), cv::FILLED);
  cv::line(luma, {300, 50}, {600, 50}, cv::Scalar(25), 3);
  const cv::Mat ink = InkMap(luma);
  EXPECT_EQ(ink.at<std::uint8_t>(50, 450), 0);
  EXPECT_EQ(ink.at<std::uint8_t>(120, 120), 255);
  EXPECT_EQ(ink.at<std::uint8_t>(300, 450), 255);
}

TEST(LineArt, InkInsideCountsTheStrokesTheTransformPlacesOnTheFrame) {
  // Strokes on both halves of a 640x360 map.
  cv::Mat ink(360, 640, CV_8UC1, cv::Scalar(255));
  cv::line(ink, {40, 60}, {280, 300}, cv::Scalar(0), 3);  // left half
  cv::circle(ink, {480, 180}, 90, cv::Scalar(0), 3);      // right half
  const cv::Size frame(640, 360);
  const auto shifted = [](double dx, double dy, double scale = 1) {
    return cv::Matx23d(scale, 0, dx, 0, scale, dy);
  };
  EXPECT_DOUBLE_EQ(InkInside(ink, shifted(0, 0), frame), 1.0);
  // Moved right by half the width: the left half's strokes stay on the frame, the right's
  // leave it.
  cv::Mat left = ink.clone();
  left(cv::Rect(320, 0, 320, 360)).setTo(255);
  const double left_share =
      static_cast<double>(cv::countNonZero(left == 0)) / cv::countNonZero(ink == 0);
  EXPECT_NEAR(InkInside(ink, shifted(320, 0), frame), left_share, 0.01);
  EXPECT_DOUBLE_EQ(InkInside(ink, shifted(700, 0), frame), 0.0);
  EXPECT_DOUBLE_EQ(InkInside(cv::Mat(360, 640, CV_8UC1, cv::Scalar(255)), shifted(700, 0), frame),
                   1.0)
      << "no ink, nothing outside";
  EXPECT_DOUBLE_EQ(InkInside(ink, shifted(std::numeric_limits<double>::quiet_NaN(), 0), frame),
                   0.0);
  EXPECT_THROW(InkInside(cv::Mat(), shifted(0, 0), frame), Error);

  // Against an oracle: the map drawn into a canvas 3x the frame's size by cv::warpAffine
  // (nearest neighbour) with the frame in its middle, for random similarities.
  std::mt19937 rng(31);
  std::uniform_real_distribution<double> angle(-0.3, 0.3), scale(0.4, 1.6), shift(-300, 300);
  for (int round = 0; round < 20; ++round) {
    const double a = angle(rng), s = scale(rng);
    const cv::Matx23d t(s * std::cos(a), -s * std::sin(a), shift(rng), s * std::sin(a),
                        s * std::cos(a), shift(rng));
    cv::Matx23d on_canvas = t;
    on_canvas(0, 2) += frame.width;
    on_canvas(1, 2) += frame.height;
    cv::Mat strokes = 255 - ink, canvas;
    cv::warpAffine(strokes, canvas, on_canvas, {3 * frame.width, 3 * frame.height},
                   cv::INTER_NEAREST);
    const double all = cv::countNonZero(canvas);
    const double inside = cv::countNonZero(canvas(cv::Rect({frame.width, frame.height}, frame)));
    EXPECT_NEAR(InkInside(ink, t, frame), inside / all, 0.03) << "round " << round;
  }
}

// Random strokes (lines and circles, 3 px) on an 800x450 ink map (0 is ink), `figures` of
// them around each of `centres`.
cv::Mat StrokeDrawing(std::uint32_t seed, const std::vector<cv::Point>& centres, int figures) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> offset(-90, 90), radius(10, 40);
  cv::Mat ink(450, 800, CV_8UC1, cv::Scalar(255));
  for (const cv::Point& c : centres) {
    for (int i = 0; i < figures; ++i) {
      const cv::Point a = c + cv::Point(offset(rng), offset(rng));
      if (i % 3 == 0) {
        cv::circle(ink, a, radius(rng), cv::Scalar(0), 3);
      } else {
        cv::line(ink, a, c + cv::Point(offset(rng), offset(rng)), cv::Scalar(0), 3);
      }
    }
  }
  return ink;
}

// The frame a drawing was inked for: its strokes placed by `t` on a 640x360 frame.
cv::Mat StrokeMapOfDrawing(const cv::Mat& ink, const cv::Matx23d& t) {
  cv::Mat frame;
  cv::warpAffine(ink, frame, t, {640, 360}, cv::INTER_NEAREST, cv::BORDER_CONSTANT,
                 cv::Scalar(255));
  return StrokeMap(frame);
}

// The drawing the stroke tests share: 12 random figures about two centres at 800x450, and the
// strokes of the 640x360 frame it was inked for.
struct InkedFrame {
  std::vector<cv::Point> figures = {{250, 200}, {560, 250}};
  cv::Mat drawing = StrokeDrawing(5, figures, 12);
  cv::Size frame{640, 360};
  cv::Matx23d fit{0.8, 0, 0, 0, 0.8, 0};  // the drawing at 800, the frame at 640
  cv::Mat strokes = StrokeMapOfDrawing(drawing, fit);
};

// A crop of three quarters of each side of a frame's drawing, blown up to 800x450 (the
// evaluation set's line-art crops): the stroke search finds its place and width on the frame's
// stroke map with nothing else to go on; a crop of another drawing about the same centres
// agrees less wherever it is put.
TEST(LineArt, TheStrokeSearchPlacesACropOfTheFramesDrawing) {
  const InkedFrame inked;
  const auto& [figures, drawing, frame, fit, strokes] = inked;
  const cv::Rect crop(200, 112, 600, 338);
  auto blown_up = [&](const cv::Mat& ink) {
    cv::Mat still;
    cv::resize(ink(crop), still, {800, 450}, 0, 0, cv::INTER_NEAREST);
    return still;
  };
  StrokePlacer placer(blown_up(drawing), 0.5, 1.0);
  const StrokePlacement found = placer.Place(strokes, frame);
  EXPECT_GT(found.agreement.drawn, 0.95);
  EXPECT_GT(found.agreement.framed, 0.9);
  // The frame's outlines under the crop: most of the map's ink, which the crop covers 56% of.
  const std::int64_t frame_ink = cv::countNonZero(strokes == 0);
  EXPECT_GT(found.agreement.under, frame_ink / 3);
  EXPECT_LE(found.agreement.under, frame_ink);
  // Still pixels -> frame pixels: 0.8 x 600 / 800 = 0.6, the crop's corner at 0.8 x (200, 112).
  EXPECT_NEAR(found.transform(0, 0), 0.6, 0.6 * 0.02);
  EXPECT_NEAR(found.transform(1, 1), 0.6, 0.6 * 0.02);
  EXPECT_EQ(found.transform(0, 1), 0);
  EXPECT_NEAR(found.transform(0, 2), 160, 5);
  EXPECT_NEAR(found.transform(1, 2), 89.6, 5);
  // The placement is one StrokesInCommon measures as the search did.
  const StrokeAgreement again = StrokesInCommon(blown_up(drawing), found.transform, frame, strokes);
  EXPECT_NEAR(again.common(), found.agreement.common(), 0.02);
  // Placed again (the spectra for this frame size are kept), the same answer.
  const StrokePlacement twice = placer.Place(strokes, frame);
  EXPECT_EQ(twice.agreement.common(), found.agreement.common());
  EXPECT_EQ(twice.transform, found.transform);

  double other_best = 0;
  for (std::uint32_t seed : {6u, 7u, 8u, 9u}) {
    StrokePlacer other(blown_up(StrokeDrawing(seed, figures, 12)), 0.5, 1.0);
    other_best = std::max(other_best, other.Place(strokes, frame).agreement.common());
  }
  std::cout << "[ measured ] stroke search: the crop " << found.agreement.common() << " at scale "
            << found.transform(0, 0) << ", best of 4 other drawings " << other_best << "\n";
  EXPECT_LT(other_best, found.agreement.common() - 0.2);

  // Widths outside the range are not tried: at most half the frame's, the crop (three
  // quarters) is placed no wider than half.
  StrokePlacer narrow(blown_up(drawing), 0.3, 0.5);
  const StrokePlacement squeezed = narrow.Place(strokes, frame);
  EXPECT_LE(squeezed.transform(0, 0) * 800, 0.5 * 640 * 1.04);
  EXPECT_LT(squeezed.agreement.common(), found.agreement.common());

  // Nothing to place or to place on: zero agreement.
  EXPECT_EQ(placer.Place(cv::Mat(), frame).agreement.common(), 0);
  EXPECT_EQ(placer.Place(strokes, {600, 360}).agreement.common(), 0);  // not half the frame
  EXPECT_EQ(placer.Place(cv::Mat(180, 320, CV_8UC1, cv::Scalar(255)), frame).agreement.common(), 0);
  StrokePlacer blank(cv::Mat(450, 800, CV_8UC1, cv::Scalar(255)), 0.5, 1.0);
  EXPECT_EQ(blank.Place(strokes, frame).agreement.common(), 0);
  // A still taller than the frame fits at no width up to the whole.
  StrokePlacer tall(cv::Mat(800, 450, CV_8UC1, cv::Scalar(0)), 0.5, 1.0);
  EXPECT_EQ(tall.Place(strokes, frame).agreement.common(), 0);
  EXPECT_THROW(StrokePlacer(drawing, 0, 1), Error);
  EXPECT_THROW(StrokePlacer(drawing, 0.8, 0.5), Error);
  EXPECT_THROW(StrokePlacer(cv::Mat(10, 10, CV_8UC3), 0.5, 1), Error);
}

// A band cut across the drawing's whole width (a cel cut top and bottom) or whole height is
// placed at the width it was cut at: the ladder of widths (0.5 x 1.06^k) stops at 0.95 of the
// frame's, and the widest width the still fits at is tried as well.
TEST(LineArt, TheStrokeSearchPlacesABandAsWideOrAsTallAsTheFrame) {
  const InkedFrame inked;
  const auto& [figures, drawing, frame, fit, strokes] = inked;
  struct Band {
    cv::Rect crop;       // of the 800x450 drawing, kept at its size
    double share;        // of the frame's width: 640 x crop.width / 800 / 640
    cv::Point2d corner;  // on the frame: 0.8 x the crop's corner
  };
  for (const Band& band :
       {Band{{0, 90, 800, 270}, 1.0, {0, 72}}, Band{{110, 0, 560, 450}, 0.7, {88, 0}}}) {
    StrokePlacer placer(drawing(band.crop).clone(), 0.5, 1.0);
    const StrokePlacement found = placer.Place(strokes, frame);
    SCOPED_TRACE(testing::Message() << "band " << band.crop);
    EXPECT_GT(found.agreement.drawn, 0.95);
    EXPECT_GT(found.agreement.framed, 0.9);
    // Still pixels -> frame pixels: 0.8, within 1%. The ladder alone reaches 0.95 x 1.02 x
    // 1.01 of the frame's width at most (0.78 for the whole width), and for the full-height
    // band its last step that fits, 0.669 of the width (0.79 with the refinement).
    EXPECT_NEAR(found.transform(0, 0), 0.8, 0.8 * 0.01);
    EXPECT_NEAR(found.transform(1, 1), 0.8, 0.8 * 0.01);
    EXPECT_NEAR(found.transform(0, 2), band.corner.x, 5);
    EXPECT_NEAR(found.transform(1, 2), band.corner.y, 5);
  }
}

// An outline (luma 25) around a dark fill (55, with +-8 of texture) on light paint: the black-
// hat alone misses the outline where the closing spreads the fill over it; the outline rule
// (near-black, 20 below the closing) keeps all of it, and the fill's texture stays out.
TEST(LineArt, OutlinesAgainstDarkFillsAreInk) {
  cv::Mat luma(320, 640, CV_8UC1, cv::Scalar(200));
  const cv::Rect fill(160, 60, 320, 200);
  cv::Mat texture(fill.size(), CV_8UC1);
  cv::randu(texture, cv::Scalar(47), cv::Scalar(64));  // 47..63
  texture.copyTo(luma(fill));
  cv::rectangle(luma, fill, cv::Scalar(25), 4);  // 4 px, straddling the fill's edge
  const cv::Mat ink = InkMap(luma);
  cv::Mat outline(luma.size(), CV_8UC1, cv::Scalar(0));
  cv::rectangle(outline, fill, cv::Scalar(255), 4);
  const int outline_pixels = cv::countNonZero(outline);
  const int outline_ink = cv::countNonZero(outline & (ink == 0));
  cv::Mat inner(luma.size(), CV_8UC1, cv::Scalar(0));
  inner(cv::Rect(fill.x + 10, fill.y + 10, fill.width - 20, fill.height - 20)).setTo(255);
  const int texture_ink = cv::countNonZero(inner & (ink == 0));
  std::cout << "[ measured ] outline ink " << outline_ink << " of " << outline_pixels
            << ", fill texture ink " << texture_ink << "\n";
  EXPECT_EQ(outline_ink, outline_pixels);
  EXPECT_EQ(texture_ink, 0);
  // A mid-grey outline (60) against the same fill is not near-black: the rule leaves it to
  // the black-hat, which does not take it.
  cv::Mat grey = luma.clone();
  cv::rectangle(grey, fill, cv::Scalar(60), 4);
  EXPECT_LT(cv::countNonZero(outline & (InkMap(grey) == 0)), outline_pixels / 2);
}

TEST(LineArt, StrokeMapKeepsEveryStrokeAtHalfSize) {
  cv::Mat ink(361, 640, CV_8UC1, cv::Scalar(255));
  ink.at<std::uint8_t>(360, 639) = 0;  // one ink pixel in the odd last row
  cv::line(ink, {10, 11}, {300, 11}, cv::Scalar(0), 1);
  const cv::Mat map = StrokeMap(ink);
  ASSERT_EQ(map.size(), cv::Size(320, 181));
  EXPECT_EQ(map.at<std::uint8_t>(180, 319), 0);
  EXPECT_EQ(map.at<std::uint8_t>(5, 100), 0);  // a 1-pixel line survives halving
  EXPECT_EQ(map.at<std::uint8_t>(6, 100), 255);
  EXPECT_EQ(cv::countNonZero(map == 0), 146 + 1);
}

// The stroke hash of a drawing's map at the query side (800, a 400-pixel map) lies near that
// of the frame it was inked for (640, a 320-pixel map) and far from other drawings' about
// the same places.
TEST(LineArt, StrokeHashesOfADrawingAndItsFrameLieNear) {
  const std::vector<cv::Point> figures = {{250, 200}, {560, 250}};
  const cv::Mat drawing = StrokeDrawing(5, figures, 12);
  const cv::Matx23d fit(0.8, 0, 0, 0, 0.8, 0);
  const Pdq frame = StrokeHash(StrokeMapOfDrawing(drawing, fit));
  const int same = HammingDistance(StrokeHash(StrokeMap(drawing)), frame);
  int nearest_other = 256;
  for (std::uint32_t seed = 6; seed < 16; ++seed) {
    const cv::Mat other = StrokeDrawing(seed, figures, 12);
    nearest_other = std::min(nearest_other, HammingDistance(StrokeHash(StrokeMap(other)), frame));
  }
  std::cout << "[ measured ] stroke hashes: the frame's own drawing " << same
            << " bits, nearest of 10 other drawings " << nearest_other << " bits\n";
  EXPECT_LT(same, 32);
  EXPECT_GT(nearest_other, 2 * same);
  EXPECT_THROW(StrokeHash(cv::Mat()), Error);
  EXPECT_THROW(StrokeHash(cv::Mat(10, 10, CV_8UC3)), Error);
}

// The same crop when the frame paints a large part of it as one dark fill that the drawing
// only outlines (a character's dark coat): the search weighs the frame's outlines, not the
// fill, when it chooses where to look closer, so it still finds the crop's place and width.
TEST(LineArt, TheStrokeSearchPlacesACropOverADarkFill) {
  InkedFrame inked;
  auto& [figures, drawing, frame, fit, strokes] = inked;
  const cv::Rect fill_drawn(260, 150, 320, 240);  // on the drawing, inside the crop
  cv::rectangle(drawing, fill_drawn, cv::Scalar(0), 3);
  const cv::Rect crop(200, 112, 600, 338);
  cv::Mat still;
  cv::resize(drawing(crop), still, {800, 450}, 0, 0, cv::INTER_NEAREST);
  // The frame: the drawing's strokes, the rectangle filled (at 0.4 of the drawing's
  // coordinates on the stroke map).
  cv::Mat painted = StrokeMapOfDrawing(drawing, fit);
  cv::rectangle(painted, cv::Rect(104, 60, 128, 96), cv::Scalar(0), cv::FILLED);
  const std::int64_t inside = cv::countNonZero(painted(cv::Rect(105, 61, 126, 94)) == 0);
  ASSERT_GT(inside, cv::countNonZero(painted == 0) / 2);  // most of the frame's ink is fill
  StrokePlacer placer(still, 0.5, 1.0);
  const StrokePlacement found = placer.Place(painted, frame);
  std::cout << "[ measured ] stroke search over a dark fill: drawn " << found.agreement.drawn
            << ", framed " << found.agreement.framed << ", scale " << found.transform(0, 0) << "\n";
  EXPECT_GT(found.agreement.drawn, 0.95);
  EXPECT_GT(found.agreement.framed, 0.9);
  EXPECT_NEAR(found.transform(0, 0), 0.6, 0.6 * 0.02);
  EXPECT_NEAR(found.transform(0, 2), 160, 5);
  EXPECT_NEAR(found.transform(1, 2), 89.6, 5);
}

// A painted frame has ink its drawing lacks inside dark fills (trousers, pupils): the drawing
// outlines the fill, the frame's ink map is black all over it. Only the frame's outlines count
// towards `framed` and `under`, so the fill neither lowers the drawing's agreement nor adds to
// the ink it rests on.
TEST(LineArt, StrokesInCommonLeaveTheFramesDarkFillsOut) {
  InkedFrame inked;
  auto& [figures, drawing, frame, fit, strokes] = inked;
  const cv::Rect fill_drawn(600, 60, 150, 120);  // on the drawing (800x450)
  cv::rectangle(drawing, fill_drawn, cv::Scalar(0), 3);
  strokes = StrokeMapOfDrawing(drawing, fit);
  const StrokeAgreement outlined = StrokesInCommon(drawing, fit, frame, strokes);
  // The same rectangle filled on the frame's stroke map (at 0.4 of the drawing's coordinates).
  cv::Mat filled = strokes.clone();
  const cv::Rect fill_map(240, 24, 60, 48);
  cv::rectangle(filled, fill_map, cv::Scalar(0), cv::FILLED);
  const int fill_inside = (fill_map.width - 2) * (fill_map.height - 2);
  const int frame_ink = cv::countNonZero(filled == 0);
  ASSERT_GT(fill_inside, frame_ink / 5);  // enough to pull an all-ink `framed` under 0.8
  const StrokeAgreement painted = StrokesInCommon(drawing, fit, frame, filled);
  std::cout << "[ measured ] frame ink " << frame_ink << " stroke-map pixels, " << fill_inside
            << " inside the fill; framed " << outlined.framed << " outlined, " << painted.framed
            << " filled; under " << outlined.under << ", " << painted.under << "\n";
  EXPECT_GT(outlined.framed, 0.97);
  EXPECT_NEAR(painted.framed, outlined.framed, 0.02);
  EXPECT_GE(painted.drawn, outlined.drawn);  // more of the frame is ink, none less
  // The fill adds next to nothing to the ink the comparison rests on; it takes away the
  // rectangle's inner ring, an outline no longer.
  EXPECT_LT(painted.under, outlined.under + fill_inside / 10);
  EXPECT_GT(painted.under, outlined.under - fill_inside / 10);
}

// StrokesInCommon against a brute force written from its contract (line_art.h): every ink
// pixel of the still mapped to the stroke map at each of the 25 shifts, the shift with most
// ink within a map pixel of the frame's ink (ties to the nearer shift, the first in dy-then-dx
// order), then every outline pixel of the map (ink with paper among its eight neighbours or
// on the map's edge) mapped back. Transforms at random (seeded), some placing the still
// partly off the map: every share and count equal.
TEST(LineArt, StrokesInCommonCountAsABruteForceDoes) {
  const InkedFrame inked;
  const auto& [figures, drawing, frame, fit, drawn_strokes] = inked;
  const StillStrokes still = PrepareStillStrokes(drawing);
  auto brute_force = [&](const cv::Mat& strokes, const cv::Matx23d& t) {
    auto ink_at = [&](int x, int y) {
      return x >= 0 && y >= 0 && x < strokes.cols && y < strokes.rows &&
             strokes.at<uchar>(y, x) == 0;
    };
    auto near_ink = [&](int x, int y) {  // ink landing off the map is missed
      if (x < 0 || y < 0 || x >= strokes.cols || y >= strokes.rows) return false;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          if (ink_at(x + dx, y + dy)) return true;
        }
      }
      return false;
    };
    auto outline = [&](int x, int y) {
      if (!ink_at(x, y)) return false;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          if (!ink_at(x + dx, y + dy)) return true;  // paper, or off the map
        }
      }
      return false;
    };
    cv::Matx23d m = t * 0.5;  // still -> stroke map
    m(0, 2) -= 0.25;
    m(1, 2) -= 0.25;
    int best = -1;
    cv::Point best_shift;
    for (int dy = -kStrokeShift; dy <= kStrokeShift; ++dy) {
      for (int dx = -kStrokeShift; dx <= kStrokeShift; ++dx) {
        int hits = 0;
        for (const cv::Point& p : still.ink) {
          const int x = cvRound(static_cast<float>(m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2)));
          const int y = cvRound(static_cast<float>(m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2)));
          hits += near_ink(x + dx, y + dy);
        }
        const bool nearer =
            std::abs(dx) + std::abs(dy) < std::abs(best_shift.x) + std::abs(best_shift.y);
        if (hits > best || (hits == best && nearer)) {
          best = hits;
          best_shift = {dx, dy};
        }
      }
    }
    cv::Matx23d back;
    cv::invertAffineTransform(m, back);
    const double limit = std::max(1.0, std::hypot(back(0, 0), back(1, 0)) * std::sqrt(2.0));
    std::int64_t under = 0, near = 0;
    for (int y = 0; y < strokes.rows; ++y) {
      for (int x = 0; x < strokes.cols; ++x) {
        if (!outline(x, y)) continue;
        const double mx = x - best_shift.x, my = y - best_shift.y;
        const int sx = cvRound(back(0, 0) * mx + back(0, 1) * my + back(0, 2));
        const int sy = cvRound(back(1, 0) * mx + back(1, 1) * my + back(1, 2));
        if (sx < 0 || sy < 0 || sx >= drawing.cols || sy >= drawing.rows) continue;
        ++under;
        near += still.distance.at<float>(sy, sx) <= limit;
      }
    }
    StrokeAgreement expected;
    expected.drawn = static_cast<double>(best) / static_cast<double>(still.ink.size());
    expected.framed = under == 0 ? 0 : static_cast<double>(near) / static_cast<double>(under);
    expected.under = under;
    return expected;
  };
  auto expect_same = [&](const cv::Mat& strokes, const cv::Matx23d& t) {
    const StrokeAgreement expected = brute_force(strokes, t);
    const StrokeAgreement measured = StrokesInCommon(still, t, frame, PrepareFrameStrokes(strokes));
    EXPECT_EQ(measured.drawn, expected.drawn);
    EXPECT_EQ(measured.under, expected.under);
    EXPECT_EQ(measured.framed, expected.framed);
    return measured;
  };
  EXPECT_GT(expect_same(drawn_strokes, fit).common(), 0.97);  // the fit itself
  std::mt19937 random(17);
  std::uniform_real_distribution<double> scale(0.5, 1.1), shift(-200, 300);
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE(round);
    const double k = scale(random);
    expect_same(drawn_strokes, cv::Matx23d(k, 0, shift(random), 0, k, shift(random) / 2));
  }
  // A frame all ink: every shift lands all the still's ink near it (a tie, kept at no
  // shift), and only the map's edge is outline.
  const cv::Mat all_ink(StrokeMapSize(frame), CV_8UC1, cv::Scalar(0));
  const StrokeAgreement tie = expect_same(all_ink, cv::Matx23d(0.6, 0, -20, 0, 0.6, -10));
  EXPECT_EQ(tie.drawn, 1.0);
  EXPECT_GT(tie.under, 0);
  // The same frame with the still across its right and bottom edges: ink beyond them is
  // missed (the shifts back towards the map bring some of it in).
  const StrokeAgreement across = expect_same(all_ink, cv::Matx23d(0.6, 0, 300, 0, 0.6, 150));
  EXPECT_LT(across.drawn, 0.9);
  EXPECT_GT(across.under, 0);
}

TEST(LineArt, StrokesInCommonTellTheFramesDrawingFromAnotherPose) {
  const InkedFrame inked;
  const auto& [figures, drawing, frame, fit, strokes] = inked;

  // The frame's own drawing agrees all over, both ways, also when the fit is a few pixels
  // out (the shift search) or the still is rotated a little before the fit.
  StrokeAgreement same = StrokesInCommon(drawing, fit, frame, strokes);
  // A still prepared once (the matcher's way) gives the same, frame after frame.
  const StillStrokes prepared = PrepareStillStrokes(drawing);
  for (int round = 0; round < 2; ++round) {
    const StrokeAgreement again = StrokesInCommon(prepared, fit, frame, strokes);
    EXPECT_EQ(again.drawn, same.drawn);
    EXPECT_EQ(again.framed, same.framed);
    EXPECT_EQ(StrokesInCommon(prepared, fit, frame, cv::Mat()).common(), 0);
  }
  // So does a frame prepared once (the stroke search's way), at the fit and shifted a few
  // pixels: every share and count equal, not only close.
  const FrameStrokes prepared_frame = PrepareFrameStrokes(strokes);
  for (const cv::Matx23d& t :
       {fit, cv::Matx23d(fit(0, 0), 0, fit(0, 2) + 3, 0, fit(1, 1), fit(1, 2) - 5)}) {
    const StrokeAgreement once = StrokesInCommon(prepared, t, frame, strokes);
    const StrokeAgreement both = StrokesInCommon(prepared, t, frame, prepared_frame);
    EXPECT_EQ(both.drawn, once.drawn);
    EXPECT_EQ(both.framed, once.framed);
    EXPECT_EQ(both.under, once.under);
    EXPECT_GT(both.under, 0);
  }
  EXPECT_EQ(StrokesInCommon(prepared, fit, frame, PrepareFrameStrokes(cv::Mat())).common(), 0);
  EXPECT_EQ(StrokesInCommon(prepared, fit, frame, FrameStrokes{}).common(), 0);
  const cv::Mat not_grey(StrokeMapSize(frame), CV_32F, cv::Scalar(0));  // right size, not 8-bit
  EXPECT_EQ(StrokesInCommon(prepared, fit, frame, PrepareFrameStrokes(not_grey)).common(), 0);
  EXPECT_EQ(StrokesInCommon(prepared, fit, frame, not_grey).common(), 0);
  EXPECT_EQ(StrokesInCommon(prepared, fit, {0, 0}, cv::Mat()).common(), 0);
  EXPECT_EQ(
      StrokesInCommon(prepared, fit, {frame.width * 2, frame.height * 2}, prepared_frame).common(),
      0);  // a map that is not half of the reference size
  EXPECT_GT(same.drawn, 0.97);
  EXPECT_GT(same.framed, 0.97);
  cv::Matx23d off = fit;  // 2 stroke-map pixels each way, the most the search covers
  off(0, 2) += 4;
  off(1, 2) -= 4;
  const StrokeAgreement shifted = StrokesInCommon(drawing, off, frame, strokes);
  EXPECT_GT(shifted.drawn, 0.9);
  EXPECT_GT(shifted.framed, 0.9);

  // A drawing of the same figure at the left and another pose at the right shares about half
  // of its strokes; one of two other figures shares few.
  const cv::Mat left = StrokeDrawing(5, {figures[0]}, 12);
  cv::Mat other_pose = StrokeDrawing(6, {figures[1]}, 12);
  cv::bitwise_and(other_pose, left, other_pose);  // ink where either has ink
  const StrokeAgreement half = StrokesInCommon(other_pose, fit, frame, strokes);
  EXPECT_GT(half.common(), 0.3);
  EXPECT_LT(half.common(), 0.75);
  const StrokeAgreement other = StrokesInCommon(StrokeDrawing(7, figures, 12), fit, frame, strokes);
  EXPECT_LT(other.common(), 0.5);  // random strokes about the same centres cross often
  std::cout << "[ measured ] strokes in common: same " << same.common() << ", shifted by 4 px "
            << shifted.common() << ", one figure of two " << half.common() << ", other figures "
            << other.common() << "\n";

  // A still cropped from the drawing (its right 60%, blown up to 800) agrees too.
  const cv::Rect crop(320, 0, 480, 270);
  cv::Mat cropped;
  cv::resize(drawing(crop), cropped, {800, 450}, 0, 0, cv::INTER_NEAREST);
  const double k = 0.8 * 480 / 800.0;  // cropped still -> frame
  const cv::Matx23d crop_fit(k, 0, 0.8 * crop.x, 0, k, 0.8 * crop.y);
  EXPECT_GT(StrokesInCommon(cropped, crop_fit, frame, strokes).common(), 0.85);

  // Nothing to compare: no stroke map, no ink, a broken transform.
  EXPECT_EQ(StrokesInCommon(drawing, fit, frame, cv::Mat()).common(), 0);
  EXPECT_EQ(
      StrokesInCommon(cv::Mat(450, 800, CV_8UC1, cv::Scalar(255)), fit, frame, strokes).common(),
      0);
  cv::Matx23d broken = fit;
  broken(0, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(StrokesInCommon(drawing, broken, frame, strokes).common(), 0);
}

}  // namespace
}  // namespace celtrace
