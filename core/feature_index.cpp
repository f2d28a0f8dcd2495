#include "celtrace/feature_index.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <string_view>

#include "celtrace/error.h"
#include "celtrace/line_art.h"

namespace celtrace {
namespace {

// Keyframe table: magic, keyframe count (u64), descriptor count (u64), then per keyframe
// first_entry (i64), last_entry (i64), width (u16), height (u16), first_descriptor (u32),
// descriptor_count (u32), thumbnail width and height (u16 each), thumbnail count (u32),
// chroma thumbnail width and height (u16 each), chroma count (u32), then per descriptor x, y
// (u16 each, 1/16 pixel), then the thumbnails' 8-bit pixels, keyframe after keyframe, entry
// after entry, row-major, then the chroma thumbnails' pixels the same way (a*, b*
// interleaved), then the stroke maps: per map its byte count (u32) and its bytes (a 1-bit
// PNG), keyframe after keyframe, entry after entry; each row ends with its stroke count
// (u32, 0 or one per entry); then the stroke hashes: their count (u64, 0 or one per stroke
// map) and 32 bytes each (StrokeHash, PDQ's byte order), map after map. Little-endian.
// Version 3 (CTKEYS03) ends at the stroke maps; version 2 (CTKEYS02) rows end at the chroma
// count and have no stroke section; version 1 (CTKEYS01) rows end at the thumbnail count and
// have no chroma section either; all are still read.
constexpr std::string_view kMagic = "CTKEYS04";
constexpr std::string_view kMagicVersion3 = "CTKEYS03";
constexpr std::string_view kMagicVersion2 = "CTKEYS02";
constexpr std::string_view kMagicVersion1 = "CTKEYS01";
constexpr int kRowBytesVersion1 = 8 + 8 + 2 + 2 + 4 + 4 + 2 + 2 + 4;
constexpr int kRowBytesVersion2 = kRowBytesVersion1 + 2 + 2 + 4;
constexpr int kRowBytes = kRowBytesVersion2 + 4;
// A stroke map's bytes: PNG at most this many (a 1-bit 2048x2048 map is 512 KiB raw).
constexpr std::uint32_t kMaxStrokeBytes = 1u << 20;
constexpr float kPointScale = 16;
constexpr std::uint64_t kStrokeHashBytes = std::tuple_size_v<decltype(Pdq::bytes)>;

template <typename T>
void Put(std::vector<std::uint8_t>* out, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&value);
  out->insert(out->end(), bytes, bytes + sizeof(T));
}

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  template <typename T>
  T Get() {
    if (bytes_.size() - at_ < sizeof(T)) throw IndexError("keyframe table is truncated");
    T value;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  // Appends the next `count` bytes to `out`.
  void Append(size_t count, std::vector<std::uint8_t>* out) {
    if (bytes_.size() - at_ < count) throw IndexError("keyframe table is truncated");
    out->insert(out->end(), bytes_.begin() + static_cast<std::ptrdiff_t>(at_),
                bytes_.begin() + static_cast<std::ptrdiff_t>(at_ + count));
    at_ += count;
  }
  size_t remaining() const { return bytes_.size() - at_; }

 private:
  std::span<const std::uint8_t> bytes_;
  size_t at_ = 0;
};

static_assert(std::endian::native == std::endian::little, "the keyframe table is little-endian");

// The index of the last of `rows` (ordered by `start`) whose `start` is at most `value`: the
// keyframe a descriptor or a stroke map number belongs to.
template <typename Row, typename Value, typename Start>
std::int64_t LastRowStartingBy(const std::vector<Row>& rows, Value value, Start Row::*start) {
  const auto it = std::upper_bound(rows.begin(), rows.end(), value,
                                   [&](Value v, const Row& row) { return v < row.*start; });
  return (it - rows.begin()) - 1;
}

}  // namespace

