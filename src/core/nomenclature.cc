// Parsing of the AEF nomenclature CSV files; see nomenclature.h.
#include "core/nomenclature.h"

#include <set>

#include "core/csv.h"

namespace registry {

bool IsNomenclatureList(std::string_view name) {
  for (const char* list : kNomenclatureLists) {
    if (name == list) return true;
  }
  return false;
}

Result<std::vector<std::string>, std::string> ParseNomenclatureCsv(std::string_view text) {
  auto rows = ParseCsv(text);
  if (!rows) return Fail(rows.error());
  if (rows->empty() || rows->front().size() != 1 || rows->front()[0] != "value") {
    return Fail(std::string("line 1: the header must be 'value'"));
  }
  std::vector<std::string> values;
  std::set<std::string> seen;
  for (size_t i = 1; i < rows->size(); ++i) {
    const CsvRow& row = (*rows)[i];
    if (row.size() == 1 && row[0].empty()) continue;  // A trailing empty line.
    if (row.size() != 1 || row[0].empty()) {
      return Fail("line " + std::to_string(i + 1) + ": one non-empty value per row");
    }
    if (!seen.insert(row[0]).second) {
      return Fail("line " + std::to_string(i + 1) + ": '" + row[0] + "' is listed twice");
    }
    values.push_back(row[0]);
  }
  if (values.empty()) return Fail(std::string("the list is empty"));
  return values;
}

}  // namespace registry
