#include "report/aef_format.h"

#include "report/aef_labels.h"

#include <xlsxwriter.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

namespace registry::report {
namespace {

AefTable MakeTable(std::string name, std::vector<std::string> columns,
                   const std::vector<std::string>& numeric_columns) {
  AefTable table;
  table.name = std::move(name);
  table.columns = std::move(columns);
  for (const std::string& c : table.columns) {
    bool numeric = false;
    for (const std::string& n : numeric_columns) numeric = numeric || n == c;
    table.numeric.push_back(numeric);
  }
  return table;
}

std::string CsvCell(const std::string& cell) {
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool IsInteger(const std::string& text) {
  if (text.empty() || text.size() > 15) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!(text[i] >= '0' && text[i] <= '9') && !(i == 0 && text[i] == '-' && text.size() > 1)) {
      return false;
    }
  }
  return true;
}

}  // namespace

AefWorkbook EmptyAefWorkbook() {
  static const std::array<std::vector<std::string>, 5> kNumeric = {{
      {"Reported year", "First year of the NDC implementation period",
       "Last year of the NDC implementation period"},
      {"Version of the authorization", "Authorized quantity"},
      {"First unit ID", "Last unit ID", "Quantity (t CO2 eq)", "Vintage",
       "Calendar year for which the ITMOs are used towards the Party's NDC"},
      {"First unit ID", "Last unit ID", "Quantity (t CO2 eq)", "Vintage"},
      {},
  }};
  AefWorkbook wb;
  for (size_t i = 0; i < kAefTables.size(); ++i) {
    const AefTableLabels& labels = kAefTables[i];
    std::vector<std::string> columns;
    for (size_t c = 0; c < labels.column_count; ++c) columns.emplace_back(labels.columns[c]);
    wb.tables[i] = MakeTable(std::string(labels.name), std::move(columns), kNumeric[i]);
  }
  return wb;
}

std::optional<std::pair<size_t, size_t>> ClaimCell(const AefWorkbook& workbook,
                                                   const ConfidentialClaim& claim) {
  for (size_t t = 0; t < workbook.tables.size(); ++t) {
    const AefTable& table = workbook.tables[t];
    if (table.name != claim.table) continue;
    for (size_t c = 0; c < table.columns.size(); ++c) {
      if (table.columns[c] == claim.column) return std::pair<size_t, size_t>{t, c};
    }
  }
  return std::nullopt;
}

std::vector<size_t> ClaimRows(const AefWorkbook& workbook, size_t table_index,
                              const ConfidentialClaim& claim) {
  std::vector<size_t> out;
  const AefTable& table = workbook.tables[table_index];
  std::optional<size_t> key;
  const std::string_view key_label = kAefTables[table_index].row_key;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    if (table.columns[c] == key_label) key = c;
  }
  for (size_t r = 0; r < table.rows.size(); ++r) {
    if (claim.row.empty()) {
      out.push_back(r);
    } else if (key && *key < table.rows[r].size() && table.rows[r][*key] == claim.row) {
      out.push_back(r);
    }
  }
  return out;
}

size_t RedactConfidential(AefWorkbook& workbook) {
  // Every cell to hide is found on the original values first: a claim on a row key column must
  // not stop another claim from finding its row.
  std::vector<std::array<size_t, 3>> cells;
  for (const ConfidentialClaim& claim : workbook.confidential) {
    const auto at = ClaimCell(workbook, claim);
    if (!at) continue;
    for (const size_t r : ClaimRows(workbook, at->first, claim)) {
      cells.push_back({at->first, r, at->second});
    }
  }
  size_t replaced = 0;
  for (const auto& [t, r, c] : cells) {
    std::string& cell = workbook.tables[t].rows[r][c];
    if (cell == kConfidentialText) continue;
    cell = std::string(kConfidentialText);
    ++replaced;
  }
  workbook.confidential.clear();
  return replaced;
}

