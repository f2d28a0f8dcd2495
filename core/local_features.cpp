#include "celtrace/local_features.h"

#include <algorithm>
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

FeatureSet ExtractFeatures(const cv::Mat& image, const FeatureOptions& options) {
  const cv::Mat luma = FeatureLuma(image, options.max_side);
  FeatureSet set;
  set.size = luma.size();
  // ORB needs a border of its patch size; tiny pictures have no usable keypoints.
  if (luma.cols < 64 || luma.rows < 64) return set;
  // Detect many, keep the strongest spread by ORB's own retention (Harris score).
  cv::Ptr<cv::ORB> orb = cv::ORB::create(options.max_features, 1.2f, 8, 31, 0, 2,
                                         cv::ORB::HARRIS_SCORE, 31, options.fast_threshold);
  std::vector<cv::KeyPoint> keypoints;
  cv::Mat descriptors;
  try {
    orb->detectAndCompute(luma, cv::noArray(), keypoints, descriptors);
  } catch (const cv::Exception& e) {
    throw Error(std::string("local features: ORB failed: ") + e.what());
  }
  if (descriptors.empty()) return set;
  CV_Assert(descriptors.type() == CV_8UC1 && descriptors.cols == kFeatureDescriptorBytes);
  set.points.reserve(keypoints.size());
  set.descriptors.resize(keypoints.size() * kFeatureDescriptorBytes);
  for (size_t i = 0; i < keypoints.size(); ++i) {
    set.points.push_back(keypoints[i].pt);
    std::copy_n(descriptors.ptr<std::uint8_t>(static_cast<int>(i)), kFeatureDescriptorBytes,
                set.descriptors.begin() + i * kFeatureDescriptorBytes);
  }
  return set;
}

}  // namespace celtrace
