#include "reference_index.h"

#include <map>

#include "celtrace/error.h"

namespace celtrace {

ReferenceIndex::ReferenceIndex(const std::filesystem::path& index_dir)
    : index_(Index::Open(index_dir)) {
  episodes_ = index_.catalog().Episodes();
  std::map<std::int64_t, std::int32_t> position;
  for (size_t i = 0; i < episodes_.size(); ++i) {
    position[episodes_[i].id] = static_cast<std::int32_t>(i);
  }
  const auto entries = index_.catalog().AllEntries();
  entries_.reserve(entries.size());
  for (const Entry& entry : entries) {
    if (entry.id != static_cast<std::int64_t>(entries_.size()) ||
        !position.contains(entry.episode_id)) {
      throw IndexError("catalogue of " + info().path.string() +
                       " is inconsistent; run celtrace-index verify");
    }
    entries_.push_back({position[entry.episode_id], entry.quality, entry.start, entry.end});
  }
}

}  // namespace celtrace
