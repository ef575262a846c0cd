#include "report/aef_diff.h"

#include <map>
#include <string>
#include <vector>

namespace registry::report {
namespace {

using OJson = nlohmann::ordered_json;

// The key columns of each table, by label (see the header).
std::vector<std::string> KeyColumns(size_t table) {
  switch (table) {
    case kAuthorizations: return {"Authorization ID", "Version of the authorization"};
    case kActions:
      return {"Action date", "Action type", "Action subtype", "Party ITMO registry ID",
              "First unit ID", "Last unit ID"};
    case kHoldings: return {"Party ITMO registry ID", "First unit ID", "Last unit ID"};
    case kEntities: return {"Name", "Cooperative approach ID", "Date of the authorization"};
    default: return {};
  }
}

std::string KeyOf(const std::vector<std::string>& row, const std::vector<size_t>& key_columns) {
  std::string key;
  for (const size_t c : key_columns) key += (key.empty() ? "" : " | ") + (c < row.size() ? row[c] : "");
  return key;
}

OJson RowJson(const AefTable& t, const std::vector<std::string>& row) {
  OJson out = OJson::object();
  for (size_t c = 0; c < t.columns.size(); ++c) out[t.columns[c]] = c < row.size() ? row[c] : "";
  return out;
}

}  // namespace

OJson AefDiff(const AefWorkbook& old_workbook, const AefWorkbook& new_workbook) {
  OJson tables = OJson::array();
  bool identical = true;
  for (size_t i = 0; i < old_workbook.tables.size(); ++i) {
    const AefTable& a = old_workbook.tables[i];
    const AefTable& b = new_workbook.tables[i];
    std::vector<size_t> key_columns;
    for (const std::string& label : KeyColumns(i)) {
      for (size_t c = 0; c < a.columns.size(); ++c) {
        if (a.columns[c] == label) key_columns.push_back(c);
      }
    }
    // Key -> the new rows with that key, in order; each old row takes the first unpaired one.
    std::map<std::string, std::vector<size_t>> unpaired;
    for (size_t r = 0; r < b.rows.size(); ++r) unpaired[KeyOf(b.rows[r], key_columns)].push_back(r);
    std::vector<bool> paired(b.rows.size(), false);
    OJson added = OJson::array(), removed = OJson::array(), changed = OJson::array();
    for (const auto& row : a.rows) {
      const std::string key = KeyOf(row, key_columns);
      auto& candidates = unpaired[key];
      // An identical row first, else the first row with the key.
      size_t pick = candidates.size();
      for (size_t k = 0; k < candidates.size() && pick == candidates.size(); ++k) {
        if (b.rows[candidates[k]] == row) pick = k;
      }
      if (pick == candidates.size() && !candidates.empty()) pick = 0;
      if (pick == candidates.size()) {
        removed.push_back(RowJson(a, row));
        continue;
      }
      const size_t match = candidates[pick];
      candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(pick));
      paired[match] = true;
      OJson cells = OJson::array();
      for (size_t c = 0; c < a.columns.size(); ++c) {
        const std::string before = c < row.size() ? row[c] : "";
        const std::string after = c < b.rows[match].size() ? b.rows[match][c] : "";
        if (before != after) cells.push_back({{"column", a.columns[c]}, {"old", before}, {"new", after}});
      }
      if (!cells.empty()) changed.push_back({{"key", key}, {"cells", cells}});
    }
    for (size_t r = 0; r < b.rows.size(); ++r) {
      if (!paired[r]) added.push_back(RowJson(b, b.rows[r]));
    }
    identical = identical && added.empty() && removed.empty() && changed.empty();
    tables.push_back({{"table", a.name}, {"old_rows", a.rows.size()}, {"new_rows", b.rows.size()},
                      {"added", added}, {"removed", removed}, {"changed", changed}});
  }
  return OJson{{"identical", identical}, {"tables", tables}};
}

}  // namespace registry::report
