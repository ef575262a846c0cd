// The agreed electronic format (AEF) of decision 4/CMA.6 annex II: the five tables with their
// exact labels and column order (DOMAIN.md §5.1-5.5), and renderers to CSV (one file per table),
// JSON and XLSX (one sheet per table, libxlsxwriter). Pure apart from the XLSX writer, which
// writes the file it is given.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
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

// A Party's claim that one AEF column (of every row, or of the row whose key is `row`) is
// confidential, with its basis (R-REP-07; 4/CMA.6 para 24, 6/CMA.4 para 6). The row key column
// per table is in report/aef_labels.h (kAefTables[i].row_key).
struct ConfidentialClaim {
  std::string table;   // Exact sheet name, e.g. "Authorizations".
  std::string column;  // Exact label, e.g. "Authorized quantity".
  std::string row;     // The row key's value; empty = every row of the table.
  std::string basis;   // Non-empty: why the information is confidential.
};

struct AefWorkbook {
  std::array<AefTable, 5> tables;  // Submission, Authorizations, Actions, Holdings, Entities.
  // The Party's confidentiality claims (the submission view). Empty in a public view, whose
  // claimed cells read "Confidential" instead (RedactConfidential). When not empty the writers
  // add a sixth table "Confidentiality" after the five official ones (never changing them).
  std::vector<ConfidentialClaim> confidential;
};

// Returns a workbook with the five tables' labels and no rows.
AefWorkbook EmptyAefWorkbook();

// Indices into AefWorkbook::tables.
inline constexpr size_t kSubmission = 0;
inline constexpr size_t kAuthorizations = 1;
inline constexpr size_t kActions = 2;
inline constexpr size_t kHoldings = 3;
inline constexpr size_t kEntities = 4;

// The rows of `table_index` a claim covers (matched on the unredacted values).
std::vector<size_t> ClaimRows(const AefWorkbook& workbook, size_t table_index,
                              const ConfidentialClaim& claim);
// The index of a claim's table and column in the workbook, or nullopt when a label is unknown.
std::optional<std::pair<size_t, size_t>> ClaimCell(const AefWorkbook& workbook,
                                                   const ConfidentialClaim& claim);
// The public view: every cell covered by a claim becomes "Confidential" and the claims are
// dropped (a public output does not list them: a row key could itself be confidential).
// Returns the number of cells replaced.
size_t RedactConfidential(AefWorkbook& workbook);
// The sixth table of the submission view: one row per claim with its basis and the number of
// cells of this AEF it covers. Columns: Table, Column, Row key column, Row key, Basis,
// Cells in this AEF.
AefTable ConfidentialityTable(const AefWorkbook& workbook);

// A claim as the submission view lists it: with the number of cells of this AEF it covers (the
// rows of its table it matches, ClaimRows; 0 when its table or column is unknown).
struct ListedClaim {
  ConfidentialClaim claim;
  size_t cells = 0;
};

// The claims of `workbook` with their counts, as the Confidentiality table lists them.
std::vector<ListedClaim> ListClaims(const AefWorkbook& workbook);
// The Confidentiality table of `listed` (the columns of ConfidentialityTable above).
AefTable ConfidentialityTable(const std::vector<ListedClaim>& listed);

// Receives an AEF a row at a time, so that an AEF of a million actions is written without
// being held (issue 32): the five tables in workbook order, each announced by BeginTable (its
// name, labels and numeric flags; no rows) and followed by its rows, then Finish once. A call
// that fails ends the stream: the caller makes no further call. A writer destroyed without a
// successful Finish leaves no output behind (a refused AEF writes nothing).
class AefRowSink {
 public:
  virtual ~AefRowSink() = default;
  virtual Status<std::string> BeginTable(const AefTable& header) = 0;
  virtual Status<std::string> Row(const std::vector<std::string>& cells) = 0;
  // After the last table. `listed`: the claims the output lists after the five tables (the
  // Confidentiality table; none in a public view).
  virtual Status<std::string> Finish(const std::vector<ListedClaim>& listed) = 0;
};

// `table` without its rows (its name, labels and numeric flags), as BeginTable takes it.
AefTable TableHeader(const AefTable& table);

// Feeds the tables of `workbook` to `sink`, then Finish(ListClaims(workbook)).
Status<std::string> StreamWorkbook(const AefWorkbook& workbook, AefRowSink& sink);

// The writers of WriteXlsx, WriteCsvFiles and WriteWorkbookJson as sinks (the same bytes):
// XLSX in libxlsxwriter's constant-memory mode (nothing is written to `path` before Finish);
// CSV files written beside their final names and renamed at Finish (the folder is created when
// missing); JSON handed to `emit` in pieces.
Result<std::unique_ptr<AefRowSink>, std::string> OpenXlsxSink(const std::string& path);
std::unique_ptr<AefRowSink> OpenCsvFilesSink(const std::string& dir);
std::unique_ptr<AefRowSink> OpenJsonSink(std::function<void(std::string_view)> emit);

// RFC 4180 CSV of one table (header row first, CRLF line ends as spreadsheets expect).
std::string TableCsv(const AefTable& table);
// JSON text: {"<table name>": [{"<label>": "<cell>", ...}, ...], ...}, plus
// "confidential": [{"table", "column", "row_key_column", "row", "basis", "cells"}, ...] when the
// workbook carries claims.
std::string WorkbookJson(const AefWorkbook& workbook);
// The same text handed to `emit` in pieces as it is made (a file need not hold it in memory).
void WriteWorkbookJson(const AefWorkbook& workbook,
                       const std::function<void(std::string_view)>& emit);
// Writes an XLSX workbook, one sheet per table (and a "Confidentiality" sheet after them when
// the workbook carries claims). Returns a message on failure.
Status<std::string> WriteXlsx(const AefWorkbook& workbook, const std::string& path);
// Writes <dir>/<n>_<table>.csv for each table (and 6_confidentiality.csv when the workbook
// carries claims). Returns a message on failure.
Status<std::string> WriteCsvFiles(const AefWorkbook& workbook, const std::string& dir);

// The AEF writes dates as dd/mm/yyyy: "2025-12-31..." -> "31/12/2025".
std::string AefDate(std::string_view iso);

}  // namespace registry::report
