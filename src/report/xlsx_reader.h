// Reads the cell text of an XLSX workbook (Office Open XML, ECMA-376 part 1 §18): the zip is
// opened with libzip, the workbook, its relationships, the shared strings and each worksheet are
// parsed with libxml2's streaming reader (no DTDs, no entity expansion, no network). Cells give
// their text as a spreadsheet shows it: shared strings (t="s") and inline strings
// (t="inlineStr") as written, numbers as written (integers without ".0" or an exponent),
// booleans as TRUE/FALSE, formula results as cached. Used for the cross-Party check with a
// partner's AEF workbook (DOMAIN R-CC-05 item 2).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace registry::report {

struct XlsxSheet {
  std::string name;
  // Rows by position (row 1 first); gaps between rows become empty rows, missing cells empty
  // strings. Trailing empty cells of a row are dropped.
  std::vector<std::vector<std::string>> rows;
};

// Excel's own limit on the text of one cell, in characters. A longer cell is refused: no
// spreadsheet writes one.
inline constexpr int64_t kXlsxCellCharsMax = 32767;

// What one read may hold, so that a small hostile file cannot make the reader allocate without
// bound: a cell reference far to the right (XFD1) fills the row with empty cells, and a long
// shared string placed in a million cells is copied a million times. Each limit is a refusal
// naming it, before the memory is taken. The defaults are far above any real AEF (its widest
// table has 25 columns; a year of a Party's actions is thousands of rows).
struct XlsxLimits {
  int64_t columns_max = 16384;       // Per row; the XLSX grid's own width.
  int64_t cells_max = int64_t{1} << 25;       // Cells placed in the rows, empty ones included.
  int64_t text_bytes_max = int64_t{1} << 30;  // Cell text, each placed copy counted.
};

// Every worksheet of the workbook at `path` that `wanted` names (all when it is empty), in
// workbook order; the others are not read. The error names the file part and the problem (not a
// zip file, a missing part, malformed XML, a part above the size limit, a limit passed).
Result<std::vector<XlsxSheet>, std::string> ReadXlsxSheets(
    const std::string& path, const std::vector<std::string>& wanted = {},
    const XlsxLimits& limits = XlsxLimits());

// Decodes the ST_Xstring escapes of OOXML ("_x000D_" is a carriage return, "_x005F_" an
// underscore) to UTF-8.
std::string DecodeXstring(const std::string& text);

}  // namespace registry::report
