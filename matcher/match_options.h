// MatchOptions: every knob of celtrace-match, with its default, unit and trade-off.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace celtrace {

// Pixels: the shorter side a still scaled by MatchOptions::retry_scale, or by a step of the
// line-art ladder, must keep to be tried again; about three of ORB's 31-pixel patches.
inline constexpr int kRetryMinSide = 96;

struct MatchOptions {
  std::filesystem::path index_dir;  // the index to match against (required)

  // Bits: a query hash within this distance of an entry is a match. Default 31, the PDQ
  // matching threshold used across the trust-and-safety field, kept after measurement
  // (README "Accuracy"): no false attribution below 60 bits on the evaluation set, while
  // the measured tail of unrelated-frame distances grows ~1.2x per bit.
  int threshold = 31;
  // PDQ quality below which a query is `low_information` (flat colour, black, fades, title
  // cards) and never a match. Default 50, PDQ's own "usable hash" bar.
  int min_quality = 50;
  // Occurrences of a still listed per record (holds, loops, reused shots), best first.
  int max_matches = 20;
  // Also query the still with uniform borders (letterbox, pillarbox) trimmed. The untrimmed
  // image is always queried: flat animation backgrounds look like bars to a trimmer.
  bool trim_borders = true;
  // Frames larger than this are scaled to a square of this side before hashing, as the
  // indexer does (0: use the index's own hash_side).
  int hash_side = 0;

