// FeatureIndex is one local-feature channel of an index generation: the binary descriptors
// of the keyframes chosen per shot in a FAISS binary index (descriptor ids 0..n-1, the
// order of Add), plus a table giving each keyframe the catalogue entries it stands for, its
// picture size, and each descriptor's keypoint. Files: <channel>.faiss and <channel>.keys.
// Searches on a const index are thread-safe; Add is not.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "celtrace/hash_index.h"
#include "celtrace/local_features.h"
#include "celtrace/pdq.h"

namespace celtrace {

// A keyframe: the features of one frame, standing for the catalogue entries
// [first_entry, last_entry] (ids) that follow it until the next keyframe of its episode.
struct FeatureKeyframe {
  std::int64_t first_entry = 0;
  std::int64_t last_entry = 0;
  FeatureSet features;
  // One small picture (VerificationThumbnail, CV_8UC1, all of one size) per entry
  // first_entry..last_entry, from the entry's first frame on the keyframe's pixel grid: a
  // verified query is compared with each, which confirms the match and picks the entry.
  std::vector<cv::Mat> thumbnails;
  // None, or one chroma thumbnail (ChromaThumbnail, CV_8UC2, all of one size) per entry, of
  // the same frames: the orb channel's colour check.
  std::vector<cv::Mat> chroma;
  // None, or one stroke map (StrokeMap of the entry's ink map, CV_8UC1, half the keyframe's
  // picture size rounded up) per entry: the line-art channel's stroke check. Stored
  // losslessly compressed (a 1-bit PNG each).
  std::vector<cv::Mat> strokes;
};

class FeatureIndex {
 public:
  FeatureIndex();
  ~FeatureIndex();
  FeatureIndex(FeatureIndex&&) noexcept;
  FeatureIndex& operator=(FeatureIndex&&) noexcept;

  // Appends a keyframe and its descriptors. Throws celtrace::Error if its descriptors and
  // points disagree in number, or a coordinate lies outside 0..4095.
  void Add(const FeatureKeyframe& keyframe);

  std::int64_t keyframe_count() const { return static_cast<std::int64_t>(keyframes_.size()); }
  std::int64_t descriptor_count() const { return descriptors_.size(); }

  // The keyframe with its features, as added (coordinates to 1/16 pixel).
  FeatureKeyframe Keyframe(std::int64_t keyframe) const;
  std::int64_t FirstEntry(std::int64_t keyframe) const { return keyframes_[keyframe].first_entry; }
  std::int64_t LastEntry(std::int64_t keyframe) const { return keyframes_[keyframe].last_entry; }
  cv::Size PictureSize(std::int64_t keyframe) const;
  // The thumbnail of entry first_entry + offset (a read-only view into the table), or an
  // empty Mat if none was stored.
  cv::Mat Thumbnail(std::int64_t keyframe, std::int64_t offset) const;
  // The same for the entry's chroma thumbnail (CV_8UC2); empty if none was stored (line art,
  // or an index written before chroma thumbnails).
  cv::Mat Chroma(std::int64_t keyframe, std::int64_t offset) const;
  // The stroke map of entry first_entry + offset, decoded; empty if none was stored (orb, or
  // an index written before stroke maps) or if the stored bytes do not decode to one.
  cv::Mat StrokeMap(std::int64_t keyframe, std::int64_t offset) const;
  // Stroke maps in the whole channel (0: an index built before them, or orb).
  std::int64_t stroke_map_count() const {
    return static_cast<std::int64_t>(stroke_offsets_.size()) - 1;
  }
  // Stroke hashes (StrokeHash of each stroke map): 0 (orb, or a table written before them,
  // version 3 or older) or one per stroke map.
  std::int64_t stroke_hash_count() const { return stroke_hashes_.size(); }
  // How many stroke maps the keyframe holds: 0, or one per entry.
  std::int64_t StrokeMapCount(std::int64_t keyframe) const {
    return keyframes_[keyframe].stroke_count;
  }

