// Fuzz target: the ITMO identifier parser. Property: no crash, and every identifier it accepts
// formats back to text that parses to the same identifier (Parse(Format(x)) == x).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/itmo_id.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto id = registry::ParseItmoId(text);
  if (!id) return 0;
  const std::string formatted = registry::FormatItmoId(*id);
  const auto again = registry::ParseItmoId(formatted);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*again == *id);
  return 0;
}
