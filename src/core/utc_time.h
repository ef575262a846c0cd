// UTC times as the registry writes them: "YYYY-MM-DDTHH:MM:SSZ" (ISO 8601, seconds, Z).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace registry {

// Seconds since 1970-01-01T00:00:00Z of a time like "2026-03-01T09:30:00Z"; nullopt unless the
// text has that shape with month 1-12, day 1-31, hour 0-23, minute 0-59 and second 0-60. A day
// past the month's end counts on into the next month ("2026-02-31" is 2026-03-03), as timegm
// does. Proposals read their clock and expiry with it on the hot path, so the all-digits text
// is read by hand, without sscanf and the time zone lookups of timegm; any other text (a sign
// or a space where a digit goes) goes through the sscanf ("%4d-%2d-%2dT%2d:%2d:%2dZ") that the
// journaled entries were checked with, so that they replay to the same answers.
std::optional<int64_t> ParseUtcTime(const std::string& text);

// Days since 1970-01-01 of a real calendar date "YYYY-MM-DD" (proleptic Gregorian, leap years
// counted): exactly ten characters, digits where digits go, month 1-12 and a day that the month
// has. nullopt for anything else: "2025-02-30", "2025-13-45", "", "garbage", "2025-2-3".
// Unlike ParseUtcTime nothing is normalized; live requests are checked with it
// (service/values.h).
std::optional<int64_t> ParseCalendarDate(std::string_view text);

// Seconds since the epoch of a real UTC time "YYYY-MM-DDTHH:MM:SSZ": a calendar date as
// ParseCalendarDate reads it, hour 0-23, minute 0-59, second 0-59 (no leap second: the registry
// never writes one). nullopt for anything else, e.g. "2027-02-30T00:00:00Z". For such a text,
// FormatUtcTime(*ParseCalendarTime(text)) == text.
std::optional<int64_t> ParseCalendarTime(std::string_view text);

// The text of `seconds` since the epoch, the inverse of ParseUtcTime for years 1000-9999.
std::string FormatUtcTime(int64_t seconds);

}  // namespace registry
