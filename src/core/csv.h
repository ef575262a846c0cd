// A small RFC 4180 CSV reader (quoted fields, doubled quotes, CRLF or LF). Pure: it parses text
// already read. Bounded: it refuses input with more than kCsvRowsMax rows or kCsvFieldsMax fields.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace registry {

inline constexpr size_t kCsvRowsMax = 1'000'000;
inline constexpr size_t kCsvFieldsMax = 256;

using CsvRow = std::vector<std::string>;

// Returns the rows of `text`, or a message naming the line of the first problem (an unterminated
// quote, too many rows or fields, text that is not UTF-8 or holds a control character other than
// tab, CR and LF).
Result<std::vector<CsvRow>, std::string> ParseCsv(std::string_view text);

}  // namespace registry
