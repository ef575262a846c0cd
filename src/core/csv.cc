#include "core/csv.h"

#include <algorithm>

#include "core/text.h"

namespace registry {

Result<std::vector<CsvRow>, std::string> ParseCsv(std::string_view text) {
  // Text only (issue 33): a byte that is not UTF-8 would reach a document, and
  // the JSON writer.
  if (auto problem = TextProblem(text, Controls::kWhitespace)) {
    const size_t at = *FirstBadByte(text, Controls::kWhitespace);
    const size_t line = 1 + static_cast<size_t>(std::count(
                                text.begin(), text.begin() + static_cast<ptrdiff_t>(at), '\n'));
    return Fail("line " + std::to_string(line) + ": not UTF-8 text (" + *problem + ")");
  }
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  size_t line = 1;
  auto end_field = [&]() -> bool {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
    return row.size() <= kCsvFieldsMax;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      if (!end_field()) return Fail("line " + std::to_string(line) + ": too many fields");
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (!end_field()) return Fail("line " + std::to_string(line) + ": too many fields");
      if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
      row.clear();
      ++line;
      if (rows.size() > kCsvRowsMax)
        return Fail("more than " + std::to_string(kCsvRowsMax) + " rows");
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) return Fail("line " + std::to_string(line) + ": unterminated quoted field");
  if (field_started || !row.empty()) {
    if (!end_field()) return Fail("line " + std::to_string(line) + ": too many fields");
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace registry
