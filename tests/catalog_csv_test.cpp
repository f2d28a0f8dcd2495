#include "celtrace/catalog_csv.h"

#include <gtest/gtest.h>

#include <fstream>

#include "celtrace/error.h"
#include "test_util.h"

namespace celtrace {
namespace {

void Write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(CatalogCsv, ReadsRelativeAndAbsolutePathsAndExtraColumns) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir / "eps");
  Write(dir / "eps/a.mkv", "x");
  Write(dir / "b.mkv", "y");
  Write(dir / "catalog.csv",
        "path,title,season,episode,episode_title\n"
        "eps/a.mkv,Skyfolk,1,2,\"Wind, rain\"\n" +
            (dir / "b.mkv").string() + ",Marrow Lane,0,10,Pilot\n");
  const auto episodes = ReadCatalogCsv(dir / "catalog.csv");
  ASSERT_EQ(episodes.size(), 2u);
  EXPECT_EQ(episodes[0].path, dir / "eps/a.mkv");
  EXPECT_EQ(episodes[0].source, "eps/a.mkv");
  EXPECT_EQ(episodes[0].title, "Skyfolk");
  EXPECT_EQ(episodes[0].season, 1);
  EXPECT_EQ(episodes[0].episode, 2);
  EXPECT_EQ(episodes[0].extra.at("episode_title"), "Wind, rain");
  EXPECT_EQ(episodes[1].path, dir / "b.mkv");
  EXPECT_EQ(episodes[1].season, 0);
}

TEST(CatalogCsv, ReportsEveryProblemWithItsLine) {
  testing::TempDir dir;
  Write(dir / "a.mkv", "x");
  Write(dir / "c.mkv", "z");
  Write(dir / "catalog.csv",
        "path,title,season,episode\n"
        "a.mkv,Skyfolk,1,1\n"        // line 2: fine
        "missing.mkv,Skyfolk,1,2\n"  // line 3: no file
        "c.mkv,Skyfolk,1,1\n"        // line 4: duplicate key of line 2
        "a.mkv,Other,1,1\n"          // line 5: same file as line 2
        "c.mkv,,x,-1\n"              // line 6: empty title, bad season and episode
        "c.mkv,Skyfolk,1\n");        // line 7: missing a field
  try {
    ReadCatalogCsv(dir / "catalog.csv");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("catalog.csv:3: file not found"), std::string::npos) << message;
    EXPECT_NE(message.find("catalog.csv:4: duplicate of line 2"), std::string::npos) << message;
    EXPECT_NE(message.find("catalog.csv:5: same file as line 2"), std::string::npos) << message;
    EXPECT_NE(message.find("catalog.csv:6: empty title"), std::string::npos) << message;
    EXPECT_NE(message.find("catalog.csv:6: season 'x'"), std::string::npos) << message;
    EXPECT_NE(message.find("catalog.csv:6: episode '-1'"), std::string::npos) << message;
    EXPECT_NE(message.find("catalog.csv:7: has 3 fields"), std::string::npos) << message;
    EXPECT_EQ(message.find("catalog.csv:2:"), std::string::npos) << message;
  }
}

TEST(CatalogCsv, RejectsMissingColumnsAndEmptyFiles) {
  testing::TempDir dir;
  Write(dir / "no-episode.csv", "path,title,season\na,b,1\n");
  EXPECT_THROW(ReadCatalogCsv(dir / "no-episode.csv"), Error);
  Write(dir / "empty.csv", "");
  EXPECT_THROW(ReadCatalogCsv(dir / "empty.csv"), Error);
  Write(dir / "header-only.csv", "path,title,season,episode\n");
  EXPECT_THROW(ReadCatalogCsv(dir / "header-only.csv"), Error);
  EXPECT_THROW(ReadCatalogCsv(dir / "absent.csv"), Error);
}

}  // namespace
}  // namespace celtrace
