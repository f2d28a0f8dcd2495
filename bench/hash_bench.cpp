// Hashes per second for the hash channels at the sizes the indexer and matcher feed them,
// and the orb channel's per-keyframe check.
// Run: build/bench/celtrace_bench_hash (items_per_second = hashes/s on one core).
#include <benchmark/benchmark.h>

#include <opencv2/img_hash.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "celtrace/feature_index.h"
#include "celtrace/geometric_verification.h"
#include "celtrace/image_hash.h"
#include "celtrace/line_art.h"
#include "celtrace/pdq.h"

namespace {

// An animation-like frame: filled shapes over a gradient, fixed seed.
cv::Mat Frame(int width, int height) {
  cv::RNG rng(42);
  cv::Mat image(height, width, CV_8UC3);
  for (int r = 0; r < height; ++r) image.row(r).setTo(cv::Scalar(r * 255 / height, 80, 160));
  for (int i = 0; i < 60; ++i) {
    const cv::Point centre(rng.uniform(0, width), rng.uniform(0, height));
    cv::circle(image, centre, rng.uniform(height / 40, height / 6),
               cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256)),
               cv::FILLED, cv::LINE_AA);
  }
  return image;
}

// The luma (8-bit grey) of Frame(width, height).
cv::Mat GreyFrame(int width, int height) {
  cv::Mat grey;
  cv::cvtColor(Frame(width, height), grey, cv::COLOR_BGR2GRAY);
  return grey;
}

void BM_PdqAt720p(benchmark::State& state) {
  const cv::Mat frame = Frame(1280, 720);
  for (auto _ : state) benchmark::DoNotOptimize(celtrace::ComputePdq(frame));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PdqAt720p)->Unit(benchmark::kMicrosecond);

void BM_PdqAt512(benchmark::State& state) {
  const cv::Mat frame = Frame(512, 288);
  for (auto _ : state) benchmark::DoNotOptimize(celtrace::ComputePdq(frame));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PdqAt512)->Unit(benchmark::kMicrosecond);

// What the indexer hashes: a frame's luma scaled to 384x384 while decoding.
void BM_PdqLuma384(benchmark::State& state) {
  cv::Mat luma = GreyFrame(1280, 720);
  cv::resize(luma, luma, cv::Size(384, 384), 0, 0, cv::INTER_AREA);
  for (auto _ : state) benchmark::DoNotOptimize(celtrace::ComputePdq(luma));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PdqLuma384)->Unit(benchmark::kMicrosecond);

// PDQ on a frame already 64x64 (the cost left once decoding has scaled it down).
void BM_PdqOn64x64(benchmark::State& state) {
  cv::Mat small;
  cv::resize(Frame(1280, 720), small, cv::Size(64, 64), 0, 0, cv::INTER_AREA);
  for (auto _ : state) benchmark::DoNotOptimize(celtrace::ComputePdq(small));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PdqOn64x64)->Unit(benchmark::kMicrosecond);