  // Extra channels for stills (README "Channels"), queried only when PDQ gives no match, so
  // a clean PDQ match is never overruled and their cost is paid on hard inputs only. Each
  // needs its files in the index generation; without them it is skipped.
  // Local features (ORB + RANSAC): crops, screenshots, small rotations. Default on.
  bool local_features = true;
  // The line-art channel's keypoints (ORB of ink maps + RANSAC), for inputs that look like
  // uncoloured line art (mostly paper with dark strokes) and that the stroke lookup does not
  // attribute: crops, drawings on larger sheets. Default off (--line-art): on the evaluation
  // set they find 41% of the line-art crops (ten leaks), and gave 4 of 640 line-art stills and
  // drawings a wrong or false attribution (README "Channels", "Switches").
  bool line_art = false;
  // With line_art: a still the line-art keypoints verify nothing for is tried again at
  // half-octave steps (x 1/sqrt 2) down to retry_scale (the line-art ladder). Default off: on
  // the evaluation set it finds half as many line-art crops again and attributes unrelated
  // drawings the keypoints alone do not (README "The line-art ladder").
  bool line_art_ladder = false;
  // ORB keypoints taken from a query still. Default 1000: a crop or a screenshot holds the
  // frame's keypoints among many others.
  int query_features = 1000;
  // Pixels: a query's keypoints may lie this close to the edge of each of ORB's pyramid
  // levels (FeatureOptions::edge_threshold). Default 16, where ORB's own 31 leaves a still's
  // margins bare: a crop's edges cut through the frame, where the keyframe has keypoints,
  // and at a crop's scale the margins are a large share of its coarser levels (README
  // "Channels", "Keypoints near a still's edges").
  int query_edge = 16;
  // Pixels: the longer side queries are scaled to (aspect kept) before taking keypoints.
  // Default 800: a frame shown at half size inside a screenshot keeps enough detail.
  int query_side = 800;
  // A still the orb channel verifies no keyframe for at the query side is tried again scaled
  // by this factor (0: not); with line_art_ladder, one the line-art keypoints verify nothing
  // for, at half-octave steps (x 1/sqrt 2) down to it. Default 0.5: a crop of half the frame
  // then meets the keyframes at their scale (README "Channels", "The retry at half size",
  // "The line-art ladder"). Not tried when the scaled picture's shorter side would be under
  // kRetryMinSide.
  double retry_scale = 0.5;
  // Bits: reference descriptors within this of a query descriptor are correspondences.
  // Default 64 of 256 (ORB descriptors of the same corner under rescaling and JPEG lie
  // mostly within 30-50).
  int descriptor_distance = 64;
  // Correspondences kept per query descriptor, nearest first. Default 64 (a background
  // shared by the keyframes of one shot gives the same corner many times, at equal distance).
  int descriptor_neighbors = 64;
  // Keyframes with the most correspondences that are verified by RANSAC. Default 16 (the
  // keyframes of one shot share its background and get similar votes).
  int verify_candidates = 16;
  // The inliers of a verified keyframe must spread over at least this share of the frame's
  // width and height (each). Default 0.05: a keyframe's keypoints can bunch on its most
  // detailed object, and a crop holding that object then verifies in a patch a seventh of
  // the frame wide, while the checks that follow reject a same-style drawing aligned on
  // one shared face (README "Accuracy"). It was 0.15, set before the correlation, colour
  // and nesting checks existed, until the keypoints were spread; the main, close and
  // strong regions' bars were measured with it.
  double min_spread = 0.05;
  // RANSAC inliers an orb keyframe needs to be a match (similarity transform, inliers spread
  // as min_spread asks), together with min_correlation.
  // Both set on the evaluation set's calibration leaks (seeds 23 and 29, README
  // "Accuracy"): unrelated drawings verified with up to 55 inliers at correlations below
  // 0.92, and with at most 30 at 0.92 or more. Default 60, raised from 55 with query_edge
  // and set with the validation leaks: more query keypoints, more inliers for unrelated
  // drawings too (an unrelated crop of one verified with 56 at 0.957; README "Keypoints
  // near a still's edges").
  int min_inliers = 60;
  // After RANSAC, the query warped onto the keyframe must correlate (normalised
  // cross-correlation of 64-pixel-wide blurred thumbnails, over the part the query covers)
  // at least this much with the thumbnail of one of the entries the keyframe stands for;
  // the best one gives the timecode. Drawings in the same style that share a face with a
  // frame (the synthetic cast shares one head design) verify by RANSAC; the correlation
  // of the warped query tells most of them apart: true crops mostly reach 0.95-1.0.
  // Default 0.92.
  double min_correlation = 0.92;
  // A second, closer region for orb: a keyframe whose warped query correlates at least
  // close_correlation needs only close_min_inliers inliers. Centred crops, small rotations
  // and watermarked frames keep fewer keypoints but align almost perfectly (0.97-1.0 with
  // 33-54 inliers on the calibration leaks), while unrelated drawings with 35 or more
  // inliers correlated at most 0.916 and those at 0.97 or more had at most 30 inliers.
  // Defaults 40 and 0.97.
  int close_min_inliers = 40;
  double close_correlation = 0.97;
  // A third, strong region for orb: a keyframe verified with at least strong_min_inliers
  // inliers needs a correlation of only strong_correlation. Watermarked frames keep many
  // keypoints (50-160) but their overlay holds the correlation at 0.56-0.92; on the
  // calibration leaks unrelated drawings with 70 or more inliers correlated at most 0.82
  // (at 75 or more, 0.68). Defaults 70 and 0.85 (README "Accuracy").
  int strong_min_inliers = 70;
  double strong_correlation = 0.85;
  // The strong region leans on the inliers, so its correlation must be found where they put
  // the query: a keyframe whose correlation's ECC refinement moved the query more than
  // strong_max_realignment (Realignment, geometric_verification.h: no pixel of it moved
  // farther than this share of the frame's width) is not accepted by it. A same-style
  // drawing can share a character with a frame and its overall layout (a flat background,
  // the ground line at one height) at another placement; ECC then finds the layout's
  // correlation a rotation and a shift away (leak 83: 76 inliers, 0.918 after a move of
  // 0.155). Right keyframes only the strong region accepted on the calibration leaks (seeds
  // 23 and 29) were moved at most 0.083, the best keyframes of stills at most 0.009.
  // Default 0.1; infinity turns it off (README "Accuracy", "The realignment bar").
  double strong_max_realignment = 0.1;
  // A fourth, closest region for orb: a keyframe whose warped query correlates at least
  // closest_correlation needs only closest_min_inliers inliers. A crop keeping half of each
  // side holds a quarter of a keyframe's keypoints and verifies with 12-40 inliers, at
  // 0.98-1.0 once aligned; on the calibration leaks, unrelated drawings with 20 or more
  // inliers that passed the colour and nesting checks correlated at most 0.939 (0.962 with
  // 14). On the validation leaks one reached 0.970 with 30 (an experimental build), hence
  // 0.98 rather than the close region's 0.97; the production build's run measured it at
  // 0.976 with 25, a margin of 0.004. Defaults 20 and 0.98 (README "Accuracy").
  int closest_min_inliers = 20;
  double closest_correlation = 0.98;
  // A fifth, exact region for orb: a keyframe whose warped query correlates at least
  // exact_correlation needs only exact_min_inliers inliers. Half crops that hold few of a
  // keyframe's keypoints verify with 12-18 inliers and align at 0.994-1.0; over the seven
  // calibration and validation leaks unrelated drawings with 12-19 inliers that passed the
  // colour and nesting checks correlated at most 0.962. Defaults 12 and 0.99 (README
  // "Accuracy", "An exact region").
  int exact_min_inliers = 12;
  double exact_correlation = 0.99;
  // The orb colour check: a verified keyframe whose entry's chroma thumbnail (CIE a*, b*,
  // 32 pixels wide) correlates less than this with the warped query's, over the part it
  // covers, is not a match, in any region. Unrelated drawings in the same style can agree
  // in light and shade with a frame, which the thumbnail correlation measures, while being
  // painted in other colours. Not applied where it cannot be measured (a grey query, an
  // index built before chroma thumbnails). Set on the calibration leaks (seeds 23 and 29,
  // README "Accuracy"): halfway between the highest chroma correlation of an unrelated
  // drawing that passed the other bars (0.289, at 600 keypoints per keyframe) and the lowest
  // of a right attribution (0.390, a posterised frame). Default 0.35; -1 turns it off.
  double min_chroma_correlation = 0.35;
  // Both channels: the query and the frame must lie one inside the other once aligned
  // (Nesting, geometric_verification.h: a crop inside the frame, the frame inside a
  // screenshot, a rotated scan in its canvas), at least this share of the smaller. A
  // drawing that shares a character with a frame aligns that character wherever it stands,
  // and the two pictures straddle. Set on the calibration leaks (README "Accuracy").
  // Default 0.9; 0 turns it off.
  double min_nesting = 0.9;
  // The same two bars for the line-art channel (opt-in, `line_art`). Ink maps are sparse,
  // so their thumbnails correlate by chance (unrelated line art reached 0.98) and the
  // inliers decide: unrelated line art verified with up to 58 inliers on the calibration
  // leaks, true line art mostly with 47-115. Defaults 60 and 0.80.
  int min_line_art_inliers = 60;
  double min_line_art_correlation = 0.80;
  // The line-art channel: at least this share of the query's ink must land inside the frame
  // once aligned (InkInside, line_art.h). A drawing made for a frame lies inside the
  // camera's field (margins of blank paper do not count against it); a same-style drawing of
  // a whole figure aligned on a close-up's face leaves its body outside. 0.8 leaves room for
  // overdraw and notes around a real drawing; on the evaluation set 0.8 and 0.9 reject the
  // same matches at the default bars (README "Accuracy"). Default 0.8; 0 turns it off.
  double min_line_art_ink_inside = 0.8;
  // The line-art channel: the still and the best entry's stroke map must agree stroke by
  // stroke, both ways, at least this much (StrokesInCommon(...).common(), line_art.h): the
  // drawing a frame was inked from covers it all over, a same-style drawing only where a
  // head or a limb coincides. Then a second region opens: line_art_stroke_min_inliers
  // inliers at a correlation of line_art_stroke_correlation. Indexes built before stroke
  // maps are not checked and keep the main region alone. Set on the calibration leaks,
  // raised on the validation leaks (README "Accuracy", "The stroke check"). Defaults 0.85,
  // 30 and 0.6; a bar of 0 turns the check off, and the main region alone decides.
  double min_line_art_strokes = 0.85;
  int line_art_stroke_min_inliers = 30;
  double line_art_stroke_correlation = 0.6;
  // The stroke lookup (README "Channels", "The stroke lookup"): a still that looks like
  // line art, taken as a whole drawing, is compared with the `stroke_lookup` entries whose
  // stroke hash (StrokeHash, line_art.h) lies nearest its own, within
  // stroke_lookup_distance bits. Scaled over the frame, at least min_lookup_drawn of its ink
  // must lie near the frame's strokes and min_lookup_framed of the frame's strokes near its
  // ink (StrokesInCommon). No keypoints: a drawing of the whole frame is found in
  // milliseconds, crops and drawings on larger sheets are left to the stroke search and the
  // keypoints (`stroke_search`, `line_art`, both opt-in). Independent of `line_art` and on by
  // default: it attributed no unrelated drawing and named no wrong episode on the evaluation set
  // (README "Accuracy"). Needs an index with stroke hashes (built since they exist). Defaults 16
  // entries, 96 bits, 0.6 and 0.85, set on the calibration leaks; 0 entries turns it off.
  int stroke_lookup = 16;
  int stroke_lookup_distance = 96;
  double min_lookup_drawn = 0.6;
  double min_lookup_framed = 0.85;
  // The stroke search (README "Channels", "The stroke search"; opt-in): a line-art still the
  // stroke lookup does not attribute (a crop of a drawing: part of a frame, not the whole) is
  // placed on the frames of candidate keyframes, the stroke_search_keyframes with most
  // correspondences of its ink map's keypoints at each of kStrokeSearchScales of the query
  // side, at every place inside the frame and widths from stroke_search_min_width of the
  // frame's up to 0.95 of it and at the widest it fits at (StrokePlacer, line_art.h). An entry is a
  // match when its strokes in common with the placed still (StrokesInCommon's lower share) reach
  // min_search_strokes and the still's ink near the frame's (`drawn`) min_search_drawn (a crop of
  // the frame's own drawing lies on its strokes all over; the search tries so many places that a
  // same-style drawing finds one where most of its strokes lie near some), rest on at least
  // min_search_ink of the frame's outline pixels under the still (StrokeAgreement::under, stroke-
  // map pixels: a still of one arc lies as well on any head of that size) and beat every
  // other episode's compared entry by min_search_margin (a drawing of a recurring head alone
  // lies as well on the close-ups of other episodes). Needs an index with stroke maps. Off by
  // default: on the evaluation set it attributes 81% of the line-art crops with no unrelated
  // drawing of another studio's, but it costs seconds a still, and it also attributes
  // drawings of the catalogue's own characters in a pose a frame shows (house-style
  // drawings, 13 of 520; a model sheet's figure) (README "Accuracy", "The stroke search",
  // "Unrelated line art from another studio"). Defaults 96 keyframes (64 before
  // 2026-12-07), 0.5, 0.9, 0.95, 800 and 0.05; all but the keyframes set on the calibration
  // leaks.
  bool stroke_search = false;
  int stroke_search_keyframes = 96;
  double stroke_search_min_width = 0.5;
  double min_search_strokes = 0.9;
  double min_search_drawn = 0.95;
  int min_search_ink = 800;
  double min_search_margin = 0.05;

