// The `celtrace-index hash` listing: PDQ hashes of images and of every video frame, in the
// text formats of Meta's reference tools, so users can diff ours against theirs.
#pragma once

#include <filesystem>
#include <ostream>
#include <vector>

namespace celtrace {

struct HashListingOptions {
  std::vector<std::filesystem::path> paths;  // images or videos, sniffed by content
  bool dihedral = false;  // images: print the 8 orientations (reference `--pdqdih` order)
};

// Writes, per image, `hex,quality,path` (8 such lines with `dihedral`), and per video one
// `frame,quality,hex,seconds` line per frame (vPDQ's format, 3-decimal seconds). Reports
// unreadable inputs on `errors` and goes on. Returns the number of inputs that failed.
int WriteHashListing(const HashListingOptions& options, std::ostream& out, std::ostream& errors);

}  // namespace celtrace
