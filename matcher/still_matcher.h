// Attribution of one still image: hashes of the image (and of its border-trimmed picture)
// in all 8 dihedral orientations, one batched search, and a decision by distance
// threshold, quality gate and margin to other episodes. Thread-safe.
#pragma once

#include <opencv2/core/mat.hpp>

#include "deadline.h"
#include "match_options.h"
#include "reference_index.h"
#include "result_record.h"

namespace celtrace {

// Fills record->status, quality and matches for a decoded image (any type PdqLuma takes).
// Throws TimeoutError once `deadline` has passed, checked in the extra channels' long steps
// (MatchStillByFeatures).
void MatchStill(const cv::Mat& image, const ReferenceIndex& index, const MatchOptions& options,
                ResultRecord* record, Deadline deadline = kNoDeadline);

// Returns the PDQ luma of `image` as 8-bit grey, scaled (area filter) to side x side when
// it is larger, which is how the indexer sees frames. side <= 0: no scaling.
cv::Mat HashInput(const cv::Mat& image, int side);

// Returns a match naming the episode at `episode` (an index into index.episodes()), with
// the other fields at their defaults.
MatchRecord MatchOfEpisode(const ReferenceIndex& index, std::int32_t episode);

// Returns the confidence (0..1) of an attribution at `distance` bits whose best rival in
// another episode lies at `rival_distance` bits: high when close and unambiguous, at most
// 0.5 when another episode is as close (shared openings, recaps).
double Confidence(int distance, int rival_distance, int threshold);

}  // namespace celtrace
