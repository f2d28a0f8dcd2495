#include "celtrace/feature_index.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string_view>

#include "celtrace/error.h"

namespace celtrace {
namespace {

// Keyframe table: magic, keyframe count (u64), descriptor count (u64), then per keyframe
// first_entry (i64), last_entry (i64), width (u16), height (u16), first_descriptor (u32),
// descriptor_count (u32), thumbnail width and height (u16 each), thumbnail count (u32), then
// per descriptor x, y (u16 each, 1/16 pixel), then the thumbnails' 8-bit pixels, keyframe
// after keyframe, entry after entry, row-major. Little-endian.
constexpr std::string_view kMagic = "CTKEYS01";
constexpr int kRowBytes = 8 + 8 + 2 + 2 + 4 + 4 + 2 + 2 + 4;
constexpr float kPointScale = 16;

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
  size_t remaining() const { return bytes_.size() - at_; }

 private:
  std::span<const std::uint8_t> bytes_;
  size_t at_ = 0;
};

static_assert(std::endian::native == std::endian::little, "the keyframe table is little-endian");

}  // namespace

FeatureIndex::FeatureIndex() : descriptors_(kFeatureDescriptorBytes * 8) {}
FeatureIndex::~FeatureIndex() = default;
FeatureIndex::FeatureIndex(FeatureIndex&&) noexcept = default;
FeatureIndex& FeatureIndex::operator=(FeatureIndex&&) noexcept = default;

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
  if (!keyframe.thumbnails.empty()) {
    const cv::Mat& first = keyframe.thumbnails.front();
    if (static_cast<std::int64_t>(keyframe.thumbnails.size()) !=
        keyframe.last_entry - keyframe.first_entry + 1) {
      throw Error("feature keyframe: one thumbnail per entry needed");
    }
    for (const cv::Mat& t : keyframe.thumbnails) {
      if (t.type() != CV_8UC1 || t.size() != first.size() || t.cols > 1024 || t.rows > 1024) {
        throw Error("feature keyframe: thumbnails must be 8-bit grey of one size, <= 1024 px");
      }
    }
    row.thumbnail_width = static_cast<std::uint16_t>(first.cols);
    row.thumbnail_height = static_cast<std::uint16_t>(first.rows);
    row.thumbnail_count = static_cast<std::uint32_t>(keyframe.thumbnails.size());
    row.thumbnail_offset = thumbnails_.size();
    for (const cv::Mat& t : keyframe.thumbnails) {
      for (int y = 0; y < t.rows; ++y) {
        const std::uint8_t* line = t.ptr<std::uint8_t>(y);
        thumbnails_.insert(thumbnails_.end(), line, line + t.cols);
      }
    }
  }
  for (const cv::Point2f& p : f.points) {
    if (!(p.x >= 0 && p.y >= 0 && p.x < 4095 && p.y < 4095)) {
      throw Error("feature keyframe: keypoint outside the picture");
    }
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
  for (std::uint32_t i = 0; i < row.thumbnail_count; ++i) {
    out.thumbnails.push_back(Thumbnail(keyframe, i).clone());
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

cv::Mat FeatureIndex::Thumbnail(std::int64_t keyframe, std::int64_t offset) const {
  const KeyframeRow& row = keyframes_[keyframe];
  if (offset < 0 || offset >= row.thumbnail_count) return {};
  const std::uint64_t bytes = std::uint64_t{row.thumbnail_width} * row.thumbnail_height;
  // A read-only view: the table outlives every use during matching.
  return cv::Mat(row.thumbnail_height, row.thumbnail_width, CV_8UC1,
                 const_cast<std::uint8_t*>(thumbnails_.data() + row.thumbnail_offset +
                                           bytes * static_cast<std::uint64_t>(offset)));
}

std::int64_t FeatureIndex::KeyframeOf(std::int64_t descriptor) const {
  const auto it = std::upper_bound(
      keyframes_.begin(), keyframes_.end(), descriptor,
      [](std::int64_t d, const KeyframeRow& row) { return d < row.first_descriptor; });
  return (it - keyframes_.begin()) - 1;
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
    Put(&out, row.thumbnail_width);
    Put(&out, row.thumbnail_height);
    Put(&out, row.thumbnail_count);
  }
  for (std::uint16_t v : points_) Put(&out, v);
  out.insert(out.end(), thumbnails_.begin(), thumbnails_.end());
  return out;
}

FeatureIndex FeatureIndex::Deserialize(std::span<const std::uint8_t> descriptors,
                                       std::span<const std::uint8_t> table) {
  FeatureIndex index;
  index.descriptors_ = HashIndex::Deserialize(descriptors);
  if (index.descriptors_.bits() != kFeatureDescriptorBytes * 8) {
    throw IndexError("feature descriptors are not 256-bit codes");
  }
  if (table.size() < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), table.begin())) {
    throw IndexError("not a celtrace keyframe table");
  }
  Reader in(table.subspan(kMagic.size()));
  const auto keyframes = in.Get<std::uint64_t>();
  const auto count = in.Get<std::uint64_t>();
  if (static_cast<std::int64_t>(count) != index.descriptors_.size() ||
      in.remaining() < keyframes * kRowBytes + count * 4) {
    throw IndexError("keyframe table does not match its descriptors");
  }
  std::uint64_t next = 0;
  std::uint64_t thumbnail_bytes = 0;
  index.keyframes_.reserve(keyframes);
  for (std::uint64_t k = 0; k < keyframes; ++k) {
    KeyframeRow row;
    row.first_entry = in.Get<std::int64_t>();
    row.last_entry = in.Get<std::int64_t>();
    row.width = in.Get<std::uint16_t>();
    row.height = in.Get<std::uint16_t>();
    row.first_descriptor = in.Get<std::uint32_t>();
    row.descriptor_count = in.Get<std::uint32_t>();
    row.thumbnail_width = in.Get<std::uint16_t>();
    row.thumbnail_height = in.Get<std::uint16_t>();
    row.thumbnail_count = in.Get<std::uint32_t>();
    row.thumbnail_offset = thumbnail_bytes;
    thumbnail_bytes +=
        std::uint64_t{row.thumbnail_width} * row.thumbnail_height * row.thumbnail_count;
    if (row.thumbnail_count != 0 &&
        static_cast<std::int64_t>(row.thumbnail_count) != row.last_entry - row.first_entry + 1) {
      throw IndexError("keyframe table: thumbnails do not match the entries");
    }
    if (row.first_descriptor != next || row.last_entry < row.first_entry) {
      throw IndexError("keyframe table rows are inconsistent");
    }
    next += row.descriptor_count;
    index.keyframes_.push_back(row);
  }
  if (next != count) throw IndexError("keyframe table rows do not cover the descriptors");
  if (in.remaining() != count * 4 + thumbnail_bytes) {
    throw IndexError("keyframe table has the wrong size for its keyframes");
  }
  index.points_.resize(count * 2);
  for (auto& v : index.points_) v = in.Get<std::uint16_t>();
  index.thumbnails_.resize(thumbnail_bytes);
  for (auto& v : index.thumbnails_) v = in.Get<std::uint8_t>();
  return index;
}

}  // namespace celtrace