FeatureIndex::FeatureIndex()
    : descriptors_(kFeatureDescriptorBytes * 8), stroke_hashes_(kStrokeHashBytes * 8) {}
FeatureIndex::~FeatureIndex() = default;
FeatureIndex::FeatureIndex(FeatureIndex&&) noexcept = default;
FeatureIndex& FeatureIndex::operator=(FeatureIndex&&) noexcept = default;

void FeatureIndex::AppendThumbnails(const std::vector<cv::Mat>& thumbnails, int type,
                                    std::int64_t entries, ThumbnailBlock* block,
                                    std::vector<std::uint8_t>* pixels) {
  if (thumbnails.empty()) return;
  const cv::Mat& first = thumbnails.front();
  if (static_cast<std::int64_t>(thumbnails.size()) != entries) {
    throw Error("feature keyframe: one thumbnail per entry needed");
  }
  for (const cv::Mat& t : thumbnails) {
    if (t.type() != type || t.size() != first.size() || t.cols > 1024 || t.rows > 1024) {
      throw Error("feature keyframe: thumbnails must be 8-bit, of one size, <= 1024 px");
    }
  }
  block->width = static_cast<std::uint16_t>(first.cols);
  block->height = static_cast<std::uint16_t>(first.rows);
  block->count = static_cast<std::uint32_t>(thumbnails.size());
  block->offset = pixels->size();
  for (const cv::Mat& t : thumbnails) {
    for (int y = 0; y < t.rows; ++y) {
      const std::uint8_t* line = t.ptr<std::uint8_t>(y);
      pixels->insert(pixels->end(), line, line + t.cols * t.elemSize());
    }
  }
}

