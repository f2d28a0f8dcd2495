#include "celtrace/image_hash.h"

#include <bit>
#include <opencv2/img_hash.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "celtrace/error.h"
#include "celtrace/pdq.h"

namespace celtrace {
namespace {

class PdqHasher final : public ImageHasher {
 public:
  std::string_view name() const override { return "pdq"; }
  int bit_count() const override { return 256; }
  ImageHash Compute(const cv::Mat& image) const override {
    const Pdq pdq = ComputePdq(image);
    return {{pdq.bytes.begin(), pdq.bytes.end()}, pdq.quality};
  }
};

// OpenCV's pHash: 32x32 grey, DCT, 8x8 low frequencies against their median. Its quality
// is PDQ's, so both channels gate flat images the same way.
class PHasher final : public ImageHasher {
 public:
  std::string_view name() const override { return "phash"; }
  int bit_count() const override { return 64; }
  ImageHash Compute(const cv::Mat& image) const override {
    cv::Mat luma8;
    PdqLuma(image).convertTo(luma8, CV_8U);
    cv::Mat bits;
    cv::img_hash::pHash(luma8, bits);
    ImageHash hash;
    hash.bytes.assign(bits.ptr<std::uint8_t>(), bits.ptr<std::uint8_t>() + bits.total());
    hash.quality = ComputePdq(image).quality;
    return hash;
  }
};

}  // namespace

std::unique_ptr<ImageHasher> MakeImageHasher(std::string_view name) {
  if (name == "pdq") return std::make_unique<PdqHasher>();
  if (name == "phash") return std::make_unique<PHasher>();
  throw Error("unknown hash channel '" + std::string(name) + "' (known: pdq, phash)");
}

int HammingDistance(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) {
    throw Error("hash sizes differ: " + std::to_string(a.size()) + " vs " +
                std::to_string(b.size()) + " bytes");
  }
  int distance = 0;
  for (size_t i = 0; i < a.size(); ++i)
    distance += std::popcount(static_cast<unsigned>(a[i] ^ b[i]));
  return distance;
}

}  // namespace celtrace
