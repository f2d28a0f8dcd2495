#include "clip_matcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "border_trim.h"
#include "feature_matcher.h"
#include "still_matcher.h"

namespace celtrace {
namespace {

constexpr double kBinSeconds = 0.1;

// Adds `more` to a record's note, after what it says already.
void AddNote(std::string* note, const std::string& more) {
  *note = note->empty() ? more : *note + "; " + more;
}
// Slack around an entry's time range: a frame and a half at 24 fps, plus re-timing jitter.
constexpr double kSlackSeconds = 0.08;
constexpr int kMaxSegments = 16;
// Offsets that the aligned drawings' entries all allow over more than this many seconds
// (without the slack) leave the segment's episode time open: its range spans them.
constexpr double kWideAgreementSeconds = 0.25;
// Other showings of a segment's stretch listed after it (AlignSegments), at most.
constexpr int kMaxOccurrences = 4;
// Query frames within this many bits of their drawing's first frame are the same drawing.
constexpr int kHoldDistance = 10;

struct Vote {
  int count = 0;   // distinct drawings
  int frames = 0;  // their query frames
  int last_drawing = -1;
  std::int64_t key = 0;
};

std::int64_t VoteKey(std::int32_t episode, int speed, std::int64_t bin) {
  return (static_cast<std::int64_t>(episode) << 36) ^ (static_cast<std::int64_t>(speed) << 32) ^
         (bin & 0xffffffffLL);
}

// The range of offsets b (ref = speed * t + b) at which drawing `d` lies inside `entry`.
std::pair<double, double> OffsetRange(const QueryDrawing& d, const EntryInfo& entry, double speed) {
  return {entry.start - speed * d.start - kSlackSeconds,
          entry.end - speed * d.start + kSlackSeconds};
}

// Consecutive informative frames within the hold distance of a drawing's first frame are
// that drawing (animation on 2s and 3s counted once).
struct DrawingTrack {
  std::vector<QueryDrawing> drawings;
  bool open = false;
  bool differs = false;  // some frame was hashed differently from the plain track

