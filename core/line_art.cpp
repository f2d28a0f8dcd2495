#include "celtrace/line_art.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "celtrace/error.h"

namespace celtrace {

LineArtStats MeasureLineArt(const cv::Mat& image) {
  if (image.empty()) throw Error("line art: empty image");
  cv::Mat bgr;
  if (image.channels() == 1) {
    cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
  } else if (image.channels() == 4) {
    cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
  } else {
    bgr = image;
  }
  if (bgr.depth() != CV_8U) bgr.convertTo(bgr, CV_8U, bgr.depth() == CV_16U ? 1.0 / 257 : 255.0);
  // Sampled on a grid of at most ~256x256: shares, not details.
  const int step = std::max(1, std::max(bgr.cols, bgr.rows) / 256);
  std::int64_t paper = 0, ink = 0, colour = 0, total = 0;
  for (int y = 0; y < bgr.rows; y += step) {
    const cv::Vec3b* row = bgr.ptr<cv::Vec3b>(y);
    for (int x = 0; x < bgr.cols; x += step) {
      const cv::Vec3b p = row[x];
      const int hi = std::max({p[0], p[1], p[2]});
      const int lo = std::min({p[0], p[1], p[2]});
      const int luma = (p[0] * 29 + p[1] * 150 + p[2] * 77) >> 8;
      const int chroma = hi - lo;
      if (luma >= 200 && chroma <= 40) {
        ++paper;
      } else if (luma < 100) {
        ++ink;
      } else if (chroma > 60) {
        ++colour;
      }
      ++total;
    }
  }
  LineArtStats stats;
  stats.paper = static_cast<double>(paper) / total;
  stats.ink = static_cast<double>(ink) / total;
  stats.colour = static_cast<double>(colour) / total;
  stats.line_art =
      stats.paper >= 0.6 && stats.ink >= 0.003 && stats.ink <= 0.3 && stats.colour < 0.05;
  return stats;
}

namespace {

// InkMap's thresholds (grey levels): a stroke is darker than kInkDarkest and kInkContrast
// below the closing; a near-black outline, darker than kOutlineDarkest, needs only
// kOutlineContrast (the evaluation catalogue's outlines are 20-30, its darkest fills 50-59).
constexpr int kInkDarkest = 110;
constexpr int kInkContrast = 40;
constexpr int kOutlineDarkest = 50;
constexpr int kOutlineContrast = 20;

}  // namespace

cv::Mat InkMap(const cv::Mat& luma) {
  if (luma.empty() || luma.type() != CV_8UC1) throw Error("line art: ink map needs 8-bit luma");
  const int radius = std::max(3, std::max(luma.cols, luma.rows) / 80);
  // A square is separable, so the closing costs two 1-D passes; the disc it stands for
  // only needs to be wider than a stroke.
  const cv::Mat disc =
      cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * radius + 1, 2 * radius + 1));
  cv::Mat closed;
  cv::morphologyEx(luma, closed, cv::MORPH_CLOSE, disc);
  cv::Mat map(luma.size(), CV_8UC1);
  for (int y = 0; y < luma.rows; ++y) {
    const std::uint8_t* l = luma.ptr<std::uint8_t>(y);
    const std::uint8_t* c = closed.ptr<std::uint8_t>(y);
    std::uint8_t* m = map.ptr<std::uint8_t>(y);
    for (int x = 0; x < luma.cols; ++x) {
      const int below = c[x] - l[x];
      const bool stroke = (l[x] < kInkDarkest && below >= kInkContrast) ||
                          (l[x] < kOutlineDarkest && below >= kOutlineContrast);
      m[x] = stroke ? 0 : 255;
    }
  }
  return map;
}

double InkInside(const cv::Mat& ink_map, const cv::Matx23d& transform, cv::Size reference_size) {
  if (ink_map.empty() || ink_map.type() != CV_8UC1) {
    throw Error("line art: ink share needs an 8-bit ink map");
  }
  for (int i = 0; i < 6; ++i) {
    if (!std::isfinite(transform.val[i])) return 0;
  }
  std::int64_t ink = 0, inside = 0;
  for (int y = 0; y < ink_map.rows; ++y) {
    const std::uint8_t* m = ink_map.ptr<std::uint8_t>(y);
    const double x0 = transform(0, 1) * y + transform(0, 2);
    const double y0 = transform(1, 1) * y + transform(1, 2);
    for (int x = 0; x < ink_map.cols; ++x) {
      if (m[x] != 0) continue;
      ++ink;
      // Pixel (x, y) as keypoints place it (the fitted transform's convention).
      const double rx = transform(0, 0) * x + x0;
      const double ry = transform(1, 0) * x + y0;
      inside += rx >= 0 && ry >= 0 && rx < reference_size.width && ry < reference_size.height;
    }
  }
  return ink == 0 ? 1.0 : static_cast<double>(inside) / static_cast<double>(ink);
}