  // Bits: a clip frame within this distance of an entry votes for that entry's time offset.
  // A segment needs min_segment_drawings drawings at one consistent offset, so clips can
  // afford a wider per-frame threshold than stills. Default 40: Meta's TMK copies with a
  // large logo need 36 (README "Accuracy"); no false segment was measured up to 44.
  int clip_threshold = 40;
  // Clips: a segment needs at least this many distinct matching query drawings at one
  // consistent time offset, or min_segment_frames query frames (long holds, slow pans).
  int min_segment_drawings = 3;
  int min_segment_frames = 24;
  // Clips: the most frames hashed per clip (longer clips are sampled evenly). Default 20000.
  int max_clip_frames = 20000;
  // Clips PDQ aligns nothing in (cropped, screenshotted, rotated copies): up to this many
  // frames, spread over the clip's informative drawings from the first to the last, are
  // matched as stills by the extra channels (local_features, line_art), and a segment needs
  // two of them verified on one episode at one time offset. Default 6 (0: off); costs one
  // still's channel query per frame, paid only on clips PDQ does not match or matches in
  // part (clip_gap_seconds), per stretch left unexplained.
  int clip_channel_frames = 6;
  // Clips PDQ aligns in part (a compilation with one part cropped or screenshotted): each
  // stretch of at least this many seconds that no segment explains is tried with the
  // channels the same way, up to four per clip, and gives a segment of its own. Default 2
  // (0: only clips PDQ aligns nothing in).
  double clip_gap_seconds = 2;

