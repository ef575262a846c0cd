// Reads the cell text of an XLSX workbook (Office Open XML, ECMA-376 part 1 §18): the zip is
// opened with libzip, the workbook, its relationships, the shared strings and each worksheet are
// parsed with libxml2's streaming reader (no DTDs, no entity expansion, no network). Cells give
// their text as a spreadsheet shows it: shared strings (t="s") and inline strings
// (t="inlineStr") as written, numbers as written (integers without ".0" or an exponent),
// booleans as TRUE/FALSE, formula results as cached. Used for the cross-Party check with a
// partner's AEF workbook (DOMAIN R-CC-05 item 2).
#pragma once

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

// Every worksheet of the workbook at `path`, in workbook order. The error names the file part
// and the problem (not a zip file, a missing part, malformed XML, a part above the size limit).
Result<std::vector<XlsxSheet>, std::string> ReadXlsxSheets(const std::string& path);

// Decodes the ST_Xstring escapes of OOXML ("_x000D_" is a carriage return, "_x005F_" an
// underscore) to UTF-8.
std::string DecodeXstring(const std::string& text);

}  // namespace registry::report
