#include "thumbnail.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "celtrace/error.h"
#include "celtrace/pdq.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;

// A clip without a match is shown by its first informative frame within this many seconds.
constexpr double kClipScanSeconds = 10;

// Returns 8-bit grey or BGR pixels of a decoded image, with the same sample scaling PDQ
// uses (16-bit by 255/65535, float as 0..1).
cv::Mat DisplayPixels(const cv::Mat& image) {
  cv::Mat eight;
  switch (image.depth()) {
    case CV_8U:
      eight = image;
      break;
    case CV_16U:
      image.convertTo(eight, CV_8U, 255.0 / 65535.0);
      break;
    case CV_32F:
    case CV_64F:
      image.convertTo(eight, CV_8U, 255.0);
      break;
    default:
      cv::normalize(image, eight, 0, 255, cv::NORM_MINMAX, CV_8U);
      break;
  }
  cv::Mat out;
  switch (eight.channels()) {
    case 1:
    case 3:
      out = eight;
      break;
    case 4:
      cv::cvtColor(eight, out, cv::COLOR_BGRA2BGR);  // alpha ignored, as PDQ does
      break;
    default:
      cv::extractChannel(eight, out, 0);
      break;
  }
  return out;
}

cv::Mat Shrink(const cv::Mat& image, int side) {
  const int longer = std::max(image.cols, image.rows);
  if (longer <= side) return image;
  const double scale = static_cast<double>(side) / longer;
  const cv::Size size(std::max(1, static_cast<int>(std::lround(image.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(image.rows * scale))));
  cv::Mat small;
  cv::resize(image, small, size, 0, 0, cv::INTER_AREA);
  return small;
}

std::vector<std::uint8_t> Jpeg(const cv::Mat& image, int quality) {
  std::vector<std::uint8_t> bytes;
  // Optimised Huffman tables save 5-10% on images this small at no visible cost.
  cv::imencode(".jpg", image, bytes,
               {cv::IMWRITE_JPEG_QUALITY, quality, cv::IMWRITE_JPEG_OPTIMIZE, 1});
  return bytes;
}

bool DurationAgrees(double found, double indexed) {
  // The index records the last frame's time, the container its end: a frame apart.
  return found <= 0 || indexed <= 0 || std::abs(found - indexed) <= std::max(2.0, 0.02 * indexed);
}

}  // namespace

std::vector<std::uint8_t> EncodeThumbnail(const cv::Mat& image, const ThumbnailOptions& options) {
  if (image.empty()) return {};
  const cv::Mat pixels = DisplayPixels(image);
  // Lower quality first while it is barely visible at this size, then smaller sizes (the
  // page shows every thumbnail in the same box). Measured on 640x360 cel frames: 160 px at
  // quality 70 takes 2.4-4.2 KB, at 55 2.0-3.5 KB, 128 px at 55 1.5-2.5 KB.
  struct Try {
    double scale;  // of options.side
    int quality_drop;
  };
  static constexpr Try kTries[] = {{1.0, 0},  {1.0, 15}, {0.9, 15}, {0.8, 15}, {0.8, 30},
                                   {0.7, 30}, {0.6, 30}, {0.5, 35}, {0.4, 40}};
  std::vector<std::uint8_t> bytes;
  cv::Mat small;
  int small_side = 0;
  for (const Try& t : kTries) {
    const int side = std::max(16, static_cast<int>(std::lround(options.side * t.scale)));
    if (side != small_side) {
      small = Shrink(pixels, side);
      small_side = side;
    }
    bytes = Jpeg(small, std::max(20, options.quality - t.quality_drop));
    if (static_cast<int>(bytes.size()) <= options.max_bytes) return bytes;
  }
  return bytes;  // the smallest try: over budget only for pathological noise
}

