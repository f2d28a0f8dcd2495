// Local features: ORB keypoints with 256-bit binary descriptors (Rublee et al., "ORB: an
// efficient alternative to SIFT or SURF", ICCV 2011) of a picture scaled, aspect kept, to a
// bounded size, so that keypoint coordinates keep the picture's geometry. They let the
// local-feature and line-art channels find a frame that is cropped, embedded in a
// screenshot or slightly rotated, where a global hash fails. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>
#include <vector>

namespace celtrace {

inline constexpr int kFeatureDescriptorBytes = 32;  // ORB: 256 bits, FAISS binary codes
// Pixels: the side of the patch an ORB descriptor compares pixel pairs in (ORB's default),
// and ORB's own border, which keeps that patch inside the picture at any rotation.
inline constexpr int kOrbPatchSize = 31;

struct FeatureOptions {
  // Keypoints kept per picture (the strongest by Harris score, or spread: grid_columns).
  // Default 300 for index frames: 36 bytes each on disk (descriptor + coordinates); queries
  // use more.
  int max_features = 300;
  // Pixels: pictures whose longer side exceeds this are scaled down (area filter), keeping
  // the aspect ratio, before detection. Default 640: enough detail for 2-8 px ink lines.
  int max_side = 640;
  // ORB's FAST threshold (grey levels). Default 12: flat cel paint has weak corners.
  int fast_threshold = 12;
  // Pixels: ORB detects no keypoint this close to the edge of any pyramid level. Default
  // kOrbPatchSize, ORB's own; a smaller value down to kMinEdgeThreshold takes keypoints
  // nearer the edge, their descriptors' rotated patches reaching into ORB's mirrored border.
  // Index frames keep 31; queries use less (README "Channels", "Keypoints near a still's
  // edges"): a crop's edges cut through the frame, where the keyframe has keypoints.
  int edge_threshold = kOrbPatchSize;
  // 0: keep the max_features strongest keypoints wherever they lie (ORB's own retention).
  // N > 0: detect kSpreadOversampling times as many, then keep max_features spread over a
  // grid N cells wide (square cells): each cell's strongest first, round after round.
  // ORB's strongest points bunch on the most detailed object of a frame, so a crop of the
  // rest keeps few of them; spread, every region keeps its share (README "Keyframes").
  int grid_columns = 0;
};

// The smallest FeatureOptions::edge_threshold: FAST's circle and Harris's 9-pixel block fit.
inline constexpr int kMinEdgeThreshold = 8;

// Keypoints detected per keypoint kept when FeatureOptions::grid_columns is set.
inline constexpr int kSpreadOversampling = 4;

// Returns the indices of `keep` of `keypoints` (a picture of `size`) spread over a grid
// `columns` cells wide and as many rows as keep cells square: round after round, each cell
// that has keypoints left gives its strongest (KeyPoint::response, compared across pyramid
// levels); within a round, the strongest first, so the last round is cut by strength. All
// of them if there are no more than `keep`; the first `keep` in input order if `columns`
// is 0 or the size empty. Sorted ascending.
std::vector<int> SpreadKeypoints(const std::vector<cv::KeyPoint>& keypoints, cv::Size size,
                                 int keep, int columns);

// The keypoints of one picture: point i has descriptor bytes [32 i, 32 i + 32). Points are
// in the pixels of the scaled picture (`size`).
struct FeatureSet {
  std::vector<std::uint8_t> descriptors;
  std::vector<cv::Point2f> points;
  cv::Size size;  // the scaled picture's size, pixels

  std::size_t count() const { return points.size(); }
};

// Returns the 8-bit luma of `image` (grey, BGR or BGRA, any depth PdqLuma takes) scaled so
// that its longer side is at most `max_side` (area filter; no scaling when max_side <= 0).
cv::Mat FeatureLuma(const cv::Mat& image, int max_side);

// Returns the ORB features of `image` (scaled with FeatureLuma first). Empty for flat
// pictures. Throws celtrace::Error on an empty image.
FeatureSet ExtractFeatures(const cv::Mat& image, const FeatureOptions& options);

}  // namespace celtrace
