// Geometric verification of local-feature correspondences: RANSAC fits one similarity
// transform (rotation, uniform scale, translation: cv::estimateAffinePartial2D) from query
// points to reference points, and the correspondences it explains are the inliers. A
// candidate frame is accepted only with enough inliers spread over the picture, which
// unrelated drawings in the same style do not reach. Pure functions; thread-safe.
#pragma once

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>
#include <vector>

namespace celtrace {

struct VerificationOptions {
  // Pixels (in the reference picture): a correspondence within this of the transformed
  // query point is an inlier. Default 4 at the index's 640-pixel feature side.
  double reprojection_error = 4.0;
  int min_inliers = 20;  // inliers needed to accept; default 20
  // Scale range accepted for query -> reference (a crop blown up to full size maps with
  // scale < 1, a frame shown small inside a screenshot with scale > 1). Default 1/6..6.
  double min_scale = 1.0 / 6;
  double max_scale = 6;
  // The inliers' bounding box must cover at least this share of the reference picture's
  // width and height (each); matches bunched in one small patch are rejected. Default 0.15;
  // celtrace-match passes its own (MatchOptions::min_spread, 0.05).
  double min_spread = 0.15;
  // Of the cells of an 8x8 grid over the reference picture that hold query keypoints once
  // mapped by the transform, the share that hold an inlier must reach this. A frame that is
  // really the reference matches all over the part they share; a drawing that merely has a
  // face or a prop in common with it matches in a few cells. Default 0 (off): measured on
  // the synthetic catalogue, characters that move between a keyframe and the leaked frame
  // lower it as much as a coincidence does; the thumbnail correlation decides instead.
  double min_coverage = 0.0;
  int ransac_iterations = 2000;
};

struct Verification {
  bool accepted = false;
  int inliers = 0;
  double scale = 0;             // of the fitted query -> reference transform
  double rotation_degrees = 0;  // counter-clockwise as seen (cv::getRotationMatrix2D's angle)
  double coverage = 0;          // share of the overlap's grid cells holding inliers
  cv::Matx23d transform = cv::Matx23d::zeros();  // query -> reference
};

inline constexpr int kThumbnailWidth = 64;  // pixels; height follows the aspect ratio
// The chroma thumbnail's width: colour changes slowly across a drawing's flat regions.
inline constexpr int kChromaWidth = 32;

// The size of a thumbnail `width` pixels wide of a picture of `picture` size: the aspect
// ratio kept, the height rounded, at least 1.
cv::Size ThumbnailSize(cv::Size picture, int width);

// Returns the verification thumbnail of an 8-bit grey picture: kThumbnailWidth pixels wide
// (area filter, aspect kept), then blurred (Gaussian, sigma 1), so that a drawing that moved
// by a pixel or two still correlates.
cv::Mat VerificationThumbnail(const cv::Mat& grey);

// Returns the chroma thumbnail of an 8-bit BGR picture: scaled to `size` (area filter),
// then the a* and b* channels of CIE L*a*b* (OpenCV's 8-bit encoding, 128 = neutral),
// CV_8UC2. Two drawings in one style can agree in light and shade (the grey thumbnail) and
// still be painted in other colours.
cv::Mat ChromaThumbnail(const cv::Mat& bgr, cv::Size size);

// The 8-bit grey `query` mapped by `transform` (query pixels -> reference pixels of a
// picture of `reference_size`) and reduced as VerificationThumbnail does, with the
// thumbnail pixels it covers fully (away from its mapped border); and, when WarpQuery is
// given the query's colours, its chroma thumbnail the same way (ChromaThumbnail, kChromaWidth).
struct WarpedQuery {
  cv::Mat thumbnail;  // CV_8UC1
  cv::Mat valid;      // CV_8UC1, 255 where the query covers the thumbnail pixel
  int valid_pixels = 0;
  cv::Mat chroma;        // CV_8UC2, or empty without colours
  cv::Mat chroma_valid;  // CV_8UC1, as `valid` at the chroma thumbnail's size
};
// `colour` is empty or the query's 8-bit BGR pixels, of the size of `query`.
WarpedQuery WarpQuery(const cv::Mat& query, const cv::Matx23d& transform, cv::Size reference_size,
                      const cv::Mat& colour = {});

// CorrelateWarped refines alignments that correlate at least this much, with at most this
// many ECC iterations.
inline constexpr double kRefineFrom = 0.5;
inline constexpr int kRefineIterations = 30;

// Returns the normalised cross-correlation (-1..1) of the warped query with a reference
// thumbnail over the valid pixels; -1 if they cover less than an eighth of it, the sizes
// differ, or either side is flat there. From kRefineFrom up, the better of that and the
// correlation after ECC (cv::findTransformECC, rotation + shift) aligned the thumbnails.
// Measured on the evaluation set: true crops and rotations whose RANSAC fit was off by a
// few degrees gain up to ~0.1; unrelated drawings in the same style gained at most ~0.01 at
// the top of their range (README "Channels"). With `refinement`, sets it to the ECC warp
// that gave the result (thumbnail pixels, cv::WARP_INVERSE_MAP sense), or the identity.
double CorrelateWarped(const WarpedQuery& query, const cv::Mat& reference_thumbnail,
                       cv::Matx23f* refinement = nullptr);

// A chroma correlation that was not measured: the query or the reference has no colours
// (a grey scan, an index without chroma thumbnails), or they share too few pixels.
inline constexpr double kChromaNotMeasured = -2;

// Returns how well the warped query's colours agree with a reference chroma thumbnail: per
// chroma channel (a*, b*) the normalised cross-correlation over the pixels the query
// covers, and of the channels the query varies in (standard deviation >= 3 levels) the
// lower; a channel the query varies in and the reference does not scores 0. Correlation is
// blind to a channel's offset and gain, so colour grading and gamma keep true frames high.
// kChromaNotMeasured when the query varies in neither channel (grey), either side has no
// chroma thumbnail, the sizes differ, or fewer than an eighth of the pixels are covered.
// `refinement` (CorrelateWarped's) first moves the query's chroma as it moved the thumbnail.
double CorrelateChroma(const WarpedQuery& query, const cv::Mat& reference_chroma,
                       const cv::Matx23f& refinement = cv::Matx23f::eye());

// Returns `transform` (query pixels -> reference pixels of a picture of `reference_size`)
// followed by the correction of a CorrelateWarped refinement (the ECC warp of thumbnail
// pixels, cv::WARP_INVERSE_MAP sense): the query's alignment with the entry itself.
cv::Matx23d RefinedTransform(const cv::Matx23d& transform, const cv::Matx23f& refinement,
                             cv::Size reference_size);

// Returns how far a CorrelateWarped `refinement` (the ECC warp of thumbnail pixels) moves
// the warped `query` away from the RANSAC alignment: the largest displacement of a corner of
// the box its valid pixels span (the warp being affine, no pixel of the query moves farther;
// ECC's warp is rigid, so the direction it is applied in does not matter), as a share of the
// thumbnail's width; 0 for the identity or a query covering nothing, infinity
// for a non-finite warp. The keypoints put the query where its inliers say; a refinement
// that moves it far found its correlation where the keypoints do not (README "Accuracy",
// "The realignment bar").
double Realignment(const WarpedQuery& query, const cv::Matx23f& refinement);

// Returns how far one picture lies inside the other once `transform` maps the query (a
// picture of `query_size`) onto the reference (of `reference_size`): the larger of the share
// of the mapped query's box inside the reference and the share of the reference's area the
// box covers, 0..1. The box is the query's, scaled and centred as the transform maps it but
// not rotated, so that a scan rotated inside its own canvas (its corners cut) still counts
// as whole. A leaked frame is cut from the frame (a crop: the query inside the reference),
// shows it (a screenshot, a letterbox: the reference inside the query) or is it (rotated,
// captioned); a drawing that merely shares a character with the frame aligns it wherever
// the two characters stand, and the two pictures straddle.
double Nesting(cv::Size query_size, const cv::Matx23d& transform, cv::Size reference_size);

// Fits a similarity from query[i] to reference[i] (the same length; correspondences) and
// returns it with its inliers, accepted when it meets `options` in a reference picture of
// `reference_size`. `query_keypoints` are all the query's keypoints (for the coverage; empty:
// the correspondences' query points). Fewer than 3 correspondences are never accepted.
Verification VerifyCorrespondences(const std::vector<cv::Point2f>& query,
                                   const std::vector<cv::Point2f>& reference,
                                   cv::Size reference_size, const VerificationOptions& options,
                                   const std::vector<cv::Point2f>& query_keypoints = {});

}  // namespace celtrace
