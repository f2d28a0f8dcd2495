#include "border_trim.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace celtrace {
namespace {

// A line is part of a bar if every pixel lies within this many levels of the bar colour
// (JPEG ringing and noise stay well inside it; drawn content does not).
constexpr int kTolerance = 14;
// Bars thinner than this share of the side are ignored: it is noise or a frame line.
constexpr double kMinBar = 0.01;
// Trimming must leave at least this share of each side.
constexpr double kMinKeep = 0.4;

bool Uniform(const cv::Mat& line, int reference) {
  double low = 0, high = 0;
  cv::minMaxLoc(line, &low, &high);
  return low >= reference - kTolerance && high <= reference + kTolerance;
}

// Counts the uniform lines from one edge inward: rows when `rows`, else columns.
int BarDepth(const cv::Mat& grey, bool rows, bool from_start) {
  const int count = rows ? grey.rows : grey.cols;
  auto line = [&](int i) {
    const int k = from_start ? i : count - 1 - i;
    return rows ? grey.row(k) : grey.col(k);
  };
  const cv::Mat first = line(0);
  const int reference = static_cast<int>(cv::mean(first)[0] + 0.5);
  int depth = 0;
  while (depth < count && Uniform(line(depth), reference)) ++depth;
  return depth;
}

}  // namespace

cv::Rect FindContentRect(const cv::Mat& image) {
  const cv::Rect whole(0, 0, image.cols, image.rows);
  if (image.empty() || image.rows < 16 || image.cols < 16) return whole;
  cv::Mat grey;
  if (image.channels() == 1) {
    image.convertTo(grey, CV_8U, image.depth() == CV_16U ? 255.0 / 65535 : 1.0);
  } else {
    cv::Mat bgr = image;
    if (image.depth() != CV_8U) image.convertTo(bgr, CV_8U, 255.0 / 65535);
    cv::cvtColor(bgr, grey, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }
  int top = BarDepth(grey, true, true);
  int bottom = BarDepth(grey, true, false);
  int left = BarDepth(grey, false, true);
  int right = BarDepth(grey, false, false);
  if (top < kMinBar * grey.rows) top = 0;
  if (bottom < kMinBar * grey.rows) bottom = 0;
  if (left < kMinBar * grey.cols) left = 0;
  if (right < kMinBar * grey.cols) right = 0;
  const int height = grey.rows - top - bottom;
  const int width = grey.cols - left - right;
  if (height < kMinKeep * grey.rows || width < kMinKeep * grey.cols) return whole;
  return {left, top, width, height};
}

}  // namespace celtrace
