// core/utc_time against the libc calls it replaced (sscanf + timegm, gmtime_r + strftime): the
// journaled proposals replay through it, so every text must give the same answer as before.
// Method: randomized comparison; the seed is printed and JCM_SEED replays it.
#include "core/utc_time.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>

namespace registry {
namespace {

// What proposal_commands.cc did before core/utc_time.
std::optional<int64_t> LibcParse(const std::string& text) {
  if (text.size() != 20 || text[10] != 'T' || text[19] != 'Z') return std::nullopt;
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &year, &month, &day, &hour, &minute,
                  &second) != 6) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm));
}

std::string LibcFormat(int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

uint64_t Seed() {
  const char* env = std::getenv("JCM_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("utc_time seed %llu (JCM_SEED replays it)\n", static_cast<unsigned long long>(seed));
  return seed;
}

TEST(UtcTime, KnownTimes) {
  EXPECT_EQ(ParseUtcTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseUtcTime("2026-03-01T09:30:00Z"), 1772357400);
  EXPECT_EQ(ParseUtcTime("2026-02-31T00:00:00Z"), ParseUtcTime("2026-03-03T00:00:00Z"));
  EXPECT_EQ(ParseUtcTime("2024-02-29T23:59:60Z"), ParseUtcTime("2024-03-01T00:00:00Z"));
  EXPECT_EQ(ParseUtcTime("1969-12-31T23:59:59Z"), -1);
  EXPECT_EQ(FormatUtcTime(1772357400), "2026-03-01T09:30:00Z");
  EXPECT_EQ(FormatUtcTime(-1), "1969-12-31T23:59:59Z");
  for (const char* bad : {"2026-03-01T09:30:00", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
                          "2026-01-32T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z",
                          "2026-01-01T00:60:00Z", "2026-01-01T00:00:61Z", "2026-01-01 00:00:00Z",
                          "", "20260101T000000Z"}) {
    EXPECT_EQ(ParseUtcTime(bad), std::nullopt) << bad;
  }
  // sscanf stops matching at the 'x' after six conversions: the old parse took this as second 0,
  // and so does this one, for the entries journaled with it.
  EXPECT_EQ(ParseUtcTime("2026-01-01T00:00:0xZ"), ParseUtcTime("2026-01-01T00:00:00Z"));
}

// Texts of the right shape with digits anywhere, and with now and then a character sscanf reads
// differently from a digit (a sign, a space, a letter) in a random place.
TEST(UtcTime, ParsesEveryTextAsSscanfAndTimegmDid) {
  std::mt19937_64 rng(Seed());
  const std::string odd = "+- x0";
  int valid = 0;
  for (int round = 0; round < 200000; ++round) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                  static_cast<int>(rng() % 10000), static_cast<int>(rng() % 14),
                  static_cast<int>(rng() % 33), static_cast<int>(rng() % 26),
                  static_cast<int>(rng() % 62), static_cast<int>(rng() % 63));
    std::string text = buf;
    if (rng() % 4 == 0) text[rng() % text.size()] = odd[rng() % odd.size()];
    const auto expected = LibcParse(text);
    ASSERT_EQ(ParseUtcTime(text), expected) << "'" << text << "'";
    valid += expected.has_value() ? 1 : 0;
  }
  EXPECT_GT(valid, 50000);  // Most rounds must reach the arithmetic, not only the refusals.
}

TEST(UtcTime, FormatsEverySecondAsStrftimeDid) {
  std::mt19937_64 rng(Seed());
  constexpr int64_t kYear1000 = -30610224000;   // 1000-01-01T00:00:00Z
  constexpr int64_t kYear10000 = 253402300800;  // 10000-01-01T00:00:00Z
  for (int round = 0; round < 200000; ++round) {
    const int64_t seconds =
        kYear1000 + static_cast<int64_t>(rng() % static_cast<uint64_t>(kYear10000 - kYear1000));
    const std::string text = FormatUtcTime(seconds);
    ASSERT_EQ(text, LibcFormat(seconds)) << seconds;
    ASSERT_EQ(ParseUtcTime(text), seconds) << text;
  }
}

// The strict readings of live requests (issue #33): a calendar date or time the calendar has,
// nothing normalized; every day of 1999-2101 by its own text, and the texts around them refused.
TEST(UtcTime, CalendarDatesAndTimesAreRealOnes) {
  for (const char* bad :
       {"garbage", "", "2025-13-45", "2025-02-30", "2025-00-10", "2025-01-00", "2025-04-31",
        "2023-02-29", "1900-02-29", "2100-02-29", "2025-2-3", " 2025-01-01", "2025-01-01 ",
        "+025-01-01", "-025-01-01", "2025/01/01", "20250101", "2025-01-01T00:00:00Z"}) {
    EXPECT_FALSE(ParseCalendarDate(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseCalendarDate("1970-01-01"), 0);
  EXPECT_EQ(ParseCalendarDate("2000-02-29"), 11016);
  EXPECT_EQ(ParseCalendarDate("2024-02-29"), 19782);
  for (int64_t day = *ParseCalendarDate("1999-01-01"); day <= *ParseCalendarDate("2101-12-31");
       ++day) {
    const std::string text = FormatUtcTime(day * 86400).substr(0, 10);
    ASSERT_EQ(ParseCalendarDate(text), day) << text;
  }
  for (const char* bad : {"2027-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
                          "2026-01-01T00:00:60Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00",
                          "2026-01-01T00:00:00+00:00", "2026-01-01t00:00:00z", "2026-01-01",
                          "2026-01-01T0:00:00Z", "garbage", ""}) {
    EXPECT_FALSE(ParseCalendarTime(bad).has_value()) << bad;
    EXPECT_TRUE(!ParseUtcTime(bad) || std::string(bad) == "2027-02-30T00:00:00Z" ||
                std::string(bad) == "2026-01-01T00:00:60Z")
        << bad << ": the lenient reading takes only these two";
  }
  for (const char* good :
       {"2026-01-01T00:00:03Z", "2024-02-29T23:59:59Z", "1970-01-01T00:00:00Z"}) {
    ASSERT_TRUE(ParseCalendarTime(good).has_value()) << good;
    EXPECT_EQ(ParseCalendarTime(good), ParseUtcTime(good)) << good;
    EXPECT_EQ(FormatUtcTime(*ParseCalendarTime(good)), good);
  }
}

}  // namespace
}  // namespace registry