  // Limits per input. Images with more pixels are an `error` ("too_large") without being
  // decoded; decoding (and hashing) that runs longer is an `error` ("timeout").
  std::int64_t max_pixels = 100'000'000;
  double max_seconds_per_file = 120;
  std::uint64_t max_file_bytes = 8ull << 30;      // files on disk larger: error too_large
  std::uint64_t max_member_bytes = 512ull << 20;  // archive members read into memory
  int max_archive_depth = 3;
  // Archive budgets (WalkOptions): uncompressed bytes of one top-level archive (8 GiB),
  // entries of one archive (100000), expansion ratio (200, checked past 16 MiB).
  std::uint64_t max_archive_bytes = 8ull << 30;
  std::uint64_t max_archive_entries = 100000;
  double max_compression_ratio = 200;

  // The decode sandbox (sandbox.h). worker_command is the argv of a worker process, which
  // finds its socket on descriptor 3; celtrace-match sets it to itself with --worker and its
  // own flags. Empty (the library default, and --no-sandbox): analyse in this process.
  std::vector<std::string> worker_command;
  // A worker's address-space limit (RLIMIT_AS) beyond 3x the index folder's size, which it
  // loads. Default 4 GiB: a 100-megapixel still decodes in ~1 GiB; more is a bomb.
  std::uint64_t worker_memory_bytes = 4ull << 30;
  // Seconds a worker gets past max_seconds_per_file (wall clock, and CPU time) before it is
  // killed: its own deadline normally ends the analysis first, with a cleaner record.
  // Default 10.
  double worker_grace_seconds = 10;

