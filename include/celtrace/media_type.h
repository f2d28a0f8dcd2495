// Content sniffing: what a file is, from its first bytes (magic numbers), never from its
// name. Leaked archives rename and mislabel files; every router in celtrace asks here.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace celtrace {

enum class MediaKind {
  kUnknown,  // nothing we recognise (text, documents, empty files)
  kImage,    // JPEG, PNG, GIF, BMP, TIFF, WebP, JPEG 2000, PNM, OpenEXR, Radiance HDR
  kVideo,    // ISO BMFF (MP4/MOV/3GP), Matroska/WebM, AVI, MPEG-TS/PS, FLV, Ogg, ASF
  kArchive,  // zip, tar, 7z, rar, gzip, bzip2, xz, zstd, lz4, lzma, lzip, cpio, ar, ISO 9660
};

// Returns "unknown", "image", "video", "archive".
std::string_view MediaKindName(MediaKind kind);

// Number of leading bytes SniffMediaKind looks at: enough for tar's "ustar" at 257, three
// MPEG-TS sync bytes, and an ISO 9660 image's first volume descriptor (type, "CD001" and
// version at 32768-32774, past the image's 32 KiB system area).
inline constexpr std::size_t kSniffBytes = 32768 + 7;

// Classifies content from its first bytes (up to kSniffBytes; fewer is fine).
MediaKind SniffMediaKind(std::span<const std::uint8_t> head);

// Returns the pixel size an encoded image declares in its header (PNG, JPEG, GIF, BMP,
// WebP), without decoding it, so that a file claiming 100000x100000 pixels is refused
// before any allocation. Returns {0, 0} for other formats or a header it cannot read.
struct DeclaredSize {
  std::int64_t width = 0;  // 0 .. 2^32-1: header fields are at most 32 bits
  std::int64_t height = 0;
  // Returns whether width x height exceeds `max_pixels`, exactly for any header values
  // (width * height itself overflows std::int64_t at 2^32-1 x 2^32-1).
  bool Exceeds(std::int64_t max_pixels) const {
    return width > 0 && height > 0 && width > max_pixels / height;
  }
};
DeclaredSize SniffImageSize(std::span<const std::uint8_t> bytes);

// Reads the first kSniffBytes of a regular file and classifies them. Throws
// celtrace::Error if the file cannot be opened or read.
MediaKind SniffFile(const std::filesystem::path& path);

// The same for an open file descriptor (pread from offset 0; the offset is not moved).
MediaKind SniffFd(int fd, const std::string& label);

}  // namespace celtrace
