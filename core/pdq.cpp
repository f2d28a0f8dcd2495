// PDQ, following "The TMK+PDQF Video-Hashing Algorithm and the PDQ Image Similarity
// Algorithm" (Meta, ThreatExchange hashing.pdf). The float arithmetic follows the order the
// description gives (running box sums, float DCT matrix) so that the same pixel buffer
// gives the reference's bits.
#include "celtrace/pdq.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>
#include <opencv2/core.hpp>
#include <vector>

#include "celtrace/error.h"

namespace celtrace {
namespace {

constexpr int kDecimated = 64;  // side of the decimated luma image
constexpr int kDct = 16;        // side of the kept DCT block (coefficients 1..16)
constexpr int kJaroszPasses = 2;
constexpr float kLumaR = 0.299f;
constexpr float kLumaG = 0.587f;
constexpr float kLumaB = 0.114f;

// Full box-window size for one axis so that two passes spread each output sample over
// roughly its share of the input (hashing.pdf: ceil(old / (2 * new))).
int JaroszWindow(int old_size) { return (old_size + 2 * kDecimated - 1) / (2 * kDecimated); }

// A 1-D box filter down every column at once, row by row, so that memory is read in order
// and the arithmetic vectorises across columns. Output row o averages the input rows
// [o + half - window, o + half - 1] clipped to the image, half = (window + 2) / 2, with a
// running float sum per column (hashing.pdf's box filter, float for float).
void BoxColumns(const float* in, float* out, int rows, int cols, int window) {
  const int half = (window + 2) / 2;
  std::vector<float> sums(cols, 0.0f);
  // No aliasing between the buffers: lets the compiler vectorise across columns at -O2.
  float* __restrict sum = sums.data();
  for (int r = 0; r < std::min(half - 1, rows); ++r) {
    const float* __restrict row = in + static_cast<size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) sum[c] += row[c];
  }
  for (int o = 0; o < rows; ++o) {
    const int right = o + half - 1;
    const int left = o + half - window;
    if (right < rows) {
      const float* __restrict row = in + static_cast<size_t>(right) * cols;
      for (int c = 0; c < cols; ++c) sum[c] += row[c];
    }
    if (left - 1 >= 0) {
      const float* __restrict row = in + static_cast<size_t>(left - 1) * cols;
      for (int c = 0; c < cols; ++c) sum[c] -= row[c];
    }
    const float used = static_cast<float>(std::min(rows - 1, right) - std::max(0, left) + 1);
    float* __restrict target = out + static_cast<size_t>(o) * cols;
    for (int c = 0; c < cols; ++c) target[c] = sum[c] / used;
  }
}

// Scratch images reused by every hash on a thread: allocating megabytes per frame costs
// page faults that dominate the hash (measured: 13x slower at 720p).
struct Workspace {
  cv::Mat samples, luma, transposed, filtered, scratch;
};
Workspace& ThreadWorkspace() {
  thread_local Workspace workspace;
  return workspace;
}

// Two passes of (horizontal box, vertical box) over a CV_32F image, in place. The
// horizontal pass runs as a vertical pass over the transposed image: the same float
// operations in the same order along each row, but vectorised across rows instead of one
// long dependency chain per row.
void JaroszFilter(cv::Mat& plane, Workspace& w) {
  const int rows = plane.rows;
  const int cols = plane.cols;
  const int window_x = JaroszWindow(cols);
  const int window_y = JaroszWindow(rows);
  w.filtered.create(cols, rows, CV_32F);
  w.scratch.create(rows, cols, CV_32F);
  for (int pass = 0; pass < kJaroszPasses; ++pass) {
    cv::transpose(plane, w.transposed);
    BoxColumns(w.transposed.ptr<float>(), w.filtered.ptr<float>(), cols, rows, window_x);
    cv::transpose(w.filtered, w.scratch);
    BoxColumns(w.scratch.ptr<float>(), plane.ptr<float>(), rows, cols, window_y);
  }
}

// Samples the filtered image at the centres of a 64x64 grid.
std::array<float, kDecimated * kDecimated> Decimate(const cv::Mat& image) {
  const int rows = image.rows;
  const int cols = image.cols;
  std::array<float, kDecimated * kDecimated> out;
  for (int i = 0; i < kDecimated; ++i) {
    const int r = static_cast<int>(((i + 0.5) * rows) / kDecimated);
    for (int j = 0; j < kDecimated; ++j) {
      const int c = static_cast<int>(((j + 0.5) * cols) / kDecimated);
      out[i * kDecimated + j] = image.at<float>(r, c);
    }
  }
  return out;
}

// Quality from the sum of absolute neighbour differences (in percent of full scale) over
// the 64x64 image: flat images score 0, anything with enough edges 100.
int Quality(const std::array<float, kDecimated * kDecimated>& a) {
  int gradient_sum = 0;
  for (int i = 0; i + 1 < kDecimated; ++i) {
    for (int j = 0; j < kDecimated; ++j) {
      const float u = a[i * kDecimated + j];
      const float v = a[(i + 1) * kDecimated + j];
      gradient_sum += std::abs(static_cast<int>((u - v) * 100 / 255));
    }
  }
  for (int i = 0; i < kDecimated; ++i) {
    for (int j = 0; j + 1 < kDecimated; ++j) {
      const float u = a[i * kDecimated + j];
      const float v = a[i * kDecimated + j + 1];
      gradient_sum += std::abs(static_cast<int>((u - v) * 100 / 255));
    }
  }
  return std::min(100, gradient_sum / 90);
}

// Rows 1..16 of the 64-point DCT-II matrix, scaled by sqrt(2/64), as floats.
const std::array<float, kDct * kDecimated>& DctMatrix() {
  static const std::array<float, kDct* kDecimated> matrix = [] {
    std::array<float, kDct * kDecimated> m;
    const double scale = std::sqrt(2.0 / kDecimated);
    for (int i = 0; i < kDct; ++i) {
      for (int j = 0; j < kDecimated; ++j) {
        m[i * kDecimated + j] = static_cast<float>(
            scale * std::cos((std::numbers::pi / 2 / kDecimated) * (i + 1) * (2 * j + 1)));
      }
    }
    return m;
  }();
  return matrix;
}

using DctBlock = std::array<float, kDct * kDct>;

// B = D A D^T for the 64x64 image A: the 16x16 low-frequency block without the DC terms.
DctBlock Dct16(const std::array<float, kDecimated * kDecimated>& a) {
  const auto& d = DctMatrix();
  std::array<float, kDct * kDecimated> t;  // D A
  for (int i = 0; i < kDct; ++i) {
    for (int j = 0; j < kDecimated; ++j) {
      float sum = 0.0f;
      for (int k = 0; k < kDecimated; ++k) sum += d[i * kDecimated + k] * a[k * kDecimated + j];
      t[i * kDecimated + j] = sum;
    }
  }
  DctBlock b;
  for (int i = 0; i < kDct; ++i) {
    for (int j = 0; j < kDct; ++j) {
      float sum = 0.0f;
      for (int k = 0; k < kDecimated; ++k) sum += t[i * kDecimated + k] * d[j * kDecimated + k];
      b[i * kDct + j] = sum;
    }
  }
  return b;
}

Pdq Threshold(const DctBlock& b, int quality) {
  const float median = TorbenMedian(b.data(), static_cast<int>(b.size()));
  Pdq hash;
  hash.quality = quality;
  for (int k = 0; k < kDct * kDct; ++k) {
    if (b[k] > median) hash.bytes[k / 8] |= static_cast<std::uint8_t>(1u << (k % 8));
  }
  return hash;
}

// The DCT block of the transformed image. Mirroring the image along an axis negates the
// odd-frequency coefficients of that axis (basis u+1 odd <=> 0-based index u even);
// transposing the image transposes the block.
DctBlock TransformDct(const DctBlock& b, bool transpose, bool flip_rows, bool flip_cols) {
  DctBlock out;
  for (int u = 0; u < kDct; ++u) {
    for (int v = 0; v < kDct; ++v) {
      float value = transpose ? b[v * kDct + u] : b[u * kDct + v];
      if (flip_rows && u % 2 == 0) value = -value;
      if (flip_cols && v % 2 == 0) value = -value;
      out[u * kDct + v] = value;
    }
  }
  return out;
}

struct Prepared {
  DctBlock dct;
  int quality;
};

// Writes the PDQ luma (CV_32F, 0..255) of `image` into `luma`, reusing its memory.
void LumaInto(const cv::Mat& image, cv::Mat& luma, cv::Mat& samples) {
  if (image.empty()) throw Error("PDQ: empty image");
  const int channels = image.channels();
  if (channels != 1 && channels != 3 && channels != 4) {
    throw Error("PDQ: unsupported channel count " + std::to_string(channels));
  }
  luma.create(image.rows, image.cols, CV_32F);
  if (image.depth() == CV_8U) {
    for (int r = 0; r < image.rows; ++r) {
      const std::uint8_t* in = image.ptr<std::uint8_t>(r);
      float* out = luma.ptr<float>(r);
      if (channels == 1) {
        for (int c = 0; c < image.cols; ++c) out[c] = in[c];
        continue;
      }
      for (int c = 0; c < image.cols; ++c, in += channels) {
        // OpenCV orders colour samples B, G, R.
        out[c] = kLumaR * static_cast<float>(in[2]) + kLumaG * static_cast<float>(in[1]) +
                 kLumaB * static_cast<float>(in[0]);
      }
    }
    return;
  }
  double scale = 1.0;
  switch (image.depth()) {
    case CV_16U:
      scale = 255.0 / 65535.0;
      break;
    case CV_32F:
    case CV_64F:
      scale = 255.0;
      break;
    default:
      throw Error("PDQ: unsupported pixel depth " + std::to_string(image.depth()));
  }
  image.convertTo(samples, CV_MAKETYPE(CV_32F, channels), scale);
  for (int r = 0; r < image.rows; ++r) {
    const float* in = samples.ptr<float>(r);
    float* out = luma.ptr<float>(r);
    if (channels == 1) {
      std::memcpy(out, in, image.cols * sizeof(float));
      continue;
    }
    for (int c = 0; c < image.cols; ++c, in += channels) {
      out[c] = kLumaR * in[2] + kLumaG * in[1] + kLumaB * in[0];
    }
  }
}

Prepared Prepare(const cv::Mat& image) {
  Workspace& w = ThreadWorkspace();
  LumaInto(image, w.luma, w.samples);
  JaroszFilter(w.luma, w);
  const auto decimated = Decimate(w.luma);
  return {Dct16(decimated), Quality(decimated)};
}

}  // namespace

