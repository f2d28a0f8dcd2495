#include "result_record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "celtrace/csv.h"

namespace celtrace {
namespace {

ResultRecord Sample() {
  ResultRecord record;
  record.path = "leak/SC_042/cel_0193.png";
  record.sha256 = std::string(64, 'a');
  record.size = 284113;
  record.media = "image";
  record.status = "match";
  record.quality = 87;
  MatchRecord m;
  m.title = "Invincible";
  m.season = 2;
  m.episode = 3;
  m.source = "catalog/inv_s02e03.mkv";
  m.ref_start = 761.5;
  m.ref_end = 763.0;
  m.distance = 6;
  m.confidence = 0.99;
  record.matches.push_back(m);
  return record;
}

TEST(ResultRecord, JsonHasTheContractFieldsAndRoundTrips) {
  const ResultRecord record = Sample();
  const std::string line = ToJsonLine(record);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto json = nlohmann::json::parse(line);
  for (const char* key : {"path", "sha256", "size", "media", "status", "quality", "matches"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  const auto& m = json["matches"][0];
  for (const char* key :
       {"title", "season", "episode", "source", "ref_start", "ref_end", "query_start", "query_end",
        "distance", "confidence", "orientation", "channel"}) {
    EXPECT_TRUE(m.contains(key)) << key;
  }
  EXPECT_EQ(m["channel"], "pdq");
  EXPECT_FALSE(m.contains("inliers"));  // the verification evidence is the channels' alone
  EXPECT_EQ(FromJsonLine(line), record);
}

TEST(ResultRecord, ChannelMatchesCarryTheirVerificationEvidence) {
  ResultRecord record = Sample();
  MatchRecord& m = record.matches.front();
  m.channel = "orb";
  m.inliers = 87;
  m.correlation = 0.964;
  m.scale = 0.5;
  m.rotation = -4.9;
  m.chroma = 0.91;
  m.nesting = 0.998;
  m.realignment = 0.0123;
  const std::string line = ToJsonLine(record);
  const auto json = nlohmann::json::parse(line)["matches"][0];
  EXPECT_EQ(json["inliers"], 87);
  EXPECT_DOUBLE_EQ(json["correlation"].get<double>(), 0.964);
  EXPECT_DOUBLE_EQ(json["scale"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(json["rotation"].get<double>(), -4.9);
  EXPECT_DOUBLE_EQ(json["chroma"].get<double>(), 0.91);
  EXPECT_DOUBLE_EQ(json["nesting"].get<double>(), 0.998);
  EXPECT_DOUBLE_EQ(json["realignment"].get<double>(), 0.012);  // rounded to 3 places
  record.matches.front().realignment = 0.012;
  EXPECT_EQ(FromJsonLine(line), record);
  // A PDQ match has neither; a record written before them reads back without them.
  const std::string pdq_line = ToJsonLine(Sample());
  EXPECT_FALSE(nlohmann::json::parse(pdq_line)["matches"][0].contains("nesting"));
  EXPECT_FALSE(FromJsonLine(pdq_line).matches.front().nesting.has_value());
  EXPECT_FALSE(nlohmann::json::parse(pdq_line)["matches"][0].contains("realignment"));
  auto old = nlohmann::json::parse(line);
  old["matches"][0].erase("nesting");
  old["matches"][0].erase("chroma");
  old["matches"][0].erase("realignment");
  const MatchRecord before = FromJsonLine(old.dump()).matches.front();
  EXPECT_FALSE(before.nesting.has_value());
  EXPECT_FALSE(before.chroma.has_value());
  EXPECT_FALSE(before.realignment.has_value());
  EXPECT_EQ(before.inliers, 87);
  // A line-art match also carries the share of its ink inside the frame; orb's does not.
  EXPECT_FALSE(json.contains("ink_inside"));
  m.channel = "lineart";
  m.chroma.reset();
  m.ink_inside = 0.873;
  const std::string line_art = ToJsonLine(record);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(line_art)["matches"][0]["ink_inside"].get<double>(),
                   0.873);
  EXPECT_FALSE(nlohmann::json::parse(line_art)["matches"][0].contains("strokes"));
  EXPECT_EQ(FromJsonLine(line_art), record);
  // And, from an index with stroke maps, the strokes it has in common with the frame.
  m.strokes = 0.9126;
  const std::string stroked = ToJsonLine(record);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(stroked)["matches"][0]["strokes"].get<double>(), 0.913);
  m.strokes = 0.913;
  EXPECT_EQ(FromJsonLine(stroked), record);
  // A stroke lookup's: its method and both shares, no keypoint measures; read back as written
  // (a job's journal, a duplicate's record).
  MatchRecord& lookup = record.matches.front();
  lookup = MatchRecord{};
  lookup.title = "Skyfolk";
  lookup.channel = "lineart";
  lookup.method = "stroke_lookup";
  lookup.distance = 38;
  lookup.strokes = 0.881;
  lookup.drawn = 0.9;
  lookup.framed = 0.881;
  lookup.ink_under = 2417;
  lookup.rival_strokes = 0.5;
  const auto looked_up = nlohmann::json::parse(ToJsonLine(record))["matches"][0];
  EXPECT_EQ(looked_up["method"], "stroke_lookup");
  EXPECT_DOUBLE_EQ(looked_up["drawn"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(looked_up["framed"].get<double>(), 0.881);
  EXPECT_FALSE(looked_up.contains("inliers"));
  EXPECT_FALSE(looked_up.contains("correlation"));
  EXPECT_EQ(looked_up["ink_under"].get<std::int64_t>(), 2417);
  EXPECT_DOUBLE_EQ(looked_up["rival_strokes"].get<double>(), 0.5);
  EXPECT_EQ(FromJsonLine(ToJsonLine(record)), record);
  // A stroke search's the same, the ink its shares rest on and the best other episode's
  // strokes being what its ink and margin bars judge.
  lookup.method = "stroke_search";
  lookup.distance = 0;
  lookup.ink_under = 1213;
  lookup.rival_strokes = 0.8124;
  const auto searched = nlohmann::json::parse(ToJsonLine(record))["matches"][0];
  EXPECT_EQ(searched["ink_under"].get<std::int64_t>(), 1213);
  EXPECT_DOUBLE_EQ(searched["rival_strokes"].get<double>(), 0.812);
  lookup.rival_strokes = 0.812;
  EXPECT_EQ(FromJsonLine(ToJsonLine(record)), record);
  // Other matches have no method.
  EXPECT_FALSE(nlohmann::json::parse(pdq_line)["matches"][0].contains("method"));
  EXPECT_TRUE(FromJsonLine(pdq_line).matches.front().method.empty());
}

TEST(ResultRecord, InvalidUtf8IsEscapedNeverDropped) {
  bool escaped = false;
  EXPECT_EQ(EscapeInvalidUtf8("caf\xc3\xa9.png", &escaped), "caf\xc3\xa9.png");
  EXPECT_FALSE(escaped);
  EXPECT_EQ(EscapeInvalidUtf8("bad\xff\\name.png", &escaped), "bad\\xFF\\\\name.png");
  EXPECT_TRUE(escaped);
  // Overlong encodings and lone surrogates are not valid UTF-8 either.
  EXPECT_EQ(EscapeInvalidUtf8("\xc0\xaf", &escaped), "\\xC0\\xAF");
  EXPECT_EQ(EscapeInvalidUtf8("\xed\xa0\x80", &escaped), "\\xED\\xA0\\x80");
  ResultRecord record = Sample();
  record.path = "leak/\xfe\n\x1b[31mred.png";
  const auto json = nlohmann::json::parse(ToJsonLine(record));
  EXPECT_EQ(json["path"], "leak/\\xFE\n\x1b[31mred.png");
  EXPECT_EQ(json["path_escaped"], true);
  // Control characters stay inside the JSON string, escaped by the serializer.
  EXPECT_EQ(ToJsonLine(record).find('\n'), std::string::npos);
  EXPECT_EQ(ToJsonLine(record).find('\x1b'), std::string::npos);
}

// Records read back (a job's journal, a sandbox worker's answer) hold the raw names again:
// a resumed job's CSV escaped the journal's already escaped path a second time
// (`in2/bad\\xFFnl\x0A.jpg` against `in2/bad\xFFnl\x0A.jpg` from a run without a job).
TEST(ResultRecord, EscapedNamesReadBackAsTheirBytes) {
  for (const std::string& name :
       {std::string("bad\xffnl\n.jpg"), std::string("a\\b\xfe\\\\x41.png"),
        std::string("plain\\x41.png"), std::string("caf\xc3\xa9.png")}) {
    SCOPED_TRACE(name);
    ResultRecord record = Sample();
    record.path = "in2/" + name;
    record.duplicate_of = "first/" + name;
    // Errors and notes quote names too (a sandbox worker's answer and a job's journal are
    // read back: the CSV's error column was escaped twice).
    record.error = "corrupt: video in2/" + name + " ends early";
    record.note = "reference frame of " + name + " not found";
    const std::string line = ToJsonLine(record);
    const ResultRecord back = FromJsonLine(line);
    EXPECT_EQ(back.path, record.path);
    EXPECT_EQ(back.duplicate_of, record.duplicate_of);
    EXPECT_EQ(back.error, record.error);
    EXPECT_EQ(back.note, record.note);
    EXPECT_EQ(ToJsonLine(back), line);
    std::ostringstream direct, read_back;
    WriteCsvRows(record, direct);
    WriteCsvRows(back, read_back);
    EXPECT_EQ(read_back.str(), direct.str());
    bool escaped = false;
    const std::string text = EscapeInvalidUtf8(name, &escaped);
    EXPECT_EQ(escaped ? UnescapeInvalidUtf8(text) : text, name);
  }
  // A clean name keeps its backslashes as they are, flagged as nothing escaped.
  ResultRecord record = Sample();
  record.duplicate_of = "x\\xFF.png";  // a literal backslash-x name, valid UTF-8
  const auto json = nlohmann::json::parse(ToJsonLine(record));
  EXPECT_FALSE(json.contains("duplicate_of_escaped"));
  EXPECT_EQ(FromJsonLine(ToJsonLine(record)).duplicate_of, "x\\xFF.png");
  record.duplicate_of = "x\xff.png";
  EXPECT_EQ(nlohmann::json::parse(ToJsonLine(record))["duplicate_of_escaped"], true);
}

TEST(ResultRecord, DisplayEscapingCoversControlsAndInvalidBytes) {
  bool escaped = true;
  EXPECT_EQ(EscapeForDisplay("clean/näme\\x.png", &escaped), "clean/näme\\x.png");
  EXPECT_FALSE(escaped);
  // Newline, ESC, DEL, C1 CSI (U+009B as 0xC2 0x9B) and an invalid byte: each byte \xNN;
  // once anything is escaped, a literal backslash is doubled so the result is unambiguous.
  EXPECT_EQ(EscapeForDisplay("a\nb\x1b[31m\x7f\xc2\x9b\xff\\", &escaped),
            "a\\x0Ab\\x1B[31m\\x7F\\xC2\\x9B\\xFF\\\\");
  EXPECT_TRUE(escaped);
  // U+00A0 and above are printable: kept.
  EXPECT_EQ(EscapeForDisplay("\xc2\xa0"), "\xc2\xa0");
  // EscapeInvalidUtf8 leaves controls to the JSON encoder.
  EXPECT_EQ(EscapeInvalidUtf8("a\nb\xff", &escaped), "a\nb\\xFF");
  // Bidirectional controls: "rlo<U+202E>gnp.exe" would show as "rloexe.png".
  EXPECT_EQ(EscapeForDisplay("rlo\u202Egnp.exe", &escaped), "rlo\\xE2\\x80\\xAEgnp.exe");
  EXPECT_TRUE(escaped);
  for (const char* control : {"\u061C", "\u200E", "\u200F", "\u202A", "\u2066", "\u2069"}) {
    EXPECT_TRUE((EscapeForDisplay(std::string("a") + control, &escaped), escaped)) << control;
  }
  EXPECT_EQ(EscapeForDisplay("\u2010\u2065\u202F", &escaped), "\u2010\u2065\u202F");
  EXPECT_FALSE(escaped);
  // A name that reads like escaped text is escaped too: one display text, one file.
  EXPECT_EQ(EscapeForDisplay("bad\\xFF.png", &escaped), "bad\\\\xFF.png");
  EXPECT_TRUE(escaped);
  EXPECT_EQ(EscapeForDisplay("bad\xFF.png"), "bad\\xFF.png");
  EXPECT_EQ(EscapeForDisplay("two\\\\slashes"), "two\\\\\\\\slashes");
  EXPECT_EQ(EscapeForDisplay("dos\\path\\x1.png", &escaped), "dos\\path\\x1.png");
  EXPECT_FALSE(escaped);
}

TEST(ResultRecord, JsonLinesHoldNoRawLineSeparators) {
  ResultRecord record = Sample();
  record.path = "a\u2028b\u2029c.png";
  const std::string line = ToJsonLine(record);
  EXPECT_EQ(line.find("\u2028"), std::string::npos);
  EXPECT_EQ(line.find("\u2029"), std::string::npos);
  EXPECT_NE(line.find("a\\u2028b\\u2029c.png"), std::string::npos) << line;
  EXPECT_EQ(FromJsonLine(line).path, record.path);
}

TEST(ResultRecord, CsvRowsAreEscapedAgainstFormulaInjection) {
  ResultRecord record = Sample();
  record.path = "=cmd|' /C calc'!A0.png";
  record.matches[0].title = "+Title, with comma";
  std::ostringstream out;
  WriteCsvRows(record, out);
  const auto rows = ParseCsv(CsvHeader() + out.str());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][0], "'=cmd|' /C calc'!A0.png");
  EXPECT_EQ(rows[1][6], "'+Title, with comma");
  EXPECT_EQ(rows[1].size(), rows[0].size());
  ResultRecord error;
  error.path = "x";
  error.status = "error";
  error.error = "corrupt: -bad";
  std::ostringstream none;
  WriteCsvRows(error, none);
  const auto error_rows = ParseCsv(none.str());
  ASSERT_EQ(error_rows.size(), 1u);
  EXPECT_EQ(error_rows[0].size(), rows[0].size());
  EXPECT_EQ(error_rows[0].back(), "corrupt: -bad");
}

}  // namespace
}  // namespace celtrace
