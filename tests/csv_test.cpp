#include "celtrace/csv.h"

#include <gtest/gtest.h>

#include "celtrace/error.h"
#include "celtrace/utf8.h"

namespace celtrace {
namespace {

TEST(Csv, ParsesQuotesCommasNewlinesAndCrlf) {
  const auto rows = ParseCsv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\nlast,,\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"x, y", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"last", "", ""}));
  EXPECT_THROW(ParseCsv("a,\"open\n"), Error);
  // The line each row starts on: CRLF counts once, a quoted newline and a blank line count.
  std::vector<size_t> lines;
  ParseCsv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\nlast,,\n", &lines);
  EXPECT_EQ(lines, (std::vector<size_t>{1, 2, 5}));
  ParseCsv("\n\nfirst\rsecond", &lines);  // a lone CR ends a line too
  EXPECT_EQ(lines, (std::vector<size_t>{3, 4}));
}

TEST(Utf8, SequencesAreValidatedAsTheStandardSays) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("Am\xC3\xA9lie \xE2\x82\xAC \xF0\x9F\x8E\xAC"));  // é, €, U+1F3AC
  EXPECT_FALSE(IsValidUtf8("Am\xE9lie"));                                   // Latin-1
  EXPECT_FALSE(IsValidUtf8("\xC3"));                                        // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a stray continuation byte
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82\xAC", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("a\xE2\x82", 1), 0u);
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
  // A spreadsheet that splits lists at ';' would see "=2+5" as a cell of its own unquoted.
  EXPECT_EQ(CsvField("a;=2+5;b.png"), "\"a;=2+5;b.png\"");
  EXPECT_EQ(ParseCsv(CsvField("a;=2+5;b.png") + ",end\n")[0][0], "a;=2+5;b.png");
}

}  // namespace
}  // namespace celtrace