std::string_view OrientationName(Orientation orientation) {
  static constexpr std::string_view kNames[kOrientationCount] = {
      "original", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"};
  return kNames[static_cast<int>(orientation)];
}

cv::Mat PdqLuma(const cv::Mat& image) {
  cv::Mat luma, samples;
  LumaInto(image, luma, samples);
  return luma;
}

Pdq ComputePdq(const cv::Mat& image) {
  const Prepared prepared = Prepare(image);
  return Threshold(prepared.dct, prepared.quality);
}

std::array<Pdq, kOrientationCount> ComputePdqDihedral(const cv::Mat& image) {
  const Prepared p = Prepare(image);
  const DctBlock& b = p.dct;
  // (transpose, flip rows, flip columns) for each Orientation, in enum order. Rotating by
  // 90 degrees counter-clockwise is a transpose followed by a top-bottom mirror. Checked
  // against the reference's rotated bridge files.
  static constexpr bool kOps[kOrientationCount][3] = {
      {false, false, false}, {true, true, false},  {false, true, true},  {true, false, true},
      {false, true, false},  {false, false, true}, {true, false, false}, {true, true, true}};
  std::array<Pdq, kOrientationCount> hashes;
  for (int o = 0; o < kOrientationCount; ++o) {
    hashes[o] = Threshold(TransformDct(b, kOps[o][0], kOps[o][1], kOps[o][2]), p.quality);
  }
  return hashes;
}

cv::Mat OrientImage(const cv::Mat& image, Orientation orientation) {
  cv::Mat out;
  switch (orientation) {
    case Orientation::kOriginal:
      return image.clone();
    case Orientation::kRotate90:
      cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;
    case Orientation::kRotate180:
      cv::rotate(image, out, cv::ROTATE_180);
      break;
    case Orientation::kRotate270:
      cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE);
      break;
    case Orientation::kFlipX:
      cv::flip(image, out, 0);
      break;
    case Orientation::kFlipY:
      cv::flip(image, out, 1);
      break;
    case Orientation::kFlipPlus1:
      cv::transpose(image, out);
      break;
    case Orientation::kFlipMinus1:
      cv::transpose(image, out);
      cv::rotate(out, out, cv::ROTATE_180);
      break;
  }
  return out;
}

