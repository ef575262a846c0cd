// A contiguous, inclusive range of serial numbers [first, last] within one registry. Serials are
// positive and allocated monotonically per registry; a range of n serials holds n tonnes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ids.h"

namespace registry {

inline constexpr int64_t kSerialMax = (int64_t{1} << 53) - 1;  // Exact in JSON numbers.

struct SerialRange {
  int64_t first = 0;
  int64_t last = 0;

  auto operator<=>(const SerialRange&) const = default;

  // Returns the number of serials (tonnes) in the range. Requires IsValid().
  Quantity Count() const { return Quantity{last - first + 1}; }
  bool IsValid() const { return first >= 1 && first <= last && last <= kSerialMax; }
  bool Contains(int64_t serial) const { return first <= serial && serial <= last; }
  bool Contains(const SerialRange& other) const {
    return first <= other.first && other.last <= last;
  }
  bool Overlaps(const SerialRange& other) const {
    return first <= other.last && other.first <= last;
  }
};

// Returns the intersection of a and b, or nullopt when they do not overlap.
std::optional<SerialRange> Intersect(const SerialRange& a, const SerialRange& b);

// Parses "N" or "N-M" (plain digits, N <= M). Returns nullopt when malformed or out of bounds.
std::optional<SerialRange> ParseSerialRange(std::string_view text);
std::string FormatSerialRange(const SerialRange& range);

}  // namespace registry
