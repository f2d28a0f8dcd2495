#include "feature_matcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <vector>

#include "celtrace/line_art.h"
#include "celtrace/pdq.h"
#include "still_matcher.h"

namespace celtrace {
namespace {

struct Correspondence {
  int query = 0;                // query point
  std::int64_t descriptor = 0;  // reference descriptor
  int distance = 0;
};

// Keyframe -> reference descriptor -> its correspondence: per keyframe, each query point's
// nearest reference descriptor there, then each reference descriptor's nearest query point,
// so that no point counts twice in the verification.
using Correspondences = std::map<std::int64_t, std::map<std::int64_t, Correspondence>>;

Correspondences CorrespondencesByKeyframe(const FeatureIndex& channel, const FeatureSet& query,
                                          const MatchOptions& options) {
  Correspondences by_keyframe;
  const auto found =
      channel.Search(query.descriptors, options.descriptor_distance, options.descriptor_neighbors);
  for (size_t q = 0; q < found.size(); ++q) {
    std::map<std::int64_t, const Neighbor*> nearest;  // keyframe -> neighbour
    for (const Neighbor& n : found[q]) nearest.emplace(channel.KeyframeOf(n.id), &n);
    for (const auto& [keyframe, n] : nearest) {
      auto& pairs = by_keyframe[keyframe];
      auto [it, inserted] =
          pairs.emplace(n->id, Correspondence{static_cast<int>(q), n->id, n->distance});
      if (!inserted && n->distance < it->second.distance) {
        it->second = {static_cast<int>(q), n->id, n->distance};
      }
    }
  }
  return by_keyframe;
}

// The `count` keyframes with most correspondences, at least `fewest`, as (correspondences,
// keyframe), most first (ties by keyframe).
std::vector<std::pair<int, std::int64_t>> MostCorresponding(const Correspondences& by_keyframe,
                                                            int fewest, int count) {
  std::vector<std::pair<int, std::int64_t>> ranked;
  for (const auto& [keyframe, pairs] : by_keyframe) {
    if (static_cast<int>(pairs.size()) >= fewest) {
      ranked.emplace_back(static_cast<int>(pairs.size()), keyframe);
    }
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (static_cast<int>(ranked.size()) > count) ranked.resize(std::max(count, 0));
  return ranked;
}

// The options of a query's keypoints: options.query_features, as near as options.query_edge
// to the edges, the picture scaled already.
FeatureOptions QueryFeatureOptions(const MatchOptions& options) {
  FeatureOptions feature_options;
  feature_options.max_features = options.query_features;
  feature_options.max_side = 0;
  feature_options.edge_threshold = options.query_edge;
  return feature_options;
}

// `size` scaled by `scale`, rounded.
cv::Size ScaledSize(cv::Size size, double scale) {
  return {static_cast<int>(std::lround(size.width * scale)),
          static_cast<int>(std::lround(size.height * scale))};
}

// The catalogue entry `offset` entries into `keyframe` of `channel`.
const EntryInfo& EntryOf(const ReferenceIndex& index, const FeatureIndex& channel,
                         std::int64_t keyframe, std::int64_t offset) {
  return index.entries()[channel.FirstEntry(keyframe) + offset];
}

struct ChannelMatch {
  std::vector<VerifiedKeyframe> verified;
  Orientation orientation = Orientation::kOriginal;
  double picture_scale = 1;  // of the picture that verified, against `luma`
};

// Keyframes verified in one orientation of the query, tried in order until one verifies.
// `colour` is empty or the BGR pixels of `luma` (for the orb channel's colour check).
ChannelMatch QueryOrientations(const FeatureIndex& channel, const cv::Mat& luma,
                               const cv::Mat& colour, bool ink, const MatchOptions& options,
                               Deadline deadline) {
  const FeatureOptions feature_options = QueryFeatureOptions(options);
  ChannelMatch match;
  for (Orientation orientation : {Orientation::kOriginal, Orientation::kFlipY}) {
    const cv::Mat oriented = OrientImage(luma, orientation);
    const cv::Mat picture = ink ? InkMap(oriented) : oriented;
    const FeatureSet query = ExtractFeatures(picture, feature_options);
    const cv::Mat oriented_colour = colour.empty() ? cv::Mat() : OrientImage(colour, orientation);
    match.verified = FindVerifiedKeyframes(channel, query, picture, ink, oriented_colour, options,
                                           ChannelBars(ink, options), deadline);
    match.orientation = orientation;
    if (!match.verified.empty()) break;
  }
  return match;
}

// QueryOrientations at the query side, then, while nothing verifies, at each of RetryScales
// whose picture keeps a shorter side of kRetryMinSide. RANSAC's scale range applies to the
// picture that verifies, so a retried match may lie beyond its bounds against the still.
ChannelMatch QueryChannel(const FeatureIndex& channel, const cv::Mat& luma, const cv::Mat& colour,
                          bool ink, const MatchOptions& options, Deadline deadline) {
  ChannelMatch match = QueryOrientations(channel, luma, colour, ink, options, deadline);
  for (double scale : RetryScales(ink, options)) {
    if (!match.verified.empty()) break;
    const cv::Size retried = ScaledSize(luma.size(), scale);
    if (std::min(retried.width, retried.height) < kRetryMinSide) break;
    cv::Mat smaller_luma, smaller_colour;
    cv::resize(luma, smaller_luma, retried, 0, 0, cv::INTER_AREA);
    if (!colour.empty()) cv::resize(colour, smaller_colour, retried, 0, 0, cv::INTER_AREA);
    match = QueryOrientations(channel, smaller_luma, smaller_colour, ink, options, deadline);
    match.picture_scale = static_cast<double>(retried.width) / luma.cols;
  }
  return match;
}

// The best score (inliers, strokes in common) of each episode among a still's matches, for
// margins: a match's rival is the best of the other episodes.
template <typename Score>
class EpisodeBests {
 public:
  void Add(std::int32_t episode, Score score) {
    Score& best = best_[episode];
    best = std::max(best, score);
  }
  Score RivalOf(std::int32_t episode) const {
    Score rival{};
    for (const auto& [other, best] : best_) {
      if (other != episode) rival = std::max(rival, best);
    }
    return rival;
  }

 private:
  std::map<std::int32_t, Score> best_;
};

// A still's aspect may differ this much from the frame's for the stroke lookup to place it
// over the frame (a scan trimmed unevenly); beyond, it is not a drawing of the whole frame.
constexpr double kLookupAspectTolerance = 0.05;

// An entry the stroke lookup compared with the still.
struct LookedUpEntry {
  std::int64_t keyframe = 0;
  std::int64_t offset = 0;
  int distance = 0;  // stroke hashes', bits
  StrokeAgreement agreement;
  bool accepted = false;
};

struct StrokeLookup {
  std::vector<LookedUpEntry> compared;  // empty unless one was accepted
  Orientation orientation = Orientation::kOriginal;
};

// The stroke lookup (README "Channels", "The stroke lookup"): the still's stroke hash is
// looked up among the entries', and each entry found is compared stroke by stroke with the
// still scaled over its frame; the original, then the mirrored still.
StrokeLookup LookUpStrokes(const FeatureIndex& channel, const cv::Mat& luma,
                           const MatchOptions& options) {
  const AcceptanceBars bars = ChannelBars(true, options);
  StrokeLookup lookup;
  for (Orientation orientation : {Orientation::kOriginal, Orientation::kFlipY}) {
    const cv::Mat ink = InkMap(OrientImage(luma, orientation));
    const auto candidates = channel.NearestStrokeMaps(
        StrokeHash(StrokeMap(ink)), options.stroke_lookup_distance, options.stroke_lookup);
    lookup.orientation = orientation;
    lookup.compared.clear();
    std::optional<StillStrokes> still;
    bool accepted = false;
    for (const FeatureIndex::StrokeCandidate& c : candidates) {
      const cv::Size picture = channel.PictureSize(c.keyframe);
      const double sx = static_cast<double>(picture.width) / ink.cols;
      const double sy = static_cast<double>(picture.height) / ink.rows;
      if (std::abs(sx / sy - 1) > kLookupAspectTolerance) continue;
      const cv::Mat map = channel.StrokeMap(c.keyframe, c.offset);
      if (map.empty()) continue;
      if (!still) still = PrepareStillStrokes(ink);
      LookedUpEntry entry;
      entry.keyframe = c.keyframe;
      entry.offset = c.offset;
      entry.distance = c.distance;
      entry.agreement = StrokesInCommon(*still, cv::Matx23d(sx, 0, 0, 0, sy, 0), picture, map);
      entry.accepted = bars.AcceptsLookup(entry.agreement.drawn, entry.agreement.framed);
      accepted = accepted || entry.accepted;
      lookup.compared.push_back(entry);
    }
    if (accepted) return lookup;
  }
  lookup.compared.clear();
  return lookup;
}

// The stroke search (README "Channels", "The stroke search"): the candidates are the
// options.stroke_search_keyframes keyframes with most correspondences of the still's ink-map
// keypoints at each of kStrokeSearchScales, and each of their entries' stroke maps is searched
// for the still's place (StrokePlacer); the original, then the mirrored still. An entry is
// accepted as AcceptanceBars::AcceptsSearch says, its rival the best entry of another episode.
// Throws TimeoutError once `deadline` has passed, checked before each keyframe's entries.
StrokeLookup SearchStrokes(const FeatureIndex& channel, const ReferenceIndex& index,
                           const cv::Mat& luma, const MatchOptions& options, Deadline deadline) {
  const FeatureOptions feature_options = QueryFeatureOptions(options);
  const AcceptanceBars bars = ChannelBars(true, options);
  StrokeLookup search;
  for (Orientation orientation : {Orientation::kOriginal, Orientation::kFlipY}) {
    const cv::Mat oriented = OrientImage(luma, orientation);
    std::set<std::int64_t> keyframes;
    for (double scale : kStrokeSearchScales) {
      const cv::Size size = ScaledSize(oriented.size(), scale);
      if (std::min(size.width, size.height) < kRetryMinSide) continue;
      cv::Mat smaller;
      cv::resize(oriented, smaller, size, 0, 0, cv::INTER_AREA);
      const FeatureSet query = ExtractFeatures(InkMap(smaller), feature_options);
      if (query.count() < 3) continue;
      const auto most = MostCorresponding(CorrespondencesByKeyframe(channel, query, options), 1,
                                          options.stroke_search_keyframes);
      for (const auto& ranked : most) keyframes.insert(ranked.second);
    }
    search.orientation = orientation;
    search.compared.clear();
    if (keyframes.empty()) continue;
    StrokePlacer placer(InkMap(oriented), options.stroke_search_min_width, 1.0);
    EpisodeBests<double> bests;
    auto episode_of = [&](const LookedUpEntry& e) {
      return EntryOf(index, channel, e.keyframe, e.offset).episode;
    };
    size_t placed = 0;  // keyframes
    for (const std::int64_t keyframe : keyframes) {
      if (Passed(deadline)) {
        ThrowTimeout(
            options.max_seconds_per_file,
            fmt::format("stroke search, {} orientation: {} of {} candidate keyframes placed",
                        OrientationName(orientation), placed, keyframes.size()));
      }
      ++placed;
      const std::int64_t entries = channel.LastEntry(keyframe) - channel.FirstEntry(keyframe) + 1;
      for (std::int64_t offset = 0; offset < entries; ++offset) {
        const cv::Mat map = channel.StrokeMap(keyframe, offset);
        if (map.empty()) continue;
        LookedUpEntry entry;
        entry.keyframe = keyframe;
        entry.offset = offset;
        entry.agreement = placer.Place(map, channel.PictureSize(keyframe)).agreement;
        bests.Add(episode_of(entry), entry.agreement.common());
        search.compared.push_back(entry);
      }
    }
    bool accepted = false;
    for (LookedUpEntry& e : search.compared) {
      e.accepted = bars.AcceptsSearch(e.agreement.drawn, e.agreement.framed, e.agreement.under,
                                      bests.RivalOf(episode_of(e)));
      accepted = accepted || e.accepted;
    }
    if (accepted) return search;
  }
  search.compared.clear();
  return search;
}

// Fills `record` with the stroke lookup's or search's accepted entries (`method`), most
// strokes in common first. Confidence = strokes x (0.5 + 0.5 x margin), margin = 1 - rival /
// strokes with rival the most strokes in common of an entry of another episode compared.
void RecordLookup(const StrokeLookup& lookup, const char* method, const FeatureIndex& channel,
                  const ReferenceIndex& index, const MatchOptions& options, ResultRecord* record) {
  auto entry_of = [&](const LookedUpEntry& e) -> const EntryInfo& {
    return EntryOf(index, channel, e.keyframe, e.offset);
  };
  EpisodeBests<double> bests;
  for (const LookedUpEntry& e : lookup.compared)
    bests.Add(entry_of(e).episode, e.agreement.common());
  std::vector<const LookedUpEntry*> accepted;
  for (const LookedUpEntry& e : lookup.compared) {
    if (e.accepted) accepted.push_back(&e);
  }
  std::stable_sort(accepted.begin(), accepted.end(), [](const auto* a, const auto* b) {
    const double a_common = a->agreement.common(), b_common = b->agreement.common();
    return a_common != b_common ? a_common > b_common : a->distance < b->distance;
  });
  record->status = "match";
  record->matches.clear();
  for (const LookedUpEntry* e : accepted) {
    if (static_cast<int>(record->matches.size()) >= options.max_matches) break;
    const EntryInfo& entry = entry_of(*e);
    const double rival = bests.RivalOf(entry.episode);
    const double common = e->agreement.common();
    MatchRecord m = MatchOfEpisode(index, entry.episode);
    m.ref_start = entry.start;
    m.ref_end = entry.end;
    m.distance = e->distance;
    // An entry without strokes in common (accepted only at bars of 0) has no confidence.
    m.confidence =
        common > 0 ? common * (0.5 + 0.5 * std::clamp(1.0 - rival / common, 0.0, 1.0)) : 0;
    m.orientation = std::string(OrientationName(lookup.orientation));
    m.channel = kLineArtChannel;
    m.method = method;
    m.strokes = common;
    m.drawn = e->agreement.drawn;
    m.framed = e->agreement.framed;
    m.ink_under = e->agreement.under;
    m.rival_strokes = rival;
    record->matches.push_back(std::move(m));
  }
}

double FeatureConfidence(int inliers, int rival_inliers, int min_inliers) {
  const double strength = 1.0 - min_inliers / (2.0 * std::max(inliers, min_inliers));
  const double margin = inliers > 0 ? 1.0 - static_cast<double>(rival_inliers) / inliers : 0;
  return strength * (0.5 + 0.5 * std::clamp(margin, 0.0, 1.0));
}

}  // namespace

// The scales a still is tried at again when nothing verified at the query side: for orb,
// options.retry_scale; for line art, none, or with options.line_art_ladder half-octave steps
// (x 1/sqrt 2) from the query side down to it. A crop of part of the frame, taken at the
// query side, shows the frame's content larger than the keyframes do: a crop of half the
// frame at twice their scale. ORB's pyramid reaches a larger scale only in its upper levels,
// which hold few of the query's keypoints, and the keyframe's own coarser levels have no
// counterpart at all; scaled down, the query meets the keyframes at their scale (README
// "Channels", "The retry at half size"). An ink map's keypoints are more particular about
// scale than a painted frame's (a thin stroke's corners change with its width in pixels): on
// the calibration leaks' line-art crops (three quarters of the frame, at 1.67 times the
// keyframes' scale) they verified 13 of 40 at the query side, 21 at 1/sqrt 2 and 13 at 1/2,
// so the ladder takes the step between. Every step is a further chance for an unrelated
// drawing to verify, which is why the ladder is opt-in (README "The line-art ladder"). Painted
// frames gained as much at 0.5 as at 0.6 or 0.7, so orb, which tries most negatives, keeps
// one step.
std::vector<double> RetryScales(bool ink, const MatchOptions& options) {
  std::vector<double> scales;
  const double retry_scale = options.retry_scale;
  if (retry_scale <= 0 || (ink && !options.line_art_ladder)) return scales;
  if (ink) {
    constexpr double kHalfOctave = 0.70710678118654752;
    // A step within 10% of retry_scale is left to retry_scale: two passes that close would
    // cost twice for the same keypoints.
    for (double s = kHalfOctave; s > retry_scale * 1.1; s *= kHalfOctave) scales.push_back(s);
  }
  scales.push_back(retry_scale);
  return scales;
}

std::vector<VerifiedKeyframe> FindVerifiedKeyframes(const FeatureIndex& channel,
                                                    const FeatureSet& query,
                                                    const cv::Mat& query_picture, bool ink_map,
                                                    const cv::Mat& query_colour,
                                                    const MatchOptions& options,
                                                    const AcceptanceBars& bars, Deadline deadline) {
  std::vector<VerifiedKeyframe> out;
  if (query.count() < 3 || channel.descriptor_count() == 0) return out;
  const Correspondences by_keyframe = CorrespondencesByKeyframe(channel, query, options);
  const int fewest = bars.fewest_inliers(channel.stroke_map_count() > 0);
  const std::vector<std::pair<int, std::int64_t>> ranked =
      MostCorresponding(by_keyframe, fewest, options.verify_candidates);
  // A line-art still's ink, prepared for the stroke check once for all its keyframes.
  std::optional<StillStrokes> still_strokes;
  VerificationOptions verification;
  verification.min_inliers = fewest;
  verification.min_spread = options.min_spread;
  for (size_t r = 0; r < ranked.size(); ++r) {
    if (Passed(deadline)) {
      ThrowTimeout(options.max_seconds_per_file,
                   fmt::format("{} keypoints: {} of {} candidate keyframes verified",
                               ink_map ? "line-art" : "orb", r, ranked.size()));
    }
    const auto& [votes, keyframe] = ranked[r];
    std::vector<cv::Point2f> from, to;
    std::vector<int> distances;
    for (const auto& [descriptor, c] : by_keyframe.at(keyframe)) {
      from.push_back(query.points[c.query]);
      to.push_back(channel.PointOf(descriptor));
      distances.push_back(c.distance);
    }
    VerifiedKeyframe v;
    v.keyframe = keyframe;
    v.votes = votes;
    v.verification =
        VerifyCorrespondences(from, to, channel.PictureSize(keyframe), verification, query.points);
    v.correlation = -1;
    if (v.verification.accepted) {
      // Which entry the keyframe stands for looks like the query, if any.
      const WarpedQuery warped = WarpQuery(query_picture, v.verification.transform,
                                           channel.PictureSize(keyframe), query_colour);
      const std::int64_t entries = channel.LastEntry(keyframe) - channel.FirstEntry(keyframe) + 1;
      cv::Matx23f refinement, best_refinement = cv::Matx23f::eye();  // the best entry's ECC
      for (std::int64_t i = 0; i < entries; ++i) {
        const double correlation =
            CorrelateWarped(warped, channel.Thumbnail(keyframe, i), &refinement);
        if (correlation > v.correlation) {
          v.correlation = correlation;
          v.entry_offset = i;
          best_refinement = refinement;
        }
      }
      const double chroma =
          CorrelateChroma(warped, channel.Chroma(keyframe, v.entry_offset), best_refinement);
      if (chroma != kChromaNotMeasured) v.chroma = chroma;
      // After the refinement the transform places the query on the entry, not the keyframe:
      // the camera may have moved between the two.
      const cv::Size picture = channel.PictureSize(keyframe);
      const cv::Matx23d on_entry =
          RefinedTransform(v.verification.transform, best_refinement, picture);
      v.nesting = Nesting(query_picture.size(), on_entry, picture);
      v.realignment = Realignment(warped, best_refinement);
      if (ink_map) {
        v.ink_inside = InkInside(query_picture, on_entry, picture);
        const cv::Mat strokes = channel.StrokeMap(keyframe, v.entry_offset);
        if (!strokes.empty()) {
          if (!still_strokes) still_strokes = PrepareStillStrokes(query_picture);
          v.strokes = StrokesInCommon(*still_strokes, on_entry, picture, strokes).common();
        }
      }
    }
    if (!v.verification.accepted ||
        !bars.Accepts({v.verification.inliers, v.correlation, v.chroma, v.nesting, v.ink_inside,
                       v.strokes, v.realignment})) {
      continue;
    }
    // The inliers' median descriptor distance, for the record's `distance`.
    std::vector<int> inlier_distances;
    const cv::Matx23d& t = v.verification.transform;
    for (size_t i = 0; i < from.size(); ++i) {
      const double x = t(0, 0) * from[i].x + t(0, 1) * from[i].y + t(0, 2);
      const double y = t(1, 0) * from[i].x + t(1, 1) * from[i].y + t(1, 2);
      if (std::hypot(x - to[i].x, y - to[i].y) <= verification.reprojection_error) {
        inlier_distances.push_back(distances[i]);
      }
    }
    if (!inlier_distances.empty()) {
      std::nth_element(inlier_distances.begin(),
                       inlier_distances.begin() + inlier_distances.size() / 2,
                       inlier_distances.end());
      v.median_distance = inlier_distances[inlier_distances.size() / 2];
    }
    out.push_back(v);
  }
  // Line art from an index with stroke maps, the check on: most strokes in common first (a
  // finer comparison than the 64-pixel thumbnails'; in an index grown with `add` from one
  // without stroke maps, keyframes without them come after those with); otherwise, and on
  // ties, highest correlation.
  const bool by_strokes = bars.min_strokes > 0;
  std::sort(out.begin(), out.end(), [&](const VerifiedKeyframe& a, const VerifiedKeyframe& b) {
    if (by_strokes) {
      const double a_strokes = a.strokes.value_or(-1), b_strokes = b.strokes.value_or(-1);
      if (a_strokes != b_strokes) return a_strokes > b_strokes;
    }
    if (a.correlation != b.correlation) return a.correlation > b.correlation;
    if (a.verification.inliers != b.verification.inliers) {
      return a.verification.inliers > b.verification.inliers;
    }
    return a.keyframe < b.keyframe;
  });
  return out;
}

bool StrokeLookupAvailable(const ReferenceIndex& index, const MatchOptions& options) {
  const FeatureIndex* line_art = index.channel(kLineArtChannel);
  return options.stroke_lookup > 0 && line_art && line_art->stroke_hash_count() > 0;
}

bool StrokeSearchAvailable(const ReferenceIndex& index, const MatchOptions& options) {
  const FeatureIndex* line_art = index.channel(kLineArtChannel);
  return options.stroke_search && line_art && line_art->stroke_map_count() > 0;
}

bool MatchStillByFeatures(const cv::Mat& image, const ReferenceIndex& index,
                          const MatchOptions& options, bool line_art_only, ResultRecord* record,
                          Deadline deadline) {
  const FeatureIndex* line_art = options.line_art ? index.channel(kLineArtChannel) : nullptr;
  const FeatureIndex* orb = options.local_features ? index.channel(kOrbChannel) : nullptr;
  const bool lookup = StrokeLookupAvailable(index, options);
  const bool searchable = StrokeSearchAvailable(index, options);
  if (!line_art && !orb && !lookup && !searchable) return false;
  const bool looks_like_line_art = MeasureLineArt(image).line_art;
  if (line_art_only && !looks_like_line_art) return false;
  const FeatureIndex* channel = looks_like_line_art ? line_art : orb;
  const bool look_up = lookup && looks_like_line_art;
  const bool search = searchable && looks_like_line_art;
  if (!channel && !look_up && !search) return false;
  const cv::Mat luma = FeatureLuma(image, options.query_side);
  if (look_up) {
    const FeatureIndex& strokes = *index.channel(kLineArtChannel);
    const StrokeLookup found = LookUpStrokes(strokes, luma, options);
    if (!found.compared.empty()) {
      RecordLookup(found, kStrokeLookupMethod, strokes, index, options, record);
      return true;
    }
  }
  if (search) {
    const FeatureIndex& strokes = *index.channel(kLineArtChannel);
    const StrokeLookup found = SearchStrokes(strokes, index, luma, options, deadline);
    if (!found.compared.empty()) {
      RecordLookup(found, kStrokeSearchMethod, strokes, index, options, record);
      return true;
    }
  }
  if (!channel) return false;
  cv::Mat colour;  // the colour check's pixels, on luma's grid
  if (!looks_like_line_art && image.type() == CV_8UC3) {
    if (image.size() == luma.size()) {
      colour = image;
    } else {
      cv::resize(image, colour, luma.size(), 0, 0, cv::INTER_AREA);
    }
  }
  const ChannelMatch match =
      QueryChannel(*channel, luma, colour, looks_like_line_art, options, deadline);
  if (match.verified.empty()) return false;

  // The best verified keyframe of each episode, for margins.
  EpisodeBests<int> bests;
  auto episode_of = [&](const VerifiedKeyframe& v) {
    return EntryOf(index, *channel, v.keyframe, 0).episode;
  };
  for (const VerifiedKeyframe& v : match.verified) bests.Add(episode_of(v), v.verification.inliers);
  // The main region's inliers: matches with fewer (other regions) have strength 0.5.
  const int main_inliers = ChannelBars(looks_like_line_art, options).regions.front().min_inliers;
  record->status = "match";
  record->matches.clear();
  for (const VerifiedKeyframe& v : match.verified) {
    if (static_cast<int>(record->matches.size()) >= options.max_matches) break;
    const std::int32_t episode = episode_of(v);
    const int rival = bests.RivalOf(episode);
    MatchRecord m = MatchOfEpisode(index, episode);
    const EntryInfo& entry = EntryOf(index, *channel, v.keyframe, v.entry_offset);
    m.ref_start = entry.start;
    m.ref_end = entry.end;
    m.distance = v.median_distance;
    m.inliers = v.verification.inliers;
    m.correlation = v.correlation;
    // Against the still at the query side, whichever picture verified.
    m.scale = v.verification.scale * match.picture_scale;
    m.rotation = v.verification.rotation_degrees;
    m.chroma = v.chroma;
    m.nesting = v.nesting;
    m.realignment = v.realignment;
    m.ink_inside = v.ink_inside;
    m.strokes = v.strokes;
    m.confidence = FeatureConfidence(v.verification.inliers, rival, main_inliers);
    m.orientation = std::string(OrientationName(match.orientation));
    m.channel = looks_like_line_art ? kLineArtChannel : kOrbChannel;
    record->matches.push_back(std::move(m));
  }
  return true;
}

}  // namespace celtrace