void FeatureIndex::Add(const FeatureKeyframe& keyframe) {
  const FeatureSet& f = keyframe.features;
  if (f.descriptors.size() != f.points.size() * kFeatureDescriptorBytes) {
    throw Error("feature keyframe: descriptors and points disagree");
  }
  if (f.size.width <= 0 || f.size.height <= 0 || f.size.width > 4095 || f.size.height > 4095) {
    throw Error("feature keyframe: picture size out of range");
  }
  KeyframeRow row;
  row.first_entry = keyframe.first_entry;
  row.last_entry = keyframe.last_entry;
  row.width = static_cast<std::uint16_t>(f.size.width);
  row.height = static_cast<std::uint16_t>(f.size.height);
  row.first_descriptor = static_cast<std::uint32_t>(descriptors_.size());
  row.descriptor_count = static_cast<std::uint32_t>(f.points.size());
  const std::int64_t entries = keyframe.last_entry - keyframe.first_entry + 1;
  for (const cv::Point2f& p : f.points) {
    if (!(p.x >= 0 && p.y >= 0 && p.x < 4095 && p.y < 4095)) {
      throw Error("feature keyframe: keypoint outside the picture");
    }
  }
  std::vector<std::vector<std::uint8_t>> encoded;  // the stroke maps' PNGs
  if (!keyframe.strokes.empty()) {
    if (static_cast<std::int64_t>(keyframe.strokes.size()) != entries) {
      throw Error("feature keyframe: one stroke map per entry needed");
    }
    const cv::Size stroke_size = StrokeMapSize(f.size);
    for (const cv::Mat& map : keyframe.strokes) {
      if (map.type() != CV_8UC1 || map.size() != stroke_size) {
        throw Error("feature keyframe: stroke maps must be 8-bit, half the picture's size");
      }
      std::vector<std::uint8_t> png;
      // Bilevel: 0 stays ink, anything else paper. zlib level 6: on 60 frames of the
      // evaluation catalogue 1,105 bytes a map in 0.26 ms of encoding, against 1,078 bytes in
      // 1.84 ms at level 9 (this runs on the build's one writer thread).
      const cv::Mat paper = map != 0;
      if (!cv::imencode(".png", paper, png,
                        {cv::IMWRITE_PNG_BILEVEL, 1, cv::IMWRITE_PNG_COMPRESSION, 6}) ||
          png.size() > kMaxStrokeBytes) {
        throw Error("feature keyframe: a stroke map could not be encoded");
      }
      encoded.push_back(std::move(png));
    }
  }
  // Maps of a table read without hashes (version 3) are hashed before the new ones, so that
  // hash i stays map i's.
  std::vector<std::uint8_t> hashes;
  for (std::uint64_t map = stroke_hashes_.size(); map + 1 < stroke_offsets_.size(); ++map) {
    const KeyframeRow& owner = keyframes_[KeyframeOfStrokeMap(map)];
    const cv::Mat decoded = DecodeStrokeMap(map, StrokeMapSize({owner.width, owner.height}));
    if (decoded.empty()) throw IndexError("keyframe table: a stroke map does not decode");
    const Pdq hash = StrokeHash(decoded);
    hashes.insert(hashes.end(), hash.bytes.begin(), hash.bytes.end());
  }
  for (const cv::Mat& map : keyframe.strokes) {
    const Pdq hash = StrokeHash(map);
    hashes.insert(hashes.end(), hash.bytes.begin(), hash.bytes.end());
  }
  // The thumbnails are checked as they are appended: a refused keyframe leaves no orphan
  // pixels in the table.
  const size_t thumbnail_bytes = thumbnails_.size(), chroma_bytes = chroma_.size();
  try {
    AppendThumbnails(keyframe.thumbnails, CV_8UC1, entries, &row.grey, &thumbnails_);
    AppendThumbnails(keyframe.chroma, CV_8UC2, entries, &row.chroma, &chroma_);
  } catch (...) {
    thumbnails_.resize(thumbnail_bytes);
    chroma_.resize(chroma_bytes);
    throw;
  }
  stroke_hashes_.Add(hashes);
  row.stroke_count = static_cast<std::uint32_t>(encoded.size());
  row.first_stroke = stroke_offsets_.size() - 1;
  for (const auto& png : encoded) {
    strokes_.insert(strokes_.end(), png.begin(), png.end());
    stroke_offsets_.push_back(strokes_.size());
  }
  for (const cv::Point2f& p : f.points) {
    points_.push_back(static_cast<std::uint16_t>(std::lround(p.x * kPointScale)));
    points_.push_back(static_cast<std::uint16_t>(std::lround(p.y * kPointScale)));
  }
  descriptors_.Add(f.descriptors);
  keyframes_.push_back(row);
}

FeatureKeyframe FeatureIndex::Keyframe(std::int64_t keyframe) const {
  const KeyframeRow& row = keyframes_.at(keyframe);
  FeatureKeyframe out;
  out.first_entry = row.first_entry;
  out.last_entry = row.last_entry;
  out.features.size = cv::Size(row.width, row.height);
  for (std::uint32_t i = 0; i < row.grey.count; ++i) {
    out.thumbnails.push_back(Thumbnail(keyframe, i).clone());
  }
  for (std::uint32_t i = 0; i < row.chroma.count; ++i) {
    out.chroma.push_back(Chroma(keyframe, i).clone());
  }
  for (std::uint32_t i = 0; i < row.stroke_count; ++i) {
    cv::Mat map = StrokeMap(keyframe, i);
    if (map.empty()) throw IndexError("keyframe table: a stroke map does not decode");
    out.strokes.push_back(std::move(map));
  }
  for (std::uint32_t i = 0; i < row.descriptor_count; ++i) {
    const std::int64_t id = row.first_descriptor + i;
    const auto code = descriptors_.Code(id);
    out.features.descriptors.insert(out.features.descriptors.end(), code.begin(), code.end());
    out.features.points.push_back(PointOf(id));
  }
  return out;
}

cv::Size FeatureIndex::PictureSize(std::int64_t keyframe) const {
  return {keyframes_[keyframe].width, keyframes_[keyframe].height};
}