  // An entry whose stroke hash lies near a query's: entry first_entry + offset of keyframe.
  struct StrokeCandidate {
    std::int64_t keyframe = 0;
    std::int64_t offset = 0;
    int distance = 0;  // bits of 256
  };
  // The entries whose stroke hash lies within max_distance bits of `hash`, nearest first
  // (ties in table order), at most `limit`; none when the table holds no stroke hashes.
  std::vector<StrokeCandidate> NearestStrokeMaps(const Pdq& hash, int max_distance,
                                                 int limit) const;

  // Returns the keyframe a descriptor belongs to, and its keypoint.
  std::int64_t KeyframeOf(std::int64_t descriptor) const;
  cv::Point2f PointOf(std::int64_t descriptor) const;

  // As HashIndex::Search, over descriptors: per query descriptor (32 bytes each), the
  // descriptors within max_distance bits, nearest first, at most `limit`.
  std::vector<std::vector<Neighbor>> Search(std::span<const std::uint8_t> queries, int max_distance,
                                            int limit) const {
    return descriptors_.Search(queries, max_distance, limit);
  }

  // The two files' bytes: FAISS's IndexBinaryFlat of the descriptors, and the keyframe
  // table (little-endian; layout in the README, "The index directory").
  std::vector<std::uint8_t> SerializeDescriptors() const { return descriptors_.Serialize(); }
  std::vector<std::uint8_t> SerializeTable() const;
  // Parses both (checksums verified by the caller). Throws celtrace::IndexError if they are
  // malformed or disagree.
  static FeatureIndex Deserialize(std::span<const std::uint8_t> descriptors,
                                  std::span<const std::uint8_t> table);

 private:
  struct ThumbnailBlock {
    std::uint16_t width = 0;
    std::uint16_t height = 0;
    std::uint32_t count = 0;   // 0 or last_entry - first_entry + 1
    std::uint64_t offset = 0;  // into the pixels of its kind
  };
  struct KeyframeRow {
    std::int64_t first_entry = 0;
    std::int64_t last_entry = 0;
    std::uint16_t width = 0;
    std::uint16_t height = 0;
    std::uint32_t first_descriptor = 0;
    std::uint32_t descriptor_count = 0;
    ThumbnailBlock grey;             // into thumbnails_
    ThumbnailBlock chroma;           // into chroma_
    std::uint32_t stroke_count = 0;  // 0 or last_entry - first_entry + 1
    std::uint64_t first_stroke = 0;  // into stroke_offsets_
  };
  // Stroke map `map` (0..stroke_map_count()-1) decoded, if it is a PNG of `size`.
  cv::Mat DecodeStrokeMap(std::uint64_t map, cv::Size size) const;
  // The keyframe whose stroke maps hold map number `map`.
  std::int64_t KeyframeOfStrokeMap(std::uint64_t map) const;
  // Checks one thumbnail per entry, all of `type` and one size, and appends their pixels.
  static void AppendThumbnails(const std::vector<cv::Mat>& thumbnails, int type,
                               std::int64_t entries, ThumbnailBlock* block,
                               std::vector<std::uint8_t>* pixels);

  HashIndex descriptors_;
  std::vector<KeyframeRow> keyframes_;
  std::vector<std::uint16_t> points_;     // x, y per descriptor, 1/16 pixel
  std::vector<std::uint8_t> thumbnails_;  // every keyframe's thumbnail pixels, row-major
  std::vector<std::uint8_t> chroma_;      // every keyframe's chroma pixels, a* b* interleaved
  std::vector<std::uint8_t> strokes_;     // every stroke map's PNG bytes, one after another
  std::vector<std::uint64_t> stroke_offsets_{0};  // map i: [offsets[i], offsets[i + 1])
  HashIndex stroke_hashes_;                       // id i: StrokeHash of map i
};

}  // namespace celtrace
