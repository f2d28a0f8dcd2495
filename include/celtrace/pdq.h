// PDQ: Meta's 256-bit perceptual image hash with a 0-100 quality score, written from the
// algorithm description in ThreatExchange's hashing.pdf (luma, two-pass Jarosz box filter,
// 64x64 decimation, DCT coefficients 1-16, median threshold). Bits and hex text agree with
// the reference implementation (see tests/data/README.md). All functions are pure and
// thread-safe.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>
#include <string_view>

namespace celtrace {

// A PDQ hash. Bit k (k = 16 * row + column of the 16x16 DCT block) is bit k % 8 of
// bytes[k / 8], so the 32 bytes are the reference's 16 little-endian uint16 words and can
// be handed to FAISS binary indexes as they are.
struct Pdq {
  std::array<std::uint8_t, 32> bytes{};
  int quality = 0;  // 0 (flat, no information) .. 100 (plenty of gradients)

  friend bool operator==(const Pdq&, const Pdq&) = default;
};
static_assert(sizeof(std::array<std::uint8_t, 32>) == 32, "FAISS reads hashes as 32 bytes");

// The 8 dihedral orientations, in the reference tool's output order (`--pdqdih`).
enum class Orientation : int {
  kOriginal = 0,
  kRotate90,  // 90 degrees counter-clockwise
  kRotate180,
  kRotate270,
  kFlipX,       // mirror across the horizontal (x) axis: upside down
  kFlipY,       // mirror across the vertical (y) axis: left-right
  kFlipPlus1,   // transpose: reflect across the main diagonal
  kFlipMinus1,  // anti-transpose: reflect across the other diagonal
};
inline constexpr int kOrientationCount = 8;

// Returns "original", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1",
// "flipminus1".
std::string_view OrientationName(Orientation orientation);

// Hashes an image of any type OpenCV decodes: 1, 3 (BGR) or 4 (BGRA, alpha ignored)
// channels of 8-bit, 16-bit (scaled by 255/65535) or float (0..1) samples. Throws
// celtrace::Error on an empty image or an unsupported type.
Pdq ComputePdq(const cv::Mat& image);

// Hashes the image and returns the hashes of its 8 dihedral transforms, indexed by
// Orientation, all from one DCT (sign flips and transposes of the 16x16 coefficients).
// Every entry carries the image's quality.
std::array<Pdq, kOrientationCount> ComputePdqDihedral(const cv::Mat& image);

// Returns the image transformed in the pixel domain as `orientation` names (the route the
// reference's rotated test files took). Exact for any size, unlike the DCT-domain hashes
// of ComputePdqDihedral, which drift by tens of bits on small, detailed images.
cv::Mat OrientImage(const cv::Mat& image, Orientation orientation);

// Returns the luma image (CV_32F, 0..255) that PDQ hashes: Y = 0.299 R + 0.587 G + 0.114 B.
cv::Mat PdqLuma(const cv::Mat& image);

// Returns the 64 lowercase hex digits of the reference text form (most significant bit
// of the hash, DCT cell 255, first).
std::string ToHex(const Pdq& hash);

// Parses 64 hex digits (either case) into a hash with quality 0. Throws celtrace::Error
// if the text is not 64 hex digits.
Pdq PdqFromHex(std::string_view hex);

// Returns the number of differing bits, 0..256.
int HammingDistance(const Pdq& a, const Pdq& b);

// Returns the median (the 128th smallest value) of `count` floats with Torben's
// algorithm, which leaves the input untouched. Exposed for tests.
float TorbenMedian(const float* values, int count);

}  // namespace celtrace
