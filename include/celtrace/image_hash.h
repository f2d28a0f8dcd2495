// ImageHasher is the interface every perceptual-hash channel implements, so that PDQ
// (256 bits, the default) and OpenCV img_hash's pHash (64 bits, a comparison channel) are
// computed and compared the same way, with distances in bits. Implementations are
// stateless and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <span>
#include <string_view>
#include <vector>

namespace celtrace {

// A hash of any channel: bit_count / 8 bytes plus the PDQ-style 0-100 quality.
struct ImageHash {
  std::vector<std::uint8_t> bytes;
  int quality = 0;

  friend bool operator==(const ImageHash&, const ImageHash&) = default;
};

class ImageHasher {
 public:
  virtual ~ImageHasher() = default;
  virtual std::string_view name() const = 0;  // "pdq", "phash"
  virtual int bit_count() const = 0;          // 256 for PDQ, 64 for pHash
  // Hashes an image of any type PdqLuma accepts. Throws celtrace::Error on bad input.
  virtual ImageHash Compute(const cv::Mat& image) const = 0;
};

// Returns the hasher called `name` ("pdq" or "phash"). Throws celtrace::Error otherwise.
std::unique_ptr<ImageHasher> MakeImageHasher(std::string_view name);

// Returns the number of differing bits. Throws celtrace::Error if the sizes differ.
int HammingDistance(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

}  // namespace celtrace
