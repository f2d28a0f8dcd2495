// celtrace-synth: writes synthetic animation episodes and their catalogue (fixtures for the
// indexer, the matcher and the evaluation), a leak made from such a catalogue with its ground
// truth, or prints an episode's shot list. Exit codes: 0 ok, 1 failure, 2 usage.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "synthetic_footage.h"
#include "synthetic_leak.h"

namespace {

// "WxH", e.g. "640x360".
std::string ParseSize(const std::string& text, cv::Size* size) {
  int width = 0, height = 0;
  char separator = 0, rest = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &width, &separator, &height, &rest) != 3 ||
      (separator != 'x' && separator != 'X') || width < 64 || height < 64) {
    return "expected WxH of at least 64x64, e.g. 640x360, got " + text;
  }
  *size = cv::Size(width, height);
  return "";
}

// "leak of 37 files in DIR (24 still, 6 negative, 3 clip, 3 corrupt, 1 zip with 5 members);
// ground truth DIR/expected.csv"
std::string LeakSummary(const std::filesystem::path& dir,
                        const std::vector<celtrace::synth::LeakItem>& items) {
  std::set<std::string> files, members;
  std::map<std::string, std::set<std::string>> by_kind;
  for (const celtrace::synth::LeakItem& item : items) {
    const std::size_t bang = item.path.find("!/");
    if (bang == std::string::npos) {
      files.insert(item.path);
      by_kind[item.kind].insert(item.path);
    } else {
      files.insert(item.path.substr(0, bang));
      members.insert(item.path);
    }
  }
  std::string summary =
      "leak of " + std::to_string(files.size()) + " files in " + dir.string() + " (";
  for (const auto& [kind, paths] : by_kind)
    summary += std::to_string(paths.size()) + " " + kind + ", ";
  summary += members.empty() ? std::string("no zip")
                             : "1 zip with " + std::to_string(members.size()) + " members";
  return summary + "); ground truth " + (dir / "expected.csv").string();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "celtrace-synth: synthetic 2D-animation episodes made from seeds, with their "
      "catalogue, as fixtures for celtrace-index and celtrace-match."};
  app.require_subcommand(1);
  std::string size_text = "640x360";

  celtrace::synth::CatalogSpec catalog;
  auto* catalog_command = app.add_subcommand(
      "catalog",
      "Write DIR/<show>_s01eNN.mkv episodes (mpeg4 in Matroska), DIR/catalog.csv "
      "(path,title,season,episode,episode_title) and DIR/shots.csv (the shot lists).");
  catalog_command->add_option("--out", catalog.out_dir, "Output folder")->required();
  catalog_command
      ->add_option("--episodes", catalog.episodes, "Number of episodes, shows alternating")
      ->required()
      ->check(CLI::Range(1, 9999));
  catalog_command->add_option("--seconds", catalog.seconds, "Length of each episode")
      ->required()
      ->check(CLI::PositiveNumber);
  catalog_command->add_option("--seed", catalog.seed, "Catalogue seed")->capture_default_str();
  catalog_command->add_option("--size", size_text, "Frame size WxH")->capture_default_str();
  catalog_command->add_flag("--opening", catalog.with_opening,
                            "Start each episode with its show's shared opening");

  celtrace::synth::EpisodeSpec episode;
  auto* shots_command =
      app.add_subcommand("shots", "Print one episode's shot list as CSV (the ground truth).");
  shots_command->add_option("--seed", episode.seed, "Episode seed")->required();
  shots_command->add_option("--seconds", episode.duration_seconds, "Episode length")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  shots_command->add_option("--fps", episode.fps, "Frame rate")->check(CLI::PositiveNumber);
  shots_command->add_flag("--opening", episode.with_opening, "Start with the shared opening");
  shots_command->add_option("--opening-seed", episode.opening_seed, "Seed of the opening")
      ->capture_default_str();

  celtrace::synth::CatalogSpec leak_catalog;
  celtrace::synth::LeakSpec leak;
  std::string leak_size_text = "640x360";
  std::filesystem::path leak_catalog_dir;
  bool no_clips = false, no_archive = false;
  auto* leak_command = app.add_subcommand(
      "leak",
      "Write a synthetic leak made from the catalogue that `catalog` writes with the same "
      "--episodes, --seconds, --seed, --size and --opening: stills under transformations, "
      "clips, negatives, corrupt files and leak_drop.zip, with the ground truth in "
      "LEAKDIR/expected.csv.");
  leak_command->add_option("--out", leak.out_dir, "Output folder (LEAKDIR)")->required();
  leak_command->add_option("--episodes", leak_catalog.episodes, "Episodes of the catalogue")
      ->required()
      ->check(CLI::Range(1, 9999));
  leak_command->add_option("--seconds", leak_catalog.seconds, "Episode length of the catalogue")
      ->required()
      ->check(CLI::PositiveNumber);
  leak_command->add_option("--seed", leak_catalog.seed, "Catalogue seed")->capture_default_str();
  leak_command->add_option("--size", leak_size_text, "Frame size WxH of the catalogue")
      ->capture_default_str();
  leak_command->add_flag("--opening", leak_catalog.with_opening,
                         "The catalogue's episodes start with their show's opening");
  leak_command->add_option("--leak-seed", leak.seed, "Seed of the leak")->capture_default_str();
  leak_command
      ->add_option("--stills-per-transform", leak.stills_per_transform,
                   "Stills per transformation kind")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  leak_command->add_flag("--no-clips", no_clips, "No video clips");
  leak_command->add_flag("--no-archive", no_archive, "No leak_drop.zip");
  leak_command->add_flag("--evaluation", leak.evaluation,
                         "Also the evaluation set's transforms (crops, rotations, screenshots, "
                         "line art, ...) and hard negatives, --stills-per-transform of each");
  leak_command
      ->add_flag_callback(
          "--house-style-line-art",
          [&leak] { leak.unrelated_line_art_style = celtrace::synth::DrawingStyle::kHouse; },
          "With --evaluation: draw the unrelated line art in the catalogue's house style, as "
          "before 2026-12-07 (its drawings of a pose the catalogue shows are the catalogue's own), "
          "instead of another studio's")
      ->needs("--evaluation");
  leak_command
      ->add_option("--evaluation-clips", leak.evaluation_clips,
                   "Also this many clips of each kind (re-encoded, PAL-retimed, compiled, "
                   "cropped, subtitled, unrelated, cropped off-centre, inside a screenshot)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  leak_command->add_option("--catalog-dir", leak_catalog_dir,
                           "Check that this folder holds the catalogue the flags describe");

  try {
    app.parse(argc, argv);
    if (const std::string error = ParseSize(size_text, &catalog.size); !error.empty()) {
      throw CLI::ValidationError("--size", error);
    }
    if (const std::string error = ParseSize(leak_size_text, &leak_catalog.size); !error.empty()) {
      throw CLI::ValidationError("--size", error);
    }
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*catalog_command) {
      celtrace::synth::WriteCatalog(catalog, &std::cerr);
    } else if (*leak_command) {
      leak.catalog = celtrace::synth::PlanCatalog(leak_catalog);
      leak.with_clips = !no_clips;
      leak.with_archive = !no_archive;
      if (!leak_catalog_dir.empty()) {
        celtrace::synth::VerifyCatalogDir(leak_catalog_dir, leak.catalog);
      }
      std::cerr << LeakSummary(leak.out_dir, celtrace::synth::WriteLeak(leak)) << '\n';
    } else if (*shots_command) {
      celtrace::synth::WriteShotList(celtrace::synth::PlanEpisode(episode), std::cout);
    }
  } catch (const std::exception& e) {
    std::cerr << "celtrace-synth: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
