#include "hash_listing.h"

#include <fmt/format.h>

#include "celtrace/error.h"
#include "celtrace/image_io.h"
#include "celtrace/media_type.h"
#include "celtrace/pdq.h"
#include "celtrace/video_reader.h"

namespace celtrace {
namespace {

void ListImage(const std::filesystem::path& path, bool dihedral, std::ostream& out) {
  const cv::Mat image = LoadImage(path);
  if (!dihedral) {
    const Pdq hash = ComputePdq(image);
    out << fmt::format("{},{},{}\n", ToHex(hash), hash.quality, path.string());
    return;
  }
  for (const Pdq& hash : ComputePdqDihedral(image)) {
    out << fmt::format("{},{},{}\n", ToHex(hash), hash.quality, path.string());
  }
}

void ListVideo(const std::filesystem::path& path, std::ostream& out) {
  VideoReader reader(path);
  Frame frame;
  while (reader.Read(&frame)) {
    const Pdq hash = ComputePdq(frame.image);
    out << fmt::format("{},{},{},{:.3f}\n", frame.index, hash.quality, ToHex(hash), frame.seconds);
  }
}

}  // namespace

int WriteHashListing(const HashListingOptions& options, std::ostream& out, std::ostream& errors) {
  int failures = 0;
  for (const auto& path : options.paths) {
    try {
      switch (SniffFile(path)) {
        case MediaKind::kImage:
          ListImage(path, options.dihedral, out);
          break;
        case MediaKind::kVideo:
          ListVideo(path, out);
          break;
        default:
          throw Error("not an image or video (by content): " + path.string());
      }
    } catch (const Error& e) {
      errors << "celtrace-index hash: " << e.what() << '\n';
      ++failures;
    }
  }
  return failures;
}

}  // namespace celtrace
