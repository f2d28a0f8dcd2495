// Peer check with Meta's TMK sample videos: the originals chair-orig-22-sd-bar,
// pattern-hd-no-bar and doorknob-hd-no-bar are indexed as three titles; every other chair-*
// and pattern-* copy (other frame rates and lengths, grey, sepia, small and large logos,
// letterbox bars) must be attributed to its own original, with no segment naming another
// title. Uses celtrace-index and celtrace-match with their default settings.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;

struct Copy {
  const char* file;  // relative to tests/data
  const char* original_title;
};

constexpr Copy kCopies[] = {
    {"vpdq/chair-19-sd-bar.mp4", "chair"},
    {"tmk/chair-20-sd-bar.mp4", "chair"},
    {"vpdq/chair-22-sd-grey-bar.mp4", "chair"},
    {"tmk/chair-22-sd-sepia-bar.mp4", "chair"},
    {"tmk/chair-22-with-large-logo-bar.mp4", "chair"},
    {"tmk/chair-22-with-small-logo-bar.mp4", "chair"},
    {"tmk/pattern-longer-no-bar.mp4", "pattern"},
    {"tmk/pattern-sd-grey-bar.mp4", "pattern"},
    {"tmk/pattern-sd-with-large-logo-bar.mp4", "pattern"},
    {"tmk/pattern-sd-with-small-logo-bar.mp4", "pattern"},
};

TEST(TmkPeerCheck, EveryCopyIsAttributedToItsOriginalAndNothingElse) {
  testing::TempDir dir;
  {
    std::ofstream csv(dir / "catalog.csv");
    csv << "path,title,season,episode\n"
        << testing::DataPath("tmk/chair-orig-22-sd-bar.mp4").string() << ",chair,1,1\n"
        << testing::DataPath("vpdq/pattern-hd-no-bar.mp4").string() << ",pattern,1,1\n"
        << testing::DataPath("vpdq/doorknob-hd-no-bar.mp4").string() << ",doorknob,1,1\n";
  }
  ASSERT_EQ(testing::WaitProgram(
                testing::StartProgram({CELTRACE_INDEX_BIN, "build", (dir / "catalog.csv").string(),
                                       "--index", (dir / "index").string(), "--no-progress"})),
            0);
  std::vector<std::string> args = {CELTRACE_MATCH_BIN, "--index", (dir / "index").string(),
                                   "--no-progress"};
  for (const std::string& arg : testing::InstrumentedClipDeadline()) args.push_back(arg);
  for (const Copy& copy : kCopies) args.push_back(testing::DataPath(copy.file).string());
  ASSERT_EQ(testing::WaitProgram(testing::StartProgram(args, dir / "out.jsonl")), 0);

  std::ifstream in(dir / "out.jsonl");
  std::string line;
  size_t index = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(index, std::size(kCopies));
    const Copy& copy = kCopies[index++];
    const nlohmann::json record = nlohmann::json::parse(line);
    SCOPED_TRACE(copy.file);
    EXPECT_EQ(record["path"], testing::DataPath(copy.file).string());
    ASSERT_EQ(record["status"], "match");
    ASSERT_FALSE(record["matches"].empty());
    for (const auto& segment : record["matches"]) {
      EXPECT_EQ(segment["title"], copy.original_title) << segment.dump();
      // Copies play the original's frames in order: segments run forwards in both.
      EXPECT_GT(segment["query_end"].get<double>(), segment["query_start"].get<double>());
      EXPECT_GT(segment["ref_end"].get<double>(), segment["ref_start"].get<double>());
    }
  }
  EXPECT_EQ(index, std::size(kCopies));
}

}  // namespace
}  // namespace celtrace
