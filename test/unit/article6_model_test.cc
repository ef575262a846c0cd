// Goal: the Article 6 rules hold over long random histories, checked against a model written
// apart from the registry (issue 27). Each operation's outcome (applied or refused) is predicted
// by the model before it runs; holdings per account, project and vintage are compared every
// 2,000 operations and at the end; at the end, across both Parties:
//   - every ITMO tonne held, used or cancelled in Japan's registry has exactly one first transfer
//     by its host (Mongolia), and none is first transferred twice (serial ranges, per lot);
//   - Mongolia's first transfers to Japan in the journal's AEF actions equal Japan's acquisitions
//     from Mongolia, tonne for tonne, per lot;
//   - every OMGE cancellation of a unit not yet first transferred is a first transfer;
//   - verify (chain, signatures, replay, invariants) passes.
// Operations: Step 2a authorizations, changes and revocations, JC issuances to either side
// (Japan's side being the host's first transfer), international transfers (and refused ones
// back to the host), domestic transfers, uses by Japan, uses refused to the host, voluntary and
// OMGE cancellations on both sides.
// Method: randomized; the seed is printed and JCM_SEED replays it; JCM_A6_STEPS sets the length
// (100,000 by default; 20,000 under AddressSanitizer, whose run the release build's covers).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "service/article6_aef.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

#if defined(__SANITIZE_ADDRESS__)
constexpr int kDefaultSteps = 20'000;
#else
constexpr int kDefaultSteps = 100'000;
#endif

