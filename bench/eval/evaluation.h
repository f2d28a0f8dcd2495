// Scoring of celtrace-match's records against a synthetic leak's ground truth
// (expected.csv): accuracy per transformation, false attributions on negatives, clip
// segment precision and recall over time (as Meta's VSC22 video-copy benchmark measures
// them), and the curve of recall against false attributions over the distance threshold.
// Pure functions over parsed data; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "match_options.h"

namespace celtrace::eval {

// One attribution of a record (a still's occurrence or a clip's segment).
struct Attribution {
  std::string title;
  int season = 0;
  int episode = 0;
  double ref_start = 0, ref_end = 0;
  double query_start = 0, query_end = 0;
  int distance = 0;
  double confidence = 0;
  std::string channel;
  int inliers = 0;                        // orb and lineart
  double correlation = 0;                 // orb and lineart
  std::optional<double> chroma;           // orb, when measured
  std::optional<double> nesting;          // orb and lineart, in records since nesting
  std::optional<double> realignment;      // orb and lineart, in records since the realignment
  std::optional<double> ink_inside;       // lineart, in records since the ink check
  std::optional<double> strokes;          // lineart, in records since the stroke check
  std::string method;                     // "stroke_lookup", "stroke_search", or empty
  std::optional<double> drawn;            // stroke lookup and search
  std::optional<double> framed;           // stroke lookup and search
  std::optional<std::int64_t> ink_under;  // stroke lookup and search stills (2026-12-06)
  std::optional<double> rival_strokes;    // stroke lookup and search stills (2026-12-06)
};

// The parts of a celtrace-match record the scorer reads.
struct Record {
  std::string path;
  std::string status;
  std::string media;                 // "image", "video", ...
  std::vector<Attribution> matches;  // best first
};

// One row of expected.csv (synth::LeakItem).
struct Truth {
  std::string path, kind, transform, expected, title;
  int season = 0, episode = 0;
  double ref_start = 0, ref_end = 0, query_start = 0, query_end = 0;
};

// Returns the rows of expected.csv. Throws celtrace::Error on a missing column.
std::vector<Truth> ParseTruth(std::string_view csv);

// Returns the records of a JSON Lines file, keyed by path. Throws celtrace::Error on a line
// that is not a record.
std::map<std::string, Record> ParseRecords(std::string_view jsonl);

// Returns `records` as the matcher would have written them at stricter bars for the extra
// channels: each orb and lineart attribution kept only if `orb` or `line_art` accepts it
// (AcceptanceBars, match_options.h; a stroke lookup's by its drawn and framed shares, a
// search's by those and, where its record carries them, its ink and rival), a
// record left without attributions `no_match`; PDQ's are kept. Faithful only for records written at
// bars no stricter than these and with enough --max-matches to hold every verified keyframe; the
// mirrored query, which the matcher tries only when the original verifies nothing, is not replayed.
std::map<std::string, Record> ReplayBars(const std::map<std::string, Record>& records,
                                         const AcceptanceBars& orb, const AcceptanceBars& line_art);

// How hard a transformation is: "mild" (re-encodes, scaling, tone changes), "medium"
// (overlays, mirror, 10-25% centred crops, quarter turns, 2-degree rotations, heavy
// compression) or "hard" (off-centre crops of 25% and more, 5-degree rotations, frames in
// screenshots, line art). The classes of issue 6's goals.
std::string_view TransformClass(std::string_view transform);

// Per still transformation: how many, and how many were attributed (top match) to the
// right title, episode, and timecode (the frame's time within the hold of an occurrence at
// the top match's distance, +-kTimecodeTolerance).
struct StillScore {
  std::string transform;
  int total = 0;
  int right_title = 0;
  int right_episode = 0;
  int right_timecode = 0;
  int wrong = 0;     // attributed to another episode
  int no_match = 0;  // no_match or low_information
  int errors = 0;    // error, unsupported, or no record
};

// Per negative kind (expected no_match or low_information): how many, and how many were
// attributed to anything (false attributions).
struct NegativeScore {
  std::string transform;
  std::string expected;
  int total = 0;
  int as_expected = 0;
  int false_attributions = 0;
};

// Clip segments over time: seconds of ground-truth segments, of predicted segments, and of
// predicted seconds that lie in a ground-truth segment of the same episode and map to its
// reference time within kSegmentTolerance.
struct ClipScore {
  std::string transform;
  int clips = 0;
  double truth_seconds = 0;
  double predicted_seconds = 0;
  double correct_seconds = 0;  // precision = correct / predicted
  double found_seconds = 0;    // recall = found / truth (the union over predictions)
  int false_segments = 0;      // segments on clips with no ground truth match
};

struct Scores {
  std::vector<StillScore> stills;  // in order of first appearance in expected.csv
  std::vector<NegativeScore> negatives;
  std::vector<ClipScore> clips;
  std::vector<std::string> missing;  // expected paths without a record
};

// Seconds by which a still's frame time may lie outside the matched hold (6 frames at 24
// fps: the neighbouring drawing of a slow move is as close as the frame itself once
// transformed), and by which a clip segment's reference time may differ.
inline constexpr double kTimecodeTolerance = 0.25;
inline constexpr double kSegmentTolerance = 0.5;

Scores ScoreRun(const std::vector<Truth>& truth, const std::map<std::string, Record>& records);

// One point of the threshold curve over stills: with threshold t, the share of positive
// stills attributed to the right episode, and the false attributions (positives attributed
// to a wrong episode, negatives attributed at all). Computed from a run whose threshold was
// at least the largest t asked for, keeping only matches within t.
struct CurvePoint {
  int threshold = 0;
  int positives = 0;
  int right = 0;
  int right_by_class[3] = {0, 0, 0};  // mild, medium, hard
  int positives_by_class[3] = {0, 0, 0};
  int wrong_episode = 0;
  int negatives = 0;
  int negative_attributions = 0;
};

std::vector<CurvePoint> ThresholdCurve(const std::vector<Truth>& truth,
                                       const std::map<std::string, Record>& records,
                                       const std::vector<int>& thresholds);

// Distances of the nearest entry (the top attribution of a wide run) for the right episode
// of positive stills per class, and for any entry of negative stills: where the threshold
// can go. Stills with nothing within the run's threshold count as `beyond` (above it).
struct DistanceSummary {
  std::string set;  // "positives mild", ..., "negatives"
  int count = 0;
  int beyond = 0;                                // nothing within the wide run's threshold
  int min = -1, p5 = -1, median = -1, p95 = -1;  // -1 where too few values
};

std::vector<DistanceSummary> NearestDistances(const std::vector<Truth>& truth,
                                              const std::map<std::string, Record>& records);

// Confidence calibration: top attributions of stills binned by confidence, with the share
// that was right. bins are the lower edges, ascending, starting at 0.
struct CalibrationBin {
  double low = 0, high = 0;
  int count = 0;
  int right = 0;
  double mean_confidence = 0;
};

std::vector<CalibrationBin> Calibration(const std::vector<Truth>& truth,
                                        const std::map<std::string, Record>& records,
                                        const std::vector<double>& edges);

// Markdown tables of the scores, the curve and the calibration (empty parts left out).
std::string FormatReport(const Scores& scores, const std::vector<CurvePoint>& curve,
                         const std::vector<CalibrationBin>& calibration,
                         const std::vector<DistanceSummary>& distances = {});

}  // namespace celtrace::eval