std::vector<std::uint8_t> EncodeClipThumbnail(VideoReader& reader, const ResultRecord& record,
                                              int min_quality, const ThumbnailOptions& options) {
  Frame frame;
  if (record.status == "match" && !record.matches.empty()) {
    if (reader.SeekTo(record.matches.front().query_start) && reader.Read(&frame)) {
      return EncodeThumbnail(frame.image, options);
    }
    if (!reader.SeekTo(0)) return {};
  }
  cv::Mat first;
  while (reader.Read(&frame) && frame.seconds <= kClipScanSeconds) {
    if (first.empty()) first = frame.image;
    if (ComputePdq(frame.image).quality >= min_quality)
      return EncodeThumbnail(frame.image, options);
  }
  return EncodeThumbnail(first, options);
}

fs::path FindFootage(const EpisodeRecord& episode, const fs::path& footage_dir,
                     const fs::path& catalog_dir, std::string* note) {
  const fs::path source(episode.source);
  std::vector<fs::path> candidates;
  if (source.is_absolute()) {
    candidates.push_back(source);
  } else {
    if (!footage_dir.empty()) candidates.push_back(footage_dir / source);
    if (!catalog_dir.empty()) candidates.push_back(catalog_dir / source);
  }
  *note = "reference footage not found (celtrace-match --footage DIR)";
  for (const fs::path& candidate : candidates) {
    std::error_code error;
    if (!fs::is_regular_file(candidate, error)) continue;
    try {
      const VideoReader reader(candidate);
      if (DurationAgrees(reader.duration_seconds(), episode.duration)) return candidate;
      *note = "reference footage differs from the indexed episode";
    } catch (const Error&) {
      *note = "reference footage unreadable";
    }
  }
  return {};
}

std::map<ReferenceFrame, ReferenceThumbnail> GrabReferenceThumbnails(
    std::span<const EpisodeRecord> episodes, std::vector<ReferenceFrame> frames,
    const fs::path& footage_dir, std::span<const fs::path> catalog_dirs,
    const ThumbnailOptions& options) {
  std::sort(frames.begin(), frames.end());
  frames.erase(std::unique(frames.begin(), frames.end()), frames.end());
  // Runs of one episode, ascending times.
  std::vector<std::pair<size_t, size_t>> runs;
  for (size_t begin = 0; begin < frames.size();) {
    size_t end = begin;
    while (end < frames.size() && frames[end].episode == frames[begin].episode) ++end;
    runs.emplace_back(begin, end);
    begin = end;
  }
  std::vector<ReferenceThumbnail> grabbed(frames.size());
  tbb::parallel_for(size_t{0}, runs.size(), [&](size_t r) {
    const auto [begin, end] = runs[r];
    const std::int32_t e = frames[begin].episode;
    std::string note = "episode not in the index";
    fs::path path;
    if (e >= 0 && static_cast<size_t>(e) < episodes.size()) {
      path = FindFootage(
          episodes[e], footage_dir,
          static_cast<size_t>(e) < catalog_dirs.size() ? catalog_dirs[e] : fs::path(), &note);
    }
    std::unique_ptr<VideoReader> reader;
    if (!path.empty()) {
      try {
        VideoReaderOptions decode;
        decode.max_side = options.side;  // swscale shrinks while converting
        reader = std::make_unique<VideoReader>(path, decode);
      } catch (const Error&) {
        note = "reference footage unreadable";
      }
    }
    for (size_t i = begin; i < end; ++i) {
      if (!reader) {
        grabbed[i].note = note;
        continue;
      }
      try {
        Frame frame;
        if (reader->SeekTo(frames[i].seconds) && reader->Read(&frame)) {
          grabbed[i].jpeg = EncodeThumbnail(frame.image, options);
        }
      } catch (const std::exception&) {
        // A damaged stretch of footage: this frame gets a note, the next seek may work.
      }
      if (grabbed[i].jpeg.empty()) grabbed[i].note = "reference frame not decodable";
    }
  });
  std::map<ReferenceFrame, ReferenceThumbnail> out;
  for (size_t i = 0; i < frames.size(); ++i) out.emplace(frames[i], std::move(grabbed[i]));
  return out;
}

}  // namespace celtrace