  int threads = 0;       // analysis threads; 0: one per core
  bool progress = true;  // progress on stderr
};

// What the verification measured of a keyframe (FindVerifiedKeyframes), for AcceptanceBars.
struct KeyframeEvidence {
  int inliers = 0;
  double correlation = 0;
  std::optional<double> chroma;       // unset: not measured (a grey query, line art, an old index)
  std::optional<double> nesting;      // unset: not measured (a record written before nesting)
  std::optional<double> ink_inside;   // unset: not measured (orb; records written before it)
  std::optional<double> strokes;      // unset: not measured (orb; indexes, records before it)
  std::optional<double> realignment;  // unset: not measured (records written before it)
};

// One acceptance region: at least `min_inliers` RANSAC inliers at a thumbnail correlation of
// at least `min_correlation`.
struct AcceptanceRegion {
  int min_inliers = 0;
  double min_correlation = 0;
  // Only for a keyframe whose strokes were compared (KeyframeEvidence::strokes set).
  bool needs_strokes = false;
  // At most this realignment (Realignment, geometric_verification.h) where measured.
  double max_realignment = std::numeric_limits<double>::infinity();
};

// What a verified keyframe of one channel must reach to be a match: the inliers and
// correlation of one of its regions (within its realignment limit, where measured: orb's
// strong region) and, in any region, where its colours were measured, a
// chroma correlation of at least `min_chroma`, and a nesting of at least `min_nesting`; where
// measured (line art), ink inside the frame and strokes in common of at least `min_ink_inside`
// and `min_strokes`.
struct AcceptanceBars {
  // The main region first (its inliers set a match's confidence, FeatureConfidence). orb:
  // main, close, strong, closest, exact (MatchOptions); lineart: main, and the stroke
  // region unless the stroke check is off.
  std::vector<AcceptanceRegion> regions;
  double min_chroma = -1;
  double min_nesting = 0;
  double min_ink_inside = 0;
  double min_strokes = 0;
  // lineart: what a stroke lookup's entry must reach (MatchOptions::min_lookup_drawn,
  // min_lookup_framed); never met by default, so that other channels' bars refuse lookups.
  double min_lookup_drawn = 2;
  double min_lookup_framed = 2;
  // lineart: the strokes in common and the still's ink near the frame's a stroke search's
  // entry must reach, the frame's outline pixels they rest on and the lead of its strokes in
  // common over the best other episode's (MatchOptions::min_search_strokes,
  // min_search_drawn, min_search_ink, min_search_margin); never met by default, like the
  // lookup's.
  double min_search_strokes = 2;
  double min_search_drawn = 2;
  std::int64_t min_search_ink = std::numeric_limits<std::int64_t>::max();
  double min_search_margin = 2;

