// Fuzz target: the XLSX reader under a partner's AEF (report/xlsx_reader.h, ReadAefXlsx), the
// one parser that takes a file from outside the registry. A mutated zip mostly fails libzip's
// checks, so the input is the text of the parts and the target packs them into a valid zip:
// segments split at NUL bytes replace, in order, the Actions sheet, the shared strings, the
// workbook and the workbook's relationships of a well-formed AEF workbook (absent segments keep
// the well-formed part). An input starting with "PK" is written as the file itself.
// Properties: no crash; a refusal names its problem; a read AEF has no row wider than its table;
// a sheet read under small limits keeps within them.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "report/aef_builder.h"
#include "report/xlsx_reader.h"
#include "testing/xlsx_package.h"

namespace {

using registry::testing::XlsxPart;

// A well-formed AEF workbook of header rows, with a shared strings table; built once.
const std::vector<XlsxPart>& WellFormedAef() {
  static const std::vector<XlsxPart> parts =
      registry::testing::WorkbookParts(registry::testing::AefHeaderSheets(), {"MNG01"});
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/xlsx_fuzz_" + std::to_string(getpid()) + ".xlsx";
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.substr(0, 2) == "PK") {
    FILE* f = std::fopen(path.c_str(), "wb");
    FUZZ_CHECK(f != nullptr);
    FUZZ_CHECK(std::fwrite(input.data(), 1, input.size(), f) == input.size());
    FUZZ_CHECK(std::fclose(f) == 0);
  } else {
    static const char* const kReplaced[] = {"xl/worksheets/sheet3.xml", "xl/sharedStrings.xml",
                                            "xl/workbook.xml", "xl/_rels/workbook.xml.rels"};
    std::vector<XlsxPart> parts = WellFormedAef();
    size_t start = 0;
    for (const char* name : kReplaced) {
      if (start > input.size()) break;
      size_t end = input.find('\0', start);
      if (end == std::string_view::npos) end = input.size();
      for (XlsxPart& part : parts) {
        if (part.first == name) part.second = std::string(input.substr(start, end - start));
      }
      start = end + 1;
    }
    FUZZ_CHECK(registry::testing::WriteXlsxPackage(path, parts).empty());
  }

  const auto aef = registry::report::ReadAefXlsx(path);
  if (aef) {
    for (const auto& table : aef->tables) {
      for (const auto& row : table.rows) FUZZ_CHECK(row.size() == table.columns.size());
    }
  } else {
    FUZZ_CHECK(!aef.error().empty());
  }

  registry::report::XlsxLimits small;
  small.columns_max = 40;
  small.cells_max = 5000;
  small.text_bytes_max = 200000;
  const auto sheets = registry::report::ReadXlsxSheets(path, {}, small);
  if (sheets) {
    int64_t cells = 0;
    for (const auto& sheet : *sheets) {
      cells += static_cast<int64_t>(sheet.rows.size());
      for (const auto& row : sheet.rows) {
        FUZZ_CHECK(static_cast<int64_t>(row.size()) <= small.columns_max);
        cells += static_cast<int64_t>(row.size());
        for (const auto& cell : row) {
          FUZZ_CHECK(static_cast<int64_t>(cell.size()) <= 4 * registry::report::kXlsxCellCharsMax);
        }
      }
    }
    // Trailing empty cells are dropped after the read, so what is left is within the budget.
    FUZZ_CHECK(cells <= small.cells_max);
  } else {
    FUZZ_CHECK(!sheets.error().empty());
  }
  unlink(path.c_str());
  return 0;
}
