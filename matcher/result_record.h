// ResultRecord is the one record every input gets (DESIGN.md contract: the JSON result
// record), with its JSON Lines and CSV forms. Values only; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace celtrace {

// One attribution: for a still, an occurrence of the frame in an episode; for a clip, an
// aligned segment.
struct MatchRecord {
  std::string title;
  int season = 0;
  int episode = 0;
  std::string source;    // the episode's catalogue path
  double ref_start = 0;  // seconds in the episode
  double ref_end = 0;
  double query_start = 0;  // seconds in the clip (0 for stills)
  double query_end = 0;
  int distance = 0;                      // Hamming bits (clips: median over matched frames)
  double confidence = 0;                 // 0..1
  std::string orientation = "original";  // which of the 8 dihedral forms matched
  bool trimmed = false;         // the border-trimmed still matched better than the untrimmed
  std::string channel = "pdq";  // "pdq", "orb" (local features) or "lineart"
  int inliers = 0;  // orb and lineart: RANSAC inliers of the verified keyframe (0 for pdq)
  // orb and lineart: normalised cross-correlation of the aligned query with the entry's
  // thumbnail, and the fitted query -> frame similarity (scale, rotation in degrees,
  // counter-clockwise as seen). Evidence for a reviewer; 0 for pdq.
  double correlation = 0;
  double scale = 0;
  double rotation = 0;
  // orb: how the aligned query's colours agree with the entry's (CorrelateChroma, -1..1);
  // unset when not measured (a grey query, line art, an index without chroma thumbnails).
  std::optional<double> chroma;
  // orb and lineart: how far the query picture and the frame lie one inside the other once
  // aligned (Nesting, 0..1; 1 for a crop, a screenshot or the frame itself); unset for pdq
  // and in records written before the nesting check.
  std::optional<double> nesting;
  // orb and lineart: how far the correlation's ECC refinement moved the aligned query from
  // where the keypoints put it (Realignment: no pixel of it moved farther than this share of
  // the thumbnail's width; 0: not moved); unset for pdq and older records.
  std::optional<double> realignment;
  // lineart: the share of the still's ink that lands inside the frame once aligned
  // (InkInside, 0..1); unset for other channels and in records written before the check.
  std::optional<double> ink_inside;
  // lineart: the strokes the still and the frame have in common, both ways (StrokesInCommon,
  // 0..1); unset for other channels, indexes without stroke maps and older records.
  std::optional<double> strokes;
  // How a channel match was found: "stroke_lookup" for a lineart match found by the stroke
  // lookup (the still as a whole drawing against the entries with the nearest stroke hashes,
  // no keypoints: no inliers, correlation, scale or rotation; `distance` is the stroke
  // hashes' in bits of 256), "stroke_search" for one found by the stroke search (the still
  // placed on the entry's strokes; `distance` 0); empty otherwise (pdq, and keypoints
  // verified by RANSAC).
  std::string method;
  // Stroke lookup and search: StrokesInCommon's two shares, the still's ink near the frame's
  // (drawn) and the frame's near the still's (framed); `strokes` is the lower. Unset
  // otherwise.
  std::optional<double> drawn;
  std::optional<double> framed;
  // Stroke lookup and search: the frame's outline pixels under the still
  // (StrokeAgreement::under, stroke-map pixels), what `framed` is a share of; and the most strokes
  // in common of a compared entry of another episode (0 when none was compared), which the search's
  // --min-search-margin is measured against. Stills only (a clip segment's shares are its
  // frames' medians); unset otherwise and in records written before.
  std::optional<std::int64_t> ink_under;
  std::optional<double> rival_strokes;
  bool segment = false;  // a clip segment: `frames` and `coverage` apply
  int frames = 0;        // query drawings matched in the segment
  // pdq segments: matched share of the clip's informative frames; orb and lineart segments:
  // the share of the frames tried (in the clip, or in the stretch PDQ left unexplained) that
  // agree.
  double coverage = 0;

  friend bool operator==(const MatchRecord&, const MatchRecord&) = default;
};

struct ResultRecord {
  std::string path;        // input label, raw bytes (may be invalid UTF-8)
  std::string sha256;      // of the content; empty when it could not be read
  std::uint64_t size = 0;  // bytes
  std::string media;       // "image", "video", "archive", "unknown", "special"
  std::string status;      // "match", "no_match", "low_information", "unsupported", "error"
  int quality = -1;        // PDQ quality of the query (clips: median); -1 if not hashed
  std::vector<MatchRecord> matches;
  std::string error;         // for "error" and "unsupported"
  std::string duplicate_of;  // an identical input (same SHA-256) analysed earlier
  // A match whose analysis stopped before all of it was done (a clip's channel pass cut by
  // the time limit or a decode error): what was left untried. Empty otherwise.
  std::string note;

  friend bool operator==(const ResultRecord&, const ResultRecord&) = default;
};

// Returns `text` as valid UTF-8: bytes that are not part of valid UTF-8 become `\xNN`, and
// backslashes are doubled only when something was escaped, so clean names stay as they are.
// Sets *escaped when anything was changed.
std::string EscapeInvalidUtf8(std::string_view text, bool* escaped);

// The inverse of EscapeInvalidUtf8 for text it escaped (*escaped set): `\\` becomes `\`,
// `\xNN` the byte NN.
std::string UnescapeInvalidUtf8(std::string_view text);

// Returns `text` safe to print on a terminal or to show in a spreadsheet cell or a page: as
// EscapeInvalidUtf8, and control characters too (C0 such as newline and ESC, DEL, the C1
// range U+0080-U+009F, which some terminals obey as CSI, and the bidirectional controls
// U+061C, U+200E-U+200F, U+202A-U+202E and U+2066-U+2069, with which "rlo<U+202E>gnp.exe"
// shows as "rloexe.png"), each byte written `\xNN`. A name without any of these that
// already reads like escaped text (a `\\` or a `\x` and two hex digits in it) is escaped
// too, its backslashes doubled: the display form names one file only, with no flag beside
// it (`bad\xFF.png` is a byte, `bad\\xFF.png` the four characters). Sets *escaped when
// anything was changed. For CSV fields, the HTML report and log lines naming inputs.
std::string EscapeForDisplay(std::string_view text, bool* escaped = nullptr);

// Returns the record as one line of JSON (no newline). Control characters in strings are
// JSON escapes (`\u001b`, C1 and DEL included), so the line holds no raw terminal control. Names
// are escaped for JSON and never dropped; a path that was not valid UTF-8 carries "path_escaped":
// true, a duplicate_of that was not "duplicate_of_escaped": true, an error or note quoting
// such a name "error_escaped" or "note_escaped": true. U+2028 and U+2029 are JSON escapes
// too (line breaks to JavaScript and to Python's splitlines()).
std::string ToJsonLine(const ResultRecord& record);

// Parses a line written by ToJsonLine, escaped names back to their bytes, so that
// FromJsonLine(ToJsonLine(r)) == r. Throws celtrace::Error on malformed input.
ResultRecord FromJsonLine(std::string_view line);

// The CSV header and one row per match (a row with empty match columns when there is
// none), every field escaped against formula injection (CsvField).
std::string CsvHeader();
void WriteCsvRows(const ResultRecord& record, std::ostream& out);

}  // namespace celtrace
