// The agreed electronic format (AEF) of decision 4/CMA.6 annex II: the five tables with their
// exact labels and column order (DOMAIN.md §5.1-5.5), and renderers to CSV (one file per table),
// JSON and XLSX (one sheet per table, libxlsxwriter). Pure apart from the XLSX writer, which
// writes the file it is given.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace registry::report {

// One table: its sheet name, its exact column labels, and its rows of cells (text; numbers are
// written as digits and typed as numbers in XLSX when the column is numeric).
struct AefTable {
  std::string name;                  // "Submission", "Authorizations", ...
  std::vector<std::string> columns;  // Exact labels of 4/CMA.6 annex II.
  std::vector<bool> numeric;         // Per column: write as a number in XLSX.
  std::vector<std::vector<std::string>> rows;
};

struct AefWorkbook {
  std::array<AefTable, 5> tables;  // Submission, Authorizations, Actions, Holdings, Entities.
};

// Returns a workbook with the five tables' labels and no rows.
AefWorkbook EmptyAefWorkbook();

// Indices into AefWorkbook::tables.
inline constexpr size_t kSubmission = 0;
inline constexpr size_t kAuthorizations = 1;
inline constexpr size_t kActions = 2;
inline constexpr size_t kHoldings = 3;
inline constexpr size_t kEntities = 4;

// RFC 4180 CSV of one table (header row first, CRLF line ends as spreadsheets expect).
std::string TableCsv(const AefTable& table);
// JSON text: {"<table name>": [{"<label>": "<cell>", ...}, ...], ...}.
std::string WorkbookJson(const AefWorkbook& workbook);
// Writes an XLSX workbook, one sheet per table. Returns a message on failure.
Status<std::string> WriteXlsx(const AefWorkbook& workbook, const std::string& path);
// Writes <dir>/<n>_<table>.csv for each table. Returns a message on failure.
Status<std::string> WriteCsvFiles(const AefWorkbook& workbook, const std::string& dir);

// The AEF writes dates as dd/mm/yyyy: "2025-12-31..." -> "31/12/2025".
std::string AefDate(std::string_view iso);

}  // namespace registry::report