cv::Mat StrokeMap(const cv::Mat& ink_map) {
  if (ink_map.empty() || ink_map.type() != CV_8UC1) {
    throw Error("line art: stroke map needs an 8-bit ink map");
  }
  cv::Mat map(StrokeMapSize(ink_map.size()), CV_8UC1, cv::Scalar(255));
  for (int y = 0; y < ink_map.rows; ++y) {
    const std::uint8_t* m = ink_map.ptr<std::uint8_t>(y);
    std::uint8_t* out = map.ptr<std::uint8_t>(y / 2);
    for (int x = 0; x < ink_map.cols; ++x) {
      if (m[x] == 0) out[x / 2] = 0;
    }
  }
  return map;
}

Pdq StrokeHash(const cv::Mat& stroke_map) {
  if (stroke_map.empty() || stroke_map.type() != CV_8UC1) {
    throw Error("line art: stroke hash needs an 8-bit stroke map");
  }
  // Eroding the paper thickens the ink: PDQ's 64x64 box filter then sees strokes of a 400-
  // and a 320-pixel-wide map at similar weight.
  cv::Mat thick;
  cv::erode(stroke_map, thick, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
  return ComputePdq(thick);
}

namespace {

// `ones` (ink non-zero, any depth) thickened by a pixel each way (8-neighbourhood).
cv::Mat Dilated(const cv::Mat& ones) {
  cv::Mat near;
  cv::dilate(ones, near, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
  return near;
}

// 255 where a pixel lies within one pixel (8-neighbourhood) of ink, 0 elsewhere.
cv::Mat NearInk(const cv::Mat& map) { return Dilated(map == 0); }

// `stroke_map` with the inside of its dark fills made paper: ink pixels whose eight neighbours
// are all ink (a pixel on the map's edge has paper beyond it).
cv::Mat FrameOutlines(const cv::Mat& stroke_map) {
  cv::Mat paper_near;  // 0 where a pixel and its eight neighbours are all ink
  cv::dilate(stroke_map, paper_near, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)),
             cv::Point(-1, -1), 1, cv::BORDER_CONSTANT, cv::Scalar(255));
  cv::Mat outlines = stroke_map.clone();
  outlines.setTo(255, paper_near == 0);
  return outlines;
}

}  // namespace

