#include "report/aef_format.h"

#include <xlsxwriter.h>

#include <cstdlib>
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
  AefWorkbook wb;
  wb.tables[kSubmission] = MakeTable(
      "Submission",
      {"Party", "Version", "Reported year", "Date of submission",
       "Review status of the initial report",
       "Result of the consistency check of this AEF submission",
       "First year of the NDC implementation period", "Last year of the NDC implementation period",
       "Reference to the Article 6 technical expert review report of the initial report"},
      {"Reported year", "First year of the NDC implementation period",
       "Last year of the NDC implementation period"});
  wb.tables[kAuthorizations] = MakeTable(
      "Authorizations",
      {"Authorization ID", "Date of authorization", "Cooperative approach ID",
       "Version of the authorization", "Authorized quantity", "Metric",
       "Applicable GWP value(s)", "Applicable non-GHG metric", "Sector(s)", "Activity type(s)",
       "Purposes for authorization", "Authorized Party(ies) ID", "Authorized entity(ies) ID",
       "OIMP authorized by the Party", "Authorized timeframe",
       "Authorization terms and conditions", "Authorization documentation",
       "First transfer definition for OIMP", "Additional explanatory information"},
      {"Version of the authorization", "Authorized quantity"});
  wb.tables[kActions] = MakeTable(
      "Actions",
      {"Action date", "Action type", "Action subtype", "Cooperative approach ID",
       "Authorization ID", "First transferring participating Party ID", "Party ITMO registry ID",
       "First ID", "Last ID", "Underlying unit registry ID", "First unit ID", "Last unit ID",
       "Metric", "Applicable GWP value(s)", "Applicable non-GHG metric", "Quantity (t CO2 eq)",
       "Quantity (in non-GHG metric)", "Mitigation type", "Vintage",
       "Transferring participating Party ID", "Acquiring participating Party ID",
       "Purpose for which the ITMO has been used towards or cancelled for OIMP",
       "Using/cancelling participating Party ID", "Using/cancelling authorized entity ID",
       "Calendar year for which the ITMOs are used towards the Party's NDC",
       "Result of the consistency checks", "Additional explanatory information"},
      {"First unit ID", "Last unit ID", "Quantity (t CO2 eq)", "Vintage",
       "Calendar year for which the ITMOs are used towards the Party's NDC"});
  wb.tables[kHoldings] = MakeTable(
      "Holdings",
      {"Cooperative approach ID", "Authorization ID", "First transferring participating Party ID",
       "Party ITMO registry ID", "First ID", "Last ID", "Underlying unit registry ID",
       "First unit ID", "Last unit ID", "Metric", "Applicable GWP value(s)",
       "Applicable non-GHG metric", "Quantity (t CO2 eq)", "Quantity (in non-GHG metric)",
       "Mitigation type", "Vintage"},
      {"First unit ID", "Last unit ID", "Quantity (t CO2 eq)", "Vintage"});
  wb.tables[kEntities] = MakeTable(
      "Authorized entities",
      {"Date of the authorization", "Name", "Country of incorporation",
       "Identification number (in the country of incorporation)", "Cooperative approach ID",
       "Conditions (optional)", "Change and revocation conditions (optional)",
       "Additional explanatory information (optional)"},
      {});
  return wb;
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
  return out.dump(2);
}

Status<std::string> WriteXlsx(const AefWorkbook& workbook, const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (wb == nullptr) return Fail("cannot create " + path);
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  for (const AefTable& table : workbook.tables) {
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
  for (size_t i = 0; i < workbook.tables.size(); ++i) {
    std::string name = workbook.tables[i].name;
    for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
    const std::string path = dir + "/" + std::to_string(i + 1) + "_" + name + ".csv";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << TableCsv(workbook.tables[i]);
    if (!out) return Fail("cannot write " + path);
  }
  return {};
}

std::string AefDate(std::string_view iso) {
  if (iso.size() < 10) return std::string(iso);
  return std::string(iso.substr(8, 2)) + "/" + std::string(iso.substr(5, 2)) + "/" +
         std::string(iso.substr(0, 4));
}

}  // namespace registry::report
