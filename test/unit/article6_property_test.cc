// Goal: whatever sequence of Article 6 operations runs (JCM issuances, international transfers,
// domestic transfers, retirements, OMGE cancellations, authorization changes and revocations),
//   1. no unit is ever first transferred twice (read back from the journal's AEF actions),
//   2. no ITMO reaches a retirement account without both Parties' authorizations (R-AUTH-07),
//   3. first_transferred never goes back to false along a lineage,
//   4. verify (chain, signatures, replay, invariants) passes.
// Method: randomized model test; the seed is printed and JCM_SEED replays it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <random>

#include "service/article6_aef.h"
#include "service/article6_hooks.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

uint64_t Seed() {
  const char* env = std::getenv("JCM_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
}

Json V(int year, int64_t quantity) { return Json{{"vintage", year}, {"quantity", quantity}}; }

void RunRandomHistory(uint64_t seed, int steps) {
  SCOPED_TRACE("JCM_SEED=" + std::to_string(seed));
  std::cout << "article6 property test: JCM_SEED=" << seed << "\n";
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  TestRegistry r;
  testing::SetUpArticle6(r);
  testing::RegisterProject(r, "MN102");
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN102"));  // Japan never authorizes MN102.
  const char* projects[] = {"MN101", "MN102"};
  int applied = 0;
  for (int step = 0; step < steps; ++step) {
    const int op = static_cast<int>(pick(0, 10));
    const std::string project = projects[pick(0, 1)];
    Json args;
    std::string command;
    switch (op) {
      case 0:
      case 1: {
        const int64_t q21 = pick(0, 60), q22 = pick(0, 60), q20 = pick(0, 20);
        const int64_t mng = q21 + q22 + q20;
        if (mng == 0) continue;
        command = "issue.jcm";
        args = testing::IssueMngArgs(project, mng * 5, {V(2020, q20), V(2021, q21), V(2022, q22)});
        break;
      }
      case 2:
      case 3:
        command = "transfer.international";
        args = {{"from", 5}, {"to", pick(0, 1) ? 1 : 4}, {"quantity", pick(1, 80)}};
        break;
      case 4:
        command = "transfer";
        args = {{"from", 1}, {"to", 4}, {"quantity", pick(1, 50)}};
        break;
      case 5:
      case 6:
        command = "retire";
        args = {{"from", pick(0, 1) ? 1 : 4}, {"to", 2}, {"quantity", pick(1, 40)}, {"use_year", 2026}};
        break;
      case 9:
        if (pick(0, 1) == 0) {  // The Japanese side of a decision: MNG's first transfer to JPN.
          const int64_t j21 = pick(0, 60) * 4, j22 = pick(0, 60) * 4;
          if (j21 + j22 == 0) continue;
          command = "issue.jcm";
          args = testing::IssueJpnArgs(project, (j21 + j22) * 5 / 4, {V(2021, j21), V(2022, j22)});
          break;
        }
        [[fallthrough]];
      case 7:
        command = "cancel";
        args = {{"from", 5}, {"to", 7}, {"quantity", pick(1, 30)}, {"purpose", pick(0, 1) ? "omge" : "voluntary"}};
        break;
      case 8:
        command = "retire";
        args = {{"from", 5}, {"to", 6}, {"quantity", pick(1, 30)}, {"use_year", 2026}};
        break;
      case 10:
      default:
        command = "authorization.change";
        args = {{"party", pick(0, 1) ? "MNG" : "JPN"}, {"project", project}, {"effective_date", "2026-06-01"},
                {"reason", "random change"}};
        // Rare, and only in the second half: a revoked authorization stays revoked for the rest
        // of the run, so an early one left too little to apply (JCM_SEED=3434064687 applied 96
        // of 1000 steps, under the bound below).
        if (pick(0, 39) == 0 && step >= steps / 2) {
          args["revoke"] = true;
        } else {
          args["vintages"] = {V(2021, pick(0, 2000)), V(2022, pick(0, 2000))};
        }
        break;
    }
    const service::Response response = r.Run(command, args);
    if (response.ok()) {
      ++applied;
    } else {
      ASSERT_TRUE(response.failure->refusal.has_value()) << command << ": " << response.failure->Message();
    }
  }
  // Not vacuous: enough commands apply to exercise the properties (typically 25-35 % since
  // revocations became rare; before, JCM_SEED=3179807871 revoked everything early and applied 30).
  std::cout << "article6 property test: " << applied << " of " << steps << " commands applied\n";
  EXPECT_GT(applied, steps / 10);

  auto tx = r.store->BeginRead();
  ASSERT_TRUE(tx.has_value());
  // 1. No serial of a lot is first transferred twice.
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> first_transfers;  // lot -> ranges
  int64_t first_transferred_tonnes = 0;
  auto entries = (*tx)->ReadEntries(Sequence{0}, 1'000'000);
  ASSERT_TRUE(entries.has_value());
  for (const JournalEntry& e : *entries) {
    for (const service::AefAction& a :
         service::AefActionsFor(e.command, Json::parse(e.payload), Json::parse(e.result))) {
      if (a.type != "First transfer" || a.lot == 0) continue;
      for (const auto& [first, last] : first_transfers[a.lot]) {
        ASSERT_TRUE(a.last < first || a.first > last)
            << "lot " << a.lot << " serials " << a.first << "-" << a.last << " first transferred twice";
      }
      first_transfers[a.lot].emplace_back(a.first, a.last);
      first_transferred_tonnes += a.quantity;
    }
  }
  // 2 and 3: every block, live or closed.
  auto blocks = (*tx)->ListBlocks(BlockId{0}, 1'000'000);
  ASSERT_TRUE(blocks.has_value());
  std::map<int64_t, Block> by_id;
  for (const Block& b : *blocks) by_id[b.id.value] = b;
  for (const Block& b : *blocks) {
    if (b.parent) {
      ASSERT_TRUE(!by_id.at(b.parent->value).first_transferred || b.first_transferred)
          << "block " << b.id.value << " lost its first transfer";
    }
    auto lot = (*tx)->GetLot(b.lot);
    ASSERT_TRUE(lot.has_value() && lot->has_value());
    if (!(*lot)->itmo) continue;
    // Every ITMO is its host's (MNG's), and one outside MNG01 has been first transferred.
    ASSERT_EQ((*lot)->first_transferring_party.value, "MNG") << "lot " << b.lot.value;
    if (b.account.value <= 4) {
      ASSERT_TRUE(b.first_transferred)
          << "block " << b.id.value << " in JPN01, never first transferred";
    }
    // Mongolia never uses its own ITMOs (account 6 is MNG01's retirement account).
    ASSERT_NE(b.account.value, 6) << "MNG used ITMOs of its own origin: block " << b.id.value;
    if (b.account.value != 2) continue;
    for (const char* party : {"JPN", "MNG"}) {
      auto doc = (*tx)->GetDocument("authorization", std::string(party) + ":" + (*lot)->project.value);
      ASSERT_TRUE(doc.has_value());
      ASSERT_TRUE(doc->has_value()) << "ITMO of " << (*lot)->project.value << " retired in JPN01 without "
                                    << party << "'s authorization";
    }
  }
  std::cout << "article6 property test: " << applied << " of " << steps << " commands applied, "
            << first_transferred_tonnes << " t first transferred\n";
  tx->reset();
  auto pub = journal::LoadPublicKey(r.db_path);
  ASSERT_TRUE(pub.has_value());
  const auto report = service::Verify(*r.store, *pub, [] {
    return sqlite::Open(sqlite::Options{":memory:", false});
  });
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
}

TEST(Article6Property, NoDoubleFirstTransferAndNoRetirementWithoutBothAuthorizations) {
  const uint64_t seed = Seed();
  RunRandomHistory(seed, 1000);
}

}  // namespace
}  // namespace registry
