// Goal: the JCM serial (識別番号) and the ITMO identifier of the same unit are both shown and
// linked (issue 31 item 8, R-ID-05): an account's holdings give, for each block of ITMOs, the ITMO
// identifiers of its first and last serials, the ones the serial lookup gives for those serials;
// JCM credits that are not ITMOs (vintage 2020) have none.
#include <gtest/gtest.h>

#include "core/itmo_id.h"
#include "service/queries.h"
#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

Json V(int year, int64_t quantity) { return Json{{"vintage", year}, {"quantity", quantity}}; }

TEST(ItmoSerials, HoldingsShowTheItmoIdentifiersOfEachBlockAsTheLookupDoes) {
  TestRegistry r;
  testing::SetUpArticle6(r);
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  // Japan's 80 % of a decision of 500 t: 100 t of 2020 (JCM credits) and 300 t of 2021 (ITMOs,
  // Mongolia's first transfer to Japan at issuance) into JPN01 account 1.
  r.Ok("issue.jcm", testing::IssueJpnArgs("MN101", 500, {V(2020, 100), V(2021, 300)}));
  r.Ok("transfer", {{"from", 1}, {"to", 4}, {"quantity", 150}});  // Splits: 100 t 2020, 50 t 2021.

  auto holdings = service::Holdings(*r.store, AccountId{1}, std::nullopt, std::nullopt);
  ASSERT_TRUE(holdings.has_value()) << holdings.error().Message();
  int itmo_blocks = 0, jcm_blocks = 0;
  for (const Json& b : (*holdings)["blocks"]) {
    if (!b["itmo"].get<bool>()) {
      ++jcm_blocks;
      EXPECT_FALSE(b.contains("itmo_first")) << b.dump();
      continue;
    }
    ++itmo_blocks;
    const int64_t first = b["first"], last = b["last"];
    EXPECT_EQ(b["itmo_first"], "CA0042-JPN01-MNG-" + std::to_string(first) + "-2021");
    EXPECT_EQ(b["itmo_last"], "CA0042-JPN01-MNG-" + std::to_string(last) + "-2021");
    // The lookup of each end gives the same identifier, and parsing it gives the serial back.
    for (const int64_t serial : {first, last}) {
      auto trace = service::Trace(*r.store, RegistryCode{"JPN01"}, serial);
      ASSERT_TRUE(trace.has_value());
      const std::string id = (*trace)["itmo_id"];
      EXPECT_EQ(id, serial == first ? b["itmo_first"] : b["itmo_last"]);
      const auto parsed = ParseItmoId(id);
      ASSERT_TRUE(parsed.has_value()) << id;
      EXPECT_EQ(parsed->serial, serial);
    }
  }
  EXPECT_EQ(itmo_blocks, 1);
  EXPECT_EQ(jcm_blocks, 0);  // The 2020 credits went to account 4 first (serial order).
  auto other = service::Holdings(*r.store, AccountId{4}, std::nullopt, std::nullopt);
  ASSERT_TRUE(other.has_value());
  ASSERT_EQ((*other)["blocks"].size(), 2u);
  EXPECT_FALSE((*other)["blocks"][0].contains("itmo_first"));  // 2020: a JCM credit only.
  EXPECT_EQ((*other)["blocks"][1]["itmo_first"],
            "CA0042-JPN01-MNG-" + std::to_string((*other)["blocks"][1]["first"].get<int64_t>()) +
                "-2021");
}

}  // namespace
}  // namespace registry
