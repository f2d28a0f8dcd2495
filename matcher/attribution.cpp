#include "attribution.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>

#include "celtrace/checksum.h"
#include "celtrace/error.h"
#include "celtrace/image_io.h"
#include "celtrace/media_type.h"
#include "celtrace/read_at.h"
#include "celtrace/video_reader.h"
#include "clip_matcher.h"
#include "still_matcher.h"
#include "thumbnail.h"

namespace celtrace {
namespace {

// Files up to this size are read into memory once (digest + decode from the same bytes);
// larger ones are digested as a stream and decoded from disk.
constexpr std::uint64_t kInMemoryBytes = 256ull << 20;

void Fail(ResultRecord* record, std::string error) {
  record->status = "error";
  record->error = std::move(error);
  record->matches.clear();
}

std::string CodeWord(const std::string& reason) { return reason.substr(0, reason.find(':')); }

// The clip's thumbnail from a second, colour reader: the matching one decodes luma squares.
std::vector<std::uint8_t> ClipThumbnail(const InputItem& item, const ItemContent& content,
                                        const ResultRecord& record, int min_quality) {
  VideoReaderOptions decode;
  decode.max_side = ThumbnailOptions{}.side;
  std::unique_ptr<VideoReader> reader =
      content.bytes ? std::make_unique<VideoReader>(content.bytes, item.label, decode)
                    : std::make_unique<VideoReader>(content.file->get(), item.label, decode);
  return EncodeClipThumbnail(*reader, record, min_quality);
}

// Reads exactly `size` bytes from offset 0 of `fd`.
std::vector<std::uint8_t> ReadAll(int fd, std::uint64_t size) {
  std::vector<std::uint8_t> bytes(size);
  const std::int64_t got = ReadAt(fd, bytes.data(), bytes.size(), 0);
  if (got < 0) throw Error(std::strerror(errno));
  if (static_cast<std::uint64_t>(got) < size) throw Error("short read (the file shrank)");
  return bytes;
}

}  // namespace

bool ReadItem(const InputItem& item, const MatchOptions& options, ItemContent* content,
              ResultRecord* record) {
  record->path = item.label;
  record->size = item.size;
  if (item.kind == InputKind::kSkipped) {
    const std::string code = CodeWord(item.reason);
    const bool special = code == "symlink" || code == "fifo" || code == "device" ||
                         code == "socket" || code == "hardlink" || code == "loop";
    // An archive without files was read whole: nothing in it failed, there is just
    // nothing to attribute, as with a zero-byte file.
    const bool empty = code == "empty";
    record->media = special ? "special" : empty ? "archive" : "unknown";
    record->status = special || empty ? "unsupported" : "error";
    record->error = item.reason;
    return false;
  }
  if (item.kind == InputKind::kArchiveMember) {
    content->bytes = item.bytes;
    content->size = item.bytes ? item.bytes->size() : 0;
    content->sha256 = item.bytes ? Sha256(*item.bytes) : Sha256({});
    record->size = content->size;
    return true;
  }
  // The walker saw a regular file; opened again here without following a symlink or
  // blocking on a FIFO that may have replaced it since, and checked on the descriptor.
  OwnedFd file(
      ::open(item.path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!file.valid()) {
    const int error = errno;
    Fail(record, error == ELOOP ? "unreadable: replaced by a symlink, not followed"
                                : std::string("unreadable: ") + std::strerror(error));
    return false;
  }
  struct stat status {};
  if (::fstat(file.get(), &status) != 0 || !S_ISREG(status.st_mode)) {
    Fail(record, "unreadable: no longer a regular file");
    return false;
  }
  const auto size = static_cast<std::uint64_t>(status.st_size);
  record->size = content->size = size;
  if (size > options.max_file_bytes) {
    Fail(record, "too_large: " + std::to_string(size) + " bytes exceeds --max-file-bytes");
    return false;
  }
  try {
    if (size <= kInMemoryBytes) {
      auto bytes = std::make_shared<std::vector<std::uint8_t>>(ReadAll(file.get(), size));
      content->sha256 = Sha256(*bytes);
      content->bytes = std::move(bytes);
    } else {
      content->sha256 = Sha256Fd(file.get(), item.label);
      content->file = std::make_shared<const OwnedFd>(std::move(file));
    }
  } catch (const Error& e) {
    Fail(record, std::string("unreadable: ") + e.what());
    return false;
  }
  return true;
}

void AnalyseContent(const InputItem& item, const ItemContent& content, const ReferenceIndex& index,
                    const MatchOptions& options, ResultRecord* record,
                    std::vector<std::uint8_t>* thumbnail) {
  record->sha256 = content.sha256;
  const Deadline deadline = DeadlineIn(options.max_seconds_per_file);
  MediaKind kind = MediaKind::kUnknown;
  if (content.bytes) {
    kind = SniffMediaKind(
        std::span(*content.bytes).first(std::min<size_t>(content.bytes->size(), kSniffBytes)));
  } else if (content.file) {
    try {
      kind = SniffFd(content.file->get(), item.label);
    } catch (const Error& e) {
      Fail(record, std::string("unreadable: ") + e.what());
      return;
    }
  }
  record->media = std::string(MediaKindName(kind));
  try {
    switch (kind) {
      case MediaKind::kImage: {
        if (!content.bytes) throw Error("too_large: image file too large to decode");
        const DeclaredSize declared = SniffImageSize(*content.bytes);
        if (declared.Exceeds(options.max_pixels)) {
          throw Error("too_large: image declares " + std::to_string(declared.width) + "x" +
                      std::to_string(declared.height) + " pixels (limit --max-pixels " +
                      std::to_string(options.max_pixels) + ")");
        }
        cv::Mat image;
        try {
          image = DecodeImage(*content.bytes, item.label);
        } catch (const Error& e) {
          throw Error(std::string("corrupt: ") + e.what());
        }
        MatchStill(image, index, options, record, deadline);
        // Decoding counts too, and the steps between the channels' checks.
        CheckDeadline(deadline, options.max_seconds_per_file);
        if (thumbnail) {
          try {
            *thumbnail = EncodeThumbnail(image);
          } catch (const std::exception&) {
            thumbnail->clear();  // the report shows a placeholder; the record stands
          }
        }
        break;
      }
      case MediaKind::kVideo: {
        VideoReaderOptions decode;
        decode.luma_only = true;
        decode.square_side =
            options.hash_side > 0 ? options.hash_side : index.info().parameters.hash_side;
        decode.max_pixels = options.max_pixels;
        decode.deadline = deadline;
        std::unique_ptr<VideoReader> reader;
        try {
          reader = content.bytes
                       ? std::make_unique<VideoReader>(content.bytes, item.label, decode)
                       : std::make_unique<VideoReader>(content.file->get(), item.label, decode);
        } catch (const Error& e) {
          const std::string message = e.what();
          if (message.starts_with("no_video:")) {
            // A soundtrack in a video container is no damage: nothing here to attribute.
            record->status = "unsupported";
            record->error = message;
            break;
          }
          const bool coded = message.starts_with("timeout:") || message.starts_with("too_large:");
          throw Error(coded ? message : "corrupt: " + message);
        }
        if (static_cast<std::int64_t>(reader->width()) * reader->height() > options.max_pixels) {
          throw Error("too_large: video frames of " + std::to_string(reader->width()) + "x" +
                      std::to_string(reader->height()) + " pixels");
        }
        // The extra channels decode a few frames again, under the same limits.
        const ReopenClip reopen = [&](VideoReaderOptions again) {
          again.max_pixels = options.max_pixels;
          again.deadline = deadline;
          return content.bytes
                     ? std::make_unique<VideoReader>(content.bytes, item.label, again)
                     : std::make_unique<VideoReader>(content.file->get(), item.label, again);
        };
        MatchClip(*reader, index, options, deadline, record, reopen);
        if (thumbnail) {
          try {
            *thumbnail = ClipThumbnail(item, content, *record, options.min_quality);
          } catch (const std::exception&) {
            thumbnail->clear();
          }
        }
        break;
      }
      case MediaKind::kArchive:
        // The walker opens archives; one reaching here was too deep or unreadable as one.
        record->status = "unsupported";
        record->error = "archive: not opened (nested deeper than --max-archive-depth?)";
        break;
      case MediaKind::kUnknown:
        record->status = "unsupported";
        record->error = "unknown: not an image, video or archive (by content)";
        break;
    }
  } catch (const Error& e) {
    // Every error message starts with a code word (corrupt, too_large, timeout, ...).
    std::string message = e.what();
    static const char* kCodes[] = {"corrupt:", "too_large:", "timeout:", "unreadable:"};
    bool coded = false;
    for (const char* code : kCodes) coded = coded || message.rfind(code, 0) == 0;
    Fail(record, coded ? message : "corrupt: " + message);
  } catch (const std::bad_alloc&) {
    // In a sandbox worker, the address-space limit (MatchOptions::worker_memory_bytes).
    Fail(record, "too_large: out of memory while decoding");
  } catch (const std::exception& e) {
    Fail(record, std::string("corrupt: ") + e.what());
  }
}

}  // namespace celtrace
