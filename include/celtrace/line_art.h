// Line art: the ink map of a picture (its thin dark strokes on white paper) and a test for
// pictures that look like uncoloured line art. Reference frames and leaked drawings are
// both reduced to ink maps, so that a colourless drawing can be compared with the painted
// frame it was inked for. Pure functions; thread-safe.
#pragma once

#include <opencv2/core/mat.hpp>
#include <opencv2/core/matx.hpp>

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
// outlines, pupils and hatching stay.
cv::Mat InkMap(const cv::Mat& luma);

// Returns the share of the ink pixels of `ink_map` (InkMap's: 0 is ink) that `transform`
// (ink-map pixels -> reference pixels) places inside a reference picture of
// `reference_size`, 0..1; 1 when the map holds no ink. A drawing made for a frame is drawn
// inside the camera's field (a cel, a key drawing, a crop of one), so its strokes land on
// the frame; a drawing that merely shares a character with a close-up aligns that
// character and leaves the rest of its strokes outside. Non-finite transforms give 0.
double InkInside(const cv::Mat& ink_map, const cv::Matx23d& transform, cv::Size reference_size);

}  // namespace celtrace
