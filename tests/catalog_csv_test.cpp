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

// The message ReadCatalogCsv throws for `csv`; a test failure if it throws none.
std::string ProblemsOf(const std::filesystem::path& csv) {
  try {
    ReadCatalogCsv(csv);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error from " << csv;
  return {};
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
  {
    const std::string message = ProblemsOf(dir / "catalog.csv");
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

// Lines, not rows: a blank line and a quoted field over two lines put rows on later lines.
TEST(CatalogCsv, ProblemsNameTheFilesLineAfterBlankLinesAndQuotedNewlines) {
  testing::TempDir dir;
  Write(dir / "a.mkv", "x");
  Write(dir / "catalog.csv",
        "path,title,season,episode,notes\n"
        "\n"                                  // line 2: blank, skipped
        "a.mkv,Skyfolk,1,1,\"two\nlines\"\n"  // lines 3-4: one row
        "a.mkv,Skyfolk,1,x,\n");              // line 5
  {
    const std::string message = ProblemsOf(dir / "catalog.csv");
    EXPECT_NE(message.find("catalog.csv:5: episode 'x'"), std::string::npos) << message;
  }
}

// Spreadsheets save "CSV UTF-8" with a byte-order mark, which is not part of the first
// column's name.
TEST(CatalogCsv, AcceptsAByteOrderMark) {
  testing::TempDir dir;
  Write(dir / "a.mkv", "x");
  Write(dir / "catalog.csv", "\xEF\xBB\xBFpath,title,season,episode\na.mkv,Skyfolk,1,1\n");
  const auto episodes = ReadCatalogCsv(dir / "catalog.csv");
  ASSERT_EQ(episodes.size(), 1u);
  EXPECT_EQ(episodes[0].source, "a.mkv");
}

// The index keeps its text as UTF-8 and one value per column: a Latin-1 title, file name or
// extra column, or a column named twice, is refused with its line before any decoding.
TEST(CatalogCsv, RefusesTextThatIsNotUtf8AndColumnsNamedTwice) {
  testing::TempDir dir;
  Write(dir / "a.mkv", "x");
  Write(dir / "latin1.csv",
        "path,title,season,episode,episode_title\n"
        "a.mkv,Am\xE9lie,1,1,\n"
        "a.mkv,Skyfolk,1,2,Caf\xE9\n");
  {
    const std::string message = ProblemsOf(dir / "latin1.csv");
    EXPECT_NE(message.find("latin1.csv:2: 'title' is not valid UTF-8"), std::string::npos)
        << message;
    EXPECT_NE(message.find("latin1.csv:3: 'episode_title' is not valid UTF-8"), std::string::npos)
        << message;
  }
  Write(dir / "twice.csv", "path,title,season,episode,title\na.mkv,Skyfolk,1,1,Wrong\n");
  {
    const std::string message = ProblemsOf(dir / "twice.csv");
    EXPECT_NE(message.find("twice.csv:1: column 'title' appears twice (columns 2 and 5)"),
              std::string::npos)
        << message;
  }
  // Valid UTF-8 beyond ASCII is fine.
  Write(dir / "utf8.csv", "path,title,season,episode\na.mkv,Am\xC3\xA9lie,1,1\n");
  EXPECT_EQ(ReadCatalogCsv(dir / "utf8.csv").at(0).title, "Am\xC3\xA9lie");
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
