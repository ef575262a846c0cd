// UTC times as the registry writes them: "YYYY-MM-DDTHH:MM:SSZ" (ISO 8601, seconds, Z).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace registry {

// Seconds since 1970-01-01T00:00:00Z of a time like "2026-03-01T09:30:00Z"; nullopt unless the
// text has that shape with month 1-12, day 1-31, hour 0-23, minute 0-59 and second 0-60. A day
// past the month's end counts on into the next month ("2026-02-31" is 2026-03-03), as timegm
// does. Proposals read their clock and expiry with it on the hot path, so the all-digits text
// is read by hand, without sscanf and the time zone lookups of timegm; any other text (a sign
// or a space where a digit goes) goes through the sscanf ("%4d-%2d-%2dT%2d:%2d:%2dZ") that the
// journaled entries were checked with, so that they replay to the same answers.
std::optional<int64_t> ParseUtcTime(const std::string& text);

// The text of `seconds` since the epoch, the inverse of ParseUtcTime for years 1000-9999.
std::string FormatUtcTime(int64_t seconds);

}  // namespace registry
