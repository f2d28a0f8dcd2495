// The command-line options of the extra channels' acceptance bars (AcceptanceBars), declared
// once for celtrace-match and for celtrace-evaluate --replay, which scores records at them.
#pragma once

#include <CLI/CLI.hpp>
#include <limits>
#include <sstream>
#include <string>

#include "celtrace/cli_checks.h"
#include "match_options.h"

namespace celtrace {

// Correlation bars: correlations lie in [-1, 1]; a bar above 1 (1.01) closes its region,
// which tests and replays use, so only the lower end is bounded.
inline CLI::Validator CorrelationBar() {
  return Within(-1.0, std::numeric_limits<double>::infinity());
}

// The two options of an orb region that asks fewer inliers of a closer alignment
// (--NAME-min-inliers, --NAME-correlation), their current values given as the defaults.
inline void AddCloserRegionOptions(CLI::App& app, const std::string& name, int& min_inliers,
                                   double& correlation) {
  const std::string inliers_option = "--" + name + "-min-inliers";
  const std::string correlation_option = "--" + name + "-correlation";
  std::ostringstream inliers_help, correlation_help;
  inliers_help << "RANSAC inliers an orb match needs when it correlates " << correlation_option
               << " (default " << min_inliers << ")";
  correlation_help << "Thumbnail correlation that lets an orb match pass with " << inliers_option
                   << " (default " << correlation << ")";
  app.add_option(inliers_option, min_inliers, inliers_help.str())->check(CLI::NonNegativeNumber);
  app.add_option(correlation_option, correlation, correlation_help.str())->check(CorrelationBar());
}

inline void AddAcceptanceOptions(CLI::App& app, MatchOptions& options) {
  app.add_option("--min-inliers", options.min_inliers,
                 "RANSAC inliers an orb match needs (default 60)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--min-correlation", options.min_correlation,
                 "Thumbnail correlation an orb match needs (default 0.92)")
      ->check(CorrelationBar());
  AddCloserRegionOptions(app, "close", options.close_min_inliers, options.close_correlation);
  app.add_option("--strong-min-inliers", options.strong_min_inliers,
                 "RANSAC inliers that let an orb match pass at --strong-correlation "
                 "(default 70)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--strong-correlation", options.strong_correlation,
                 "Thumbnail correlation an orb match with --strong-min-inliers needs "
                 "(default 0.85)")
      ->check(CorrelationBar());
  app.add_option("--strong-max-realignment", options.strong_max_realignment,
                 "How far (share of the frame's width) the correlation's refinement may move "
                 "a query from where its keypoints put it, for an orb match to pass at "
                 "--strong-correlation; inf: off (default 0.1)")
      ->check(Within(0.0, std::numeric_limits<double>::infinity()));
  AddCloserRegionOptions(app, "closest", options.closest_min_inliers, options.closest_correlation);
  AddCloserRegionOptions(app, "exact", options.exact_min_inliers, options.exact_correlation);
  app.add_option("--min-chroma", options.min_chroma_correlation,
                 "Colour correlation (a*, b* of 32-pixel thumbnails) an orb match of a colour "
                 "still needs, in any region; -1: off (default 0.35)")
      ->check(Within(-1.0, 1.0));
  app.add_option("--min-nesting", options.min_nesting,
                 "How far the aligned query and frame must lie one inside the other (a crop in "
                 "the frame, the frame in a screenshot), for orb and lineart matches; 0: off "
                 "(default 0.9)")
      ->check(Within(0.0, 1.0));
  app.add_option("--min-line-art-inliers", options.min_line_art_inliers,
                 "RANSAC inliers a lineart match needs (default 60)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--min-line-art-correlation", options.min_line_art_correlation,
                 "Thumbnail correlation a lineart match needs (default 0.80)")
      ->check(CorrelationBar());
  app.add_option("--min-line-art-ink-inside", options.min_line_art_ink_inside,
                 "Share of a line-art still's ink that must land inside the frame once "
                 "aligned; 0: off (default 0.8)")
      ->check(Within(0.0, 1.0));
  app.add_option("--min-line-art-strokes", options.min_line_art_strokes,
                 "Share of strokes a lineart match must have in common with the frame, both "
                 "ways (the still's ink near the frame's, the frame's near the still's; "
                 "stroke maps at half the index's feature side; opens the region of "
                 "--line-art-stroke-min-inliers); 0: off (default 0.85)")
      ->check(Within(0.0, 1.0));
  app.add_option("--line-art-stroke-min-inliers", options.line_art_stroke_min_inliers,
                 "RANSAC inliers a lineart match needs when its strokes were compared "
                 "(an index with stroke maps; default 30)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--line-art-stroke-correlation", options.line_art_stroke_correlation,
                 "Thumbnail correlation a lineart match with --line-art-stroke-min-inliers "
                 "needs (default 0.6)")
      ->check(CorrelationBar());
  app.add_option("--min-search-strokes", options.min_search_strokes,
                 "Stroke search: strokes in common (the lower of the still's ink near the "
                 "frame's and the frame's near the still's) a placed entry needs (default 0.9)")
      ->check(Within(0.0, 1.0));
  app.add_option("--min-search-drawn", options.min_search_drawn,
                 "Stroke search: share of the placed still's ink that must lie near the "
                 "frame's strokes (default 0.95)")
      ->check(Within(0.0, 1.0));
  app.add_option("--min-search-ink", options.min_search_ink,
                 "Stroke search: the frame's outline pixels (ink beside paper, of its "
                 "320-pixel-wide stroke map) under the placed still that a match must rest "
                 "on; replayed where records carry ink_under (default 800)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--min-search-margin", options.min_search_margin,
                 "Stroke search: how far a match's strokes in common must exceed those of "
                 "every other episode's compared entry; replayed where records carry "
                 "rival_strokes (default 0.05)")
      ->check(Within(0.0, 1.0));
  app.add_option("--min-lookup-drawn", options.min_lookup_drawn,
                 "Stroke lookup: share of the still's ink that must lie near the frame's "
                 "strokes, the still scaled over the frame (default 0.6)")
      ->check(Within(0.0, 1.0));
  app.add_option("--min-lookup-framed", options.min_lookup_framed,
                 "Stroke lookup: share of the frame's strokes that must lie near the still's "
                 "ink (default 0.85)")
      ->check(Within(0.0, 1.0));
}

}  // namespace celtrace
