#include "report/aef_format.h"

#include "report/aef_labels.h"

#include <xlsxwriter.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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

std::string TableCsv(const AefTable& table) {
  std::string out;
  auto line = [&out](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      out += CsvCell(cells[i]);
    }
    out += "\r\n";
  };
  line(table.columns);
  for (const auto& row : table.rows) line(row);
  return out;
}

std::string WorkbookJson(const AefWorkbook& workbook) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const AefTable& table : workbook.tables) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& row : table.rows) {
      nlohmann::ordered_json item = nlohmann::ordered_json::object();
      for (size_t i = 0; i < table.columns.size() && i < row.size(); ++i) {
        item[table.columns[i]] = row[i];
      }
      rows.push_back(item);
    }
    out[table.name] = rows;
  }
  if (!workbook.confidential.empty()) {
    nlohmann::ordered_json claims = nlohmann::ordered_json::array();
    for (const auto& row : ConfidentialityTable(workbook).rows) {
      claims.push_back({{"table", row[0]},
                        {"column", row[1]},
                        {"row_key_column", row[2]},
                        {"row", row[3] == "(all rows)" ? "" : row[3]},
                        {"basis", row[4]},
                        {"cells", std::stoll(row[5])}});
    }
    out["confidential"] = claims;
  }
  return out.dump(2);
}

Status<std::string> WriteXlsx(const AefWorkbook& workbook, const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (wb == nullptr) return Fail("cannot create " + path);
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  std::vector<AefTable> sheets(workbook.tables.begin(), workbook.tables.end());
  if (!workbook.confidential.empty()) sheets.push_back(ConfidentialityTable(workbook));
  for (const AefTable& table : sheets) {
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
  std::vector<AefTable> tables(workbook.tables.begin(), workbook.tables.end());
  if (!workbook.confidential.empty()) tables.push_back(ConfidentialityTable(workbook));
  for (size_t i = 0; i < tables.size(); ++i) {
    std::string name = tables[i].name;
    for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
    const std::string path = dir + "/" + std::to_string(i + 1) + "_" + name + ".csv";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << TableCsv(tables[i]);
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