StillStrokes PrepareStillStrokes(const cv::Mat& ink_map) {
  if (ink_map.empty() || ink_map.type() != CV_8UC1) {
    throw Error("line art: stroke agreement needs an 8-bit ink map");
  }
  StillStrokes still;
  cv::findNonZero(ink_map == 0, still.ink);
  cv::distanceTransform(ink_map != 0, still.distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  return still;
}

StrokeAgreement StrokesInCommon(const cv::Mat& ink_map, const cv::Matx23d& transform,
                                cv::Size reference_size, const cv::Mat& stroke_map) {
  return StrokesInCommon(PrepareStillStrokes(ink_map), transform, reference_size, stroke_map);
}

FrameStrokes PrepareFrameStrokes(const cv::Mat& stroke_map) {
  FrameStrokes frame;
  if (stroke_map.empty() || stroke_map.type() != CV_8UC1) return frame;
  frame.near = NearInk(stroke_map);
  // Only the frame's outlines count: inside a dark fill (trousers, pupils, a dark prop) the
  // painted frame has ink the drawing it was inked from never had.
  frame.outlines = FrameOutlines(stroke_map);
  cv::findNonZero(frame.outlines == 0, frame.outline);
  return frame;
}

StrokeAgreement StrokesInCommon(const StillStrokes& still, const cv::Matx23d& transform,
                                cv::Size reference_size, const cv::Mat& stroke_map) {
  // The prepared overload checks the map's size and type (an empty FrameStrokes for a map
  // that is empty or not 8-bit grey).
  return StrokesInCommon(still, transform, reference_size, PrepareFrameStrokes(stroke_map));
}

StrokeAgreement StrokesInCommon(const StillStrokes& still, const cv::Matx23d& transform,
                                cv::Size reference_size, const FrameStrokes& frame) {
  StrokeAgreement agreement;
  if (frame.near.empty() || frame.near.type() != CV_8UC1 ||
      frame.near.size() != StrokeMapSize(reference_size)) {
    return agreement;
  }
  for (int i = 0; i < 6; ++i) {
    if (!std::isfinite(transform.val[i])) return agreement;
  }
  const std::vector<cv::Point>& still_ink = still.ink;
  if (still_ink.empty()) return agreement;
  // Still pixels -> stroke-map pixels: map pixel j covers reference pixels 2j and 2j + 1, so
  // reference x lands on 0.5 x - 0.25 (rounded, floor(x / 2)).
  cv::Matx23d t = transform * 0.5;
  t(0, 2) -= 0.25;
  t(1, 2) -= 0.25;
  const cv::Mat& near_frame = frame.near;
  std::vector<cv::Point> placed(still_ink.size());  // on the stroke map, before the shift
  for (size_t i = 0; i < still_ink.size(); ++i) {
    const cv::Point& p = still_ink[i];
    placed[i] = {cvRound(static_cast<float>(t(0, 0) * p.x + t(0, 1) * p.y + t(0, 2))),
                 cvRound(static_cast<float>(t(1, 0) * p.x + t(1, 1) * p.y + t(1, 2)))};
  }
  // The shift that lands most of the still's ink near the frame's.
  int best = -1;
  cv::Point best_shift;
  for (int dy = -kStrokeShift; dy <= kStrokeShift; ++dy) {
    for (int dx = -kStrokeShift; dx <= kStrokeShift; ++dx) {
      int hits = 0;
      for (const cv::Point& p : placed) {
        const int x = p.x + dx;
        const int y = p.y + dy;
        hits += x >= 0 && y >= 0 && x < near_frame.cols && y < near_frame.rows &&
                near_frame.at<std::uint8_t>(y, x) != 0;
      }
      // Ties keep the shift nearer the fitted alignment.
      const bool nearer =
          std::abs(dx) + std::abs(dy) < std::abs(best_shift.x) + std::abs(best_shift.y);
      if (hits > best || (hits == best && nearer)) {
        best = hits;
        best_shift = {dx, dy};
      }
    }
  }
  agreement.drawn = static_cast<double>(best) / static_cast<double>(still_ink.size());
  // The other way: the frame's outline pixels mapped back into the still, reach scaled alike.
  cv::Matx23d back;
  cv::invertAffineTransform(t, back);
  const double reach = std::hypot(back(0, 0), back(1, 0));  // still pixels per map pixel
  const cv::Mat& still_distance = still.distance;
  const double limit = std::max(1.0, reach * std::sqrt(2.0));
  std::int64_t under = 0, near = 0;
  for (const cv::Point& p : frame.outline) {
    const double mx = p.x - best_shift.x, my = p.y - best_shift.y;
    const int sx = cvRound(back(0, 0) * mx + back(0, 1) * my + back(0, 2));
    const int sy = cvRound(back(1, 0) * mx + back(1, 1) * my + back(1, 2));
    if (sx < 0 || sy < 0 || sx >= still_distance.cols || sy >= still_distance.rows) continue;
    ++under;
    near += still_distance.at<float>(sy, sx) <= limit;
  }
  agreement.framed = under == 0 ? 0 : static_cast<double>(near) / static_cast<double>(under);
  agreement.under = under;
  return agreement;
}

namespace {

// 1.0 where `mask` (a comparison's 0/255) is set, 0 elsewhere.
cv::Mat Ones(const cv::Mat& mask) {
  cv::Mat ones;
  mask.convertTo(ones, CV_32F, 1.0 / 255);
  return ones;
}

// 1.0 where a map (0 is ink) has ink, 0 elsewhere.
cv::Mat InkOnes(const cv::Mat& map) { return Ones(map == 0); }

// The size a coarse map of `coarse` size and the still's widths are padded to for the DFT.
cv::Size SpectrumSize(cv::Size coarse) {
  return {cv::getOptimalDFTSize(coarse.width), cv::getOptimalDFTSize(coarse.height)};
}

// `ones` padded with zeros to `size`, in the Fourier domain (CCS-packed).
cv::Mat Spectrum(const cv::Mat& ones, cv::Size size) {
  cv::Mat padded = cv::Mat::zeros(size, CV_32F);
  ones.copyTo(padded(cv::Rect(0, 0, ones.cols, ones.rows)));
  cv::Mat spectrum;
  cv::dft(padded, spectrum);
  return spectrum;
}

// c(x, y) = sum of template(u, v) * image(x + u, y + v), from the two spectra.
cv::Mat Correlation(const cv::Mat& image_spectrum, const cv::Mat& template_spectrum) {
  cv::Mat product, correlation;
  cv::mulSpectrums(image_spectrum, template_spectrum, product, 0, /*conjB=*/true);
  cv::idft(product, correlation, cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);
  return correlation;
}

struct CoarsePlacement {
  double score = -1;
  double share = 0;
  cv::Rect box;  // on the coarse map
};

}  // namespace

// One width the still is tried at: its ink (and ink thickened by a pixel) on the coarse grid.
struct StrokePlacer::Scale {
  double share = 0;  // of the frame's width
  cv::Size size;     // on the coarse grid
  double ink = 0;    // ink pixels
  cv::Mat ink_spectrum, near_spectrum;
};

StrokePlacer::StrokePlacer(const cv::Mat& ink_map, double min_share, double max_share)
    : still_(PrepareStillStrokes(StrokeMap(ink_map))),
      ink_(InkOnes(ink_map)),
      min_share_(min_share),
      max_share_(max_share) {
  if (!(min_share > 0 && min_share <= max_share)) {
    throw Error("line art: the stroke search needs widths 0 < min <= max");
  }
}

StrokePlacer::~StrokePlacer() = default;

const std::vector<StrokePlacer::Scale>& StrokePlacer::ScalesFor(cv::Size coarse) {
  if (coarse == scales_coarse_) return scales_;
  scales_.clear();
  scales_coarse_ = coarse;
  const cv::Size spectrum = SpectrumSize(coarse);
  const double aspect = static_cast<double>(ink_.rows) / ink_.cols;
  auto height_of = [&](int width) { return static_cast<int>(std::lround(width * aspect)); };
  auto add = [&](int width) {
    cv::Mat area;
    cv::resize(ink_, area, cv::Size(width, height_of(width)), 0, 0, cv::INTER_AREA);
    const cv::Mat ones = Ones(area > 0);  // a coarse pixel is ink when any is
    Scale scale;
    scale.share = static_cast<double>(width) / coarse.width;
    scale.size = ones.size();
    scale.ink = cv::sum(ones)[0];
    if (scale.ink == 0) return;
    scale.ink_spectrum = Spectrum(ones, spectrum);
    scale.near_spectrum = Spectrum(Dilated(ones), spectrum);
    scales_.push_back(std::move(scale));
  };
  auto fits = [&](int width) { return width <= coarse.width && height_of(width) <= coarse.height; };
  auto shows = [&](int width) { return width >= 2 && height_of(width) >= 2; };  // 2x2 at least
  int last_width = 0;
  for (double share = min_share_; share <= max_share_ * 1.000001; share *= kPlacementScaleStep) {
    const int width = static_cast<int>(std::lround(share * coarse.width));
    if (!fits(width)) break;  // wider is taller too
    if (width == last_width || !shows(width)) continue;
    last_width = width;
    add(width);
  }
  // The ladder's last step stops short of the widest the still fits at (a crop that keeps the
  // frame's whole width or height: a cel cut to a band) by up to a step; that width is tried
  // too, as long as it is within the range, in place of the last step when it is within half
  // a step of it (the refinement's +-3% covers the one dropped).
  int widest = static_cast<int>(std::lround(max_share_ * coarse.width));
  while (widest > 0 && !fits(widest)) --widest;
  if (widest > last_width && shows(widest) && widest >= min_share_ * coarse.width) {
    if (!scales_.empty() && scales_.back().size.width == last_width &&
        widest < last_width * std::sqrt(kPlacementScaleStep)) {
      scales_.pop_back();
    }
    add(widest);
  }
  return scales_;
}

StrokePlacement StrokePlacer::Place(const cv::Mat& stroke_map, cv::Size reference_size) {
  StrokePlacement best;
  if (stroke_map.type() != CV_8UC1 || stroke_map.size() != StrokeMapSize(reference_size) ||
      still_.ink.empty()) {
    return best;
  }
  // The coarse map: the stroke map halved again, a pixel ink when any of the four is.
  const cv::Mat coarse_map = StrokeMap(stroke_map);
  const cv::Mat frame_ink = InkOnes(coarse_map);
  if (cv::countNonZero(frame_ink) == 0) return best;
  // The frame prepared once for the coarse pass and every refinement. `framed` counts the
  // frame's outlines, as StrokesInCommon does: the stroke map's, halved.
  const FrameStrokes frame = PrepareFrameStrokes(stroke_map);
  const cv::Mat frame_outlines = InkOnes(StrokeMap(frame.outlines));
  const cv::Size spectrum = SpectrumSize(coarse_map.size());
  const cv::Mat outline_spectrum = Spectrum(frame_outlines, spectrum);
  const cv::Mat near_spectrum = Spectrum(Dilated(frame_ink), spectrum);
  cv::Mat frame_sums;  // the frame's outlines over any box, for `framed`
  cv::integral(frame_outlines, frame_sums, CV_64F);

  // The best place at each width: `drawn` (the still's ink within a pixel of the frame's) and
  // `framed` (the frame's outlines under the still within a pixel of the still's ink), the
  // lower.
  std::vector<CoarsePlacement> coarse;
  for (const Scale& scale : ScalesFor(coarse_map.size())) {
    const cv::Mat drawn = Correlation(near_spectrum, scale.ink_spectrum);
    const cv::Mat framed = Correlation(outline_spectrum, scale.near_spectrum);
    CoarsePlacement at;
    at.share = scale.share;
    for (int y = 0; y + scale.size.height <= coarse_map.rows; ++y) {
      const float* d = drawn.ptr<float>(y);
      const float* f = framed.ptr<float>(y);
      for (int x = 0; x + scale.size.width <= coarse_map.cols; ++x) {
        const cv::Rect box(cv::Point(x, y), scale.size);
        const double under =
            frame_sums.at<double>(box.br()) - frame_sums.at<double>(box.y, box.br().x) -
            frame_sums.at<double>(box.br().y, box.x) + frame_sums.at<double>(box.tl());
        if (under < 0.5) continue;
        const double score = std::min(d[x] / scale.ink, f[x] / under);
        if (score > at.score) {
          at.score = score;
          at.box = box;
        }
      }
    }
    if (at.score >= 0) coarse.push_back(at);
  }
  const size_t peaks = std::min<size_t>(kPlacementPeaks, coarse.size());
  std::partial_sort(
      coarse.begin(), coarse.begin() + peaks, coarse.end(),
      [](const CoarsePlacement& a, const CoarsePlacement& b) { return a.score > b.score; });

  // Each peak refined at widths 2% apart about its own, then 1% about the better, its centre
  // kept; StrokesInCommon's shifts of up to kStrokeShift stroke-map pixels cover the coarse
  // grid's step of two. The still's ink is halved like a stroke map (2x2 -> 1, ink when any
  // is): finer than the frame's strokes it is compared with still, and a quarter of the work.
  const double to_reference_x = static_cast<double>(reference_size.width) / coarse_map.cols;
  const double to_reference_y = static_cast<double>(reference_size.height) / coarse_map.rows;
  const cv::Size halved = StrokeMapSize(ink_.size());
  auto try_share = [&](const CoarsePlacement& peak, double share) {
    const double cx = (peak.box.x + peak.box.width / 2.0) * to_reference_x;
    const double cy = (peak.box.y + peak.box.height / 2.0) * to_reference_y;
    const double scale = share * reference_size.width / halved.width;
    const cv::Matx23d transform(scale, 0, cx - scale * halved.width / 2.0, 0, scale,
                                cy - scale * halved.height / 2.0);
    const StrokeAgreement agreement = StrokesInCommon(still_, transform, reference_size, frame);
    const bool better =
        agreement.common() > best.agreement.common() ||
        (agreement.common() == best.agreement.common() && agreement.drawn > best.agreement.drawn);
    if (better) {
      // The same placement for the ink map's pixels: halved pixel j covers 2j and 2j + 1.
      const double half = scale / 2;
      best = {cv::Matx23d(half, 0, transform(0, 2) - half / 2, 0, half, transform(1, 2) - half / 2),
              agreement};
    }
    return agreement.common();
  };
  for (size_t p = 0; p < peaks; ++p) {
    const CoarsePlacement& peak = coarse[p];
    double best_share = peak.share, best_common = -1;
    for (double step : {-0.02, 0.0, 0.02}) {
      const double common = try_share(peak, peak.share * (1 + step));
      if (common > best_common) {
        best_common = common;
        best_share = peak.share * (1 + step);
      }
    }
    try_share(peak, best_share * 0.99);
    try_share(peak, best_share * 1.01);
  }
  return best;
}

}  // namespace celtrace
