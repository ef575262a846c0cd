#include "core/itmo_id.h"

#include <charconv>

#include "core/serial_range.h"

namespace registry {

std::optional<ItmoId> ParseItmoId(std::string_view text) {
  // Fixed-width parts: CA (6) - registry (5) - party (3) - serial (variable) - vintage (4).
  constexpr size_t kPrefix = 6 + 1 + 5 + 1 + 3 + 1;
  constexpr size_t kSuffix = 1 + 4;
  if (text.size() < kPrefix + 1 + kSuffix || text.size() > kPrefix + 16 + kSuffix) {
    return std::nullopt;
  }
  if (text[6] != '-' || text[12] != '-' || text[16] != '-') return std::nullopt;
  if (text[text.size() - kSuffix] != '-') return std::nullopt;
  auto ca = ParseCaId(text.substr(0, 6));
  auto registry = ParseRegistryCode(text.substr(7, 5));
  auto party = ParsePartyCode(text.substr(13, 3));
  const std::string_view serial_text = text.substr(kPrefix, text.size() - kPrefix - kSuffix);
  // Plain digits only: ParseSerialRange alone would also take a range such as "12-12".
  if (serial_text.find('-') != std::string_view::npos) return std::nullopt;
  const auto serial = ParseSerialRange(serial_text);
  const std::string_view year_text = text.substr(text.size() - 4);
  int32_t year = 0;
  const auto [ptr, ec] = std::from_chars(year_text.data(), year_text.data() + 4, year);
  if (!ca || !registry || !party || !serial || serial->first != serial->last) return std::nullopt;
  if (ec != std::errc() || ptr != year_text.data() + 4) return std::nullopt;
  if (year < kFirstItmoVintage || year > kVintageMax) return std::nullopt;
  return ItmoId{*ca, *registry, *party, serial->first, Vintage{year}};
}

std::string FormatItmoId(const ItmoId& id) {
  return id.cooperative_approach.value + "-" + id.registry.value + "-" +
         id.first_transferring_party.value + "-" + std::to_string(id.serial) + "-" +
         std::to_string(id.vintage.year);
}

}  // namespace registry
