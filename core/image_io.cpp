#include "celtrace/image_io.h"

#include <fstream>
#include <iterator>
#include <new>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "celtrace/error.h"

namespace celtrace {
namespace {

int DecodeFlags(ExifPolicy exif) {
  // IMREAD_UNCHANGED keeps 16-bit samples and alpha and never applies EXIF orientation;
  // ANYDEPTH|ANYCOLOR keeps depth and applies it.
  return exif == ExifPolicy::kIgnore ? cv::IMREAD_UNCHANGED
                                     : cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR;
}

}  // namespace

cv::Mat LoadImage(const std::filesystem::path& path, ExifPolicy exif) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open image " + path.string());
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  return DecodeImage(bytes, path.string(), exif);
}

cv::Mat DecodeImage(std::span<const std::uint8_t> bytes, std::string_view label, ExifPolicy exif) {
  cv::Mat image;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U,
                         const_cast<std::uint8_t*>(bytes.data()));
    if (!bytes.empty()) image = cv::imdecode(buffer, DecodeFlags(exif));
  } catch (const cv::Exception& e) {
    // OpenCV reports a refused allocation (a worker's address-space limit) as an error of
    // its own: the allocator's exception again, so that it reads as too_large, not corrupt.
    if (e.code == cv::Error::StsNoMem) throw std::bad_alloc();
    throw Error("cannot decode image " + std::string(label) + ": " + e.what());
  }
  if (image.empty()) throw Error("cannot decode image " + std::string(label));
  return image;
}

}  // namespace celtrace
