// celtrace-index: builds and maintains the index of licensed footage. Parses flags, calls
// the indexer library, maps outcomes to exit codes (DESIGN.md: 0 ok, 1 some inputs failed,
// 2 usage, 3 index unusable).
#include <CLI/CLI.hpp>
#include <iostream>

#include "hash_listing.h"

int main(int argc, char** argv) {
  CLI::App app{
      "celtrace-index: index licensed episodes by perceptual hash (PDQ), so that celtrace-match "
      "can attribute leaked frames to title, episode and timecode."};
  app.require_subcommand(1);

  celtrace::HashListingOptions hash_options;
  auto* hash = app.add_subcommand(
      "hash",
      "Print PDQ hashes in the reference tools' formats: images as `hex,quality,path`, videos as "
      "one `frame,quality,hex,seconds` line per frame (vPDQ).");
  hash->add_option("paths", hash_options.paths, "Image or video files (recognised by content)")
      ->required();
  hash->add_flag("--dihedral", hash_options.dihedral,
                 "For images, print the 8 orientations: original, rot90, rot180, rot270, flipx, "
                 "flipy, flipplus1, flipminus1");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*hash) {
      const int failures = celtrace::WriteHashListing(hash_options, std::cout, std::cerr);
      return failures == 0 ? 0 : 1;
    }
  } catch (const std::exception& e) {
    std::cerr << "celtrace-index: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