namespace {

// A read-only view of thumbnail `offset` of a block: the table outlives every use during
// matching.
cv::Mat ViewOf(const std::vector<std::uint8_t>& pixels, std::uint16_t width, std::uint16_t height,
               std::uint32_t count, std::uint64_t start, int type, std::int64_t offset) {
  if (offset < 0 || offset >= count) return {};
  const std::uint64_t bytes = std::uint64_t{width} * height * CV_ELEM_SIZE(type);
  return cv::Mat(height, width, type,
                 const_cast<std::uint8_t*>(pixels.data() + start +
                                           bytes * static_cast<std::uint64_t>(offset)));
}

}  // namespace

cv::Mat FeatureIndex::Thumbnail(std::int64_t keyframe, std::int64_t offset) const {
  const ThumbnailBlock& b = keyframes_[keyframe].grey;
  return ViewOf(thumbnails_, b.width, b.height, b.count, b.offset, CV_8UC1, offset);
}

cv::Mat FeatureIndex::Chroma(std::int64_t keyframe, std::int64_t offset) const {
  const ThumbnailBlock& b = keyframes_[keyframe].chroma;
  return ViewOf(chroma_, b.width, b.height, b.count, b.offset, CV_8UC2, offset);
}

cv::Mat FeatureIndex::StrokeMap(std::int64_t keyframe, std::int64_t offset) const {
  const KeyframeRow& row = keyframes_[keyframe];
  if (offset < 0 || offset >= row.stroke_count) return {};
  return DecodeStrokeMap(row.first_stroke + static_cast<std::uint64_t>(offset),
                         StrokeMapSize({row.width, row.height}));
}

