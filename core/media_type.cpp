#include "celtrace/media_type.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "celtrace/error.h"
#include "celtrace/read_at.h"

namespace celtrace {
namespace {

bool HasAt(std::span<const std::uint8_t> head, std::size_t offset, std::string_view magic) {
  return head.size() >= offset + magic.size() &&
         std::memcmp(head.data() + offset, magic.data(), magic.size()) == 0;
}

bool IsMpegTs(std::span<const std::uint8_t> head) {
  // Sync byte 0x47 every 188 bytes.
  if (head.size() < 3 * 188 + 1) return false;
  return head[0] == 0x47 && head[188] == 0x47 && head[376] == 0x47;
}

// MPEG-TS in 192-byte packets (a 4-byte timestamp before each: Blu-ray's .m2ts).
bool IsM2ts(std::span<const std::uint8_t> head) {
  if (head.size() < 3 * 192 + 5) return false;
  return head[4] == 0x47 && head[196] == 0x47 && head[388] == 0x47;
}

// A BMP: "BM", reserved bytes zero and a known DIB header size (a text starting with "BM"
// is not one).
bool IsBmp(std::span<const std::uint8_t> head) {
  if (head.size() < 18 || head[0] != 'B' || head[1] != 'M') return false;
  if (head[6] != 0 || head[7] != 0 || head[8] != 0 || head[9] != 0) return false;
  const std::uint32_t dib =
      head[14] | (head[15] << 8) | (head[16] << 16) | (static_cast<std::uint32_t>(head[17]) << 24);
  return dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124;
}

// A bzip2 stream: "BZh", a block size digit, then a block's magic (or the end of an empty
// stream's).
bool IsBzip2(std::span<const std::uint8_t> head) {
  using namespace std::string_view_literals;
  return HasAt(head, 0, "BZh"sv) && head.size() >= 10 && head[3] >= '1' && head[3] <= '9' &&
         (HasAt(head, 4, "\x31\x41\x59\x26\x53\x59"sv) ||
          HasAt(head, 4, "\x17\x72\x45\x38\x50\x90"sv));
}

// A .lzma ("LZMA alone") stream: the common properties byte (lc=3, lp=0, pb=2), a dictionary
// of 2^n or 2^n + 2^(n-1) bytes, and an unknown (all ones) or plausible uncompressed size.
bool IsLzmaAlone(std::span<const std::uint8_t> head) {
  if (head.size() < 13 || head[0] != 0x5D) return false;
  const std::uint32_t dictionary =
      head[1] | (head[2] << 8) | (head[3] << 16) | (static_cast<std::uint32_t>(head[4]) << 24);
  bool power = false;
  for (int n = 12; n <= 30 && !power; ++n) {
    power = dictionary == (1u << n) || dictionary == (1u << n) + (1u << (n - 1));
  }
  const bool unknown_size =
      std::all_of(head.begin() + 5, head.begin() + 13, [](std::uint8_t b) { return b == 0xFF; });
  return power && (unknown_size || (head[11] == 0 && head[12] == 0));
}

// A tar header without the ustar magic (v7 and old GNU tars): its checksum, the octal sum of
// the 512 header bytes with the checksum field as spaces, matches, and a name is there.
bool IsOldTar(std::span<const std::uint8_t> head) {
  if (head.size() < 512 || head[0] == 0) return false;
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : head[i];
  std::uint32_t stored = 0;
  std::size_t i = 148;
  while (i < 156 && head[i] == ' ') ++i;
  const std::size_t digits = i;
  while (i < 156 && head[i] >= '0' && head[i] <= '7') stored = stored * 8 + (head[i++] - '0');
  return i > digits && stored == sum;
}

// An ISO 9660 image (CD/DVD, and the bridge volume of most UDF discs): after the 32 KiB
// system area, a volume descriptor of a known type (primary 1, supplementary 2, partition
// 3, boot record 0, terminator 255), "CD001" and version 1.
bool IsIso9660(std::span<const std::uint8_t> head) {
  using namespace std::string_view_literals;
  constexpr std::size_t kDescriptor = 32768;
  if (head.size() < kDescriptor + 7 || !HasAt(head, kDescriptor + 1, "CD001"sv)) return false;
  const std::uint8_t type = head[kDescriptor];
  return (type <= 3 || type == 255) && head[kDescriptor + 6] == 1;
}

bool IsPnm(std::span<const std::uint8_t> head) {
  return head.size() >= 3 && head[0] == 'P' && head[1] >= '1' && head[1] <= '6' &&
         (head[2] == '\n' || head[2] == ' ' || head[2] == '\r' || head[2] == '\t');
}

}  // namespace

std::string_view MediaKindName(MediaKind kind) {
  switch (kind) {
    case MediaKind::kImage:
      return "image";
    case MediaKind::kVideo:
      return "video";
    case MediaKind::kArchive:
      return "archive";
    case MediaKind::kUnknown:
      break;
  }
  return "unknown";
}

MediaKind SniffMediaKind(std::span<const std::uint8_t> head) {
  using namespace std::string_view_literals;
  if (HasAt(head, 0, "\xFF\xD8\xFF"sv) || HasAt(head, 0, "\x89PNG\r\n\x1A\n"sv) ||
      HasAt(head, 0, "GIF87a"sv) || HasAt(head, 0, "GIF89a"sv) || IsBmp(head) ||
      HasAt(head, 0, "II*\0"sv) || HasAt(head, 0, "MM\0*"sv) ||
      (HasAt(head, 0, "RIFF"sv) && HasAt(head, 8, "WEBP"sv)) ||
      HasAt(head, 0, "\0\0\0\x0CjP  \r\n\x87\n"sv) || HasAt(head, 0, "\xFF\x4F\xFF\x51"sv) ||
      HasAt(head, 0, "\x76\x2F\x31\x01"sv) || HasAt(head, 0, "#?RADIANCE"sv) ||
      HasAt(head, 0, "#?RGBE"sv) || IsPnm(head)) {
    return MediaKind::kImage;
  }
  // ISO BMFF: AVIF/HEIF brands are stills; everything else is a movie.
  if (HasAt(head, 4, "ftyp"sv)) {
    if (HasAt(head, 8, "avif"sv) || HasAt(head, 8, "heic"sv) || HasAt(head, 8, "mif1"sv)) {
      return MediaKind::kImage;
    }
    return MediaKind::kVideo;
  }
  if (HasAt(head, 4, "moov"sv) || HasAt(head, 4, "mdat"sv) || HasAt(head, 4, "wide"sv) ||
      HasAt(head, 4, "free"sv) || HasAt(head, 0, "\x1A\x45\xDF\xA3"sv) ||
      (HasAt(head, 0, "RIFF"sv) && HasAt(head, 8, "AVI "sv)) || HasAt(head, 0, "\0\0\x01\xBA"sv) ||
      HasAt(head, 0, "\0\0\x01\xB3"sv) || HasAt(head, 0, "FLV\x01"sv) || HasAt(head, 0, "OggS"sv) ||
      HasAt(head, 0, "\x30\x26\xB2\x75\x8E\x66\xCF\x11"sv) || IsMpegTs(head) || IsM2ts(head)) {
    return MediaKind::kVideo;
  }
  if (HasAt(head, 0, "PK\x03\x04"sv) || HasAt(head, 0, "PK\x05\x06"sv) ||
      HasAt(head, 0, "7z\xBC\xAF\x27\x1C"sv) || HasAt(head, 0, "Rar!\x1A\x07"sv) ||
      HasAt(head, 0, "\x1F\x8B"sv) || IsBzip2(head) || HasAt(head, 0, "LZIP"sv) ||
      HasAt(head, 0, "\x04\x22\x4D\x18"sv) || HasAt(head, 0, "\x02\x21\x4C\x18"sv) ||
      IsLzmaAlone(head) ||
      HasAt(head, 0,
            "\xFD"
            "7zXZ\0"sv) ||
      HasAt(head, 0, "\x28\xB5\x2F\xFD"sv) || HasAt(head, 257, "ustar"sv) ||
      HasAt(head, 0, "070701"sv) || HasAt(head, 0, "070702"sv) || HasAt(head, 0, "070707"sv) ||
      HasAt(head, 0, "!<arch>\n"sv) || IsOldTar(head) || IsIso9660(head)) {
    return MediaKind::kArchive;
  }
  return MediaKind::kUnknown;
}

namespace {

std::uint32_t Be16(const std::uint8_t* p) { return (p[0] << 8) | p[1]; }
std::uint32_t Be32(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}
std::uint32_t Le16(const std::uint8_t* p) { return p[0] | (p[1] << 8); }
std::uint32_t Le24(const std::uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16); }
std::int32_t Le32(const std::uint8_t* p) {
  return static_cast<std::int32_t>(p[0] | (p[1] << 8) | (p[2] << 16) |
                                   (static_cast<std::uint32_t>(p[3]) << 24));
}

DeclaredSize JpegSize(std::span<const std::uint8_t> b) {
  size_t i = 2;
  while (i + 9 < b.size()) {
    // Bytes before a marker are skipped, as libjpeg skips them (with a warning): stopping at
    // one let a stray byte before the frame header hide a 30000x30000 declaration.
    if (b[i] != 0xFF) {
      ++i;
      continue;
    }
    const std::uint8_t marker = b[i + 1];
    if (marker == 0x00) {  // a stuffed zero: no marker, skipped as libjpeg skips it
      i += 2;
      continue;
    }
    if (marker == 0xDA) return {};  // a scan before any frame header: nothing declared
    if (marker == 0xFF) {           // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      i += 2;
      continue;
    }
    const std::uint32_t length = Be16(&b[i + 2]);
    const bool frame_header =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame_header) return {Be16(&b[i + 7]), Be16(&b[i + 5])};
    if (length < 2) return {};
    i += 2 + length;
  }
  return {};
}

}  // namespace

