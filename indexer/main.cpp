// celtrace-index: builds and maintains the index of licensed footage. Parses flags, calls
// the indexer library, maps outcomes to exit codes (DESIGN.md: 0 ok, 1 some inputs failed,
// 2 usage or invalid catalogue, 3 index missing or unusable; 130 interrupted).
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "celtrace/catalog_csv.h"
#include "celtrace/cli_checks.h"
#include "celtrace/error.h"
#include "hash_listing.h"
#include "index_builder.h"
#include "index_info.h"

namespace {

std::atomic<bool> g_cancel{false};

void OnSignal(int) { g_cancel = true; }

int Summarise(const celtrace::IndexReport& report) {
  std::cerr << "celtrace-index: " << report.generation << " live: " << report.episodes
            << " episodes, " << report.entries << " entries (" << report.episodes_decoded
            << " decoded, " << report.episodes_kept << " kept, " << report.episodes_removed
            << " removed); " << report.frames_decoded << " frames in " << report.elapsed_seconds
            << " s";
  if (report.keyframes > 0) {
    std::cerr << "; " << report.keyframes << " feature keyframes (" << report.feature_seconds
              << " thread-s extracting)";
  }
  std::cerr << '\n';
  for (const auto& failure : report.failures) {
    std::cerr << "celtrace-index: skipped " << failure.source << ": " << failure.reason << '\n';
  }
  return report.failures.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "celtrace-index: index licensed episodes by perceptual hash (PDQ) so that celtrace-match "
      "can attribute leaked frames to title, episode and timecode.\nExit codes: 0 ok, 1 some "
      "episodes failed (skipped), 2 usage or invalid catalogue, 3 index missing or unusable, "
      "130 interrupted (the previous generation stays live)."};
  app.require_subcommand(1);

  celtrace::IndexOptions options;
  std::filesystem::path catalog_csv;
  auto add_index = [&](CLI::App* command) {
    command->add_option("--index", options.index_dir, "Index folder")->required();
  };
  auto add_run = [&](CLI::App* command) {
    command->add_option("--threads", options.threads, "Episodes decoded at once (0: all cores)")
        ->check(CLI::Range(0, 1024));
    command->add_flag_function(
        "--no-progress", [&](std::int64_t) { options.progress = false; }, "No progress on stderr");
  };

  auto* build = app.add_subcommand("build",
                                   "Build (or rebuild) the index from a catalogue CSV "
                                   "(header: path,title,season,episode[,...])");
  build->add_option("catalog", catalog_csv, "Catalogue CSV; paths relative to its folder")
      ->required();
  add_index(build);
  add_run(build);
  build
      ->add_option("--hold-distance", options.parameters.hold_distance,
                   "Bits within which consecutive frames are one entry (default 10)")
      ->check(CLI::Range(0, 256));
  build
      ->add_option("--min-quality", options.parameters.min_quality,
                   "PDQ quality below which frames are not indexed (default 20)")
      ->check(CLI::Range(0, 100));
  build
      ->add_option("--hash-side", options.parameters.hash_side,
                   "Scale larger frames to this square before hashing (default 384)")
      ->check(CLI::Range(64, 8192));
  build->add_flag_function(
      "--no-local-features", [&](std::int64_t) { options.parameters.local_features = false; },
      "No local-feature channel (orb: crops, screenshots, small rotations)");
  build->add_flag_function(
      "--no-line-art", [&](std::int64_t) { options.parameters.line_art = false; },
      "No line-art channel (uncoloured drawings)");
  build
      ->add_option("--keyframe-distance", options.parameters.keyframe_distance,
                   "Bits of PDQ between feature keyframes (default 24)")
      ->check(CLI::Range(0, 256));
  build
      ->add_option("--keyframe-seconds", options.parameters.keyframe_seconds,
                   "Seconds between feature keyframes within a shot (default 0.25)")
      ->check(celtrace::Within(0.0, 86400.0));
  build
      ->add_option("--keyframe-features", options.parameters.keyframe_features,
                   "ORB keypoints per keyframe of the orb channel (default 300)")
      ->check(CLI::Range(16, 20000));
  build
      ->add_option("--keyframe-grid", options.parameters.keyframe_grid,
                   "Spread the orb channel's keypoints over a grid this many cells wide, each "
                   "cell's strongest first; 0: the strongest anywhere (default 8)")
      ->check(CLI::Range(0, celtrace::kMaxKeyframeGrid));
  build
      ->add_option("--line-art-keyframe-features", options.parameters.line_art_keyframe_features,
                   "ORB keypoints per keyframe of the lineart channel (default 300)")
      ->check(CLI::Range(16, 20000));

  auto* add = app.add_subcommand("add",
                                 "Add the catalogue's new episodes as a new generation; "
                                 "episodes already indexed are not decoded again");
  add->add_option("catalog", catalog_csv, "Catalogue CSV")->required();
  add_index(add);
  add_run(add);

  celtrace::EpisodeSelector selector;
  auto* remove = app.add_subcommand("remove", "Remove a title, season or episode (new generation)");
  add_index(remove);
  remove->add_option("--title", selector.title, "Title to remove")->required();
  remove->add_option("--season", selector.season, "Only this season");
  remove->add_option("--episode", selector.episode, "Only this episode (needs --season)")
      ->needs("--season");
  add_run(remove);

  bool json = false;
  auto* info = app.add_subcommand("info", "Describe the live generation");
  add_index(info);
  info->add_flag("--json", json, "One JSON object instead of text");

  auto* verify = app.add_subcommand("verify", "Check checksums and consistency of the index");
  add_index(verify);

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error is exit code 2 (DESIGN.md).
    return app.exit(e) == 0 ? 0 : 2;
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  options.cancel = &g_cancel;
  try {
    if (*hash) return celtrace::WriteHashListing(hash_options, std::cout, std::cerr) == 0 ? 0 : 1;
    if (*info) {
      celtrace::WriteIndexInfo(options.index_dir, json, std::cout);
      return 0;
    }
    if (*verify) {
      const auto problems = celtrace::VerifyIndex(options.index_dir);
      for (const auto& problem : problems)
        std::cerr << "celtrace-index verify: " << problem << '\n';
      if (!problems.empty()) return 3;
      std::cout << "ok " << options.index_dir.string() << '\n';
      return 0;
    }
    if (*remove) return Summarise(celtrace::RemoveFromIndex(selector, options));
    std::vector<celtrace::EpisodeSource> episodes;
    try {
      episodes = celtrace::ReadCatalogCsv(catalog_csv);
    } catch (const celtrace::Error& e) {
      std::cerr << "celtrace-index: " << e.what() << '\n';
      return 2;
    }
    if (*build) return Summarise(celtrace::BuildIndex(episodes, options));
    if (*add) return Summarise(celtrace::AddToIndex(episodes, options));
  } catch (const celtrace::IndexError& e) {
    std::cerr << "celtrace-index: " << e.what() << '\n';
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "celtrace-index: " << e.what() << '\n';
    return g_cancel ? 130 : 1;
  }
  return 2;
}