// The 720p frame scaled to 64x64 first (OpenCV area filter), the scaling included.
void BM_PdqScaledTo64(benchmark::State& state) {
  const cv::Mat frame = Frame(1280, 720);
  for (auto _ : state) {
    cv::Mat small;
    cv::resize(frame, small, cv::Size(64, 64), 0, 0, cv::INTER_AREA);
    benchmark::DoNotOptimize(celtrace::ComputePdq(small));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PdqScaledTo64)->Unit(benchmark::kMicrosecond);

void BM_PdqDihedralAt720p(benchmark::State& state) {
  const cv::Mat frame = Frame(1280, 720);
  for (auto _ : state) benchmark::DoNotOptimize(celtrace::ComputePdqDihedral(frame));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PdqDihedralAt720p)->Unit(benchmark::kMicrosecond);

// OpenCV's pHash alone on the grey frame (the channel adds the RGB-to-luma step and PDQ's
// quality score, timed below).
void BM_OpenCvPhashRawAt720p(benchmark::State& state) {
  const cv::Mat grey = GreyFrame(1280, 720);
  for (auto _ : state) {
    cv::Mat bits;
    cv::img_hash::pHash(grey, bits);
    benchmark::DoNotOptimize(bits.data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OpenCvPhashRawAt720p)->Unit(benchmark::kMicrosecond);

void BM_PhashChannelAt720p(benchmark::State& state) {
  const cv::Mat frame = Frame(1280, 720);
  const auto phash = celtrace::MakeImageHasher("phash");
  for (auto _ : state) benchmark::DoNotOptimize(phash->Compute(frame));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PhashChannelAt720p)->Unit(benchmark::kMicrosecond);

void BM_HammingDistance256(benchmark::State& state) {
  std::mt19937 rng(1);
  std::vector<celtrace::Pdq> hashes(1024);
  for (auto& h : hashes) {
    for (auto& b : h.bytes) b = static_cast<std::uint8_t>(rng());
  }
  const celtrace::Pdq query = hashes[0];
  for (auto _ : state) {
    int sum = 0;
    for (const auto& h : hashes) sum += celtrace::HammingDistance(query, h);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(hashes.size()));
}
BENCHMARK(BM_HammingDistance256);

// The orb channel's check of one RANSAC-accepted keyframe: the query (a still scaled to the
// matcher's 800-pixel side) warped onto the 640x360 keyframe and correlated with an entry's
// thumbnail; with range(0) = 1 also its colours (warp, chroma thumbnail, chroma correlation
// after the same ECC refinement): the colour check's cost per verified keyframe.
void BM_VerifyKeyframe(benchmark::State& state) {
  const bool colour = state.range(0) != 0;
  const cv::Mat frame = Frame(1280, 720);
  cv::Mat reference, reference_grey, query, query_grey;
  cv::resize(frame, reference, cv::Size(640, 360), 0, 0, cv::INTER_AREA);
  cv::cvtColor(reference, reference_grey, cv::COLOR_BGR2GRAY);
  cv::resize(frame(cv::Rect(200, 100, 800, 450)), query, cv::Size(800, 450), 0, 0, cv::INTER_AREA);
  cv::cvtColor(query, query_grey, cv::COLOR_BGR2GRAY);
  const cv::Matx23d transform(0.5, 0, 100, 0, 0.5, 50);  // query -> reference pixels
  const cv::Mat thumbnail = celtrace::VerificationThumbnail(reference_grey);
  const cv::Mat chroma = celtrace::ChromaThumbnail(
      reference, celtrace::ThumbnailSize(reference.size(), celtrace::kChromaWidth));
  for (auto _ : state) {
    const celtrace::WarpedQuery warped =
        celtrace::WarpQuery(query_grey, transform, reference.size(), colour ? query : cv::Mat());
    cv::Matx23f refinement;
    double score = celtrace::CorrelateWarped(warped, thumbnail, &refinement);
    if (colour) score += celtrace::CorrelateChroma(warped, chroma, refinement);
    benchmark::DoNotOptimize(score);
  }
}
BENCHMARK(BM_VerifyKeyframe)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// The nesting check of one verified keyframe: the ECC refinement composed into the RANSAC
// transform, then the mapped query box against the frame (arithmetic on a few numbers).
void BM_Nesting(benchmark::State& state) {
  const cv::Matx23d transform(0.5, 0, 100, 0, 0.5, 50);
  const cv::Matx23f refinement(0.999f, -0.035f, 0.4f, 0.035f, 0.999f, -0.3f);
  for (auto _ : state) {
    const double nesting = celtrace::Nesting(
        {800, 450}, celtrace::RefinedTransform(transform, refinement, {640, 360}), {640, 360});
    benchmark::DoNotOptimize(nesting);
  }
}
BENCHMARK(BM_Nesting)->Unit(benchmark::kNanosecond);

// The realignment of one verified keyframe: the bounding box of the warped query's valid
// pixels on the 64-pixel thumbnail, and its corners moved by the ECC refinement.
void BM_Realignment(benchmark::State& state) {
  const cv::Mat reference = GreyFrame(640, 360);
  const cv::Mat query = reference(cv::Rect(100, 50, 400, 250)).clone();
  const celtrace::WarpedQuery warped =
      celtrace::WarpQuery(query, cv::Matx23d(1, 0, 100, 0, 1, 50), reference.size());
  const cv::Matx23f refinement(0.999f, -0.035f, 0.4f, 0.035f, 0.999f, -0.3f);
  for (auto _ : state) {
    benchmark::DoNotOptimize(celtrace::Realignment(warped, refinement));
  }
}
BENCHMARK(BM_Realignment)->Unit(benchmark::kNanosecond);

// The ink check of one verified line-art keyframe: every ink pixel of an 800x450 query's
// ink map mapped onto the frame (the line art of a synthetic frame, about 3% ink).
void BM_InkInside(benchmark::State& state) {
  const cv::Mat ink = celtrace::InkMap(GreyFrame(800, 450));
  state.counters["ink_share"] = 1.0 - cv::countNonZero(ink) / static_cast<double>(ink.total());
  const cv::Matx23d transform(0.8, 0, 0, 0, 0.8, 0);  // query -> reference pixels
  for (auto _ : state) {
    benchmark::DoNotOptimize(celtrace::InkInside(ink, transform, {640, 360}));
  }
}
BENCHMARK(BM_InkInside)->Unit(benchmark::kMicrosecond);

// The stroke check: once per line-art still, its ink prepared (ink pixels, distance map of
// an 800x450 ink map); then per verified keyframe, the still's ink against the entry's stroke
// map (the same frame at 640x360, halved), both ways, over the 25 shifts; and the stroke
// map's decoding from the index (a 1-bit PNG), which precedes it.
void BM_PrepareStillStrokes(benchmark::State& state) {
  const cv::Mat ink = celtrace::InkMap(GreyFrame(800, 450));
  for (auto _ : state) {
    benchmark::DoNotOptimize(celtrace::PrepareStillStrokes(ink));
  }
}
BENCHMARK(BM_PrepareStillStrokes)->Unit(benchmark::kMicrosecond);

void BM_StrokesInCommon(benchmark::State& state) {
  const cv::Mat grey = GreyFrame(800, 450);
  cv::Mat frame;
  const celtrace::StillStrokes still = celtrace::PrepareStillStrokes(celtrace::InkMap(grey));
  cv::resize(grey, frame, {640, 360}, 0, 0, cv::INTER_AREA);
  const cv::Mat strokes = celtrace::StrokeMap(celtrace::InkMap(frame));
  const cv::Matx23d transform(0.8, 0, 0, 0, 0.8, 0);  // query -> reference pixels
  state.counters["common"] =
      celtrace::StrokesInCommon(still, transform, {640, 360}, strokes).common();
  for (auto _ : state) {
    benchmark::DoNotOptimize(celtrace::StrokesInCommon(still, transform, {640, 360}, strokes));
  }
}
BENCHMARK(BM_StrokesInCommon)->Unit(benchmark::kMicrosecond);

// The same with the frame prepared once (PrepareFrameStrokes), as the stroke search compares
// one frame with up to 15 placements of a still.
void BM_StrokesInCommonPreparedFrame(benchmark::State& state) {
  const cv::Mat grey = GreyFrame(800, 450);
  cv::Mat frame;
  const celtrace::StillStrokes still = celtrace::PrepareStillStrokes(celtrace::InkMap(grey));
  cv::resize(grey, frame, {640, 360}, 0, 0, cv::INTER_AREA);
  const celtrace::FrameStrokes strokes =
      celtrace::PrepareFrameStrokes(celtrace::StrokeMap(celtrace::InkMap(frame)));
  const cv::Matx23d transform(0.8, 0, 0, 0, 0.8, 0);  // query -> reference pixels
  for (auto _ : state) {
    benchmark::DoNotOptimize(celtrace::StrokesInCommon(still, transform, {640, 360}, strokes));
  }
}
BENCHMARK(BM_StrokesInCommonPreparedFrame)->Unit(benchmark::kMicrosecond);

struct CropOfAFrame {
  cv::Mat strokes;  // the frame's stroke map, at 640x360
  cv::Mat ink;      // the crop's ink map, at 800x450
};

// Three quarters of each side of a 1280x720 frame, at the bottom right, saved at 800x450.
CropOfAFrame MakeCropOfAFrame() {
  const cv::Mat grey = GreyFrame(1280, 720);
  cv::Mat frame, still;
  cv::resize(grey, frame, {640, 360}, 0, 0, cv::INTER_AREA);
  cv::resize(grey(cv::Rect(320, 180, 960, 540)), still, {800, 450}, 0, 0, cv::INTER_AREA);
  return {celtrace::StrokeMap(celtrace::InkMap(frame)), celtrace::InkMap(still)};
}

// The stroke search, per candidate entry: the crop placed on the frame's stroke map at every
// place and width from half the frame's (the coarse pass and the refinement).
void BM_StrokePlacerPlace(benchmark::State& state) {
  const CropOfAFrame crop = MakeCropOfAFrame();
  celtrace::StrokePlacer placer(crop.ink, 0.5, 1.0);
  state.counters["common"] = placer.Place(crop.strokes, {640, 360}).agreement.common();
  for (auto _ : state) {
    benchmark::DoNotOptimize(placer.Place(crop.strokes, {640, 360}));
  }
}
BENCHMARK(BM_StrokePlacerPlace)->Unit(benchmark::kMicrosecond);

// The first entry of a still: the preparation (its ink, its widths' spectra) and one search.
void BM_StrokePlacerFirstPlace(benchmark::State& state) {
  const CropOfAFrame crop = MakeCropOfAFrame();
  for (auto _ : state) {
    celtrace::StrokePlacer placer(crop.ink, 0.5, 1.0);
    benchmark::DoNotOptimize(placer.Place(crop.strokes, {640, 360}));
  }
}
BENCHMARK(BM_StrokePlacerFirstPlace)->Unit(benchmark::kMicrosecond);

void BM_StrokeMapDecode(benchmark::State& state) {
  const cv::Mat grey = GreyFrame(640, 360);
  celtrace::FeatureIndex index;
  index.Add({0,
             0,
             celtrace::FeatureSet{{}, {}, {640, 360}},
             {},
             {},
             {celtrace::StrokeMap(celtrace::InkMap(grey))}});
  for (auto _ : state) {
    benchmark::DoNotOptimize(index.StrokeMap(0, 0));
  }
}
BENCHMARK(BM_StrokeMapDecode)->Unit(benchmark::kMicrosecond);

// The stroke hash of one stroke map: per line-art entry in the build (inside FeatureIndex::Add,
// below), and per still in the stroke lookup (of its 400x225 map).
void BM_StrokeHash(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const cv::Mat map = celtrace::StrokeMap(celtrace::InkMap(GreyFrame(width, width * 9 / 16)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(celtrace::StrokeHash(map));
  }
}
BENCHMARK(BM_StrokeHash)->Arg(640)->Arg(800)->Unit(benchmark::kMicrosecond);

// What the index build adds per line-art entry: the stroke map of the entry's ink map, and its
// encoding and stroke hash when the keyframe joins the index (FeatureIndex::Add, a 1-bit PNG).
void BM_StrokeMapEncode(benchmark::State& state) {
  const cv::Mat ink = celtrace::InkMap(GreyFrame(640, 360));
  for (auto _ : state) {
    celtrace::FeatureIndex index;
    index.Add({0, 0, celtrace::FeatureSet{{}, {}, {640, 360}}, {}, {}, {celtrace::StrokeMap(ink)}});
    benchmark::DoNotOptimize(index);
  }
}
BENCHMARK(BM_StrokeMapEncode)->Unit(benchmark::kMicrosecond);

}  // namespace
