// Attribution of a still by the extra channels, when PDQ gives no match: local features
// (ORB descriptors of the still against the index's keyframes) or, for inputs that look like
// uncoloured line art, the ink-map features. Correspondences vote for keyframes, and the
// keyframes with the most votes are verified geometrically (RANSAC similarity with enough
// inliers spread over the frame); only verified keyframes become matches. Thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <string>
#include <vector>

#include "celtrace/feature_index.h"
#include "celtrace/geometric_verification.h"
#include "deadline.h"
#include "match_options.h"
#include "reference_index.h"
#include "result_record.h"

namespace celtrace {

struct VerifiedKeyframe {
  std::int64_t keyframe = 0;      // in the channel's FeatureIndex
  int votes = 0;                  // query descriptors with a correspondence in the keyframe
  int median_distance = 0;        // bits, over the inliers' descriptor pairs
  double correlation = 0;         // of the warped query with the best entry's thumbnail
  std::int64_t entry_offset = 0;  // that entry: the keyframe's first_entry + entry_offset
  // Of the warped query's colours with that entry's (CorrelateChroma); unset if not measured.
  std::optional<double> chroma;
  double nesting = 0;  // Nesting of the query picture and the entry (after the refinement)
  // Realignment of the correlation's ECC refinement (0: none): how far it moved the query.
  double realignment = 0;
  // Line art: InkInside of the query's ink map on the entry (after the refinement).
  std::optional<double> ink_inside;
  // Line art: StrokesInCommon(...).common() of the query's ink map and the entry's stroke
  // map (after the refinement); unset if the index holds no stroke maps.
  std::optional<double> strokes;
  Verification verification;
};

// Returns the keyframes of `channel` that `query` (the features of the 8-bit grey
// `query_picture`) verifies against, most strokes in common first where measured (line art),
// then highest correlation, then most inliers (ties by keyframe): RANSAC accepts them, the
// warped picture correlates with their thumbnails as `bars` require and, where
// `query_colour` (empty, or the picture's BGR pixels) and the channel's chroma thumbnails
// allow, its colours with the entry's as bars.min_chroma requires. With `ink_map`
// (query_picture is InkMap's, the line-art channel) the share of its ink inside the frame is
// measured and held to bars.min_ink_inside, and its strokes in common with the entry's
// stroke map, where the index has one, to bars.min_strokes. Uses options'
// descriptor_distance, descriptor_neighbors and verify_candidates. Throws TimeoutError once
// `deadline` has passed, checked before each candidate keyframe's verification.
std::vector<VerifiedKeyframe> FindVerifiedKeyframes(
    const FeatureIndex& channel, const FeatureSet& query, const cv::Mat& query_picture,
    bool ink_map, const cv::Mat& query_colour, const MatchOptions& options,
    const AcceptanceBars& bars, Deadline deadline = kNoDeadline);

// The lineart `method` of a record found by the stroke lookup, and by the stroke search.
inline constexpr const char* kStrokeLookupMethod = "stroke_lookup";
inline constexpr const char* kStrokeSearchMethod = "stroke_search";

// The scales of the query side at which the stroke search takes the keypoints that choose
// its candidates: a crop shows the frame's strokes larger than the keyframes do (three
// quarters of a 1280-pixel frame at the query side, 1.67 times), and an ink map's keypoints
// are particular about scale (README "The line-art ladder"). On the 120 line-art crops of
// leaks 23-43 (measured before the search was written), the right keyframe was among the 64
// with most correspondences for 84 at the query side, and for 109 at one of these two.
inline constexpr double kStrokeSearchScales[] = {0.70710678118654752, 0.5};

// The scales a still the keypoints verify nothing for at the query side is tried at again,
// in order (README "Channels", "The retry at half size", "The line-art ladder"): for orb
// (`ink` false) options.retry_scale; for line art none, or with options.line_art_ladder
// half-octave steps (x 1/sqrt 2) down to retry_scale, a step within 10% of it left to it.
// None when retry_scale is 0.
std::vector<double> RetryScales(bool ink, const MatchOptions& options);

// Whether the stroke lookup runs: options.stroke_lookup > 0 and the index's line-art
// channel holds stroke hashes.
bool StrokeLookupAvailable(const ReferenceIndex& index, const MatchOptions& options);

// Whether the stroke search runs: options.stroke_search and the index's line-art channel holds
// stroke maps.
bool StrokeSearchAvailable(const ReferenceIndex& index, const MatchOptions& options);

// Tries the extra channels on a decoded still that PDQ did not match: for a still that looks
// like line art, the stroke lookup (if available), the stroke search (if asked for), then
// the line-art channel's keypoints (with options.line_art); else the local-feature channel.
// Keypoints are tried in the original and the mirrored (flipy) orientation and, if neither
// verifies, both again on the still scaled down: for orb by options.retry_scale, for line art (with
// options.line_art_ladder) at half-octave steps down to it. On a match sets record->status to
// "match" and fills matches (channel "orb" or "lineart"; with inliers, or method "stroke_lookup" or
// "stroke_search") and returns true; otherwise leaves the record unchanged and returns false. With
// `line_art_only` (PDQ found the still uninformative) only a still that looks like line art is
// tried. Throws TimeoutError once `deadline` has passed (the per-file limit), checked between
// the stroke search's candidate keyframes and the keypoints' verifications; the record is then
// left as it was.
bool MatchStillByFeatures(const cv::Mat& image, const ReferenceIndex& index,
                          const MatchOptions& options, bool line_art_only, ResultRecord* record,
                          Deadline deadline = kNoDeadline);

}  // namespace celtrace
