// RunMatchJob in process, over many small inputs on more threads than cores, so that the
// pipeline's stages overlap as much as they can: a resumed job must give the records of an
// uninterrupted run. Under ThreadSanitizer (scripts/sanitize.sh tsan) this is also the test
// of the job's shared state between its TBB stages (the journal, the content cache, the
// records in flight), which the end-to-end tests reach only through child processes.
#include "match_job.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <sstream>

#include "celtrace/catalog_csv.h"
#include "index_builder.h"
#include "synthetic_footage.h"
#include "test_util.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;

using testing::Slurp;

// The input file name of input i (without extension): 000, 001, ...
std::string Name(int i) {
  char name[16];
  std::snprintf(name, sizeof name, "%03d", i);
  return name;
}

// Keeps the first `lines` lines of a file, as a job killed after that many records leaves
// its journal.
void KeepLines(const fs::path& path, int lines) {
  std::istringstream in(Slurp(path));
  std::string kept, line;
  for (int i = 0; i < lines && std::getline(in, line); ++i) kept += line + "\n";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << kept;
}

TEST(MatchJob, AResumeOverManySmallInputsOnFourThreadsEqualsAnUninterruptedRun) {
  testing::TempDir dir;
  const synth::CatalogSpec catalog{
      .out_dir = dir / "footage", .episodes = 1, .seconds = 6, .seed = 5, .size = {320, 180}};
  synth::WriteCatalog(catalog);
  IndexOptions index_options;
  index_options.index_dir = dir / "index";
  index_options.progress = false;
  ASSERT_GT(BuildIndex(ReadCatalogCsv(dir / "footage" / "catalog.csv"), index_options).entries, 0);

  // 240 inputs, each cheap to analyse: frames of the episode (matches), noise (no match),
  // flat grey (low information), bytes no decoder takes (unsupported), and copies of earlier
  // inputs (duplicates, some of them of inputs the resumed run takes from the journal).
  const synth::CatalogEntry episode = synth::PlanCatalog(catalog).front();
  const synth::Episode plan = synth::PlanEpisode(episode.spec);
  const fs::path inputs = dir / "inputs";
  fs::create_directories(inputs);
  std::mt19937 rng(2026);
  constexpr int kInputs = 240;
  for (int i = 0; i < kInputs; ++i) {
    const fs::path path = inputs / Name(i);
    switch (i % 5) {
      case 0:
        cv::imwrite(path.string() + ".png",
                    synth::RenderFrame(episode.spec, plan, (i * 7) % plan.frame_count));
        break;
      case 1: {
        cv::Mat noise(48, 64, CV_8UC1);
        cv::randu(noise, 0, 256);
        cv::imwrite(path.string() + ".png", noise);
        break;
      }
      case 2:
        cv::imwrite(path.string() + ".png", cv::Mat(32, 32, CV_8UC1, cv::Scalar(i % 256)));
        break;
      case 3: {
        // Large enough that reading and hashing it spans other inputs' whole analysis.
        std::string junk((1 << 21) + rng() % 4096, '\0');
        for (char& c : junk) c = static_cast<char>(rng());
        std::ofstream(path.string() + ".jpg", std::ios::binary) << junk;
        break;
      }
      case 4: {
        const int first = 5 * static_cast<int>(rng() % (i / 5 + 1)) + static_cast<int>(rng() % 3);
        fs::copy_file(inputs / (Name(first) + ".png"), path.string() + ".png");
        break;
      }
    }
  }

  MatchOptions options;
  options.index_dir = dir / "index";
  options.threads = 4;
  options.progress = false;
  const std::atomic<bool> cancel = false;
  std::ostringstream log;
  OutputOptions clean;
  clean.out = dir / "clean.jsonl";
  const MatchSummary uninterrupted = RunMatchJob({inputs.string()}, options, clean, &cancel, log);
  ASSERT_EQ(uninterrupted.inputs, kInputs);
  EXPECT_GT(uninterrupted.statuses.at("match"), 0);
  EXPECT_GT(uninterrupted.statuses.at("no_match"), 0);
  EXPECT_GT(uninterrupted.statuses.at("low_information"), 0);
  EXPECT_GT(uninterrupted.statuses.at("unsupported"), 0);

  OutputOptions job;
  job.job_dir = dir / "job";
  job.out = dir / "resumed.jsonl";
  ASSERT_EQ(RunMatchJob({inputs.string()}, options, job, &cancel, log).inputs, kInputs);
  EXPECT_EQ(Slurp(job.out), Slurp(clean.out));
  // A job that stopped after 90 records: the rerun takes those from the journal and
  // analyses the rest while the journal grows.
  KeepLines(job.job_dir / "records.jsonl", 90);
  fs::remove(job.out);
  const MatchSummary resumed = RunMatchJob({inputs.string()}, options, job, &cancel, log);
  EXPECT_EQ(resumed.inputs, kInputs);
  EXPECT_EQ(resumed.resumed, 90);
  EXPECT_EQ(Slurp(job.out), Slurp(clean.out));
}

}  // namespace
}  // namespace celtrace