  // A stroke lookup's entry, with StrokesInCommon's two shares.
  bool AcceptsLookup(double drawn, double framed) const {
    return drawn >= min_lookup_drawn && framed >= min_lookup_framed;
  }
  // A stroke search's entry, with StrokesInCommon's two shares and, where measured (records
  // written before they were carry neither, so a replay cannot veto by them, as with
  // Accepts' optional measures), the frame's outline pixels under the still and the most strokes
  // in common of another episode's compared entry. Both shares are held to the strokes bar,
  // so that a NaN fails; the margin is met within kSearchMarginSlack, so that shares written
  // with three decimals replay as the matcher decided them at a margin of whole thousandths
  // (a replay at other bars may keep an entry within a thousandth of one, as for the shares).
  bool AcceptsSearch(double drawn, double framed, std::optional<std::int64_t> under,
                     std::optional<double> rival) const {
    return drawn >= min_search_strokes && framed >= min_search_strokes &&
           drawn >= min_search_drawn && (!under || *under >= min_search_ink) &&
           (!rival || std::min(drawn, framed) - *rival >= min_search_margin - kSearchMarginSlack);
  }
  static constexpr double kSearchMarginSlack = 1e-9;
  // The fewest inliers any region accepts; with `strokes` false, of the regions open to a
  // keyframe whose strokes are not compared (a channel without stroke maps).
  int fewest_inliers(bool strokes = true) const {
    int fewest = regions.empty() ? 0 : regions.front().min_inliers;
    for (const AcceptanceRegion& region : regions) {
      if (strokes || !region.needs_strokes) fewest = std::min(fewest, region.min_inliers);
    }
    return fewest;
  }
  bool Accepts(const KeyframeEvidence& e) const {
    // Written as "not at least the bar", so that a NaN measure fails it.
    if (e.chroma && !(*e.chroma >= min_chroma)) return false;
    if (e.nesting && !(*e.nesting >= min_nesting)) return false;
    if (e.ink_inside && !(*e.ink_inside >= min_ink_inside)) return false;
    if (e.strokes && !(*e.strokes >= min_strokes)) return false;
    return std::any_of(regions.begin(), regions.end(), [&](const AcceptanceRegion& region) {
      return (!region.needs_strokes || e.strokes) && e.inliers >= region.min_inliers &&
             e.correlation >= region.min_correlation &&
             (!e.realignment || *e.realignment <= region.max_realignment);
    });
  }
};

// The bars of the orb channel or, with `line_art`, of the line-art channel (its main region,
// and one for keyframes whose strokes were compared, which then decide; no colours).
inline AcceptanceBars ChannelBars(bool line_art, const MatchOptions& options) {
  if (line_art) {
    AcceptanceBars bars{
        .regions = {{options.min_line_art_inliers, options.min_line_art_correlation}},
        .min_chroma = -1,
        .min_nesting = options.min_nesting,
        .min_ink_inside = options.min_line_art_ink_inside,
        .min_strokes = options.min_line_art_strokes,
        .min_lookup_drawn = options.min_lookup_drawn,
        .min_lookup_framed = options.min_lookup_framed,
        .min_search_strokes = options.min_search_strokes,
        .min_search_drawn = options.min_search_drawn,
        .min_search_ink = options.min_search_ink,
        .min_search_margin = options.min_search_margin};
    if (options.min_line_art_strokes > 0) {
      bars.regions.push_back(
          {options.line_art_stroke_min_inliers, options.line_art_stroke_correlation, true});
    }
    return bars;
  }
  return {.regions = {{options.min_inliers, options.min_correlation},
                      {options.close_min_inliers, options.close_correlation},
                      {options.strong_min_inliers, options.strong_correlation, false,
                       options.strong_max_realignment},
                      {options.closest_min_inliers, options.closest_correlation},
                      {options.exact_min_inliers, options.exact_correlation}},
          .min_chroma = options.min_chroma_correlation,
          .min_nesting = options.min_nesting};
}

}  // namespace celtrace
