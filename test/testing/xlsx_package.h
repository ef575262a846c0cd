// Builds XLSX packages part by part (libzip), for tests and fuzz targets that need a workbook no
// spreadsheet would write: a cell far to the right, a long shared string, malformed XML.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace registry::testing {

// A part's name in the package and its text.
using XlsxPart = std::pair<std::string, std::string>;

// The parts of a workbook of one worksheet per `sheets` entry (its name and the XML inside its
// <sheetData>), with a shared strings table holding `shared` (one <si><t> each) when it is not
// empty. Sheet i is xl/worksheets/sheet<i+1>.xml.
std::vector<XlsxPart> WorkbookParts(const std::vector<std::pair<std::string, std::string>>& sheets,
                                    const std::vector<std::string>& shared = {});

// The five AEF tables' sheets for WorkbookParts: each its name and, as <sheetData> XML, its
// header row (row 1, the exact labels as inline strings). Callers append rows from row 2.
std::vector<std::pair<std::string, std::string>> AefHeaderSheets();

// Writes `parts` as a zip at `path` (deflated). Returns an empty string when written, else a
// message naming what failed.
std::string WriteXlsxPackage(const std::string& path, const std::vector<XlsxPart>& parts);

}  // namespace registry::testing