std::string ToHex(const Pdq& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(64, '0');
  for (int i = 0; i < 32; ++i) {
    const std::uint8_t byte = hash.bytes[31 - i];
    text[2 * i] = kDigits[byte >> 4];
    text[2 * i + 1] = kDigits[byte & 0xf];
  }
  return text;
}

Pdq PdqFromHex(std::string_view hex) {
  if (hex.size() != 64) throw Error("PDQ hex must be 64 digits, got " + std::to_string(hex.size()));
  auto nibble = [&](char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    throw Error("PDQ hex has a non-hex character: " + std::string(hex));
  };
  Pdq hash;
  for (int i = 0; i < 32; ++i) {
    hash.bytes[31 - i] =
        static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return hash;
}

int HammingDistance(const Pdq& a, const Pdq& b) {
  int distance = 0;
  for (int i = 0; i < 32; i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, &a.bytes[i], 8);
    std::memcpy(&y, &b.bytes[i], 8);
    distance += std::popcount(x ^ y);
  }
  return distance;
}

float TorbenMedian(const float* values, int count) {
  if (count <= 0) throw Error("TorbenMedian: no values");
  float lo = *std::min_element(values, values + count);
  float hi = *std::max_element(values, values + count);
  const int half = (count + 1) / 2;
  while (true) {
    const float guess = (lo + hi) / 2;
    int less = 0, greater = 0, equal = 0;
    float max_below = lo, min_above = hi;
    for (int i = 0; i < count; ++i) {
      const float v = values[i];
      if (v < guess) {
        ++less;
        max_below = std::max(max_below, v);
      } else if (v > guess) {
        ++greater;
        min_above = std::min(min_above, v);
      } else {
        ++equal;
      }
    }
    if (less <= half && greater <= half) {
      if (less >= half) return max_below;
      if (less + equal >= half) return guess;
      return min_above;
    }
    if (less > greater) {
      hi = max_below;
    } else {
      lo = min_above;
    }
  }
}

}  // namespace celtrace
