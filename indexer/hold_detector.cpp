#include "hold_detector.h"

namespace celtrace {

void HoldDetector::Add(const Pdq& hash, double seconds) {
  if (hash.quality < parameters_.min_quality) {
    ++low_quality_frames_;
    Close();
    return;
  }
  // Compare with the entry's first frame, not the previous one, so that a slow pan cannot
  // drift into one long entry whose hash no longer describes its later frames.
  if (has_open_ && HammingDistance(open_.hash, hash) <= parameters_.hold_distance) {
    open_.end = seconds;
    ++open_.frames;
    return;
  }
  Close();
  open_ = Entry{};
  open_.start = open_.end = seconds;
  open_.quality = hash.quality;
  open_.frames = 1;
  open_.hash = hash;
  has_open_ = true;
}

void HoldDetector::Close() {
  if (has_open_) entries_.push_back(open_);
  has_open_ = false;
}

std::vector<Entry> HoldDetector::Finish() {
  Close();
  return std::move(entries_);
}

}  // namespace celtrace
