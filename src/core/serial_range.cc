#include "core/serial_range.h"

#include <algorithm>
#include <charconv>

namespace registry {

std::optional<SerialRange> Intersect(const SerialRange& a, const SerialRange& b) {
  if (!a.Overlaps(b)) return std::nullopt;
  return SerialRange{std::max(a.first, b.first), std::min(a.last, b.last)};
}

namespace {

std::optional<int64_t> ParseSerial(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;  // No leading zero (R-ID-02).
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  if (value < 1 || value > kSerialMax) return std::nullopt;
  return value;
}

}  // namespace

std::optional<SerialRange> ParseSerialRange(std::string_view text) {
  const size_t dash = text.find('-');
  const auto first = ParseSerial(text.substr(0, dash));
  if (!first) return std::nullopt;
  if (dash == std::string_view::npos) return SerialRange{*first, *first};
  const auto last = ParseSerial(text.substr(dash + 1));
  if (!last || *last < *first) return std::nullopt;
  return SerialRange{*first, *last};
}

std::string FormatSerialRange(const SerialRange& range) {
  if (range.first == range.last) return std::to_string(range.first);
  return std::to_string(range.first) + "-" + std::to_string(range.last);
}

}  // namespace registry