  void Add(const Pdq& hash, double seconds, int min_quality) {
    if (hash.quality < min_quality) {
      open = false;
      return;
    }
    if (open && HammingDistance(drawings.back().hash, hash) <= kHoldDistance) {
      drawings.back().end = seconds;
      ++drawings.back().frames;
      return;
    }
    drawings.push_back({seconds, seconds, 1, hash});
    open = true;
  }
};

// The clip's frames at `times` (ascending), decoded by `reader` at the channels' query side
// and matched as stills by the extra channels. The verified frames that agree on one episode
// and one time offset make a segment if there are at least two; the frames outside its
// stretch of the clip are tried again, so that two parts of one stretch (a compilation
// cropped throughout) give two segments.
// Returns the segments in clip order, none when no two agree. Throws TimeoutError past
// `deadline`.
std::vector<MatchRecord> MatchFramesByChannels(std::span<const double> times, VideoReader& reader,
                                               const ReferenceIndex& index,
                                               const MatchOptions& options, Deadline deadline) {
  struct Verified {
    MatchRecord top;
    double seconds = 0;  // in the clip
  };
  std::vector<MatchRecord> segments;
  if (times.size() < 2) return segments;
  // Offsets agree within half a second, plus the drift of PAL's 4% speed change over the
  // sampled span (the frames' matches are entries, whose time ranges add their own slack).
  const double slack = 0.5 + 0.045 * (times.back() - times.front());
  // Catalogue path, channel and method -> frames: a segment's evidence (inliers, or the
  // stroke lookup's shares) is of one kind.
  std::map<std::string, std::vector<Verified>> by_kind;
  Frame frame;
  for (const double seconds : times) {
    CheckDeadline(deadline, options.max_seconds_per_file);
    if (!reader.SeekTo(seconds) || !reader.Read(&frame)) break;
    ResultRecord still;
    if (!MatchStillByFeatures(frame.image, index, options, false, &still, deadline)) continue;
    const MatchRecord& top = still.matches.front();
    by_kind[top.source + '\n' + top.channel + '\n' + top.method].push_back({top, frame.seconds});
  }
  for (;;) {
    // Per episode, the largest set of frames whose offsets (ref - clip time) overlap.
    const Verified* anchor = nullptr;
    std::vector<const Verified*> best;
    for (const auto& [kind, frames] : by_kind) {
      for (const Verified& a : frames) {
        std::vector<const Verified*> agreeing;
        double l = a.top.ref_start - a.seconds - slack, h = a.top.ref_end - a.seconds + slack;
        for (const Verified& b : frames) {
          const double bl = b.top.ref_start - b.seconds - slack;
          const double bh = b.top.ref_end - b.seconds + slack;
          if (bl > h || bh < l) continue;
          agreeing.push_back(&b);
          l = std::max(l, bl);
          h = std::min(h, bh);
        }
        if (agreeing.size() > best.size()) {
          anchor = &a;
          best = std::move(agreeing);
        }
      }
    }
    if (anchor == nullptr || best.size() < 2) break;
    MatchRecord m = anchor->top;
    // The offset most of the frames' own entries allow without the slack (the middle of the
    // first stretch where the most of them overlap): a frame matched to a neighbouring
    // drawing of its shot is outvoted rather than averaged in.
    std::vector<std::pair<double, int>> ends;  // offset, +1 where an entry's range opens
    for (const Verified* v : best) {
      ends.emplace_back(v->top.ref_start - v->seconds, +1);
      ends.emplace_back(v->top.ref_end - v->seconds, -1);
    }
    std::sort(ends.begin(), ends.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;  // opens first
    });
    // The smallest offset opens a range, so the first event already sets `offset`.
    int depth = 0, deepest = 0;
    double offset = 0;
    for (size_t i = 0; i < ends.size(); ++i) {
      depth += ends[i].second;
      if (depth > deepest) {
        deepest = depth;
        offset = (ends[i].first + ends[i + 1].first) / 2;  // a close always follows an open
      }
    }
    m.query_start = 1e18;
    m.query_end = -1e18;
    std::vector<int> inliers, distances;
    std::vector<double> confidences, correlations, chroma, nesting, realignment, ink_inside,
        strokes;
    std::vector<double> drawn, framed;  // stroke lookups
    for (const Verified* v : best) {
      m.query_start = std::min(m.query_start, v->seconds);
      m.query_end = std::max(m.query_end, v->seconds);
      inliers.push_back(v->top.inliers);
      distances.push_back(v->top.distance);
      confidences.push_back(v->top.confidence);
      correlations.push_back(v->top.correlation);
      if (v->top.chroma) chroma.push_back(*v->top.chroma);
      if (v->top.nesting) nesting.push_back(*v->top.nesting);
      if (v->top.realignment) realignment.push_back(*v->top.realignment);
      if (v->top.ink_inside) ink_inside.push_back(*v->top.ink_inside);
      if (v->top.strokes) strokes.push_back(*v->top.strokes);
      if (v->top.drawn) drawn.push_back(*v->top.drawn);
      if (v->top.framed) framed.push_back(*v->top.framed);
    }
    auto median = [](auto values) {
      std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
      return values[values.size() / 2];
    };
    m.ref_start = std::max(0.0, m.query_start + offset);
    m.ref_end = std::max(m.ref_start, m.query_end + offset);
    m.inliers = median(inliers);
    m.distance = median(distances);
    m.correlation = median(correlations);
    if (!chroma.empty()) m.chroma = median(chroma);
    if (!nesting.empty()) m.nesting = median(nesting);
    if (!realignment.empty()) m.realignment = median(realignment);
    if (!ink_inside.empty()) m.ink_inside = median(ink_inside);
    if (!strokes.empty()) m.strokes = median(strokes);
    if (!drawn.empty()) m.drawn = median(drawn);
    if (!framed.empty()) m.framed = median(framed);
    // One frame's measures, not the segment's: a segment carries neither.
    m.ink_under.reset();
    m.rival_strokes.reset();
    m.confidence = median(confidences);
    m.segment = true;
    m.frames = static_cast<int>(best.size());
    m.coverage = static_cast<double>(best.size()) / static_cast<double>(times.size());
    // The segment's stretch of the clip is spent (its frames, and any that disagreed inside
    // it: a frame matched elsewhere in its episode is not another part); frames outside it
    // may agree on another part.
    const double first = m.query_start, last = m.query_end;
    segments.push_back(std::move(m));
    for (auto& [kind, frames] : by_kind) {
      std::erase_if(frames,
                    [&](const Verified& v) { return v.seconds >= first && v.seconds <= last; });
    }
  }
  std::sort(segments.begin(), segments.end(), [](const MatchRecord& a, const MatchRecord& b) {
    return a.query_start < b.query_start;
  });
  return segments;
}

}  // namespace

