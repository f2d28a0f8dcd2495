// The command-line options of the extra channels' acceptance bars (AcceptanceBars), declared
// once for celtrace-match and for celtrace-evaluate --replay, which scores records at them.
#pragma once

#include <CLI/CLI.hpp>

#include "match_options.h"

namespace celtrace {

inline void AddAcceptanceOptions(CLI::App& app, MatchOptions& options) {
  app.add_option("--min-inliers", options.min_inliers,
                 "RANSAC inliers an orb match needs (default 55)");
  app.add_option("--min-correlation", options.min_correlation,
                 "Thumbnail correlation an orb match needs (default 0.92)");
  app.add_option("--close-min-inliers", options.close_min_inliers,
                 "RANSAC inliers an orb match needs when it correlates --close-correlation "
                 "(default 40)");
  app.add_option("--close-correlation", options.close_correlation,
                 "Thumbnail correlation that lets an orb match pass with --close-min-inliers "
                 "(default 0.97)");
  app.add_option("--strong-min-inliers", options.strong_min_inliers,
                 "RANSAC inliers that let an orb match pass at --strong-correlation "
                 "(default 70)");
  app.add_option("--strong-correlation", options.strong_correlation,
                 "Thumbnail correlation an orb match with --strong-min-inliers needs "
                 "(default 0.85)");
  app.add_option("--closest-min-inliers", options.closest_min_inliers,
                 "RANSAC inliers an orb match needs when it correlates --closest-correlation "
                 "(default 20)");
  app.add_option("--closest-correlation", options.closest_correlation,
                 "Thumbnail correlation that lets an orb match pass with --closest-min-inliers "
                 "(default 0.98)");
  app.add_option("--exact-min-inliers", options.exact_min_inliers,
                 "RANSAC inliers an orb match needs when it correlates --exact-correlation "
                 "(default 12)");
  app.add_option("--exact-correlation", options.exact_correlation,
                 "Thumbnail correlation that lets an orb match pass with --exact-min-inliers "
                 "(default 0.99)");
  app.add_option("--min-chroma", options.min_chroma_correlation,
                 "Colour correlation (a*, b* of 32-pixel thumbnails) an orb match of a colour "
                 "still needs, in any region; -1: off (default 0.35)")
      ->check(CLI::Range(-1.0, 1.0));
  app.add_option("--min-nesting", options.min_nesting,
                 "How far the aligned query and frame must lie one inside the other (a crop in "
                 "the frame, the frame in a screenshot), for orb and lineart matches; 0: off "
                 "(default 0.9)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--min-line-art-inliers", options.min_line_art_inliers,
                 "RANSAC inliers a lineart match needs (default 60)");
  app.add_option("--min-line-art-correlation", options.min_line_art_correlation,
                 "Thumbnail correlation a lineart match needs (default 0.80)");
}

}  // namespace celtrace
