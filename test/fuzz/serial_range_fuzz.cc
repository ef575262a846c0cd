// Fuzz target: the serial range parser ("N-M"). Property: no crash; an accepted range is valid
// (1 <= first <= last <= kSerialMax) and formats back to text that parses to the same range.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/serial_range.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto range = registry::ParseSerialRange(text);
  if (!range) return 0;
  FUZZ_CHECK(range->first >= 1);
  FUZZ_CHECK(range->first <= range->last);
  FUZZ_CHECK(range->last <= registry::kSerialMax);
  const auto again = registry::ParseSerialRange(registry::FormatSerialRange(*range));
  FUZZ_CHECK(again.has_value() && *again == *range);
  return 0;
}
