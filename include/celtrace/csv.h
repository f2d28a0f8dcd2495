// RFC 4180 CSV reading and writing: quoted fields with commas, quotes and newlines. Writing
// also defuses spreadsheet formula injection, since output names come from leaked archives.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace celtrace {

// Splits CSV text into rows of fields. Accepts LF or CRLF line ends and a final line
// without one; skips empty lines. Throws celtrace::Error on an unterminated quote. With
// `row_lines`, sets it to the line (1-based) each row starts on, for messages: quoted fields
// may span lines and empty lines are skipped, so rows and lines differ.
std::vector<std::vector<std::string>> ParseCsv(std::string_view text,
                                               std::vector<size_t>* row_lines = nullptr);

// Returns the field quoted as needed for CSV (a comma, semicolon, quote, apostrophe or line
// break in it). Fields that a spreadsheet would run as a formula (starting with = + - @, tab
// or carriage return) get a leading apostrophe (OWASP's advice) and are quoted.
std::string CsvField(std::string_view field);

}  // namespace celtrace
