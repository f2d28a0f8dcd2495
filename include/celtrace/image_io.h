// Still-image decoding for hashing: OpenCV's codecs, keeping bit depth and alpha so that
// PdqLuma sees the real samples. Functions are thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <opencv2/core/mat.hpp>
#include <span>

namespace celtrace {

// What to do with a JPEG's EXIF orientation tag. Meta's reference hashers ignore it, so
// hashes agree with theirs only when it is ignored; matching is unaffected either way
// because queries are made in all 8 dihedral orientations.
enum class ExifPolicy {
  kIgnore,  // default: hash the stored pixels, as the reference does
  kApply,   // rotate/flip to the orientation a viewer shows
};

// Decodes an image file. Returns 1-, 3- (BGR) or 4-channel (BGRA) pixels of 8 or 16 bits.
// Throws celtrace::Error with the path if the file cannot be read or decoded, and
// std::bad_alloc when the decoder cannot allocate the picture (OpenCV's StsNoMem).
cv::Mat LoadImage(const std::filesystem::path& path, ExifPolicy exif = ExifPolicy::kIgnore);

// Decodes an encoded image held in memory, as LoadImage. `label` names it in errors.
cv::Mat DecodeImage(std::span<const std::uint8_t> bytes, std::string_view label,
                    ExifPolicy exif = ExifPolicy::kIgnore);

}  // namespace celtrace
