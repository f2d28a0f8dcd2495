#include "celtrace/local_features.h"

#include <algorithm>
#include <numeric>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include "celtrace/error.h"
#include "celtrace/pdq.h"

namespace celtrace {

cv::Mat FeatureLuma(const cv::Mat& image, int max_side) {
  if (image.empty()) throw Error("local features: empty image");
  cv::Mat luma;
  if (image.type() == CV_8UC1) {
    luma = image;
  } else {
    PdqLuma(image).convertTo(luma, CV_8U);
  }
  const int longer = std::max(luma.cols, luma.rows);
  if (max_side > 0 && longer > max_side) {
    const double scale = static_cast<double>(max_side) / longer;
    const cv::Size size(std::max(1, static_cast<int>(std::lround(luma.cols * scale))),
                        std::max(1, static_cast<int>(std::lround(luma.rows * scale))));
    cv::Mat scaled;
    cv::resize(luma, scaled, size, 0, 0, cv::INTER_AREA);
    return scaled;
  }
  return luma;
}

std::vector<int> SpreadKeypoints(const std::vector<cv::KeyPoint>& keypoints, cv::Size size,
                                 int keep, int columns) {
  std::vector<int> kept;
  if (static_cast<int>(keypoints.size()) <= keep || columns <= 0 || size.width <= 0 ||
      size.height <= 0) {
    kept.resize(std::min<size_t>(keypoints.size(), static_cast<size_t>(std::max(keep, 0))));
    std::iota(kept.begin(), kept.end(), 0);
    return kept;
  }
  const int rows = std::max(
      1, static_cast<int>(std::lround(static_cast<double>(columns) * size.height / size.width)));
  std::vector<std::vector<int>> cells(static_cast<size_t>(columns) * rows);
  for (size_t i = 0; i < keypoints.size(); ++i) {
    const cv::Point2f& p = keypoints[i].pt;
    const int x = std::clamp(static_cast<int>(p.x * columns / size.width), 0, columns - 1);
    const int y = std::clamp(static_cast<int>(p.y * rows / size.height), 0, rows - 1);
    cells[static_cast<size_t>(y) * columns + x].push_back(static_cast<int>(i));
  }
  // Strongest first; equal responses by index, so the choice is a function of the input.
  const auto stronger = [&](int a, int b) {
    return keypoints[a].response != keypoints[b].response
               ? keypoints[a].response > keypoints[b].response
               : a < b;
  };
  for (std::vector<int>& cell : cells) std::sort(cell.begin(), cell.end(), stronger);
  std::vector<int> round;
  for (size_t r = 0; static_cast<int>(kept.size()) < keep; ++r) {
    round.clear();
    for (const std::vector<int>& cell : cells) {
      if (r < cell.size()) round.push_back(cell[r]);
    }
    std::sort(round.begin(), round.end(), stronger);
    const size_t take = std::min(round.size(), static_cast<size_t>(keep) - kept.size());
    kept.insert(kept.end(), round.begin(), round.begin() + static_cast<std::ptrdiff_t>(take));
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

FeatureSet ExtractFeatures(const cv::Mat& image, const FeatureOptions& options) {
  const cv::Mat luma = FeatureLuma(image, options.max_side);
  FeatureSet set;
  set.size = luma.size();
  // ORB needs a border of its patch size; tiny pictures have no usable keypoints.
  if (luma.cols < 64 || luma.rows < 64) return set;
  // ORB keeps the strongest by Harris score; for a spread, detect more and choose below.
  const bool spread = options.grid_columns > 0;
  const int detect = spread ? options.max_features * kSpreadOversampling : options.max_features;
  const int edge = std::max(options.edge_threshold, kMinEdgeThreshold);
  cv::Ptr<cv::ORB> orb = cv::ORB::create(detect, 1.2f, 8, edge, 0, 2, cv::ORB::HARRIS_SCORE,
                                         kOrbPatchSize, options.fast_threshold);
  std::vector<cv::KeyPoint> keypoints;
  cv::Mat descriptors;
  try {
    orb->detectAndCompute(luma, cv::noArray(), keypoints, descriptors);
  } catch (const cv::Exception& e) {
    throw Error(std::string("local features: ORB failed: ") + e.what());
  }
  if (descriptors.empty()) return set;
  CV_Assert(descriptors.type() == CV_8UC1 && descriptors.cols == kFeatureDescriptorBytes);
  // Without a grid, every keypoint ORB kept (its retention may keep a few more than asked).
  const int keep = spread ? options.max_features : static_cast<int>(keypoints.size());
  const std::vector<int> kept = SpreadKeypoints(keypoints, luma.size(), keep, options.grid_columns);
  set.points.reserve(kept.size());
  set.descriptors.resize(kept.size() * kFeatureDescriptorBytes);
  for (size_t i = 0; i < kept.size(); ++i) {
    set.points.push_back(keypoints[kept[i]].pt);
    std::copy_n(descriptors.ptr<std::uint8_t>(kept[i]), kFeatureDescriptorBytes,
                set.descriptors.begin() + i * kFeatureDescriptorBytes);
  }
  return set;
}

}  // namespace celtrace
