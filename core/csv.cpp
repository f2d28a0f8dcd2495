#include "celtrace/csv.h"

#include "celtrace/error.h"

namespace celtrace {

std::vector<std::vector<std::string>> ParseCsv(std::string_view text,
                                               std::vector<size_t>* row_lines) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool row_has_content = false;
  size_t line = 1, row_line = 1;  // the current line; the one the current row started on
  auto end_row = [&] {
    if (row_has_content || !row.empty()) {
      row.push_back(std::move(field));
      rows.push_back(std::move(row));
      if (row_lines) row_lines->push_back(row_line);
    }
    row.clear();
    field.clear();
    row_has_content = false;
  };
  if (row_lines) row_lines->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (!quoted && !row_has_content && row.empty()) row_line = line;
    if (ch == '\n' || (ch == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++line;
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
      continue;
    }
    switch (ch) {
      case '"':
        quoted = true;
        row_has_content = true;
        break;
      case ',':
        row.push_back(std::move(field));
        field.clear();
        row_has_content = true;
        break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') break;
        end_row();
        break;
      case '\n':
        end_row();
        break;
      default:
        field += ch;
        row_has_content = true;
    }
  }
  if (quoted) throw Error("CSV: unterminated quoted field");
  end_row();
  return rows;
}

std::string CsvField(std::string_view field) {
  std::string value(field);
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
                         value[0] == '\t' || value[0] == '\r')) {
    value.insert(value.begin(), '\'');
  }
  // ';' too: a spreadsheet whose locale separates lists with ';' (much of Europe) splits an
  // unquoted "a;=2+5;b.png" into cells, the middle one a formula.
  const bool needs_quotes = value.find_first_of(",;\"\r\n'") != std::string::npos;
  if (!needs_quotes) return value;
  std::string out = "\"";
  for (char ch : value) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

}  // namespace celtrace
