#include "celtrace/line_art.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

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
    for (int x = 0; x < luma.cols; ++x) m[x] = (l[x] < 110 && c[x] - l[x] >= 40) ? 0 : 255;
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

}  // namespace celtrace
