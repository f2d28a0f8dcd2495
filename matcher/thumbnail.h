// Thumbnails for the HTML evidence report: small re-encoded JPEGs of leaked stills and clips,
// made while their decoded pixels are in memory, and of the reference frames they matched,
// grabbed from the catalogue footage. The original bytes are never kept. Functions are
// thread-safe.
#pragma once

#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <opencv2/core/mat.hpp>
#include <span>
#include <string>
#include <vector>

#include "celtrace/catalog.h"
#include "celtrace/video_reader.h"
#include "result_record.h"

namespace celtrace {

struct ThumbnailOptions {
  // Longest side, pixels. Default 160: enough to judge a frame beside its reference.
  int side = 160;
  // JPEG quality of the first try. Default 70.
  int quality = 70;
  // Bytes: a larger JPEG is re-encoded at lower quality, then smaller, until it fits, so
  // that 10,000 inputs stay within the report's size budget (html_report.h). Default 2,048.
  int max_bytes = 2048;
};

// Returns a JPEG of `image` (8- or 16-bit or float; 1, 3 (BGR) or 4 (BGRA) channels, as
// DecodeImage returns them) scaled (area filter) so that its longer side is at most
// options.side, within options.max_bytes when a lower quality or smaller size gets there.
// Returns an empty vector for an empty image. Throws cv::Exception on OpenCV failures.
std::vector<std::uint8_t> EncodeThumbnail(const cv::Mat& image,
                                          const ThumbnailOptions& options = {});

// Returns the thumbnail of a clip for its record: the frame at the first segment's
// query_start for a match, otherwise the first frame of PDQ quality >= min_quality in the
// first 10 seconds (the first frame if none). `reader` must decode BGR (not luma_only) and
// be unread. Returns an empty vector when nothing decodes.
std::vector<std::uint8_t> EncodeClipThumbnail(VideoReader& reader, const ResultRecord& record,
                                              int min_quality,
                                              const ThumbnailOptions& options = {});

// A reference frame: an episode of the index and a time in it.
struct ReferenceFrame {
  std::int32_t episode = 0;  // index into the episode list given to GrabReferenceThumbnails
  double seconds = 0;

  friend auto operator<=>(const ReferenceFrame&, const ReferenceFrame&) = default;
};

// A grabbed reference frame: the JPEG, or why there is none.
struct ReferenceThumbnail {
  std::vector<std::uint8_t> jpeg;
  std::string note;  // set when jpeg is empty, e.g. "reference footage not found"
};

// Returns the file holding the episode's footage: an absolute source as it is, a relative
// one under footage_dir, then under catalog_dir (either may be empty). Candidates must be
// regular files whose duration agrees with the indexed episode's (within 2 s or 2%): a
// different file of the same name shows the wrong frame. Returns an empty path and sets
// *note when none fits.
std::filesystem::path FindFootage(const EpisodeRecord& episode,
                                  const std::filesystem::path& footage_dir,
                                  const std::filesystem::path& catalog_dir, std::string* note);

// Grabs thumbnails of `frames` from the footage of `episodes` (found with FindFootage, each
// episode under its own catalogue folder of `catalog_dirs`, which runs parallel to
// `episodes`): one reader per episode, episodes in parallel (TBB), each episode's times in
// ascending order so that a file is decoded at most about once however many frames it
// gives. Never throws for missing or undecodable footage: those frames get a note instead.
std::map<ReferenceFrame, ReferenceThumbnail> GrabReferenceThumbnails(
    std::span<const EpisodeRecord> episodes, std::vector<ReferenceFrame> frames,
    const std::filesystem::path& footage_dir, std::span<const std::filesystem::path> catalog_dirs,
    const ThumbnailOptions& options = {});

}  // namespace celtrace
