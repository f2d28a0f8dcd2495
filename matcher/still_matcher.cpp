#include "still_matcher.h"

#include <algorithm>
#include <map>
#include <opencv2/imgproc.hpp>

#include "border_trim.h"
#include "celtrace/pdq.h"
#include "feature_matcher.h"

namespace celtrace {
namespace {

// Margin (bits) to the nearest other episode at which an attribution counts as unambiguous.
constexpr double kClearMargin = 16;

struct QueryHash {
  Pdq hash;
  Orientation orientation;
  bool trimmed;
};

struct Candidate {
  int distance = 1 << 30;
  Orientation orientation = Orientation::kOriginal;
  bool trimmed = false;
};

void AddVariant(const cv::Mat& image, int side, bool trimmed, std::vector<QueryHash>* hashes) {
  const cv::Mat input = HashInput(image, side);
  // Pixel-domain orientations: exact at any size (the DCT-domain shortcut drifts by tens of
  // bits on small detailed images).
  for (int o = 0; o < kOrientationCount; ++o) {
    const auto orientation = static_cast<Orientation>(o);
    hashes->push_back({ComputePdq(OrientImage(input, orientation)), orientation, trimmed});
  }
}

}  // namespace

cv::Mat HashInput(const cv::Mat& image, int side) {
  cv::Mat luma8;
  PdqLuma(image).convertTo(luma8, CV_8U);
  if (side > 0 && (luma8.cols > side || luma8.rows > side)) {
    cv::resize(luma8, luma8, cv::Size(side, side), 0, 0, cv::INTER_AREA);
  }
  return luma8;
}

MatchRecord MatchOfEpisode(const ReferenceIndex& index, std::int32_t episode_index) {
  const EpisodeRecord& episode = index.episodes()[episode_index];
  MatchRecord m;
  m.title = episode.title;
  m.season = episode.season;
  m.episode = episode.episode;
  m.source = episode.source;
  return m;
}

double Confidence(int distance, int rival_distance, int threshold) {
  const double span = 2.0 * threshold + 2;
  const double closeness = std::max(0.0, 1.0 - (distance / span) * (distance / span));
  const double margin = std::clamp((rival_distance - distance) / kClearMargin, 0.0, 1.0);
  return closeness * (0.5 + 0.5 * margin);
}

void MatchStill(const cv::Mat& image, const ReferenceIndex& index, const MatchOptions& options,
                ResultRecord* record, Deadline deadline) {
  const int side = options.hash_side > 0 ? options.hash_side : index.info().parameters.hash_side;
  std::vector<QueryHash> hashes;
  AddVariant(image, side, false, &hashes);
  if (options.trim_borders) {
    const cv::Rect content = FindContentRect(image);
    if (content.width != image.cols || content.height != image.rows) {
      AddVariant(image(content), side, true, &hashes);
    }
  }
  int quality = 0;
  for (const QueryHash& q : hashes) quality = std::max(quality, q.hash.quality);
  record->quality = quality;
  if (quality < options.min_quality) {
    record->status = "low_information";
    // Sparse line art can have little PDQ gradient; its channel verifies geometrically.
    MatchStillByFeatures(image, index, options, /*line_art_only=*/true, record, deadline);
    return;
  }

  std::vector<std::uint8_t> codes;
  std::vector<const QueryHash*> searched;
  for (const QueryHash& q : hashes) {
    if (q.hash.quality < options.min_quality) continue;
    codes.insert(codes.end(), q.hash.bytes.begin(), q.hash.bytes.end());
    searched.push_back(&q);
  }
  // Search past the threshold so that the margin to other episodes is known.
  const int radius = std::min(255, 2 * options.threshold + 1);
  const auto found = index.Search(codes, radius, 1024);
  std::map<std::int64_t, Candidate> candidates;
  for (size_t q = 0; q < found.size(); ++q) {
    for (const Neighbor& n : found[q]) {
      Candidate& c = candidates[n.id];
      if (n.distance < c.distance) c = {n.distance, searched[q]->orientation, searched[q]->trimmed};
    }
  }
  // The nearest candidate of each episode, for margins.
  std::map<std::int32_t, int> nearest_by_episode;
  for (const auto& [id, c] : candidates) {
    const std::int32_t episode = index.entries()[id].episode;
    auto [it, inserted] = nearest_by_episode.emplace(episode, c.distance);
    if (!inserted) it->second = std::min(it->second, c.distance);
  }
  auto rival = [&](std::int32_t episode) {
    int best = radius + 1;
    for (const auto& [other, distance] : nearest_by_episode) {
      if (other != episode) best = std::min(best, distance);
    }
    return best;
  };

  std::vector<std::pair<std::int64_t, Candidate>> matched;
  for (const auto& [id, c] : candidates) {
    if (c.distance <= options.threshold) matched.emplace_back(id, c);
  }
  if (matched.empty()) {
    // Only now the extra channels: a clean PDQ match is never overruled by them.
    record->status = "no_match";
    MatchStillByFeatures(image, index, options, /*line_art_only=*/false, record, deadline);
    return;
  }
  std::sort(matched.begin(), matched.end(), [&](const auto& a, const auto& b) {
    if (a.second.distance != b.second.distance) return a.second.distance < b.second.distance;
    return a.first < b.first;
  });
  if (static_cast<int>(matched.size()) > options.max_matches) matched.resize(options.max_matches);
  record->status = "match";
  for (const auto& [id, c] : matched) {
    const EntryInfo& entry = index.entries()[id];
    MatchRecord m = MatchOfEpisode(index, entry.episode);
    m.ref_start = entry.start;
    m.ref_end = entry.end;
    m.distance = c.distance;
    m.confidence = Confidence(c.distance, rival(entry.episode), options.threshold);
    m.orientation = std::string(OrientationName(c.orientation));
    m.trimmed = c.trimmed;
    record->matches.push_back(std::move(m));
  }
}

}  // namespace celtrace
