#include "celtrace/csv.h"

#include <gtest/gtest.h>

#include "celtrace/error.h"

namespace celtrace {
namespace {

TEST(Csv, ParsesQuotesCommasNewlinesAndCrlf) {
  const auto rows = ParseCsv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\nlast,,\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"x, y", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"last", "", ""}));
  EXPECT_THROW(ParseCsv("a,\"open\n"), Error);
}

TEST(Csv, FieldRoundTripsAndDefusesFormulas) {
  for (const std::string field : {"plain", "with,comma", "quote\"inside", "new\nline", ""}) {
    const auto rows = ParseCsv(CsvField(field) + ",end\n");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], field);
  }
  for (const std::string formula : {"=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx"}) {
    const std::string out = CsvField(formula);
    const auto rows = ParseCsv(out + "\n");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], "'" + formula) << out;
  }
}

}  // namespace
}  // namespace celtrace
