// celtrace-synth: writes synthetic animation episodes and their catalogue (fixtures for the
// indexer, the matcher and the evaluation), or prints an episode's shot list. Exit codes:
// 0 ok, 1 failure, 2 usage.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "synthetic_footage.h"

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

  try {
    app.parse(argc, argv);
    if (const std::string error = ParseSize(size_text, &catalog.size); !error.empty()) {
      throw CLI::ValidationError("--size", error);
    }
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*catalog_command) {
      celtrace::synth::WriteCatalog(catalog, &std::cerr);
    } else if (*shots_command) {
      celtrace::synth::WriteShotList(celtrace::synth::PlanEpisode(episode), std::cout);
    }
  } catch (const std::exception& e) {
    std::cerr << "celtrace-synth: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
