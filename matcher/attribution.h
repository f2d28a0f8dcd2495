// Attribution of one input item: reads its content under the per-file limits, digests it,
// routes it by content (never by name) to the still or clip matcher, and turns every
// failure into the item's record. Never throws for a bad input. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "input_walker.h"
#include "match_options.h"
#include "owned_fd.h"
#include "reference_index.h"
#include "result_record.h"

namespace celtrace {

// The content of an item, read once: the bytes in memory for stills and archive members,
// or the open file for large videos on disk (read by FFmpeg through its descriptor, never
// re-opened by name), plus the digest.
struct ItemContent {
  std::shared_ptr<const std::vector<std::uint8_t>> bytes;  // null for large files on disk
  std::shared_ptr<const OwnedFd> file;                     // large files on disk, else null
  std::string sha256;
  std::uint64_t size = 0;
};

// Reads the item's bytes (files up to a size that is worth holding in memory) and their
// SHA-256 into *content, or fills *record with the error and returns false. kSkipped items
// get their record here (status unsupported for links and special files, error otherwise).
bool ReadItem(const InputItem& item, const MatchOptions& options, ItemContent* content,
              ResultRecord* record);

// Fills record's media, status, quality, matches and error from the content. If
// `thumbnail` is not null, it receives a small JPEG of the image, or of the clip's frame at
// its first matched segment (EncodeThumbnail, EncodeClipThumbnail), made while the decoded
// pixels are at hand; it stays empty when nothing decoded. Making it never changes the
// record.
void AnalyseContent(const InputItem& item, const ItemContent& content, const ReferenceIndex& index,
                    const MatchOptions& options, ResultRecord* record,
                    std::vector<std::uint8_t>* thumbnail = nullptr);

}  // namespace celtrace
