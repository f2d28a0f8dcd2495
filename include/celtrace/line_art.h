// Line art: the ink map of a picture (its thin dark strokes on white paper) and a test for
// pictures that look like uncoloured line art. Reference frames and leaked drawings are
// both reduced to ink maps, so that a colourless drawing can be compared with the painted
// frame it was inked for. Pure functions; thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <opencv2/core/matx.hpp>
#include <opencv2/core/types.hpp>
#include <vector>

#include "celtrace/pdq.h"

namespace celtrace {

struct LineArtStats {
  double paper = 0;       // share of pixels that are light and unsaturated (paper)
  double ink = 0;         // share of pixels that are dark (strokes)
  double colour = 0;      // share of pixels that are saturated mid-tones (paint)
  bool line_art = false;  // mostly paper with some ink and hardly any paint
};

// Returns the shares of paper, ink and paint in `image` (grey, BGR or BGRA, 8-bit) and
// whether it looks like line art: paper >= 60%, ink 0.3-30%, paint < 5%.
LineArtStats MeasureLineArt(const cv::Mat& image);

// Returns the ink map of `luma` (CV_8UC1): 0 where a thin dark stroke is (darker than 110
// and at least 40 grey levels below the closing of the picture with a square of about 1/40
// of its longer side, i.e. a morphological black-hat), 255 elsewhere. Flat dark regions
// wider than the disc are not ink, so painted shadows and night skies drop out while
// outlines, pupils and hatching stay. A near-black pixel (darker than 50) is ink already at
// 20 levels below the closing: an outline that borders a dark fill (hair, trousers) is
// only a few tens of levels darker than the fill, which the closing spreads over it.
cv::Mat InkMap(const cv::Mat& luma);

// Returns the share of the ink pixels of `ink_map` (InkMap's: 0 is ink) that `transform`
// (ink-map pixels -> reference pixels) places inside a reference picture of
// `reference_size`, 0..1; 1 when the map holds no ink. A drawing made for a frame is drawn
// inside the camera's field (a cel, a key drawing, a crop of one), so its strokes land on
// the frame; a drawing that merely shares a character with a close-up aligns that
// character and leaves the rest of its strokes outside. Non-finite transforms give 0.
double InkInside(const cv::Mat& ink_map, const cv::Matx23d& transform, cv::Size reference_size);

// A frame's stroke map: its ink map (InkMap's: 0 is ink) at half its size (rounded up), a
// pixel ink when any of the ink-map pixels it covers is. The line-art channel stores one per
// catalogue entry, so that a verified drawing can be compared with the frame stroke by stroke.
cv::Mat StrokeMap(const cv::Mat& ink_map);

// The size of the stroke map of a picture of `picture` size: half of it, rounded up.
inline cv::Size StrokeMapSize(cv::Size picture) {
  return {(picture.width + 1) / 2, (picture.height + 1) / 2};
}

// The stroke hash of a stroke map (StrokeMap's: 0 is ink): PDQ of the map with its ink
// thickened by one pixel each way. The line-art channel stores one per catalogue entry and
// looks up a whole drawing's hash among them: a drawing inked for a frame and the frame's
// own strokes lie a few tens of bits apart (median 20, p90 34 on the evaluation set's
// full-frame line art; unrelated drawings' nearest median 90; README "The stroke lookup"),
// while PDQ of the painted frame is far from the drawing's. Throws celtrace::Error if the map is
// not 8-bit grey.
Pdq StrokeHash(const cv::Mat& stroke_map);

// How far a line-art still and a frame agree stroke by stroke once aligned, 0..1.
struct StrokeAgreement {
  double drawn = 0;   // share of the still's ink within a stroke-map pixel of the frame's ink
  double framed = 0;  // share of the frame's outlines under the still within reach of its ink
  // The frame's outline pixels under the still (stroke-map pixels; `framed` is a share of
  // them): how much of the frame's drawing the comparison rests on.
  std::int64_t under = 0;
  double common() const { return std::min(drawn, framed); }
};

// A line-art still's ink, prepared once for StrokesInCommon against every frame it is
// verified on: its ink pixels and each pixel's distance to the nearest ink.
struct StillStrokes {
  std::vector<cv::Point> ink;  // (x, y) of every ink pixel, row by row
  cv::Mat distance;            // CV_32F, the ink map's size
};

// Prepares `ink_map` (InkMap's: 0 is ink). Throws celtrace::Error if it is not 8-bit grey.
StillStrokes PrepareStillStrokes(const cv::Mat& ink_map);

// Compares `ink_map` (a still's ink map, InkMap's) with `stroke_map` (StrokeMap of a frame
// whose picture is `reference_size`), `transform` mapping ink-map pixels to reference pixels.
// `drawn`: the share of the still's ink pixels that land within one stroke-map pixel of the
// frame's ink (ink that lands outside the frame counts as missed); `framed`: of the frame's
// outlines that land inside the still, the share within the same reach (in still pixels) of
// the still's ink. Outlines are the frame's ink pixels with paper among their eight neighbours:
// the inside of a dark fill is ink in the painted frame but not in the drawing it was inked
// from. The alignment is a fit to the keyframe refined on 64-pixel thumbnails, a few
// stroke-map pixels out at times, so the transform is shifted by up to kStrokeShift stroke-map
// pixels each way and the shift that explains most of the still's ink counts. The drawing a
// frame was inked from agrees both ways all over; a same-style drawing of another pose agrees
// where the two share a head or a limb and nowhere else. {0, 0} for a map without ink, a
// non-finite transform or a stroke map that is not half of `reference_size` (rounded up).
StrokeAgreement StrokesInCommon(const cv::Mat& ink_map, const cv::Matx23d& transform,
                                cv::Size reference_size, const cv::Mat& stroke_map);
// The same for a still prepared with PrepareStillStrokes (the matcher's hot path: one still,
// up to --verify-candidates frames).
StrokeAgreement StrokesInCommon(const StillStrokes& still, const cv::Matx23d& transform,
                                cv::Size reference_size, const cv::Mat& stroke_map);

// A frame's stroke map, prepared once for StrokesInCommon against many placements of one
// still (the stroke search refines up to 15 on each frame): where its ink reaches, and its
// outlines as StrokesInCommon counts them.
struct FrameStrokes {
  cv::Mat near;      // CV_8U, the stroke map's size: 255 within one pixel of ink, else 0
  cv::Mat outlines;  // CV_8U, the stroke map with its dark fills' inside made paper
  std::vector<cv::Point> outline;  // (x, y) of every outline pixel (0 in `outlines`), row by row
};

// Prepares `stroke_map` (StrokeMap's). Does not throw: an empty FrameStrokes, which
// StrokesInCommon compares as {0, 0}, for a map that is empty or not 8-bit grey.
FrameStrokes PrepareFrameStrokes(const cv::Mat& stroke_map);

// The same for a still and a frame both prepared: StrokesInCommon(still, transform,
// reference_size, stroke_map) with `frame` = PrepareFrameStrokes(stroke_map), the same result.
StrokeAgreement StrokesInCommon(const StillStrokes& still, const cv::Matx23d& transform,
                                cv::Size reference_size, const FrameStrokes& frame);

inline constexpr int kStrokeShift = 2;  // stroke-map pixels

// Where a line-art still lies on a frame, found by trying places and scales: the stroke
// search (README "The stroke search"). A crop of a drawing is part of a frame, not the whole
// of it, so the stroke lookup cannot place it, and an ink map's keypoints, thin strokes'
// corners, seldom give its keyframe enough inliers; but its strokes, placed right, agree
// with the frame's all over, as a whole drawing's do.
struct StrokePlacement {
  cv::Matx23d transform = cv::Matx23d::zeros();  // still ink-map pixels -> reference pixels
  StrokeAgreement agreement;
};

// A still's ink prepared for placing on many frames' stroke maps. Place tries every place
// where the still lies wholly inside the frame, at widths from `min_share` of the frame's up
// to `max_share`, kPlacementScaleStep apart (the last step at or under `max_share`: from 0.5,
// 0.95), and at the widest it fits at within them (a band cut across the frame's whole width
// or height is that wide), first on the stroke maps halved again (strokes within one pixel, a
// frame's 4 pixels at 640, by correlations in the Fourier domain; the frame's outlines for
// `framed`, as StrokesInCommon counts them); then it refines the best place
// at each of the kPlacementPeaks best widths with StrokesInCommon at widths 2%, then 1% apart (the
// still's ink halved like a stroke map, a quarter of the work). Not thread-safe (it keeps
// the still's spectra for the last frame size); one per still and thread.
class StrokePlacer {
 public:
  // Throws celtrace::Error if `ink_map` is not 8-bit grey or the shares are not
  // 0 < min_share <= max_share.
  StrokePlacer(const cv::Mat& ink_map, double min_share, double max_share);
  ~StrokePlacer();
  StrokePlacer(const StrokePlacer&) = delete;
  StrokePlacer& operator=(const StrokePlacer&) = delete;

  // The placement of the still on `stroke_map` (StrokeMap of a picture of `reference_size`)
  // whose strokes agree most (highest StrokeAgreement::common()); {} (zero agreement) when
  // the map is not half of `reference_size` or holds no ink, or the still holds no ink or
  // fits at no width.
  StrokePlacement Place(const cv::Mat& stroke_map, cv::Size reference_size);

 private:
  struct Scale;
  const std::vector<Scale>& ScalesFor(cv::Size coarse);

  StillStrokes still_;
  cv::Mat ink_;  // CV_32F, 1 where the still has ink
  double min_share_ = 0;
  double max_share_ = 0;
  cv::Size scales_coarse_;  // the coarse map's size scales_ were made for
  std::vector<Scale> scales_;
};

// How many coarse placements StrokePlacer refines, and the step between its coarse widths.
inline constexpr int kPlacementPeaks = 3;
inline constexpr double kPlacementScaleStep = 1.06;  // between coarse widths

}  // namespace celtrace
