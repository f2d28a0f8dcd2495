#include "celtrace/geometric_verification.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

namespace celtrace {

namespace {

constexpr int kGrid = 8;

int CellOf(cv::Point2f p, cv::Size size) {
  if (!(p.x >= 0 && p.y >= 0 && p.x < size.width && p.y < size.height)) return -1;
  const int cx = std::min(kGrid - 1, static_cast<int>(p.x * kGrid / size.width));
  const int cy = std::min(kGrid - 1, static_cast<int>(p.y * kGrid / size.height));
  return cy * kGrid + cx;
}

}  // namespace

cv::Size ThumbnailSize(cv::Size picture, int width) {
  return {width, std::max(1, static_cast<int>(std::lround(static_cast<double>(picture.height) *
                                                          width / picture.width)))};
}

cv::Mat VerificationThumbnail(const cv::Mat& grey) {
  CV_Assert(grey.type() == CV_8UC1 && !grey.empty());
  cv::Mat small;
  cv::resize(grey, small, ThumbnailSize(grey.size(), kThumbnailWidth), 0, 0, cv::INTER_AREA);
  cv::GaussianBlur(small, small, cv::Size(5, 5), 1.0);
  return small;
}

cv::Mat ChromaThumbnail(const cv::Mat& bgr, cv::Size size) {
  CV_Assert(bgr.type() == CV_8UC3 && !bgr.empty() && size.area() > 0);
  cv::Mat small, lab;
  if (bgr.size() == size) {
    small = bgr;
  } else {
    cv::resize(bgr, small, size, 0, 0, cv::INTER_AREA);
  }
  cv::cvtColor(small, lab, cv::COLOR_BGR2Lab);
  cv::Mat chroma(size, CV_8UC2);
  const int from_to[] = {1, 0, 2, 1};
  cv::mixChannels(&lab, 1, &chroma, 1, from_to, 2);
  return chroma;
}

WarpedQuery WarpQuery(const cv::Mat& query, const cv::Matx23d& transform, cv::Size reference_size,
                      const cv::Mat& colour) {
  WarpedQuery out;
  if (query.empty()) return out;
  CV_Assert(colour.empty() || (colour.type() == CV_8UC3 && colour.size() == query.size()));
  // Warp at the reference's own size, then reduce as the thumbnails were, so that both
  // sides went through the same area filter and blur.
  cv::Mat warped, mask;
  cv::warpAffine(query, warped, cv::Mat(transform), reference_size, cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar(0));
  cv::warpAffine(cv::Mat(query.size(), CV_8UC1, cv::Scalar(255)), mask, cv::Mat(transform),
                 reference_size, cv::INTER_NEAREST, cv::BORDER_CONSTANT, cv::Scalar(0));
  out.thumbnail = VerificationThumbnail(warped);
  cv::Mat covered;
  cv::resize(mask, covered, out.thumbnail.size(), 0, 0, cv::INTER_AREA);
  // Fully covered, and 2 pixels from the border that the blur spreads.
  cv::threshold(covered, covered, 254, 255, cv::THRESH_BINARY);
  cv::erode(covered, out.valid, cv::Mat::ones(5, 5, CV_8UC1), {-1, -1}, 1, cv::BORDER_CONSTANT,
            cv::Scalar(0));
  out.valid_pixels = cv::countNonZero(out.valid);
  if (!colour.empty()) {
    const cv::Size chroma_size = ThumbnailSize(reference_size, kChromaWidth);
    cv::Mat warped_colour;
    cv::warpAffine(colour, warped_colour, cv::Mat(transform), reference_size, cv::INTER_LINEAR,
                   cv::BORDER_CONSTANT, cv::Scalar::all(0));
    out.chroma = ChromaThumbnail(warped_colour, chroma_size);
    cv::resize(mask, out.chroma_valid, chroma_size, 0, 0, cv::INTER_AREA);
    cv::threshold(out.chroma_valid, out.chroma_valid, 254, 255, cv::THRESH_BINARY);
  }
  return out;
}

namespace {

// Per channel of two 8-bit pictures of C channels, over the pixels `valid` marks: the sums
// a normalised cross-correlation needs.
template <int C>
struct Moments {
  int n = 0;
  std::array<double, C> sq{}, sr{}, sqq{}, srr{}, sqr{};
};

template <int C>
Moments<C> SumMoments(const cv::Mat& q, const cv::Mat& r, const cv::Mat& valid) {
  using Pixel = cv::Vec<std::uint8_t, C>;
  Moments<C> m;
  for (int y = 0; y < q.rows; ++y) {
    const Pixel* a = q.ptr<Pixel>(y);
    const Pixel* b = r.ptr<Pixel>(y);
    const std::uint8_t* v = valid.ptr<std::uint8_t>(y);
    for (int x = 0; x < q.cols; ++x) {
      if (!v[x]) continue;
      ++m.n;
      for (int c = 0; c < C; ++c) {
        m.sq[c] += a[x][c];
        m.sr[c] += b[x][c];
        m.sqq[c] += static_cast<double>(a[x][c]) * a[x][c];
        m.srr[c] += static_cast<double>(b[x][c]) * b[x][c];
        m.sqr[c] += static_cast<double>(a[x][c]) * b[x][c];
      }
    }
  }
  return m;
}

double Correlate(const WarpedQuery& query, const cv::Mat& reference_thumbnail) {
  const cv::Mat& q = query.thumbnail;
  if (q.empty() || reference_thumbnail.empty() || q.size() != reference_thumbnail.size()) return -1;
  const int n = query.valid_pixels;
  if (n < q.rows * q.cols / 8) return -1;
  const Moments<1> m = SumMoments<1>(q, reference_thumbnail, query.valid);
  const double vq = m.sqq[0] - m.sq[0] * m.sq[0] / n, vr = m.srr[0] - m.sr[0] * m.sr[0] / n;
  if (vq <= 1e-6 * n || vr <= 1e-6 * n) return -1;
  return (m.sqr[0] - m.sq[0] * m.sr[0] / n) / std::sqrt(vq * vr);
}

}  // namespace

double CorrelateWarped(const WarpedQuery& query, const cv::Mat& reference_thumbnail,
                       cv::Matx23f* refinement) {
  if (refinement) *refinement = cv::Matx23f::eye();
  const double plain = Correlate(query, reference_thumbnail);
  if (plain < kRefineFrom) return plain;
  // RANSAC's similarity is fitted to keypoints, some on characters that moved between the
  // keyframe and the leaked frame; ECC (OpenCV's enhanced correlation coefficient) refines
  // the alignment of the thumbnails themselves by a rotation and a shift.
  cv::Mat warp = cv::Mat::eye(2, 3, CV_32F);
  try {
    cv::findTransformECC(
        reference_thumbnail, query.thumbnail, warp, cv::MOTION_EUCLIDEAN,
        cv::TermCriteria(cv::TermCriteria::COUNT + cv::TermCriteria::EPS, kRefineIterations, 1e-4),
        query.valid, 1);
  } catch (const cv::Exception&) {
    return plain;  // ECC did not converge: the RANSAC alignment stands
  }
  if (!cv::checkRange(warp)) return plain;  // nor when its warp is not finite
  WarpedQuery refined;
  cv::warpAffine(query.thumbnail, refined.thumbnail, warp, reference_thumbnail.size(),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, cv::Scalar(0));
  cv::warpAffine(query.valid, refined.valid, warp, reference_thumbnail.size(),
                 cv::INTER_NEAREST | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, cv::Scalar(0));
  refined.valid_pixels = cv::countNonZero(refined.valid);
  const double refined_correlation = Correlate(refined, reference_thumbnail);
  if (refined_correlation <= plain) return plain;
  if (refinement) *refinement = cv::Matx23f(warp);
  return refined_correlation;
}

double CorrelateChroma(const WarpedQuery& query, const cv::Mat& reference_chroma,
                       const cv::Matx23f& refinement) {
  if (query.chroma.empty() || reference_chroma.empty() ||
      query.chroma.size() != reference_chroma.size() || reference_chroma.type() != CV_8UC2) {
    return kChromaNotMeasured;
  }
  cv::Mat q = query.chroma;
  cv::Mat valid = query.chroma_valid;
  if (refinement != cv::Matx23f::eye() && !query.thumbnail.empty()) {
    // The refinement moves grey thumbnail pixels; the chroma thumbnail is smaller.
    cv::Matx23f scaled = refinement;
    scaled(0, 2) *= static_cast<float>(q.cols) / query.thumbnail.cols;
    scaled(1, 2) *= static_cast<float>(q.rows) / query.thumbnail.rows;
    cv::warpAffine(query.chroma, q, cv::Mat(scaled), q.size(),
                   cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT,
                   cv::Scalar::all(128));
    cv::warpAffine(query.chroma_valid, valid, cv::Mat(scaled), q.size(),
                   cv::INTER_NEAREST | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, cv::Scalar(0));
  }
  // A channel varies when its standard deviation reaches 3 levels: JPEG's chroma noise on a
  // grey picture stays below, a painted drawing's palette far above.
  constexpr double kMinVariance = 3.0 * 3.0;
  const Moments<2> m = SumMoments<2>(q, reference_chroma, valid);
  const int n = m.n;
  if (n < q.rows * q.cols / 8) return kChromaNotMeasured;
  double lowest = kChromaNotMeasured;
  for (int c = 0; c < 2; ++c) {
    const double vq = (m.sqq[c] - m.sq[c] * m.sq[c] / n) / n;
    const double vr = (m.srr[c] - m.sr[c] * m.sr[c] / n) / n;
    if (vq < kMinVariance) continue;  // the query has no colour to compare here
    const double r =
        vr < kMinVariance ? 0 : (m.sqr[c] / n - m.sq[c] * m.sr[c] / n / n) / std::sqrt(vq * vr);
    lowest = lowest == kChromaNotMeasured ? r : std::min(lowest, r);
  }
  return lowest;
}

cv::Matx23d RefinedTransform(const cv::Matx23d& transform, const cv::Matx23f& refinement,
                             cv::Size reference_size) {
  // The refinement W maps thumbnail pixels of the entry to those of the warped query, so
  // query -> entry is S^-1 W^-1 S T, with S reference pixels -> thumbnail pixels.
  const cv::Size thumbnail = ThumbnailSize(reference_size, kThumbnailWidth);
  const double sx = static_cast<double>(thumbnail.width) / reference_size.width;
  const double sy = static_cast<double>(thumbnail.height) / reference_size.height;
  cv::Matx23d inverse;
  cv::invertAffineTransform(cv::Matx23d(refinement), inverse);
  const cv::Matx33d s(sx, 0, 0, 0, sy, 0, 0, 0, 1);
  const cv::Matx33d s_inverse(1 / sx, 0, 0, 0, 1 / sy, 0, 0, 0, 1);
  const auto full = [](const cv::Matx23d& m) {
    return cv::Matx33d(m(0, 0), m(0, 1), m(0, 2), m(1, 0), m(1, 1), m(1, 2), 0, 0, 1);
  };
  const cv::Matx33d composed = s_inverse * full(inverse) * s * full(transform);
  return cv::Matx23d(composed(0, 0), composed(0, 1), composed(0, 2), composed(1, 0), composed(1, 1),
                     composed(1, 2));
}

double Realignment(const WarpedQuery& query, const cv::Matx23f& refinement) {
  if (query.thumbnail.empty() || query.valid.empty() || query.valid_pixels <= 0) return 0;
  const cv::Rect box = cv::boundingRect(query.valid);
  if (box.empty()) return 0;
  const double left = box.x, top = box.y, right = box.x + box.width, bottom = box.y + box.height;
  double farthest = 0;
  for (const cv::Point2d corner : {cv::Point2d(left, top), cv::Point2d(right, top),
                                   cv::Point2d(left, bottom), cv::Point2d(right, bottom)}) {
    const double x = refinement(0, 0) * corner.x + refinement(0, 1) * corner.y + refinement(0, 2);
    const double y = refinement(1, 0) * corner.x + refinement(1, 1) * corner.y + refinement(1, 2);
    const double moved = std::hypot(x - corner.x, y - corner.y);
    // A non-finite warp supports nothing (and must not pass a bar as NaN).
    if (!std::isfinite(moved)) return std::numeric_limits<double>::infinity();
    farthest = std::max(farthest, moved);
  }
  return farthest / query.thumbnail.cols;
}

double Nesting(cv::Size query_size, const cv::Matx23d& transform, cv::Size reference_size) {
  if (query_size.area() <= 0 || reference_size.area() <= 0) return 0;
  // The query's box, mapped: its centre where the transform puts it, its sides scaled.
  const double scale = std::hypot(transform(0, 0), transform(1, 0));
  const double cx = query_size.width / 2.0, cy = query_size.height / 2.0;
  const double mx = transform(0, 0) * cx + transform(0, 1) * cy + transform(0, 2);
  const double my = transform(1, 0) * cx + transform(1, 1) * cy + transform(1, 2);
  const double half_w = scale * cx, half_h = scale * cy;
  const double box_area = 4 * half_w * half_h;
  // A degenerate or non-finite transform nests nothing (and never passes a bar as NaN).
  if (!std::isfinite(box_area) || !std::isfinite(mx) || !std::isfinite(my) || box_area <= 0) {
    return 0;
  }
  const double shared_w =
      std::min<double>(mx + half_w, reference_size.width) - std::max(mx - half_w, 0.0);
  const double shared_h =
      std::min<double>(my + half_h, reference_size.height) - std::max(my - half_h, 0.0);
  if (shared_w <= 0 || shared_h <= 0) return 0;
  const double shared = shared_w * shared_h;
  return std::clamp(std::max(shared / box_area, shared / reference_size.area()), 0.0, 1.0);
}

Verification VerifyCorrespondences(const std::vector<cv::Point2f>& query,
                                   const std::vector<cv::Point2f>& reference,
                                   cv::Size reference_size, const VerificationOptions& options,
                                   const std::vector<cv::Point2f>& query_keypoints) {
  Verification result;
  if (query.size() != reference.size() || query.size() < 3) return result;
  std::vector<std::uint8_t> mask;
  cv::Mat model;
  // RANSAC draws from the calling thread's OpenCV RNG: a fixed state makes the verdict a
  // function of the correspondences alone (the same record in any thread, any run).
  cv::theRNG().state = 0x63656c7472616365ull;
  try {
    model =
        cv::estimateAffinePartial2D(query, reference, mask, cv::RANSAC, options.reprojection_error,
                                    static_cast<size_t>(options.ransac_iterations), 0.995, 10);
  } catch (const cv::Exception&) {
    return result;  // degenerate input (all points equal): nothing verified
  }
  if (model.empty()) return result;
  result.transform = cv::Matx23d(model);
  const double a = result.transform(0, 0);
  const double b = result.transform(1, 0);
  result.scale = std::hypot(a, b);
  result.rotation_degrees = -std::atan2(b, a) * 180 / std::numbers::pi;
  float min_x = 1e9f, min_y = 1e9f, max_x = -1e9f, max_y = -1e9f;
  for (size_t i = 0; i < mask.size(); ++i) {
    if (!mask[i]) continue;
    ++result.inliers;
    min_x = std::min(min_x, reference[i].x);
    max_x = std::max(max_x, reference[i].x);
    min_y = std::min(min_y, reference[i].y);
    max_y = std::max(max_y, reference[i].y);
  }
  // Coverage: where the query's keypoints land in the reference, do inliers land too?
  std::array<bool, kGrid * kGrid> overlap{}, matched{};
  const cv::Matx23d& t = result.transform;
  for (const cv::Point2f& q : query_keypoints.empty() ? query : query_keypoints) {
    const cv::Point2f mapped(static_cast<float>(t(0, 0) * q.x + t(0, 1) * q.y + t(0, 2)),
                             static_cast<float>(t(1, 0) * q.x + t(1, 1) * q.y + t(1, 2)));
    const int cell = CellOf(mapped, reference_size);
    if (cell >= 0) overlap[cell] = true;
  }
  for (size_t i = 0; i < mask.size(); ++i) {
    const int cell = mask[i] ? CellOf(reference[i], reference_size) : -1;
    if (cell >= 0) overlap[cell] = matched[cell] = true;
  }
  const auto cells = [](const auto& grid) { return std::count(grid.begin(), grid.end(), true); };
  result.coverage = cells(overlap) > 0 ? static_cast<double>(cells(matched)) / cells(overlap) : 0;
  const bool spread = result.inliers > 0 &&
                      max_x - min_x >= options.min_spread * reference_size.width &&
                      max_y - min_y >= options.min_spread * reference_size.height;
  result.accepted = result.inliers >= options.min_inliers && spread &&
                    result.coverage >= options.min_coverage && result.scale >= options.min_scale &&
                    result.scale <= options.max_scale;
  return result;
}

}  // namespace celtrace
