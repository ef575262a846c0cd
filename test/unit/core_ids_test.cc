// Goal: every pure parser of the core accepts exactly the documented forms: ids.h (Party,
// registry, cooperative approach, project), serial_range.h, itmo_id.h (round trip on the real
// examples and a sweep of generated ids, refusal of malformed text) and csv.h.
// Method: table-driven cases plus a seeded round-trip sweep (seed printed, JCM_SEED replays).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/csv.h"
#include "core/ids.h"
#include "core/itmo_id.h"
#include "core/model.h"
#include "core/serial_range.h"

namespace registry {
namespace {

uint64_t SeedFromEnv() {
  const char* env = std::getenv("JCM_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
}

TEST(CoreIds, PartyCode) {
  EXPECT_EQ(ParsePartyCode("JPN")->value, "JPN");
  EXPECT_EQ(ParsePartyCode("MNG")->value, "MNG");
  for (const char* bad : {"", "JP", "JPNX", "jpn", "JP1", "J N", "JPN "}) {
    EXPECT_FALSE(ParsePartyCode(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(CoreIds, RegistryCode) {
  EXPECT_EQ(ParseRegistryCode("JPN01")->value, "JPN01");
  EXPECT_EQ(PartyOfRegistry(*ParseRegistryCode("MNG01")).value, "MNG");
  for (const char* bad : {"", "JPN1", "JPN001", "jpn01", "JP001", "JPNO1", "01JPN"}) {
    EXPECT_FALSE(ParseRegistryCode(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(CoreIds, CooperativeApproachAndProject) {
  EXPECT_EQ(ParseCaId("CA0007")->value, "CA0007");
  for (const char* bad : {"", "CA007", "CA00007", "ca0007", "CB0007", "ZZ0007", "CA00A7"}) {
    EXPECT_FALSE(ParseCaId(bad).has_value()) << "'" << bad << "'";
  }
  EXPECT_EQ(ParseProjectRef("TH014")->value, "TH014");
  EXPECT_EQ(ParseProjectRef("MN006")->value, "MN006");
  for (const char* bad : {"", "TH14", "TH0140", "th014", "T1014", "THX14"}) {
    EXPECT_FALSE(ParseProjectRef(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(CoreIds, AddQuantitiesDetectsOverflow) {
  EXPECT_EQ(AddQuantities(Quantity{2}, Quantity{3})->tonnes, 5);
  EXPECT_FALSE(AddQuantities(Quantity{INT64_MAX}, Quantity{1}).has_value());
  EXPECT_FALSE(AddQuantities(Quantity{INT64_MIN}, Quantity{-1}).has_value());
}

TEST(CoreModel, EnumNamesRoundTrip) {
  for (auto t : {AccountType::kGovernmentHolding, AccountType::kEntityHolding,
                 AccountType::kRetirement, AccountType::kCancellation}) {
    EXPECT_EQ(ParseAccountType(ToString(t)), t);
  }
  for (auto s : {AccountStatus::kOpen, AccountStatus::kBlocked, AccountStatus::kClosed}) {
    EXPECT_EQ(ParseAccountStatus(ToString(s)), s);
  }
  for (auto p : {CancellationPurpose::kOimp, CancellationPurpose::kOmge,
                 CancellationPurpose::kVoluntary, CancellationPurpose::kOther}) {
    EXPECT_EQ(ParseCancellationPurpose(ToString(p)), p);
  }
  EXPECT_FALSE(ParseAccountType("holding").has_value());
  EXPECT_FALSE(ParseAccountStatus("").has_value());
  EXPECT_FALSE(ParseCancellationPurpose("OIMPX").has_value());
  EXPECT_TRUE(IsTerminal(AccountType::kRetirement));
  EXPECT_TRUE(IsTerminal(AccountType::kCancellation));
  EXPECT_FALSE(IsTerminal(AccountType::kGovernmentHolding));
  EXPECT_FALSE(IsTerminal(AccountType::kEntityHolding));
}

TEST(CoreSerialRange, ParseAndFormat) {
  EXPECT_EQ(ParseSerialRange("1"), (SerialRange{1, 1}));
  EXPECT_EQ(ParseSerialRange("1-100"), (SerialRange{1, 100}));
  EXPECT_EQ(ParseSerialRange("9007199254740991"),
            (SerialRange{kSerialMax, kSerialMax}));
  EXPECT_EQ(FormatSerialRange(SerialRange{5, 5}), "5");
  EXPECT_EQ(FormatSerialRange(SerialRange{5, 9}), "5-9");
  for (const char* bad : {"", "0", "-1", "1-", "-", "5-4", "01", "1-02", "a", "1-b", "1 -2",
                          "1--2", "1-2-3", "9007199254740992", "+5", "12345678901234567"}) {
    EXPECT_FALSE(ParseSerialRange(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(CoreSerialRange, CountContainsOverlapsIntersect) {
  const SerialRange r{10, 19};
  EXPECT_EQ(r.Count().tonnes, 10);
  EXPECT_TRUE(r.IsValid());
  EXPECT_FALSE((SerialRange{0, 5}).IsValid());
  EXPECT_FALSE((SerialRange{6, 5}).IsValid());
  EXPECT_FALSE((SerialRange{1, kSerialMax + 1}).IsValid());
  EXPECT_TRUE(r.Contains(10));
  EXPECT_TRUE(r.Contains(19));
  EXPECT_FALSE(r.Contains(20));
  EXPECT_TRUE(r.Contains(SerialRange{12, 19}));
  EXPECT_FALSE(r.Contains(SerialRange{12, 20}));
  EXPECT_TRUE(r.Overlaps(SerialRange{19, 30}));
  EXPECT_FALSE(r.Overlaps(SerialRange{20, 30}));
  EXPECT_EQ(Intersect(r, SerialRange{15, 30}), (SerialRange{15, 19}));
  EXPECT_EQ(Intersect(r, SerialRange{1, 10}), (SerialRange{10, 10}));
  EXPECT_FALSE(Intersect(r, SerialRange{1, 9}).has_value());
}

TEST(CoreItmoId, RealExamplesRoundTrip) {
  for (const char* text : {"CA0042-UZB01-UZB-123456-2024", "CA0007-MNG01-MNG-1-2021",
                           "CA0001-JPN01-JPN-9007199254740991-2100"}) {
    const auto id = ParseItmoId(text);
    ASSERT_TRUE(id.has_value()) << text;
    EXPECT_EQ(FormatItmoId(*id), text);
  }
  const auto id = ParseItmoId("CA0042-UZB01-UZB-123456-2024");
  EXPECT_EQ(id->cooperative_approach.value, "CA0042");
  EXPECT_EQ(id->registry.value, "UZB01");
  EXPECT_EQ(id->first_transferring_party.value, "UZB");
  EXPECT_EQ(id->serial, 123456);
  EXPECT_EQ(id->vintage.year, 2024);
}

TEST(CoreItmoId, MalformedRefused) {
  for (const char* bad : {
           "", "CA0042-UZB01-UZB--2024", "CA0042-UZB01-UZB-0-2024",
           "CA0042-UZB01-UZB-0123-2024",           // leading zero
           "CA0042-UZB01-UZB-123456-2020",         // vintage before 2021
           "CA0042-UZB01-UZB-123456-2101",         // vintage after 2100
           "CA0042-UZB01-UZB-123456-24",           // short vintage
           "CA042-UZB01-UZB-123456-2024",          // short CA
           "CA0042-UZB1-UZB-123456-2024",          // short registry
           "CA0042-UZB01-UZ-123456-2024",          // short Party
           "ca0042-UZB01-UZB-123456-2024",         // lower case
           "CA0042_UZB01_UZB_123456_2024",         // wrong separators
           "CA0042-UZB01-UZB-12-13-2024",          // a range, not a serial
           "CA0042-UZB01-UZB-12-12-2024",          // a range, even of one serial
           "CA0042-UZB01-UZB-9007199254740992-2024",  // above kSerialMax
           "CA0042-UZB01-UZB-12a-2024", "CA0042-UZB01-UZB-123456-2024 ",
           "CA0042-UZB01-UZB-123456-+024", "CA0042-UZB01-UZB-123456--024"}) {
    EXPECT_FALSE(ParseItmoId(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(CoreItmoId, GeneratedIdsRoundTrip) {
  const uint64_t seed = SeedFromEnv();
  SCOPED_TRACE("JCM_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto letters = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>('A' + rng() % 26);
    return s;
  };
  auto digits = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
    return s;
  };
  for (int i = 0; i < 5000; ++i) {
    const std::string party = letters(3);
    ItmoId id{CaId{"CA" + digits(4)}, RegistryCode{party + digits(2)}, PartyCode{letters(3)},
              1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(kSerialMax)),
              Vintage{static_cast<int32_t>(2021 + rng() % 80)}};
    if (i % 3 == 0) id.serial = 1 + static_cast<int64_t>(rng() % 1000);
    const std::string text = FormatItmoId(id);
    const auto parsed = ParseItmoId(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    ASSERT_EQ(*parsed, id) << text;
    ASSERT_EQ(FormatItmoId(*parsed), text);
  }
}

TEST(CoreCsv, QuotesCrLfAndEmptyLines) {
  const auto rows = ParseCsv("a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\n\n\"multi\nline\",2,3");
  ASSERT_TRUE(rows.has_value()) << rows.error();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0], (CsvRow{"a", "b", "c"}));
  EXPECT_EQ((*rows)[1], (CsvRow{"x,1", "say \"hi\"", ""}));
  EXPECT_EQ((*rows)[2], (CsvRow{"multi\nline", "2", "3"}));
  EXPECT_TRUE(ParseCsv("")->empty());
  EXPECT_EQ(ParseCsv("a\n")->size(), 1u);
}

TEST(CoreCsv, RefusesUnterminatedQuoteAndTooManyFields) {
  const auto unterminated = ParseCsv("a,b\n\"open,c\n");
  ASSERT_FALSE(unterminated.has_value());
  // The message names the line where the input ended inside the quote (line 3 here).
  EXPECT_NE(unterminated.error().find("unterminated quoted field"), std::string::npos)
      << unterminated.error();
  std::string wide(kCsvFieldsMax, ',');  // kCsvFieldsMax + 1 fields.
  const auto too_wide = ParseCsv("a\n" + wide + "\n");
  ASSERT_FALSE(too_wide.has_value());
  EXPECT_NE(too_wide.error().find("too many fields"), std::string::npos) << too_wide.error();
  std::string ok(kCsvFieldsMax - 1, ',');  // Exactly kCsvFieldsMax fields.
  EXPECT_TRUE(ParseCsv(ok + "\n").has_value());
}

}  // namespace
}  // namespace registry