std::vector<ClipGap> UnexplainedGaps(std::span<const QueryDrawing> drawings,
                                     std::span<const Segment> segments, double min_seconds) {
  auto explained = [&](const QueryDrawing& d) {
    return std::any_of(segments.begin(), segments.end(), [&](const Segment& s) {
      return d.start >= s.query_start && d.end <= s.query_end;
    });
  };
  std::vector<ClipGap> gaps;
  for (size_t i = 0; i < drawings.size();) {
    if (explained(drawings[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j + 1 < drawings.size() && !explained(drawings[j + 1])) ++j;
    const ClipGap gap{i, j, drawings[i].start, drawings[j].end};
    if (segments.empty() || gap.end - gap.start >= min_seconds) gaps.push_back(gap);
    i = j + 1;
  }
  return gaps;
}

std::vector<double> GapSampleTimes(std::span<const QueryDrawing> drawings, const ClipGap& gap,
                                   int wanted) {
  std::vector<double> times;
  if (gap.first > gap.last || gap.last >= drawings.size()) return times;
  size_t d = gap.first;
  for (int k = 0; k < wanted; ++k) {
    const double t = wanted == 1 ? gap.start : gap.start + (gap.end - gap.start) * k / (wanted - 1);
    while (d < gap.last && drawings[d].end < t) ++d;  // the drawing at t, or the next one
    const double at = std::max(t, drawings[d].start);
    if (times.empty() || at > times.back()) times.push_back(at);
  }
  return times;
}

std::span<const double> AlignmentSpeeds() {
  static constexpr double kSpeeds[] = {1.0, 25.0 / (24000.0 / 1001.0), (24000.0 / 1001.0) / 25.0};
  return kSpeeds;
}

std::vector<Segment> AlignSegments(std::span<const QueryDrawing> drawings,
                                   const std::vector<std::vector<Neighbor>>& neighbors,
                                   std::span<const EntryInfo> entries, int min_drawings,
                                   int min_frames) {
  const auto speeds = AlignmentSpeeds();
  std::vector<bool> used(drawings.size(), false);
  std::vector<Segment> segments;
  // The segment of the unused drawings consistent with offset bin `bin` of `episode` at
  // speeds[s], each with its closest such entry; their indices go to *members.
  auto build = [&](std::int32_t episode, int s, std::int64_t bin, std::vector<size_t>* members) {
    const double speed = speeds[s];
    const double centre = (bin + 0.5) * kBinSeconds;
    double low_all = -1e18, high_all = 1e18;
    Segment segment;
    segment.episode = episode;
    segment.speed = speed;
    segment.query_start = 1e18;
    segment.query_end = -1e18;
    std::vector<int> distances;
    for (size_t i = 0; i < drawings.size(); ++i) {
      if (used[i]) continue;
      const Neighbor* chosen = nullptr;
      std::pair<double, double> range;
      for (const Neighbor& n : neighbors[i]) {
        const EntryInfo& entry = entries[n.id];
        if (entry.episode != episode) continue;
        const auto r = OffsetRange(drawings[i], entry, speed);
        if (r.first <= centre + kBinSeconds && r.second >= centre - kBinSeconds &&
            (!chosen || n.distance < chosen->distance)) {
          chosen = &n;
          range = r;
        }
      }
      if (!chosen) continue;
      members->push_back(i);
      low_all = std::max(low_all, range.first);
      high_all = std::min(high_all, range.second);
      distances.push_back(chosen->distance);
      ++segment.drawings;
      segment.frames += drawings[i].frames;
      segment.query_start = std::min(segment.query_start, drawings[i].start);
      segment.query_end = std::max(segment.query_end, drawings[i].end);
    }
    // Where every aligned drawing's entry agrees: distinct drawings pin the offset down, to
    // the middle of that agreement. Holds leave it wide (a clip cut inside one drawing's
    // hold fits anywhere in it), and then the range says so, as a still's hold does: the
    // middle of a wide agreement read as a precise time that need not overlap the truth.
    const double agreed = high_all - low_all - 2 * kSlackSeconds;  // the entries' own
    if (low_all <= high_all && agreed > kWideAgreementSeconds) {
      segment.ref_start = std::max(0.0, speed * segment.query_start + low_all + kSlackSeconds);
      segment.ref_end =
          std::max(segment.ref_start, speed * segment.query_end + high_all - kSlackSeconds);
    } else {
      const double offset = low_all <= high_all ? (low_all + high_all) / 2 : centre;
      segment.ref_start = std::max(0.0, speed * segment.query_start + offset);
      segment.ref_end = std::max(segment.ref_start, speed * segment.query_end + offset);
    }
    std::nth_element(distances.begin(), distances.begin() + distances.size() / 2, distances.end());
    segment.median_distance = distances.empty() ? 0 : distances[distances.size() / 2];
    return segment;
  };
  int primaries = 0;
  while (primaries < kMaxSegments) {
    // Hough-style votes: each drawing votes once per (episode, speed, offset bin) its
    // matches allow.
    std::unordered_map<std::int64_t, Vote> votes;
    struct Key {
      std::int32_t episode;
      int speed;
      std::int64_t bin;
      auto operator<=>(const Key&) const = default;
    };
    std::unordered_map<std::int64_t, Key> keys;
    Vote best;
    Key best_key{0, 0, 0};
    for (size_t i = 0; i < drawings.size(); ++i) {
      if (used[i]) continue;
      for (const Neighbor& n : neighbors[i]) {
        const EntryInfo& entry = entries[n.id];
        for (int s = 0; s < static_cast<int>(speeds.size()); ++s) {
          const auto [low, high] = OffsetRange(drawings[i], entry, speeds[s]);
          for (auto bin = static_cast<std::int64_t>(std::floor(low / kBinSeconds));
               bin <= static_cast<std::int64_t>(std::floor(high / kBinSeconds)); ++bin) {
            const std::int64_t id = VoteKey(entry.episode, s, bin);
            Vote& vote = votes[id];
            if (vote.last_drawing == static_cast<int>(i)) continue;
            keys.try_emplace(id, Key{entry.episode, s, bin});
            vote.last_drawing = static_cast<int>(i);
            ++vote.count;
            vote.frames += drawings[i].frames;
            // The offset that explains the most query frames wins; ties go to the plain
            // speed and the earliest bin, for stable output.
            const Key key{entry.episode, s, bin};
            if (vote.frames > best.frames || (vote.frames == best.frames && key < best_key)) {
              best = vote;
              best_key = key;
            }
          }
        }
      }
    }
    if (best.count < min_drawings && best.frames < min_frames) break;
    // Other offsets that explain as many frames as well: the same shot shown again (a loop,
    // a repeated shot, a recap), where a still lists each occurrence. One per run of
    // consecutive bins (a hold spreads one occurrence over several), in episode order.
    std::vector<Key> tied;
    for (const auto& [id, vote] : votes) {
      if (vote.frames == best.frames && vote.count == best.count) tied.push_back(keys.at(id));
    }
    std::sort(tied.begin(), tied.end());
    std::vector<Key> occurrences;  // the middle bin of each run but the winner's
    for (size_t a = 0; a < tied.size();) {
      size_t b = a;
      while (b + 1 < tied.size() && tied[b + 1].episode == tied[a].episode &&
             tied[b + 1].speed == tied[a].speed && tied[b + 1].bin == tied[b].bin + 1) {
        ++b;
      }
      const bool winner = tied[a].episode == best_key.episode && tied[a].speed == best_key.speed &&
                          best_key.bin >= tied[a].bin && best_key.bin <= tied[b].bin;
      // Only at the winner's speed: the same frames at PAL's speed are no other showing.
      if (!winner && tied[a].speed == best_key.speed) {
        Key middle = tied[a];
        middle.bin = (tied[a].bin + tied[b].bin) / 2;
        occurrences.push_back(middle);
      }
      a = b + 1;
    }
    std::vector<size_t> members;
    segments.push_back(build(best_key.episode, best_key.speed, best_key.bin, &members));
    ++primaries;
    // Another occurrence shows the very same drawings (a tie with other drawings, a second
    // part of a compilation, is the next round's winner) at another stretch of episode time:
    // a walk cycle ties at every cycle within one showing, overlapping it. They do not count
    // against kMaxSegments, so a loop cannot crowd out a compilation's other parts.
    std::vector<std::pair<double, double>> shown = {
        {segments.back().ref_start, segments.back().ref_end}};
    const std::int32_t episode = segments.back().episode;
    int added = 0;
    for (const Key& k : occurrences) {
      if (added == kMaxOccurrences) break;
      std::vector<size_t> same;
      Segment other = build(k.episode, k.speed, k.bin, &same);
      const bool apart = std::none_of(shown.begin(), shown.end(), [&](const auto& range) {
        return other.episode == episode && other.ref_start < range.second &&
               other.ref_end > range.first;
      });
      if (same != members || !apart) continue;
      other.occurrence_of = static_cast<int>(segments.size() - 1 - added);
      shown.emplace_back(other.ref_start, other.ref_end);
      segments.push_back(other);
      ++added;
    }
    for (const size_t i : members) used[i] = true;
  }
  return segments;
}

namespace {

// At most this many unexplained stretches of one clip are tried with the extra channels (the
// longest), bounding their cost to kMaxChannelGaps * clip_channel_frames still queries.
constexpr size_t kMaxChannelGaps = 4;

// The stretches of `track` that no segment explains (the whole clip without segments; else
// those of options.clip_gap_seconds or longer), each tried with the extra channels at
// options.clip_channel_frames frames spread over it. Returns their channel segments in clip
// order; none when the channels are off. Without segments, errors (TimeoutError past
// `deadline`, decoding) propagate; with segments, the pass stops at the first and says so in
// *note, so that PDQ's attribution is never lost to the extra work.
std::vector<MatchRecord> MatchGapsByChannels(const DrawingTrack& track,
                                             std::span<const Segment> segments,
                                             const ReopenClip& reopen, const ReferenceIndex& index,
                                             const MatchOptions& options, Deadline deadline,
                                             std::string* note) {
  const bool channels =
      options.clip_channel_frames > 0 &&
      ((options.local_features && index.channel(kOrbChannel)) ||
       (options.line_art && index.channel(kLineArtChannel)) ||
       StrokeLookupAvailable(index, options) || StrokeSearchAvailable(index, options));
  if (!channels || !reopen || (!segments.empty() && options.clip_gap_seconds <= 0)) return {};
  std::vector<ClipGap> gaps = UnexplainedGaps(track.drawings, segments, options.clip_gap_seconds);
  if (gaps.size() > kMaxChannelGaps) {
    std::partial_sort(
        gaps.begin(), gaps.begin() + kMaxChannelGaps, gaps.end(),
        [](const ClipGap& a, const ClipGap& b) { return a.end - a.start > b.end - b.start; });
    gaps.resize(kMaxChannelGaps);
    std::sort(gaps.begin(), gaps.end(),
              [](const ClipGap& a, const ClipGap& b) { return a.start < b.start; });
  }
  std::vector<MatchRecord> found;
  std::unique_ptr<VideoReader> reader;
  for (size_t g = 0; g < gaps.size(); ++g) {
    const std::vector<double> times =
        GapSampleTimes(track.drawings, gaps[g], options.clip_channel_frames);
    if (times.size() < 2) continue;
    try {
      if (!reader) {
        VideoReaderOptions decode;
        decode.max_side = options.query_side;  // BGR: the line-art test looks at colour
        reader = reopen(decode);
      }
      for (MatchRecord& m : MatchFramesByChannels(times, *reader, index, options, deadline)) {
        found.push_back(std::move(m));
      }
    } catch (const std::exception& e) {  // celtrace's errors, OpenCV's, the allocator's
      if (segments.empty()) throw;
      const std::string stopped = "channels stopped after " + std::to_string(g) + " of " +
                                  std::to_string(gaps.size()) +
                                  " unexplained stretches: " + e.what();
      AddNote(note, stopped);
      break;
    }
  }
  return found;
}

// A clip of one drawing matched as a still: its first frame, decoded again at the channels'
// query side, through the still's whole pipeline (PDQ in eight orientations, then the
// channels). Each match spans the clip's stretch where the drawing shows, and the hold the
// still's match found in the episode. None without `reopen` or when the still matches none.
std::vector<MatchRecord> MatchDrawingAsStill(const QueryDrawing& drawing, int track_frames,
                                             const ReopenClip& reopen, const ReferenceIndex& index,
                                             const MatchOptions& options, Deadline deadline) {
  if (!reopen) return {};
  VideoReaderOptions decode;
  decode.max_side = options.query_side;
  const std::unique_ptr<VideoReader> reader = reopen(decode);
  // Read up to the drawing rather than seeking to it: a cover picture (an attached picture
  // stream) cannot seek, and the clip's one drawing starts at its first informative frame.
  Frame frame;
  bool found_frame = false;
  while (reader->Read(&frame)) {
    CheckDeadline(deadline, options.max_seconds_per_file);
    if (frame.seconds >= drawing.start - 1e-3) {
      found_frame = true;
      break;
    }
  }
  if (!found_frame) return {};
  ResultRecord still;
  MatchStill(frame.image, index, options, &still, deadline);
  if (still.status != "match") return {};
  std::vector<MatchRecord> matches;
  for (MatchRecord& m : still.matches) {
    m.query_start = drawing.start;
    m.query_end = drawing.end;
    m.segment = true;
    m.frames = drawing.frames;
    m.coverage = track_frames > 0 ? static_cast<double>(drawing.frames) / track_frames : 0;
    matches.push_back(std::move(m));
  }
  return matches;
}

}  // namespace

void MatchClip(VideoReader& reader, const ReferenceIndex& index, const MatchOptions& options,
               Deadline deadline, ResultRecord* record, const ReopenClip& reopen) {
  const int side = options.hash_side > 0 ? options.hash_side : index.info().parameters.hash_side;
  // Long clips are sampled evenly so that about max_clip_frames are hashed. The container's
  // duration is the file's word, not a fact: one edited field (a Matroska duration of 1e10 s)
  // made the stride so long that only the first frame was hashed, hiding the clip. So the
  // frame count is held to what the file's bytes can carry (a coded frame takes a few bytes
  // at least); if more frames arrive than expected the stride doubles as they come, and if
  // the clip ends with far fewer hashed than it had (a long declared duration on a clip of
  // large frames), it is decoded again at the stride its real length asks for.
  constexpr double kMinBytesPerFrame = 8;
  double expected = reader.duration_seconds() * reader.frame_rate();
  if (record->size > 0) expected = std::min(expected, record->size / kMinBytesPerFrame);
  const std::int64_t budget = std::max(1, options.max_clip_frames);
  const std::int64_t hinted = std::isfinite(expected) && expected > static_cast<double>(budget)
                                  ? static_cast<std::int64_t>(std::ceil(expected / budget))
                                  : 1;

  // Two query tracks: the frames as they are, and the picture inside uniform bars
  // (letterboxed or pillarboxed copies); the track that aligns more frames wins.
  struct Sampled {
    DrawingTrack plain, trimmed;
    std::vector<int> qualities;
    std::int64_t decoded = 0, hashed = 0;
    bool damaged = false;     // the source stopped at damaged data
    double last_seconds = 0;  // time of the last frame decoded
  };
  // Every stride-th frame `source` decodes, hashed into the tracks.
  auto sample = [&](VideoReader& source, std::int64_t stride) {
    Sampled s;
    Frame frame;
    std::int64_t since_doubling = 0;
    while (source.Read(&frame)) {
      CheckDeadline(deadline, options.max_seconds_per_file);
      if (s.decoded++ % stride != 0) continue;
      ++s.hashed;
      if (++since_doubling > 2 * budget) {  // more frames than the container said
        stride *= 2;
        since_doubling = budget;
      }
      const cv::Mat input = HashInput(frame.image, side);
      const Pdq hash = ComputePdq(input);
      s.qualities.push_back(hash.quality);
      s.plain.Add(hash, frame.seconds, options.min_quality);
      const cv::Rect content =
          options.trim_borders ? FindContentRect(input) : cv::Rect(0, 0, input.cols, input.rows);
      if (content.width == input.cols && content.height == input.rows) {
        s.trimmed.Add(hash, frame.seconds, options.min_quality);
      } else {
        s.trimmed.Add(ComputePdq(HashInput(input(content), side)), frame.seconds,
                      options.min_quality);
        s.trimmed.differs = true;
      }
    }
    s.damaged = source.ended_at_damage();
    s.last_seconds = source.last_seconds();
    return s;
  };
  Sampled sampled = sample(reader, hinted);
  if (reopen && sampled.hashed * 2 < std::min(sampled.decoded, budget)) {
    // The first pass stands if the second cannot be made (the clip does not open again).
    try {
      VideoReaderOptions again;
      again.luma_only = true;
      again.square_side = side;
      const std::unique_ptr<VideoReader> second = reopen(again);
      sampled = sample(*second, std::max<std::int64_t>(1, (sampled.decoded + budget - 1) / budget));
    } catch (const TimeoutError&) {
      throw;
    } catch (const Error&) {
    }
  }
  DrawingTrack& plain = sampled.plain;
  DrawingTrack& trimmed = sampled.trimmed;
  std::vector<int>& qualities = sampled.qualities;
  if (qualities.empty()) throw Error("corrupt: no video frames decoded");
  std::nth_element(qualities.begin(), qualities.begin() + qualities.size() / 2, qualities.end());
  record->quality = qualities[qualities.size() / 2];
  if (plain.drawings.empty() && trimmed.drawings.empty()) {
    record->status = "low_information";
    return;
  }
  auto align = [&](const DrawingTrack& track) {
    std::vector<std::uint8_t> codes;
    codes.reserve(track.drawings.size() * 32);
    for (const QueryDrawing& d : track.drawings) {
      codes.insert(codes.end(), d.hash.bytes.begin(), d.hash.bytes.end());
    }
    const auto neighbors = index.Search(codes, options.clip_threshold, 64);
    return AlignSegments(track.drawings, neighbors, index.entries(), options.min_segment_drawings,
                         options.min_segment_frames);
  };
  auto aligned_frames = [](const std::vector<Segment>& found) {
    int frames = 0;
    for (const Segment& s : found) frames += s.occurrence_of < 0 ? s.frames : 0;
    return frames;
  };
  CheckDeadline(deadline, options.max_seconds_per_file);
  std::vector<Segment> segments = align(plain);
  const DrawingTrack* track = &plain;
  if (trimmed.differs) {
    CheckDeadline(deadline, options.max_seconds_per_file);
    std::vector<Segment> other = align(trimmed);
    if (aligned_frames(other) > aligned_frames(segments)) {
      segments = std::move(other);
      track = &trimmed;
    }
  }
  // The informative frames of the track the segments come from: the trimmed track counts
  // frames whose bars left too little for the plain one (coverage was 1.02 against the
  // plain count).
  int track_frames = 0;
  for (const QueryDrawing& d : track->drawings) track_frames += d.frames;
  CheckDeadline(deadline, options.max_seconds_per_file);
  std::vector<MatchRecord> by_channels;
  if (track->drawings.size() == 1) {
    // One drawing throughout (a still in a video container, a looped picture, a cut shorter
    // than its hold): no motion to align, so the picture is matched as a still, and the
    // clip's stretch is where it shows. Alignment found static pictures "moving" through
    // their hold, and the channels' frames of one picture two "segments". What alignment
    // found stands if the still matches nothing (alignment's bar is --clip-threshold).
    by_channels = MatchDrawingAsStill(track->drawings.front(), track_frames, reopen, index, options,
                                      deadline);
    if (!by_channels.empty()) segments.clear();
  }
  if (by_channels.empty()) {
    by_channels =
        MatchGapsByChannels(*track, segments, reopen, index, options, deadline, &record->note);
  }
  if (std::count_if(segments.begin(), segments.end(),
                    [](const Segment& s) { return s.occurrence_of < 0; }) >= kMaxSegments) {
    const std::string more = fmt::format(
        "only the {} best supported segments are reported; the clip may hold more (a long "
        "compilation)",
        kMaxSegments);
    AddNote(&record->note, more);
  }
  // A file that ends early (damaged or cut short: demuxers mostly stop at damage as at an
  // end) was analysed only as far as it decodes; the record says so, match or not.
  const double declared = reader.stream_duration_seconds();
  // The last frame shows until the next would: a slideshow at one frame in five seconds
  // reaches its end five seconds after its last frame starts.
  const double interval = reader.frame_rate() > 0 ? 1 / reader.frame_rate() : 0;
  const double reached = sampled.last_seconds;
  const double shown = reached + interval;
  if (!reader.attached_picture() &&
      (sampled.damaged || (declared > 0 && shown < 0.9 * declared && declared - shown >= 1))) {
    const std::string early =
        declared > 0 ? fmt::format(
                           "decoding ended at {:.3f} s of the {:.3f} s the video stream "
                           "declares (damaged or cut short: the rest was not analysed)",
                           reached, declared)
                     : fmt::format(
                           "decoding ended at {:.3f} s at damaged data (the rest was not "
                           "analysed)",
                           reached);
    AddNote(&record->note, early);
  }
  if (segments.empty() && by_channels.empty()) {
    record->status = "no_match";
    return;
  }
  record->status = "match";
  for (const Segment& s : segments) {
    MatchRecord m = MatchOfEpisode(index, s.episode);
    m.query_start = s.query_start;
    m.query_end = s.query_end;
    m.ref_start = s.ref_start;
    m.ref_end = s.ref_end;
    m.distance = s.median_distance;
    // Well supported segments reach full confidence at twice the minimum drawings.
    const double support = std::min(1.0, std::max(s.drawings / (2.0 * options.min_segment_drawings),
                                                  s.frames / (2.0 * options.min_segment_frames)));
    m.confidence =
        Confidence(s.median_distance, options.clip_threshold * 2 + 2, options.clip_threshold) *
        support;
    m.segment = true;
    m.frames = s.frames;
    m.coverage = track_frames > 0 ? static_cast<double>(s.frames) / track_frames : 0;
    record->matches.push_back(std::move(m));
  }
  for (MatchRecord& m : by_channels) record->matches.push_back(std::move(m));
}

}  // namespace celtrace
