// Goal: the real Mongolia–Japan issuance table is read with its documented quirks (".0" amounts,
// "N/A" dates, the two Japan rows that lost their monitoring period), and SplitByCalendarYear
// splits a quantity over calendar years exactly. Method: the checked-in data/jcm file, and
// hand-computed splits plus a seeded sweep checking that the parts always add up.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "core/jcm_data.h"

namespace registry {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(CoreJcmData, ParseWholeAmountAndDates) {
  EXPECT_EQ(ParseWholeAmount("24249.0"), 24249);
  EXPECT_EQ(ParseWholeAmount("24249"), 24249);
  EXPECT_EQ(ParseWholeAmount("0.0"), 0);
  for (const char* bad : {"", "N/A", "1.5", "-3", "+3", "1e3", ".0", "1.0.0", "1234567890123456"}) {
    EXPECT_EQ(ParseWholeAmount(bad), -1) << "'" << bad << "'";
  }
  EXPECT_EQ(DaysFromIsoDate("1970-01-01"), 0);
  EXPECT_EQ(DaysFromIsoDate("2000-03-01"), 11017);
  EXPECT_EQ(*DaysFromIsoDate("2024-03-01") - *DaysFromIsoDate("2024-02-28"), 2);  // Leap year.
  EXPECT_EQ(*DaysFromIsoDate("2023-03-01") - *DaysFromIsoDate("2023-02-28"), 1);
  for (const char* bad : {"", "2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "2024-1-01",
                          "2024/01/01", "N/A", "2024-01-001"}) {
    EXPECT_FALSE(DaysFromIsoDate(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(CoreJcmData, SplitByCalendarYear) {
  // 2019-07-06 .. 2020-12-31: 179 days in 2019, 366 in 2020, 545 in all.
  const auto lines = SplitByCalendarYear("2019-07-06", "2020-12-31", 24249);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].vintage.year, 2019);
  EXPECT_EQ(lines[1].vintage.year, 2020);
  // 24249*179/545 = 7964.4..., 24249*366/545 = 16284.5...: the larger remainder gets the tonne.
  EXPECT_EQ(lines[0].quantity.tonnes, 7964);
  EXPECT_EQ(lines[1].quantity.tonnes, 16285);
  const auto one_year = SplitByCalendarYear("2021-01-01", "2021-12-31", 10);
  ASSERT_EQ(one_year.size(), 1u);
  EXPECT_EQ(one_year[0].quantity.tonnes, 10);
  // One tonne over three years: only one year gets it, the empty ones are dropped.
  const auto tiny = SplitByCalendarYear("2017-12-02", "2019-01-01", 1);
  ASSERT_EQ(tiny.size(), 1u);
  EXPECT_EQ(tiny[0].vintage.year, 2018);
  EXPECT_TRUE(SplitByCalendarYear("2020-01-02", "2020-01-01", 5).empty());
  EXPECT_TRUE(SplitByCalendarYear("2020-01-01", "2020-12-31", 0).empty());
  EXPECT_TRUE(SplitByCalendarYear("bad", "2020-12-31", 5).empty());
}

TEST(CoreJcmData, SplitAlwaysAddsUp) {
  const char* env = std::getenv("JCM_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  SCOPED_TRACE("JCM_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const int64_t base = *DaysFromIsoDate("2000-01-01");
  for (int i = 0; i < 2000; ++i) {
    const int64_t a = static_cast<int64_t>(rng() % 10000);
    const int64_t b = a + static_cast<int64_t>(rng() % 3000);
    auto iso = [&](int64_t day) {
      // Walk from 2000-01-01; cheap enough for this sweep.
      int y = 2000;
      int64_t d = base + day;
      while (*DaysFromIsoDate(std::to_string(y + 1) + "-01-01") <= d) ++y;
      int m = 1;
      auto month_start = [&](int mm) {
        char buf[11];
        std::snprintf(buf, sizeof buf, "%04d-%02d-01", y, mm);
        return *DaysFromIsoDate(buf);
      };
      while (m < 12 && month_start(m + 1) <= d) ++m;
      char buf[11];
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, static_cast<int>(d - month_start(m) + 1));
      return std::string(buf);
    };
    const std::string start = iso(a);
    const std::string end = iso(b);
    ASSERT_EQ(*DaysFromIsoDate(start), base + a) << start;
    const int64_t quantity = 1 + static_cast<int64_t>(rng() % 1'000'000);
    const auto lines = SplitByCalendarYear(start, end, quantity);
    int64_t sum = 0;
    int prev = 0;
    for (const auto& line : lines) {
      EXPECT_GT(line.quantity.tonnes, 0);
      EXPECT_GT(line.vintage.year, prev);
      EXPECT_GE(line.vintage.year, std::stoi(start.substr(0, 4)));
      EXPECT_LE(line.vintage.year, std::stoi(end.substr(0, 4)));
      prev = line.vintage.year;
      sum += line.quantity.tonnes;
    }
    ASSERT_EQ(sum, quantity) << start << " " << end;
  }
}

TEST(CoreJcmData, MongoliaIssuancesFromTheRealFile) {
  const auto rows = ParseCsv(ReadFile(std::string(JCM_SOURCE_DIR) + "/data/jcm/mongolia_issuances.csv"));
  ASSERT_TRUE(rows.has_value()) << rows.error();
  ASSERT_EQ(rows->size(), 23u);  // Header + 22 rows.
  const IssuanceTable table = ParseMongoliaIssuances(*rows);
  // Every row is either taken or rejected with its reason.
  EXPECT_EQ(table.records.size() + table.rejected.size(), 22u);
  ASSERT_EQ(table.rejected.size(), 2u);
  // The two Japan rows (MN002 166 t, MN001 94 t) that lost their monitoring period.
  EXPECT_EQ(table.rejected[0].line, 16u);
  EXPECT_EQ(table.rejected[1].line, 21u);
  for (const auto& r : table.rejected) {
    EXPECT_NE(r.reason.find("monitoring period"), std::string::npos) << r.reason;
  }
  int64_t issued = 0;
  int64_t notified = 0;
  int pending = 0;
  for (const auto& r : table.records) {
    issued += r.issued;
    notified += r.notified;
    if (r.issuance_date.empty()) {
      ++pending;
      EXPECT_EQ(r.issued, 0);
    }
  }
  // Hand sums over the file: notified 6063+24249+1+0+8963+35854+1789+7158+7084+28335+1776+7104
  // +66+256+22+85+29+110+10+40; issued the same less the unissued MNG MN006 6063, MNG MN002 66,
  // MNG MN001 29 and JPN MN005 0.
  EXPECT_EQ(notified, 128994);
  EXPECT_EQ(issued, 128994 - 6063 - 66 - 29);
  EXPECT_EQ(pending, 4);
  const IssuanceRecord& first = table.records.front();
  EXPECT_EQ(first.line, 2u);
  EXPECT_EQ(first.project.value, "MN006");
  EXPECT_EQ(first.side.value, "MNG");
  EXPECT_EQ(first.notified, 6063);
  EXPECT_EQ(first.monitoring_start, "2019-07-06");
  const IssuanceRecord& second = table.records[1];
  EXPECT_EQ(second.side.value, "JPN");
  EXPECT_EQ(second.issued, 24249);
  EXPECT_EQ(second.issuance_date, "2026-01-30");
  EXPECT_EQ(second.total_notified, 30312);
}

TEST(CoreJcmData, MalformedTables) {
  EXPECT_EQ(ParseMongoliaIssuances({}).rejected.size(), 1u);
  const auto no_column = ParseMongoliaIssuances({{"reference_no", "country"}});
  ASSERT_EQ(no_column.rejected.size(), 1u);
  EXPECT_NE(no_column.rejected[0].reason.find("lacks column"), std::string::npos);
  const CsvRow header = {"reference_no", "project_title", "monitoring_start", "monitoring_end",
                         "decision_date", "total_notified", "country", "notified_amount",
                         "issuance_date", "issued_amount"};
  const auto table = ParseMongoliaIssuances({
      header,
      {"MNX06", "t", "2019-01-01", "2019-12-31", "2020-01-01", "5", "Japan", "5", "", ""},
      {"MN006", "t", "2019-01-01", "2019-12-31", "2020-01-01", "5", "Korea", "5", "", ""},
      {"MN006", "t", "2019-01-01", "2019-12-31", "2020-01-01", "5.5", "Japan", "5", "", ""},
      {"MN006", "t", "2019-01-01", "2019-12-31", "2020-01-01", "5", "Japan", "5", "2020-02-01", "x"},
      {"MN006", "t", "2019-01-01", "2019-12-31", "2020-01-01", "5", "Japan", "5", "2020-02-01", "5.0"},
      {"MN006", "t"},  // Short row: missing monitoring period.
  });
  ASSERT_EQ(table.records.size(), 1u);
  EXPECT_EQ(table.records[0].line, 6u);
  EXPECT_EQ(table.records[0].issued, 5);
  ASSERT_EQ(table.rejected.size(), 5u);
  EXPECT_NE(table.rejected[0].reason.find("reference_no"), std::string::npos);
  EXPECT_NE(table.rejected[1].reason.find("country"), std::string::npos);
  EXPECT_NE(table.rejected[2].reason.find("whole number"), std::string::npos);
  EXPECT_NE(table.rejected[3].reason.find("issued_amount"), std::string::npos);
  EXPECT_EQ(table.rejected[4].line, 7u);
}

}  // namespace
}  // namespace registry
