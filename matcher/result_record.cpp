#include "result_record.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "celtrace/csv.h"
#include "celtrace/error.h"
#include "celtrace/utf8.h"

namespace celtrace {
namespace {

using json = nlohmann::ordered_json;

double Round3(double value) { return std::round(value * 1000) / 1000; }

json MatchJson(const MatchRecord& m) {
  json out = {{"title", m.title},
              {"season", m.season},
              {"episode", m.episode},
              {"source", m.source},
              {"ref_start", Round3(m.ref_start)},
              {"ref_end", Round3(m.ref_end)},
              {"query_start", Round3(m.query_start)},
              {"query_end", Round3(m.query_end)},
              {"distance", m.distance},
              {"confidence", Round3(m.confidence)},
              {"orientation", m.orientation},
              {"channel", m.channel}};
  if (m.trimmed) out["trimmed"] = true;
  if (m.inliers > 0) {
    out["inliers"] = m.inliers;
    out["correlation"] = Round3(m.correlation);
    out["scale"] = Round3(m.scale);
    out["rotation"] = std::round(m.rotation * 10) / 10;
  }
  if (m.chroma) out["chroma"] = Round3(*m.chroma);
  if (m.nesting) out["nesting"] = Round3(*m.nesting);
  // JSON has no infinity (Realignment's value for a non-finite warp, which CorrelateWarped
  // never keeps): such a value is left out rather than written as null.
  if (m.realignment && std::isfinite(*m.realignment)) {
    out["realignment"] = Round3(*m.realignment);
  }
  if (m.ink_inside) out["ink_inside"] = Round3(*m.ink_inside);
  if (m.strokes) out["strokes"] = Round3(*m.strokes);
  if (!m.method.empty()) out["method"] = m.method;
  if (m.drawn) out["drawn"] = Round3(*m.drawn);
  if (m.framed) out["framed"] = Round3(*m.framed);
  if (m.ink_under) out["ink_under"] = *m.ink_under;
  if (m.rival_strokes) out["rival_strokes"] = Round3(*m.rival_strokes);
  if (m.segment) {
    out["frames"] = m.frames;
    out["coverage"] = Round3(m.coverage);
  }
  return out;
}

}  // namespace

namespace {

// Whether `text` holds `\\` or `\x` and two hex digits: what escaped text is made of.
bool ReadsLikeEscapedText(std::string_view text) {
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '\\') continue;
    if (text[i + 1] == '\\') return true;
    if (text[i + 1] == 'x' && i + 3 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 3]))) {
      return true;
    }
  }
  return false;
}

