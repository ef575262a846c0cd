#include "report/aef_format.h"

#include <xlsxwriter.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "report/aef_labels.h"
#include "service/command.h"

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

std::vector<ListedClaim> ListClaims(const AefWorkbook& workbook) {
  std::vector<ListedClaim> listed;
  for (const ConfidentialClaim& claim : workbook.confidential) {
    const auto at = ClaimCell(workbook, claim);
    listed.push_back(ListedClaim{claim, at ? ClaimRows(workbook, at->first, claim).size() : 0});
  }
  return listed;
}

AefTable ConfidentialityTable(const std::vector<ListedClaim>& listed) {
  AefTable table = MakeTable(
      "Confidentiality",
      {"Table", "Column", "Row key column", "Row key", "Basis", "Cells in this AEF"},
      {"Cells in this AEF"});
  for (const auto& [claim, cells] : listed) {
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

AefTable ConfidentialityTable(const AefWorkbook& workbook) {
  return ConfidentialityTable(ListClaims(workbook));
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

AefTable TableHeader(const AefTable& table) {
  AefTable header;
  header.name = table.name;
  header.columns = table.columns;
  header.numeric = table.numeric;
  return header;
}

Status<std::string> StreamWorkbook(const AefWorkbook& workbook, AefRowSink& sink) {
  for (const AefTable& table : workbook.tables) {
    RETURN_IF_ERROR(sink.BeginTable(TableHeader(table)));
    for (const auto& row : table.rows) RETURN_IF_ERROR(sink.Row(row));
  }
  return sink.Finish(ListClaims(workbook));
}

namespace {

// The text nlohmann-json's dump(2) gives for {table name: [row objects...], ..., "confidential":
// [...]}, written a row at a time: a document model of a whole workbook took several times the
// workbook's own memory (every cell a JSON value under a copy of its column's label).
class JsonSink final : public AefRowSink {
 public:
  explicit JsonSink(std::function<void(std::string_view)> emit) : emit_(std::move(emit)) {}

  Status<std::string> BeginTable(const AefTable& header) override {
    EndMember();
    BeginMember(header.name);
    columns_ = header.columns;
    return {};
  }

  Status<std::string> Row(const std::vector<std::string>& cells) override {
    nlohmann::ordered_json item = nlohmann::ordered_json::object();
    for (size_t i = 0; i < columns_.size() && i < cells.size(); ++i) item[columns_[i]] = cells[i];
    Item(item.dump(2));
    return {};
  }

  Status<std::string> Finish(const std::vector<ListedClaim>& listed) override {
    EndMember();
    if (!listed.empty()) {
      BeginMember("confidential");
      for (const auto& row : ConfidentialityTable(listed).rows) {
        Item(nlohmann::ordered_json{{"table", row[0]},
                                    {"column", row[1]},
                                    {"row_key_column", row[2]},
                                    {"row", row[3] == "(all rows)" ? "" : row[3]},
                                    {"basis", row[4]},
                                    {"cells", std::stoll(row[5])}}
                 .dump(2));
      }
      EndMember();
    }
    out_ += first_member_ ? "}" : "\n}";
    Flush();
    return {};
  }

 private:
  // A member at depth 1: its name now, "[" before its first item, "[]" when it has none.
  void BeginMember(const std::string& name) {
    out_ += first_member_ ? "\n  " : ",\n  ";
    first_member_ = false;
    out_ += nlohmann::json(name).dump() + ": ";
    in_member_ = true;
    items_ = 0;
  }

  // Appends an item dumped with indent 2, its lines indented by 4 more.
  void Item(const std::string& text) {
    out_ += items_ == 0 ? "[\n    " : ",\n    ";
    ++items_;
    for (const char c : text) {
      out_ += c;
      if (c == '\n') out_ += "    ";  // Dumped strings hold no raw newline: lines are lines.
    }
    if (out_.size() >= 65536) Flush();
  }

  void EndMember() {
    if (!in_member_) return;
    out_ += items_ == 0 ? "[]" : "\n  ]";
    in_member_ = false;
  }

  void Flush() {
    emit_(out_);
    out_.clear();
  }

  std::function<void(std::string_view)> emit_;
  std::string out_ = "{";  // What is not handed to `emit_` yet.
  std::vector<std::string> columns_;
  bool first_member_ = true;
  bool in_member_ = false;
  size_t items_ = 0;
};

}  // namespace

std::unique_ptr<AefRowSink> OpenJsonSink(std::function<void(std::string_view)> emit) {
  return std::make_unique<JsonSink>(std::move(emit));
}

void WriteWorkbookJson(const AefWorkbook& workbook,
                       const std::function<void(std::string_view)>& emit) {
  JsonSink sink(emit);
  const Status<std::string> written = StreamWorkbook(workbook, sink);
  REGISTRY_ASSERT(written.ok());  // The JSON sink has no failure of its own.
}

std::string WorkbookJson(const AefWorkbook& workbook) {
  std::string out;
  WriteWorkbookJson(workbook, [&out](std::string_view text) { out.append(text); });
  return out;
}

namespace {

// Constant memory: each row goes to a temporary file as soon as the next one starts (the rows
// are written in order), instead of every cell staying in memory until the file is closed;
// strings are then written inline rather than shared (ReadAefXlsx reads both).
class XlsxSink final : public AefRowSink {
 public:
  explicit XlsxSink(std::string path) : path_(std::move(path)) {}

  Status<std::string> Open() {
    lxw_workbook_options options{};
    options.constant_memory = LXW_TRUE;
    // Its temporary files go where verify's scratch database goes: $TMPDIR, else /tmp.
    const char* tmpdir = std::getenv("TMPDIR");
    tmpdir_ = tmpdir != nullptr ? tmpdir : "";
    options.tmpdir = tmpdir_.empty() ? nullptr : tmpdir_.data();
    workbook_ = workbook_new_opt(path_.c_str(), &options);
    if (workbook_ == nullptr) return Fail("cannot create " + path_);
    bold_ = workbook_add_format(workbook_);
    format_set_bold(bold_);
    return {};
  }

  ~XlsxSink() override {
    if (workbook_ != nullptr) lxw_workbook_free(workbook_);  // Not finished: nothing written.
  }

  XlsxSink(const XlsxSink&) = delete;
  XlsxSink& operator=(const XlsxSink&) = delete;

  Status<std::string> BeginTable(const AefTable& header) override {
    sheet_ = workbook_add_worksheet(workbook_, header.name.c_str());
    if (sheet_ == nullptr) return Fail("cannot add the sheet '" + header.name + "' to " + path_);
    numeric_ = header.numeric;
    next_row_ = 1;
    for (size_t c = 0; c < header.columns.size(); ++c) {
      worksheet_write_string(sheet_, 0, static_cast<lxw_col_t>(c), header.columns[c].c_str(),
                             bold_);
    }
    return {};
  }

  Status<std::string> Row(const std::vector<std::string>& cells) override {
    const lxw_row_t row = next_row_++;
    for (size_t c = 0; c < cells.size() && c < numeric_.size(); ++c) {
      const std::string& cell = cells[c];
      const auto col = static_cast<lxw_col_t>(c);
      if (numeric_[c] && IsInteger(cell)) {
        worksheet_write_number(sheet_, row, col, static_cast<double>(std::atoll(cell.c_str())),
                               nullptr);
      } else {
        worksheet_write_string(sheet_, row, col, cell.c_str(), nullptr);
      }
    }
    return {};
  }

  Status<std::string> Finish(const std::vector<ListedClaim>& listed) override {
    if (!listed.empty()) {
      const AefTable table = ConfidentialityTable(listed);
      RETURN_IF_ERROR(BeginTable(TableHeader(table)));
      for (const auto& row : table.rows) RETURN_IF_ERROR(Row(row));
    }
    const lxw_error error = workbook_close(workbook_);  // Frees the workbook, written or not.
    workbook_ = nullptr;
    if (error != LXW_NO_ERROR) return Fail("cannot write " + path_ + ": " + lxw_strerror(error));
    return {};
  }

 private:
  std::string path_;
  std::string tmpdir_;  // Kept for the workbook's life: the options point into it.
  lxw_workbook* workbook_ = nullptr;
  lxw_format* bold_ = nullptr;
  lxw_worksheet* sheet_ = nullptr;
  std::vector<bool> numeric_;
  lxw_row_t next_row_ = 1;
};

// Each table to <dir>/<n>_<table>.csv, a line at a time, through a ".partial" file renamed at
// Finish.
class CsvFilesSink final : public AefRowSink {
 public:
  explicit CsvFilesSink(std::string dir) : dir_(std::move(dir)) {}

  ~CsvFilesSink() override {
    if (finished_) return;
    out_.close();
    std::error_code ignored;
    for (const std::string& path : written_) std::filesystem::remove(path + ".partial", ignored);
  }

  CsvFilesSink(const CsvFilesSink&) = delete;
  CsvFilesSink& operator=(const CsvFilesSink&) = delete;

  Status<std::string> BeginTable(const AefTable& header) override {
    RETURN_IF_ERROR(CloseFile());
    if (written_.empty()) {
      std::error_code error;
      std::filesystem::create_directories(dir_, error);
      if (error) return Fail("cannot create " + dir_ + ": " + error.message());
    }
    std::string name = header.name;
    for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
    written_.push_back(dir_ + "/" + std::to_string(written_.size() + 1) + "_" + name + ".csv");
    out_.open(written_.back() + ".partial", std::ios::binary | std::ios::trunc);
    return Row(header.columns);
  }

  Status<std::string> Row(const std::vector<std::string>& cells) override {
    line_.clear();
    AppendCsvLine(cells, line_);
    out_ << line_;
    return {};
  }

  Status<std::string> Finish(const std::vector<ListedClaim>& listed) override {
    if (!listed.empty()) {
      const AefTable table = ConfidentialityTable(listed);
      RETURN_IF_ERROR(BeginTable(TableHeader(table)));
      for (const auto& row : table.rows) RETURN_IF_ERROR(Row(row));
    }
    RETURN_IF_ERROR(CloseFile());
    for (const std::string& path : written_) {
      std::error_code error;
      std::filesystem::rename(path + ".partial", path, error);
      if (error) return Fail("cannot write " + path + ": " + error.message());
    }
    finished_ = true;
    if (listed.empty()) {  // No stale Confidentiality table from an earlier run.
      std::error_code ignored;
      std::filesystem::remove(dir_ + "/6_confidentiality.csv", ignored);
    }
    return {};
  }

 private:
  Status<std::string> CloseFile() {
    if (!out_.is_open()) return {};
    out_.close();
    if (!out_) return Fail("cannot write " + written_.back());
    return {};
  }

  std::string dir_;
  std::vector<std::string> written_;  // Final paths, in order.
  std::ofstream out_;
  std::string line_;  // A line at a time: a table may be large.
  bool finished_ = false;
};

}  // namespace

Result<std::unique_ptr<AefRowSink>, std::string> OpenXlsxSink(const std::string& path) {
  auto sink = std::make_unique<XlsxSink>(path);
  RETURN_IF_ERROR(sink->Open());
  return std::unique_ptr<AefRowSink>(std::move(sink));
}

std::unique_ptr<AefRowSink> OpenCsvFilesSink(const std::string& dir) {
  return std::make_unique<CsvFilesSink>(dir);
}

Status<std::string> WriteXlsx(const AefWorkbook& workbook, const std::string& path) {
  ASSIGN_OR_RETURN(auto sink, OpenXlsxSink(path));
  return StreamWorkbook(workbook, *sink);
}

Status<std::string> WriteCsvFiles(const AefWorkbook& workbook, const std::string& dir) {
  return StreamWorkbook(workbook, *OpenCsvFilesSink(dir));
}

std::string AefDate(std::string_view iso) {
  if (iso.size() < 10) return std::string(iso);
  return std::string(iso.substr(8, 2)) + "/" + std::string(iso.substr(5, 2)) + "/" +
         std::string(iso.substr(0, 4));
}

}  // namespace registry::report
