// Attribution of a clip: every frame hashed (drawings held on 2s/3s counted once), one
// batched search, then temporal alignment: votes for a consistent time offset per episode
// and playback speed (the same rate, or PAL's 25/23.976 speed-up or its inverse), giving
// segments with query and reference ranges. A clip cut from two episodes yields two
// segments. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "celtrace/error.h"
#include "celtrace/hash_index.h"
#include "celtrace/pdq.h"
#include "celtrace/video_reader.h"
#include "deadline.h"
#include "match_options.h"
#include "reference_index.h"
#include "result_record.h"

namespace celtrace {

// One distinct drawing of the clip: consecutive frames within the hold distance.
struct QueryDrawing {
  double start = 0;  // seconds in the clip, first frame
  double end = 0;    // seconds, last frame
  int frames = 0;
  Pdq hash;
};

struct Segment {
  std::int32_t episode = 0;  // index into ReferenceIndex::episodes()
  double speed = 1;          // reference seconds per clip second
  double query_start = 0, query_end = 0;
  double ref_start = 0, ref_end = 0;
  int drawings = 0;  // distinct query drawings aligned
  int frames = 0;    // query frames in those drawings
  int median_distance = 0;
  // Another showing of segment [occurrence_of]'s drawings (a repeated shot): -1 for a
  // segment of its own.
  int occurrence_of = -1;

  friend bool operator==(const Segment&, const Segment&) = default;
};

// The playback speeds alignment tries: 1, 25/23.976 (PAL speed-up), 23.976/25.
std::span<const double> AlignmentSpeeds();

// Aligns drawings with their neighbours (`neighbors[i]` for drawings[i], ids into
// `entries`). Returns segments, most supported first; each drawing belongs to at most one,
// but for other occurrences: a stretch the episode shows again at a disjoint time (a
// repeated shot, a recap) fits as well at each showing, and up to 4 are listed after the
// first, with the same drawings (Segment::occurrence_of). At most 16 segments of their own.
// A segment needs at least `min_drawings` distinct drawings, or `min_frames` query frames
// (long holds), at one consistent offset.
std::vector<Segment> AlignSegments(std::span<const QueryDrawing> drawings,
                                   const std::vector<std::vector<Neighbor>>& neighbors,
                                   std::span<const EntryInfo> entries, int min_drawings,
                                   int min_frames);

// A stretch of the clip no segment explains: drawings [first, last], from the first's start
// to the last's end (seconds in the clip).
struct ClipGap {
  size_t first = 0, last = 0;
  double start = 0, end = 0;
  friend bool operator==(const ClipGap&, const ClipGap&) = default;
};

// The maximal runs of consecutive `drawings` (clip order) that lie inside no segment's
// query range and span at least `min_seconds`; without segments, every drawing forms one
// run whatever its length.
std::vector<ClipGap> UnexplainedGaps(std::span<const QueryDrawing> drawings,
                                     std::span<const Segment> segments, double min_seconds);

// Up to `wanted` times spread evenly over `gap` (its start and end included), each moved
// to the drawing shown then or, between drawings, to the next drawing's start; ascending,
// without repeats. None when `gap` does not lie within `drawings`.
std::vector<double> GapSampleTimes(std::span<const QueryDrawing> drawings, const ClipGap& gap,
                                   int wanted);

// Opens the clip again with other decode options (the caller adds its limits).
using ReopenClip = std::function<std::unique_ptr<VideoReader>(const VideoReaderOptions&)>;

// Decodes the clip from `reader`, fills record->status, quality and matches. When `reopen`
// is given, the stretches PDQ leaves unexplained (the whole clip when it aligns nothing;
// else those of options.clip_gap_seconds or longer, at most four) are tried with the extra
// channels: up to options.clip_channel_frames frames spread over each are decoded again
// (at options.query_side, in colour), and two verified on one episode at one time offset
// make a segment with that channel, listed after PDQ's. When PDQ aligned segments, an error
// in that extra pass (the time limit, a decode error) ends it and is told in record->note,
// the segments kept. Throws celtrace::Error if nothing decodes
// and TimeoutError past `deadline`.
void MatchClip(VideoReader& reader, const ReferenceIndex& index, const MatchOptions& options,
               Deadline deadline, ResultRecord* record, const ReopenClip& reopen = {});

}  // namespace celtrace