AefTable ConfidentialityTable(const AefWorkbook& workbook) {
  AefTable table = MakeTable(
      "Confidentiality",
      {"Table", "Column", "Row key column", "Row key", "Basis", "Cells in this AEF"},
      {"Cells in this AEF"});
  for (const ConfidentialClaim& claim : workbook.confidential) {
    const auto at = ClaimCell(workbook, claim);
    const size_t cells = at ? ClaimRows(workbook, at->first, claim).size() : 0;
    std::string key_column;
    for (const AefTableLabels& labels : kAefTables) {
      if (labels.name == claim.table) key_column = std::string(labels.row_key);
    }
    table.rows.push_back({claim.table, claim.column, claim.row.empty() ? "" : key_column,
                          claim.row.empty() ? "(all rows)" : claim.row, claim.basis,
                          std::to_string(cells)});
  }
  return table;
}

namespace {

// Appends one CSV line (RFC 4180, CRLF) of `cells` to `out`.
void AppendCsvLine(const std::vector<std::string>& cells, std::string& out) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += ',';
    out += CsvCell(cells[i]);
  }
  out += "\r\n";
}

}  // namespace

std::string TableCsv(const AefTable& table) {
  std::string out;
  AppendCsvLine(table.columns, out);
  for (const auto& row : table.rows) AppendCsvLine(row, out);
  return out;
}

// The text nlohmann-json's dump(2) gives for {table name: [row objects...], ..., "confidential":
// [...]}, written a row at a time: a document model of a whole workbook took several times the
// workbook's own memory (every cell a JSON value under a copy of its column's label).
void WriteWorkbookJson(const AefWorkbook& workbook,
                       const std::function<void(std::string_view)>& emit) {
  // Text is handed to `emit` a row at a time; `out` holds what is not handed over yet.
  std::string out = "{";
  const auto flush = [&] {
    emit(out);
    out.clear();
  };
  bool first_member = true;
  // Appends `value` dumped with indent 2 as a member at depth 1 (its lines indented by 2 more).
  const auto member = [&](const std::string& name, const auto& items) {
    out += first_member ? "\n  " : ",\n  ";
    first_member = false;
    out += nlohmann::json(name).dump() + ": ";
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += "[";
    for (size_t i = 0; i < items.size(); ++i) {
      out += i == 0 ? "\n    " : ",\n    ";
      const std::string text = items[i].dump(2);
      for (const char c : text) {
        out += c;
        if (c == '\n') out += "    ";  // Dumped strings hold no raw newline: lines are lines.
      }
      if (out.size() >= 65536) flush();
    }
    out += "\n  ]";
  };
  for (const AefTable& table : workbook.tables) {
    // One row object at a time.
    struct Rows {
      const AefTable& table;
      bool empty() const { return table.rows.empty(); }
      size_t size() const { return table.rows.size(); }
      nlohmann::ordered_json operator[](size_t r) const {
        nlohmann::ordered_json item = nlohmann::ordered_json::object();
        const auto& row = table.rows[r];
        for (size_t i = 0; i < table.columns.size() && i < row.size(); ++i) {
          item[table.columns[i]] = row[i];
        }
        return item;
      }
    };
    member(table.name, Rows{table});
  }
  if (!workbook.confidential.empty()) {
    std::vector<nlohmann::ordered_json> claims;
    for (const auto& row : ConfidentialityTable(workbook).rows) {
      claims.push_back({{"table", row[0]},
                        {"column", row[1]},
                        {"row_key_column", row[2]},
                        {"row", row[3] == "(all rows)" ? "" : row[3]},
                        {"basis", row[4]},
                        {"cells", std::stoll(row[5])}});
    }
    member("confidential", claims);
  }
  out += first_member ? "}" : "\n}";
  flush();
}

std::string WorkbookJson(const AefWorkbook& workbook) {
  std::string out;
  WriteWorkbookJson(workbook, [&out](std::string_view text) { out.append(text); });
  return out;
}