DeclaredSize SniffImageSize(std::span<const std::uint8_t> b) {
  using namespace std::string_view_literals;
  if (HasAt(b, 0, "\x89PNG\r\n\x1A\n"sv) && HasAt(b, 12, "IHDR"sv) && b.size() >= 24) {
    return {Be32(&b[16]), Be32(&b[20])};
  }
  if ((HasAt(b, 0, "GIF87a"sv) || HasAt(b, 0, "GIF89a"sv)) && b.size() >= 10) {
    return {Le16(&b[6]), Le16(&b[8])};
  }
  if (HasAt(b, 0, "BM"sv) && b.size() >= 26) {
    return {std::abs(static_cast<std::int64_t>(Le32(&b[18]))),
            std::abs(static_cast<std::int64_t>(Le32(&b[22])))};
  }
  if (HasAt(b, 0, "RIFF"sv) && HasAt(b, 8, "WEBP"sv) && b.size() >= 30) {
    if (HasAt(b, 12, "VP8 "sv)) return {Le16(&b[26]) & 0x3FFF, Le16(&b[28]) & 0x3FFF};
    if (HasAt(b, 12, "VP8L"sv)) {
      const std::uint32_t bits = static_cast<std::uint32_t>(Le32(&b[21]));
      return {(bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
    }
    if (HasAt(b, 12, "VP8X"sv)) return {Le24(&b[24]) + 1, Le24(&b[27]) + 1};
  }
  if (HasAt(b, 0, "\xFF\xD8\xFF"sv)) return JpegSize(b);
  return {};
}

MediaKind SniffFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path.string());
  std::vector<std::uint8_t> head(kSniffBytes);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  if (in.bad()) throw Error("cannot read " + path.string());
  head.resize(static_cast<std::size_t>(in.gcount()));
  return SniffMediaKind(head);
}

MediaKind SniffFd(int fd, const std::string& label) {
  std::vector<std::uint8_t> head(kSniffBytes);
  const std::int64_t got = ReadAt(fd, head.data(), head.size(), 0);
  if (got < 0) throw Error("cannot read " + label + ": " + std::strerror(errno));
  head.resize(static_cast<std::size_t>(got));
  return SniffMediaKind(head);
}

}  // namespace celtrace