uint64_t Seed() {
  const char* env = std::getenv("JCM_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
}

int Steps() {
  const char* env = std::getenv("JCM_A6_STEPS");
  return env != nullptr ? std::atoi(env) : kDefaultSteps;
}

// Accounts of the fixture: JPN01 1 government, 2 retirement, 3 cancellation, 4 government;
// MNG01 5 government, 6 retirement, 7 cancellation.
constexpr int kJpnGov = 1, kJpnRetire = 2, kJpnCancel = 3, kJpnGov2 = 4;
constexpr int kMngGov = 5, kMngRetire = 6, kMngCancel = 7;
bool InJapan(int account) { return account <= 4; }

// Thirty projects, ten of each kind, as a registry holds many projects with a few issuances
// each. MN1xx: both Parties authorize from the start. MN2xx: Mongolia from the start, Japan
// perhaps later. MN3xx: nobody ever: their credits of 2021 on are JCM credits, not ITMOs.
constexpr int kProjectsPerKind = 10;
std::string ProjectRef(int kind, int n) { return "MN" + std::to_string(kind * 100 + n); }
const int kVintages[] = {2020, 2021, 2022};

// The model: written from the rules (DOMAIN.md, ARCHITECTURE decision 11), not from the code.
struct ModelAuthorization {
  bool exists = false;
  bool revoked = false;
  std::map<int, int64_t> authorized;
  std::map<int, int64_t> issued;
  // May `q` more of `year` be issued under it?
  bool Issuable(int year, int64_t q) const {
    if (revoked) return false;
    const auto it = authorized.find(year);
    if (it == authorized.end()) return false;
    const auto done = issued.find(year);
    return (done == issued.end() ? 0 : done->second) + q <= it->second;
  }
};

struct Model {
  std::map<std::pair<std::string, std::string>, ModelAuthorization> auth;  // (party, project)
  std::map<std::tuple<int, std::string, int>, int64_t> held;  // (account, project, vintage)
  // Tonnes Mongolia first transferred, per (project, vintage): to Japan, and by OMGE cancellation.
  std::map<std::pair<std::string, int>, int64_t> to_japan, omge;

  ModelAuthorization& Auth(const std::string& party, const std::string& project) {
    return auth[{party, project}];
  }
  bool Itmo(const std::string& project, int vintage) {
    return vintage >= 2021 && Auth("MNG", project).exists;
  }
  int64_t& Held(int account, const std::string& project, int vintage) {
    return held[{account, project, vintage}];
  }
};

Json Vintages(const std::map<int, int64_t>& quantities) {
  Json out = Json::array();
  for (const auto& [year, q] : quantities) out.push_back(Json{{"vintage", year}, {"quantity", q}});
  return out;
}

class Article6Model {
 public:
  Article6Model(uint64_t seed, int steps) : rng_(seed), steps_(steps) {}

  void SetUp() {
    testing::SetUpArticle6(r_);  // Registers MN101.
    for (int kind = 1; kind <= 3; ++kind) {
      for (int n = 1; n <= kProjectsPerKind; ++n) {
        const std::string ref = ProjectRef(kind, n);
        if (ref != "MN101") testing::RegisterProject(r_, ref);
        if (kind <= 2) AddAuthorization("MNG", ref, {{2021, 1000}, {2022, 1000}});
        if (kind == 1) AddAuthorization("JPN", ref, {{2021, 1000}, {2022, 1000}});
      }
    }
  }

  // One random operation: its outcome predicted, run, and compared (mismatch() after).
  void Step(int step) {
    step_ = step;
    const std::string project =
        ProjectRef(static_cast<int>(Pick(1, 3)), static_cast<int>(Pick(1, kProjectsPerKind)));
    const int vintage = kVintages[Pick(0, 2)];
    switch (Pick(0, 15)) {
      case 0:
        IssueMongoliasSide(project);
        break;
      case 1:
        IssueJapansSide(project);
        break;
      case 2:
        Move("transfer.international", kMngGov, kJpnGov, project, vintage);
        break;
      case 3:
      case 4:
        Move("transfer.international", kMngGov, Pick(0, 1) ? kJpnGov : kJpnGov2, project, vintage);
        break;
      case 5:
        Move("transfer", kJpnGov, kJpnGov2, project, vintage);
        break;
      case 6:
      case 7:
        Move("retire", Pick(0, 1) ? kJpnGov : kJpnGov2, kJpnRetire, project, vintage);
        break;
      case 8:
        Move("retire", kMngGov, kMngRetire, project, vintage);
        break;
      case 9:
        Move("cancel", kMngGov, kMngCancel, project, vintage, "omge");
        break;
      case 10:
        Move("cancel", kMngGov, kMngCancel, project, vintage, "voluntary");
        break;
      case 11:
        Move("cancel", kJpnGov, kJpnCancel, project, vintage, Pick(0, 1) ? "omge" : "voluntary");
        break;
      case 12:
        Move("transfer.international", kJpnGov2, kMngGov, project, vintage);
        break;
      case 13:
        ChangeAuthorization(project);
        break;
      case 14:
        // Japan authorizes an MN2xx project from a third of the way in: until then Japan acquires
        // ITMOs of it that it may not use (R-AUTH-07).
        if (step_ >= steps_ / 3 && project[2] == '2' && Pick(0, 9) == 0) {
          AddAuthorization("JPN", project, {{2021, Pick(0, 3000)}, {2022, Pick(0, 3000)}});
        }
        break;
      default:
        Move("retire", kJpnGov, kJpnRetire, project, vintage);
        break;
    }
  }

  void CompareHoldings() {
    auto tx = r_.store->BeginRead();
    ASSERT_TRUE(tx.has_value());
    std::map<std::tuple<int, std::string, int>, int64_t> actual;
    std::map<int64_t, IssuanceLot> lots;
    for (int account = 1; account <= 7; ++account) {
      auto blocks = (*tx)->LiveBlocks(AccountId{account}, BlockFilter{}, 10'000'000);
      ASSERT_TRUE(blocks.has_value());
      for (const Block& b : *blocks) {
        const IssuanceLot& lot = Lot(**tx, lots, b.lot);
        actual[{account, lot.project.value, lot.vintage.year}] += b.range.Count().tonnes;
        // Where a unit is and whether it is an ITMO agree with the model; a unit in Japan's
        // registry that is an ITMO has been first transferred, one in Mongolia's not, unless
        // cancelled for OMGE.
        ASSERT_EQ(lot.itmo, model_.Itmo(lot.project.value, lot.vintage.year))
            << Where() << "lot " << lot.id.value;
        if (lot.itmo) {
          ASSERT_EQ(lot.first_transferring_party.value, "MNG") << Where() << "lot " << lot.id.value;
          const bool should =
              InJapan(account) ||
              (account == kMngCancel && b.cancellation_purpose == CancellationPurpose::kOmge);
          ASSERT_EQ(b.first_transferred, should) << Where() << "block " << b.id.value;
        }
      }
    }
    for (const auto& [key, tonnes] : model_.held) {
      if (tonnes == 0) continue;
      ASSERT_EQ(actual[key], tonnes) << Where() << "account " << std::get<0>(key) << " "
                                     << std::get<1>(key) << " " << std::get<2>(key);
    }
    for (const auto& [key, tonnes] : actual) {
      ASSERT_EQ(model_.held[key], tonnes) << Where() << "account " << std::get<0>(key) << " "
                                          << std::get<1>(key) << " " << std::get<2>(key);
    }
  }

  // The properties across Parties, from the journal.
  void CheckConservation() {
    auto tx = r_.store->BeginRead();
    ASSERT_TRUE(tx.has_value());
    std::map<int64_t, IssuanceLot> lots;
    std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> first_transfers;  // lot -> ranges
    std::map<std::pair<std::string, int>, int64_t> ft_to_japan, ft_omge, acquired;
    int64_t entries_read = 0;
    Sequence after{0};
    for (;;) {
      auto entries = (*tx)->ReadEntries(after, 5000);
      ASSERT_TRUE(entries.has_value());
      if (entries->empty()) break;
      for (const JournalEntry& e : *entries) {
        after = e.sequence;
        ++entries_read;
        for (const service::AefAction& a :
             service::AefActionsFor(e.command, Json::parse(e.payload), Json::parse(e.result))) {
          if (a.lot == 0) continue;
          const IssuanceLot& lot = Lot(**tx, lots, IssuanceId{a.lot});
          const std::pair<std::string, int> key{lot.project.value, lot.vintage.year};
          if (a.type == "First transfer") {
            for (const auto& [first, last] : first_transfers[a.lot]) {
              ASSERT_TRUE(a.last < first || a.first > last)
                  << "lot " << a.lot << " serials " << a.first << "-" << a.last
                  << " first transferred twice";
            }
            first_transfers[a.lot].emplace_back(a.first, a.last);
            (a.acquiring_party == "JPN" ? ft_to_japan : ft_omge)[key] += a.quantity;
            ASSERT_TRUE(a.acquiring_party == "JPN" || a.subtype.find("OMGE") != std::string::npos ||
                        a.acquiring_party.empty())
                << "first transfer of lot " << a.lot << " to " << a.acquiring_party << " ("
                << a.subtype << ")";
          } else if (a.type == "Acquisition") {
            ASSERT_EQ(a.transferring_party, "MNG") << "acquisition of lot " << a.lot;
            acquired[key] += a.quantity;
          }
        }
      }
    }
    // Every ITMO unit in Japan's registry (held, used or cancelled) has its first transfer, once.
    std::map<std::pair<std::string, int>, int64_t> in_japan;
    for (int account : {kJpnGov, kJpnRetire, kJpnCancel, kJpnGov2}) {
      auto blocks = (*tx)->LiveBlocks(AccountId{account}, BlockFilter{}, 10'000'000);
      ASSERT_TRUE(blocks.has_value());
      for (const Block& b : *blocks) {
        const IssuanceLot& lot = Lot(**tx, lots, b.lot);
        if (!lot.itmo) continue;
        in_japan[{lot.project.value, lot.vintage.year}] += b.range.Count().tonnes;
        int64_t covered = 0;
        for (const auto& [first, last] : first_transfers[b.lot.value]) {
          const int64_t lo = std::max(first, b.range.first), hi = std::min(last, b.range.last);
          if (lo <= hi) covered += hi - lo + 1;
        }
        ASSERT_EQ(covered, b.range.Count().tonnes)
            << "block " << b.id.value << " in account " << account
            << " holds serials never first transferred";
      }
    }
    for (const auto& [key, tonnes] : model_.to_japan) {
      EXPECT_EQ(ft_to_japan[key], tonnes)
          << key.first << " " << key.second << ": first transfers to Japan";
      EXPECT_EQ(acquired[key], tonnes)
          << key.first << " " << key.second << ": Japan's acquisitions";
      EXPECT_EQ(in_japan[key], tonnes)
          << key.first << " " << key.second << ": ITMOs in Japan's registry";
    }
    for (const auto& [key, tonnes] : ft_to_japan) EXPECT_EQ(model_.to_japan[key], tonnes);
    for (const auto& [key, tonnes] : model_.omge) {
      EXPECT_EQ(ft_omge[key], tonnes) << key.first << " " << key.second << ": OMGE first transfers";
    }
    for (const auto& [key, tonnes] : ft_omge) EXPECT_EQ(model_.omge[key], tonnes);
    int64_t to_japan = 0, omge = 0;
    for (const auto& [key, tonnes] : model_.to_japan) to_japan += tonnes;
    for (const auto& [key, tonnes] : model_.omge) omge += tonnes;
    std::cout << "article6 model test: " << applied_ << " applied, " << refused_
              << " refused as predicted; " << to_japan << " t first transferred to Japan, " << omge
              << " t by OMGE cancellation; " << entries_read << " journal entries\n";
  }

  void Verify() { testing::ExpectVerifies(r_); }

  int applied() const { return applied_; }
  int refused() const { return refused_; }
  std::map<std::string, int> applied_by_command;

 private:
  int64_t Pick(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

  std::string Where() const { return "step " + std::to_string(step_) + ": "; }

  static const IssuanceLot& Lot(Transaction& tx, std::map<int64_t, IssuanceLot>& cache,
                                IssuanceId id) {
    auto it = cache.find(id.value);
    if (it == cache.end()) {
      auto lot = tx.GetLot(id);
      REGISTRY_ASSERT(lot.has_value() && lot->has_value());
      it = cache.emplace(id.value, **lot).first;
    }
    return it->second;
  }

  // Runs `command` and compares its outcome with `expect_ok`. Returns whether it applied.
  bool Run(const std::string& command, const Json& args, bool expect_ok) {
    const service::Response response = r_.Run(command, args);
    if (!response.ok()) {
      EXPECT_TRUE(response.failure->refusal.has_value())
          << Where() << command << " " << args.dump() << ": " << response.failure->Message();
    }
    EXPECT_EQ(response.ok(), expect_ok)
        << Where() << command << " " << args.dump() << ": the model expected "
        << (expect_ok ? "it to apply" : "a refusal") << ", the registry "
        << (response.ok() ? "applied it" : "refused it: " + response.failure->Message());
    if (response.ok() != expect_ok) mismatch_ = true;
    if (response.ok()) {
      ++applied_;
      ++applied_by_command[command + (args.contains("purpose")
                                          ? " " + args["purpose"].get<std::string>()
                                          : "")];
    } else {
      ++refused_;
    }
    return response.ok();
  }

 public:
  bool mismatch() const { return mismatch_; }

 private:
  void AddAuthorization(const std::string& party, const std::string& project,
                        std::map<int, int64_t> vintages) {
    Json args = testing::Step2aArgs(party, project);
    args["vintages"] = Vintages(vintages);
    ModelAuthorization& a = model_.Auth(party, project);
    if (Run("authorization.add", args, !a.exists)) {
      a.exists = true;
      a.authorized = vintages;
    }
  }

  void ChangeAuthorization(const std::string& project) {
    const std::string party = Pick(0, 1) ? "MNG" : "JPN";
    Json args = {{"party", party},
                 {"project", project},
                 {"effective_date", "2026-06-01"},
                 {"reason", "model"}};
    std::map<int, int64_t> vintages;
    // Revocations are rare and late: a revoked authorization stays revoked for the rest of the run.
    const bool revoke = Pick(0, 99) == 0 && step_ > steps_ * 4 / 5;
    ModelAuthorization& a = model_.Auth(party, project);
    if (revoke) {
      args["revoke"] = true;
    } else {
      // Around what is issued already: raised mostly, lowered below it sometimes.
      for (int year : {2021, 2022})
        vintages[year] = std::max<int64_t>(0, a.issued[year] + Pick(-500, 3000));
      args["vintages"] = Vintages(vintages);
    }
    if (Run("authorization.change", args, a.exists && !a.revoked)) {
      if (revoke) {
        a.revoked = true;
      } else {
        a.authorized = vintages;
      }
    }
  }

  // A JC issuance's Mongolian side into MNG01 account 5: 20 % of the total.
  void IssueMongoliasSide(const std::string& project) {
    std::map<int, int64_t> q = {
        {2020, Pick(0, 1) ? Pick(0, 100) : 0}, {2021, Pick(0, 400)}, {2022, Pick(0, 400)}};
    int64_t mng = 0;
    for (const auto& [year, tonnes] : q) mng += tonnes;
    if (mng == 0) return;
    const Json args = testing::IssueMngArgs(project, mng * 5, Vintages(q));
    ModelAuthorization& host = model_.Auth("MNG", project);
    bool ok = true;
    for (const auto& [year, tonnes] : q) {
      if (year >= 2021 && tonnes > 0 && host.exists && !host.Issuable(year, tonnes)) ok = false;
    }
    if (!Run("issue.jcm", args, ok)) return;
    for (const auto& [year, tonnes] : q) {
      model_.Held(kMngGov, project, year) += tonnes;
      if (year >= 2021 && host.exists) host.issued[year] += tonnes;
    }
  }

  // A JC issuance's Japanese side into JPN01 account 1: 80 % of the total, the host's first
  // transfer to Japan for its ITMOs (ARCHITECTURE decision 11).
  void IssueJapansSide(const std::string& project) {
    std::map<int, int64_t> q = {{2020, Pick(0, 1) ? Pick(0, 25) * 4 : 0},
                                {2021, Pick(0, 100) * 4},
                                {2022, Pick(0, 100) * 4}};
    int64_t jpn = 0;
    for (const auto& [year, tonnes] : q) jpn += tonnes;
    if (jpn == 0) return;
    const Json args = testing::IssueJpnArgs(project, jpn * 5 / 4, Vintages(q));
    ModelAuthorization& host = model_.Auth("MNG", project);
    ModelAuthorization& own = model_.Auth("JPN", project);
    bool any_itmo = false;
    for (const auto& [year, tonnes] : q)
      any_itmo = any_itmo || (year >= 2021 && tonnes > 0 && host.exists);
    bool ok = true;
    if (any_itmo) {
      if (host.revoked) ok = false;  // The international transfer needs the host's authorization.
      for (const auto& [year, tonnes] : q) {
        if (year < 2021 || tonnes == 0) continue;
        if (!host.Issuable(year, tonnes)) ok = false;
        if (own.exists && !own.Issuable(year, tonnes)) ok = false;
      }
    }
    if (!Run("issue.jcm", args, ok)) return;
    for (const auto& [year, tonnes] : q) {
      model_.Held(kJpnGov, project, year) += tonnes;
      if (year >= 2021 && host.exists) {
        host.issued[year] += tonnes;
        if (own.exists) own.issued[year] += tonnes;
        model_.to_japan[{project, year}] += tonnes;
      }
    }
  }

  void Move(const std::string& command, int from, int to, const std::string& project, int vintage,
            const std::string& purpose = "") {
    const int64_t q = Pick(1, 80);
    Json args = {
        {"from", from}, {"to", to}, {"quantity", q}, {"project", project}, {"vintage", vintage}};
    if (command == "retire") args["use_year"] = 2026;
    if (!purpose.empty()) args["purpose"] = purpose;
    const bool itmo = model_.Itmo(project, vintage);
    const ModelAuthorization& host = model_.Auth("MNG", project);
    const ModelAuthorization& own = model_.Auth("JPN", project);
    bool ok = model_.Held(from, project, vintage) >= q;
    bool first_transfer = false;
    if (command == "transfer.international") {
      // Only authorized ITMOs leave; the host's authorization names Japan alone, so none goes
      // back to the host; a revoked one stops what is not yet first transferred.
      ok = ok && itmo && to != kMngGov && !host.revoked;
      first_transfer = from == kMngGov;
    } else if (command == "retire") {
      if (to == kMngRetire) {
        ok = ok && !itmo && vintage < 2021;  // The host never uses its own ITMOs.
      } else if (vintage >= 2021) {
        // Japan uses ITMOs first transferred to it, with its own authorization too (R-AUTH-07).
        ok = ok && itmo && own.exists;
      }
    } else if (command == "cancel" && from == kMngGov && purpose == "omge" && itmo) {
      ok = ok && !host.revoked;  // An OMGE cancellation is a first transfer.
      first_transfer = true;
    }
    if (!Run(command, args, ok)) return;
    model_.Held(from, project, vintage) -= q;
    model_.Held(to, project, vintage) += q;
    if (first_transfer) (to == kMngCancel ? model_.omge : model_.to_japan)[{project, vintage}] += q;
  }

  std::mt19937_64 rng_;
  TestRegistry r_{/*synchronous_full=*/false};
  Model model_;
  int steps_;
  int step_ = 0;
  int applied_ = 0;
  int refused_ = 0;
  bool mismatch_ = false;
};

TEST(Article6Model, LongRandomHistoriesMatchTheModelAndConserveFirstTransfersAcrossParties) {
  const uint64_t seed = Seed();
  const int steps = Steps();
  SCOPED_TRACE("JCM_SEED=" + std::to_string(seed));
  std::cout << "article6 model test: JCM_SEED=" << seed << ", " << steps << " operations\n";
  Article6Model m(seed, steps);
  ASSERT_NO_FATAL_FAILURE(m.SetUp());
  for (int step = 1; step <= steps; ++step) {
    m.Step(step);
    ASSERT_FALSE(m.mismatch()) << "JCM_SEED=" << seed << " replays it";
    if (step % 2000 == 0) ASSERT_NO_FATAL_FAILURE(m.CompareHoldings()) << "JCM_SEED=" << seed;
  }
  ASSERT_NO_FATAL_FAILURE(m.CompareHoldings());
  ASSERT_NO_FATAL_FAILURE(m.CheckConservation());
  for (const auto& [command, n] : m.applied_by_command)
    std::cout << "  " << command << ": " << n << " applied\n";
  // Not vacuous: every kind of operation applied, and refusals were predicted too.
  for (const char* command : {"issue.jcm", "transfer.international", "transfer", "retire",
                              "cancel omge", "cancel voluntary", "authorization.change"}) {
    EXPECT_GT(m.applied_by_command[command], 0) << command << " never applied";
  }
  EXPECT_GT(m.refused(), steps / 20);
  EXPECT_GT(m.applied(), steps / 6);
  ASSERT_NO_FATAL_FAILURE(m.Verify());
}

}  // namespace
}  // namespace registry