namespace {

// The tables a file of the workbook holds: the five, and the Confidentiality table after them
// when the workbook has claims (`extra` keeps it alive). Pointers: a workbook is ~1 KiB a row.
std::vector<const AefTable*> TablesOf(const AefWorkbook& workbook, std::optional<AefTable>& extra) {
  std::vector<const AefTable*> tables;
  for (const AefTable& table : workbook.tables) tables.push_back(&table);
  if (!workbook.confidential.empty()) {
    extra = ConfidentialityTable(workbook);
    tables.push_back(&*extra);
  }
  return tables;
}

}  // namespace

Status<std::string> WriteXlsx(const AefWorkbook& workbook, const std::string& path) {
  // Constant memory: each row goes to a temporary file as soon as the next one starts (the rows
  // are written in order), instead of every cell staying in memory until the file is closed;
  // strings are then written inline rather than shared (ReadAefXlsx reads both).
  lxw_workbook_options options{};
  options.constant_memory = LXW_TRUE;
  // Its temporary files go where verify's scratch database goes: $TMPDIR, else /tmp.
  const char* tmpdir = std::getenv("TMPDIR");
  std::string tmp = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "";
  options.tmpdir = tmp.empty() ? nullptr : tmp.data();
  lxw_workbook* wb = workbook_new_opt(path.c_str(), &options);
  if (wb == nullptr) return Fail("cannot create " + path);
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  std::optional<AefTable> extra;
  for (const AefTable* sheet : TablesOf(workbook, extra)) {
    const AefTable& table = *sheet;
    lxw_worksheet* ws = workbook_add_worksheet(wb, table.name.c_str());
    for (size_t c = 0; c < table.columns.size(); ++c) {
      worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), table.columns[c].c_str(), bold);
    }
    for (size_t r = 0; r < table.rows.size(); ++r) {
      const auto row_index = static_cast<lxw_row_t>(r + 1);
      for (size_t c = 0; c < table.rows[r].size() && c < table.columns.size(); ++c) {
        const std::string& cell = table.rows[r][c];
        const auto col = static_cast<lxw_col_t>(c);
        if (table.numeric[c] && IsInteger(cell)) {
          worksheet_write_number(ws, row_index, col, static_cast<double>(std::atoll(cell.c_str())),
                                 nullptr);
        } else {
          worksheet_write_string(ws, row_index, col, cell.c_str(), nullptr);
        }
      }
    }
  }
  const lxw_error error = workbook_close(wb);
  if (error != LXW_NO_ERROR) return Fail("cannot write " + path + ": " + lxw_strerror(error));
  return {};
}

Status<std::string> WriteCsvFiles(const AefWorkbook& workbook, const std::string& dir) {
  std::optional<AefTable> extra;
  const std::vector<const AefTable*> tables = TablesOf(workbook, extra);
  for (size_t i = 0; i < tables.size(); ++i) {
    std::string name = tables[i]->name;
    for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
    const std::string path = dir + "/" + std::to_string(i + 1) + "_" + name + ".csv";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    std::string line;  // A line at a time: a table may be large.
    AppendCsvLine(tables[i]->columns, line);
    out << line;
    for (const auto& row : tables[i]->rows) {
      line.clear();
      AppendCsvLine(row, line);
      out << line;
    }
    if (!out) return Fail("cannot write " + path);
  }
  if (workbook.confidential.empty()) {  // No stale Confidentiality table from an earlier run.
    std::error_code ignored;
    std::filesystem::remove(dir + "/6_confidentiality.csv", ignored);
  }
  return {};
}

std::string AefDate(std::string_view iso) {
  if (iso.size() < 10) return std::string(iso);
  return std::string(iso.substr(8, 2)) + "/" + std::string(iso.substr(5, 2)) + "/" +
         std::string(iso.substr(0, 4));
}

}  // namespace registry::report