// Returns `text` with every byte of an invalid UTF-8 sequence, and of each valid sequence
// that `escape_sequence` selects, written `\xNN`; backslashes are doubled only when
// something was escaped, so clean names stay as they are. Sets *escaped accordingly.
template <typename Predicate>
std::string EscapeSequences(std::string_view text, bool* escaped, Predicate escape_sequence,
                            bool escape_lookalikes = false) {
  const auto escape_at = [&](size_t i, size_t length) {
    return length == 0 || escape_sequence(text.substr(i, length));
  };
  bool clean = true;
  for (size_t i = 0; i < text.size() && clean;) {
    const size_t length = Utf8SequenceLength(text, i);
    clean = !escape_at(i, length);
    i += std::max<size_t>(length, 1);
  }
  if (clean && escape_lookalikes) clean = !ReadsLikeEscapedText(text);
  if (escaped) *escaped = !clean;
  if (clean) return std::string(text);
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    if (escape_at(i, length)) {
      for (size_t k = 0; k < std::max<size_t>(length, 1); ++k) {
        out += fmt::format("\\x{:02X}", static_cast<unsigned char>(text[i + k]));
      }
      i += std::max<size_t>(length, 1);
    } else if (text[i] == '\\') {
      out += "\\\\";
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace

std::string EscapeInvalidUtf8(std::string_view text, bool* escaped) {
  return EscapeSequences(text, escaped, [](std::string_view) { return false; });
}

std::string UnescapeInvalidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x' &&
               hex(text[i + 2]) >= 0 && hex(text[i + 3]) >= 0) {
      out += static_cast<char>(hex(text[i + 2]) * 16 + hex(text[i + 3]));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string EscapeForDisplay(std::string_view text, bool* escaped) {
  // C0 controls and DEL (one byte), C1 controls U+0080-U+009F (0xC2 0x80-0x9F), and the
  // bidirectional controls: U+061C (D8 9C), U+200E-U+200F (E2 80 8E-8F), U+202A-U+202E
  // (E2 80 AA-AE), U+2066-U+2069 (E2 81 A6-A9).
  return EscapeSequences(
      text, escaped,
      [](std::string_view sequence) {
        const auto byte = [&](size_t i) { return static_cast<unsigned char>(sequence[i]); };
        if (sequence.size() == 1) return byte(0) < 0x20 || byte(0) == 0x7F;
        if (sequence.size() == 2) {
          return (byte(0) == 0xC2 && byte(1) < 0xA0) || (byte(0) == 0xD8 && byte(1) == 0x9C);
        }
        if (sequence.size() != 3 || byte(0) != 0xE2) return false;
        if (byte(1) == 0x80) {
          return byte(2) == 0x8E || byte(2) == 0x8F || (byte(2) >= 0xAA && byte(2) <= 0xAE);
        }
        return byte(1) == 0x81 && byte(2) >= 0xA6 && byte(2) <= 0xA9;
      },
      true);
}

std::string ToJsonLine(const ResultRecord& record) {
  bool escaped = false;
  json out = {{"path", EscapeInvalidUtf8(record.path, &escaped)}};
  if (escaped) out["path_escaped"] = true;
  out["sha256"] = record.sha256;
  out["size"] = record.size;
  out["media"] = record.media;
  out["status"] = record.status;
  if (record.quality >= 0) out["quality"] = record.quality;
  json matches = json::array();
  for (const MatchRecord& m : record.matches) matches.push_back(MatchJson(m));
  out["matches"] = matches;
  // An error or note quotes names (a member's, a file's), escaped as the path is and flagged
  // as it is, so that a record read back (a job's journal, a sandbox worker's answer) has its
  // bytes again and the CSV escapes them once.
  if (!record.error.empty()) {
    bool error_escaped = false;
    out["error"] = EscapeInvalidUtf8(record.error, &error_escaped);
    if (error_escaped) out["error_escaped"] = true;
  }
  if (!record.note.empty()) {
    bool note_escaped = false;
    out["note"] = EscapeInvalidUtf8(record.note, &note_escaped);
    if (note_escaped) out["note_escaped"] = true;
  }
  if (!record.duplicate_of.empty()) {
    bool duplicate_escaped = false;
    out["duplicate_of"] = EscapeInvalidUtf8(record.duplicate_of, &duplicate_escaped);
    if (duplicate_escaped) out["duplicate_of_escaped"] = true;
  }
  // Every string was made valid UTF-8 above; dump() escapes C0 control characters, and DEL
  // and C1 (U+0080-U+009F, CSI among them) are escaped here: same strings, no raw controls.
  const std::string dumped = out.dump();
  std::string line;
  line.reserve(dumped.size());
  for (size_t i = 0; i < dumped.size(); ++i) {
    const auto byte = static_cast<unsigned char>(dumped[i]);
    const auto next = i + 1 < dumped.size() ? static_cast<unsigned char>(dumped[i + 1]) : 0;
    if (byte == 0x7F) {
      line += "\\u007f";
    } else if (byte == 0xC2 && next >= 0x80 && next < 0xA0) {
      line += fmt::format("\\u00{:02x}", next);
      ++i;
    } else if (byte == 0xE2 && next == 0x80 && i + 2 < dumped.size() &&
               (dumped[i + 2] == '\xA8' || dumped[i + 2] == '\xA9')) {
      // U+2028 and U+2029: line breaks to JavaScript and to Python's str.splitlines().
      line += dumped[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      line += dumped[i];
    }
  }
  return line;
}

ResultRecord FromJsonLine(std::string_view line) {
  try {
    const json in = json::parse(line);
    ResultRecord record;
    // The raw bytes again (ToJsonLine escaped them), so that records read back from a job's
    // journal or a worker are written as those never written: escaped once.
    record.path = in.at("path").get<std::string>();
    if (in.value("path_escaped", false)) record.path = UnescapeInvalidUtf8(record.path);
    record.sha256 = in.at("sha256").get<std::string>();
    record.size = in.at("size").get<std::uint64_t>();
    record.media = in.at("media").get<std::string>();
    record.status = in.at("status").get<std::string>();
    record.quality = in.value("quality", -1);
    record.error = in.value("error", "");
    if (in.value("error_escaped", false)) record.error = UnescapeInvalidUtf8(record.error);
    record.note = in.value("note", "");
    if (in.value("note_escaped", false)) record.note = UnescapeInvalidUtf8(record.note);
    record.duplicate_of = in.value("duplicate_of", "");
    if (in.value("duplicate_of_escaped", false)) {
      record.duplicate_of = UnescapeInvalidUtf8(record.duplicate_of);
    }
    for (const json& m : in.at("matches")) {
      MatchRecord match;
      match.title = m.at("title").get<std::string>();
      match.season = m.at("season").get<int>();
      match.episode = m.at("episode").get<int>();
      match.source = m.at("source").get<std::string>();
      match.ref_start = m.at("ref_start").get<double>();
      match.ref_end = m.at("ref_end").get<double>();
      match.query_start = m.at("query_start").get<double>();
      match.query_end = m.at("query_end").get<double>();
      match.distance = m.at("distance").get<int>();
      match.confidence = m.at("confidence").get<double>();
      match.orientation = m.at("orientation").get<std::string>();
      match.channel = m.at("channel").get<std::string>();
      match.trimmed = m.value("trimmed", false);
      match.inliers = m.value("inliers", 0);
      match.correlation = m.value("correlation", 0.0);
      match.scale = m.value("scale", 0.0);
      match.rotation = m.value("rotation", 0.0);
      if (m.contains("nesting")) match.nesting = m.at("nesting").get<double>();
      if (m.contains("realignment")) match.realignment = m.at("realignment").get<double>();
      if (m.contains("ink_inside")) match.ink_inside = m.at("ink_inside").get<double>();
      if (m.contains("strokes")) match.strokes = m.at("strokes").get<double>();
      match.method = m.value("method", std::string());
      if (m.contains("drawn")) match.drawn = m.at("drawn").get<double>();
      if (m.contains("framed")) match.framed = m.at("framed").get<double>();
      if (m.contains("ink_under")) match.ink_under = m.at("ink_under").get<std::int64_t>();
      if (m.contains("rival_strokes")) {
        match.rival_strokes = m.at("rival_strokes").get<double>();
      }
      if (m.contains("chroma")) match.chroma = m.at("chroma").get<double>();
      match.segment = m.contains("frames");
      match.frames = m.value("frames", 0);
      match.coverage = m.value("coverage", 0.0);
      record.matches.push_back(std::move(match));
    }
    return record;
  } catch (const json::exception& e) {
    throw Error(std::string("malformed result record: ") + e.what());
  }
}

std::string CsvHeader() {
  return "path,sha256,size,media,status,quality,title,season,episode,source,ref_start,ref_end,"
         "query_start,query_end,distance,confidence,orientation,channel,frames,coverage,error\n";
}

void WriteCsvRows(const ResultRecord& record, std::ostream& out) {
  const std::string prefix = fmt::format(
      "{},{},{},{},{},{}", CsvField(EscapeForDisplay(record.path)), record.sha256, record.size,
      record.media, record.status, record.quality >= 0 ? std::to_string(record.quality) : "");
  const std::string error = CsvField(EscapeForDisplay(record.error));
  if (record.matches.empty()) {
    out << prefix << ",,,,,,,,,,,,,,," << error << '\n';
    return;
  }
  for (const MatchRecord& m : record.matches) {
    out << prefix
        << fmt::format(",{},{},{},{},{:.3f},{:.3f},{:.3f},{:.3f},{},{:.3f},{},{},{},{},{}\n",
                       CsvField(m.title), m.season, m.episode, CsvField(m.source), m.ref_start,
                       m.ref_end, m.query_start, m.query_end, m.distance, m.confidence,
                       m.orientation, m.channel, m.segment ? std::to_string(m.frames) : "",
                       m.segment ? fmt::format("{:.3f}", m.coverage) : "", error);
  }
}

}  // namespace celtrace
