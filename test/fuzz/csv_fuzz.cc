// Fuzz target: the CSV parser and the Mongolia issuance import on top of it. Property: no crash;
// every data row is either a record or a rejection with a reason, and amounts are not negative.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/csv.h"
#include "core/jcm_data.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto rows = registry::ParseCsv(text);
  if (!rows) {
    FUZZ_CHECK(!rows.error().empty());  // A refusal names the problem.
    return 0;
  }
  const registry::IssuanceTable table = registry::ParseMongoliaIssuances(*rows);
  for (const auto& rejected : table.rejected) FUZZ_CHECK(!rejected.reason.empty());
  for (const auto& record : table.records) {
    FUZZ_CHECK(record.notified >= 0);
    FUZZ_CHECK(record.issued >= 0);
  }
  return 0;
}