cv::Mat FeatureIndex::DecodeStrokeMap(std::uint64_t map, cv::Size size) const {
  const std::uint64_t begin = stroke_offsets_[map];
  const std::uint64_t end = stroke_offsets_[map + 1];
  // The bytes must be a PNG whose header declares that size before anything is decoded: a
  // table is checked against its checksum, not trusted to be sane (a map declaring
  // 60000x60000 pixels would ask the decoder for gigabytes, and imdecode picks its decoder by
  // the bytes' own signature). Signature (8 bytes), IHDR length and type (8), then width and
  // height, big-endian.
  const std::uint8_t* png = strokes_.data() + begin;
  static constexpr std::array<std::uint8_t, 16> kHeader = {
      0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  const auto big_endian = [&](int at) {
    return (std::uint32_t{png[at]} << 24) | (std::uint32_t{png[at + 1]} << 16) |
           (std::uint32_t{png[at + 2]} << 8) | std::uint32_t{png[at + 3]};
  };
  if (end - begin < 24 || !std::equal(kHeader.begin(), kHeader.end(), png) ||
      big_endian(16) != static_cast<std::uint32_t>(size.width) ||
      big_endian(20) != static_cast<std::uint32_t>(size.height)) {
    return {};
  }
  const cv::Mat bytes(1, static_cast<int>(end - begin), CV_8UC1, const_cast<std::uint8_t*>(png));
  cv::Mat decoded = cv::imdecode(bytes, cv::IMREAD_GRAYSCALE);
  if (decoded.type() != CV_8UC1 || decoded.size() != size) return {};
  return decoded;
}

std::int64_t FeatureIndex::KeyframeOfStrokeMap(std::uint64_t map) const {
  // Keyframes without maps that share its start come before the one that holds it.
  return LastRowStartingBy(keyframes_, map, &KeyframeRow::first_stroke);
}

std::vector<FeatureIndex::StrokeCandidate> FeatureIndex::NearestStrokeMaps(const Pdq& hash,
                                                                           int max_distance,
                                                                           int limit) const {
  std::vector<StrokeCandidate> out;
  if (stroke_hashes_.size() == 0 || limit <= 0) return out;
  const auto found = stroke_hashes_.Search(hash.bytes, max_distance, limit);
  for (const Neighbor& n : found.front()) {
    const auto map = static_cast<std::uint64_t>(n.id);
    const std::int64_t keyframe = KeyframeOfStrokeMap(map);
    out.push_back(
        {keyframe, static_cast<std::int64_t>(map - keyframes_[keyframe].first_stroke), n.distance});
  }
  return out;
}

std::int64_t FeatureIndex::KeyframeOf(std::int64_t descriptor) const {
  return LastRowStartingBy(keyframes_, descriptor, &KeyframeRow::first_descriptor);
}

cv::Point2f FeatureIndex::PointOf(std::int64_t descriptor) const {
  return {points_[2 * descriptor] / kPointScale, points_[2 * descriptor + 1] / kPointScale};
}

std::vector<std::uint8_t> FeatureIndex::SerializeTable() const {
  std::vector<std::uint8_t> out(kMagic.begin(), kMagic.end());
  Put<std::uint64_t>(&out, keyframes_.size());
  Put<std::uint64_t>(&out, static_cast<std::uint64_t>(descriptors_.size()));
  for (const KeyframeRow& row : keyframes_) {
    Put(&out, row.first_entry);
    Put(&out, row.last_entry);
    Put(&out, row.width);
    Put(&out, row.height);
    Put(&out, row.first_descriptor);
    Put(&out, row.descriptor_count);
    for (const ThumbnailBlock* block : {&row.grey, &row.chroma}) {
      Put(&out, block->width);
      Put(&out, block->height);
      Put(&out, block->count);
    }
    Put(&out, row.stroke_count);
  }
  for (std::uint16_t v : points_) Put(&out, v);
  out.insert(out.end(), thumbnails_.begin(), thumbnails_.end());
  out.insert(out.end(), chroma_.begin(), chroma_.end());
  for (size_t i = 0; i + 1 < stroke_offsets_.size(); ++i) {
    Put<std::uint32_t>(&out,
                       static_cast<std::uint32_t>(stroke_offsets_[i + 1] - stroke_offsets_[i]));
    out.insert(out.end(), strokes_.begin() + static_cast<std::ptrdiff_t>(stroke_offsets_[i]),
               strokes_.begin() + static_cast<std::ptrdiff_t>(stroke_offsets_[i + 1]));
  }
  Put<std::uint64_t>(&out, static_cast<std::uint64_t>(stroke_hashes_.size()));
  for (std::int64_t i = 0; i < stroke_hashes_.size(); ++i) {
    const auto code = stroke_hashes_.Code(i);
    out.insert(out.end(), code.begin(), code.end());
  }
  return out;
}

FeatureIndex FeatureIndex::Deserialize(std::span<const std::uint8_t> descriptors,
                                       std::span<const std::uint8_t> table) {
  FeatureIndex index;
  index.descriptors_ = HashIndex::Deserialize(descriptors);
  if (index.descriptors_.bits() != kFeatureDescriptorBytes * 8) {
    throw IndexError("feature descriptors are not 256-bit codes");
  }
  const auto starts_with = [&](std::string_view magic) {
    return table.size() >= magic.size() && std::equal(magic.begin(), magic.end(), table.begin());
  };
  const int version = starts_with(kMagic)           ? 4
                      : starts_with(kMagicVersion3) ? 3
                      : starts_with(kMagicVersion2) ? 2
                      : starts_with(kMagicVersion1) ? 1
                                                    : 0;
  if (version == 0) throw IndexError("not a celtrace keyframe table");
  const std::uint64_t row_bytes = version == 1   ? kRowBytesVersion1
                                  : version == 2 ? kRowBytesVersion2
                                                 : kRowBytes;
  Reader in(table.subspan(kMagic.size()));
  const auto keyframes = in.Get<std::uint64_t>();
  const auto count = in.Get<std::uint64_t>();
  if (static_cast<std::int64_t>(count) != index.descriptors_.size() ||
      in.remaining() / row_bytes < keyframes ||
      in.remaining() - keyframes * row_bytes < count * 4) {
    throw IndexError("keyframe table does not match its descriptors");
  }
  std::uint64_t next = 0;
  std::uint64_t thumbnail_bytes = 0;
  std::uint64_t chroma_bytes = 0;
  std::uint64_t stroke_maps = 0;
  // Reads a block's size and places its pixels after the blocks before it.
  const auto read_block = [&](const KeyframeRow& row, int pixel_bytes, std::uint64_t* total) {
    ThumbnailBlock block;
    block.width = in.Get<std::uint16_t>();
    block.height = in.Get<std::uint16_t>();
    block.count = in.Get<std::uint32_t>();
    block.offset = *total;
    *total += std::uint64_t{block.width} * block.height * pixel_bytes * block.count;
    if (block.count != 0 &&
        static_cast<std::int64_t>(block.count) != row.last_entry - row.first_entry + 1) {
      throw IndexError("keyframe table: thumbnails do not match the entries");
    }
    return block;
  };
  index.keyframes_.reserve(keyframes);
  for (std::uint64_t k = 0; k < keyframes; ++k) {
    KeyframeRow row;
    row.first_entry = in.Get<std::int64_t>();
    row.last_entry = in.Get<std::int64_t>();
    row.width = in.Get<std::uint16_t>();
    row.height = in.Get<std::uint16_t>();
    row.first_descriptor = in.Get<std::uint32_t>();
    row.descriptor_count = in.Get<std::uint32_t>();
    row.grey = read_block(row, 1, &thumbnail_bytes);
    if (version >= 2) row.chroma = read_block(row, 2, &chroma_bytes);
    if (version >= 3) {
      row.stroke_count = in.Get<std::uint32_t>();
      row.first_stroke = stroke_maps;
      stroke_maps += row.stroke_count;
    }
    if (row.first_descriptor != next || row.last_entry < row.first_entry ||
        (row.stroke_count != 0 &&
         static_cast<std::int64_t>(row.stroke_count) != row.last_entry - row.first_entry + 1)) {
      throw IndexError("keyframe table rows are inconsistent");
    }
    next += row.descriptor_count;
    index.keyframes_.push_back(row);
  }
  if (next != count) throw IndexError("keyframe table rows do not cover the descriptors");
  const std::uint64_t fixed_bytes = count * 4 + thumbnail_bytes + chroma_bytes;
  if (version < 3
          ? in.remaining() != fixed_bytes
          : in.remaining() < fixed_bytes || (in.remaining() - fixed_bytes) / 4 < stroke_maps) {
    throw IndexError("keyframe table has the wrong size for its keyframes");
  }
  index.points_.resize(count * 2);
  for (auto& v : index.points_) v = in.Get<std::uint16_t>();
  in.Append(thumbnail_bytes, &index.thumbnails_);
  in.Append(chroma_bytes, &index.chroma_);
  index.stroke_offsets_.reserve(stroke_maps + 1);
  for (std::uint64_t i = 0; i < stroke_maps; ++i) {
    const auto bytes = in.Get<std::uint32_t>();
    if (bytes > kMaxStrokeBytes || bytes > in.remaining()) {
      throw IndexError("keyframe table: a stroke map overruns the table");
    }
    in.Append(bytes, &index.strokes_);
    index.stroke_offsets_.push_back(index.strokes_.size());
  }
  if (version >= 4) {
    const auto hashes = in.Get<std::uint64_t>();
    if ((hashes != 0 && hashes != stroke_maps) || in.remaining() != hashes * kStrokeHashBytes) {
      throw IndexError("keyframe table: stroke hashes do not match the stroke maps");
    }
    std::vector<std::uint8_t> codes;
    in.Append(hashes * kStrokeHashBytes, &codes);
    index.stroke_hashes_.Add(codes);
  }
  if (in.remaining() != 0) throw IndexError("keyframe table has bytes after its stroke maps");
  return index;
}

}  // namespace celtrace
