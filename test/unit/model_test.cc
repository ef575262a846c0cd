// Goal: the randomized model test of the spine. At least 100,000 random operations per run
// (issue, transfer by quantity with and without a project/vintage filter, transfer by explicit
// serial ranges including partial and invalid ones, retire, cancel, block/unblock/close accounts,
// idempotent replays and key reuse, malformed requests) go through service::Registry and, in the
// same order, through a deliberately naive reference ledger: one record per serial number
// (owner, lot, block tag) in a plain vector per registry.
//
// Checked after every step (per response): accepted or refused exactly as the model predicts,
// with the model's check; the journal sequence; the quantity moved and every block created at
// the destination. Checked after every batch: the journal length and the live blocks of every
// holding account touched. Checked every few thousand operations, after a close and reopen mid-way, and
// at the end: the whole store against the model (accounts, lots, every live block), the ledger
// invariants, per lot issued = held + retired + cancelled, nothing closed in a terminal account,
// lineage; finally service::Verify.
//
// Article 6.2 (a fifth of the operations, on accounts of their own: 12 MNG01 holding, 13 JPN01
// holding, 14 JPN01 retirement, 15 MNG01 cancellation, plus the spine's MNG01 retirement 10):
// Step 2a authorizations of 24 registered projects by either Party (NDC, or NDC and OIMP first
// transferred at issuance; JPN named or any acquiring Party; raising allowed or not), changes
// raising or lowering the quantities, rare revocations (some under the false-information
// exception), issue.jcm of MNG's share with pre-2021 vintages (JCM credits, not ITMOs),
// transfer.international MNG01 <-> JPN01, retirements into JPN01's and MNG01's retirement
// accounts, OMGE / voluntary / OIMP cancellations. The model keeps each authorization (authorized,
// issued, revoked) and per serial the first-transferred and used flags, and predicts every refusal
// with its check (JCM-502 conflicting definition, 503 not authorized, 504 authorized quantity
// exceeded, 505 retirement without both authorizations, 506 purpose, 507 revoked, 508 change
// terms, 509 vintage not authorized) and, per moved part, whether it is a first transfer. The
// full checks compare every live block's first_transferred and use with the model and check that
// no child block loses its parent's first transfer. Most Article 6 movements name the project and
// vintage of a block held, as users do; the run prints its outcomes per command and check.
//
// Seed: JCM_SEED (printed on failure); operations: JCM_MODEL_OPS (default 100,000; 20,000 under
// AddressSanitizer, where every step is several times slower).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/invariants.h"
#include "core/ledger.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"
#include "unit/article6_fixture.h"

#if defined(__SANITIZE_ADDRESS__)
#define JCM_MODEL_DEFAULT_OPS 20000
#else
#define JCM_MODEL_DEFAULT_OPS 100000
#endif

namespace registry {
namespace {

// Opens a database with the default VFS (fields set by name: Options grows).
StoreResult<std::unique_ptr<Store>> OpenDb(const std::string& path, bool synchronous_full) {
  sqlite::Options options;
  options.path = path;
  options.synchronous_full = synchronous_full;
  return sqlite::Open(options);
}

using service::Json;

constexpr size_t kBatch = 200;
constexpr int64_t kFullCheckEvery = 25000;
const char* const kProjects[] = {"MN001", "MN002", "MN003"};

struct SerialState {
  int32_t account = 0;
  int32_t lot = 0;
  int64_t tag = 0;  // Serials with the same tag form one live block.
  bool ft = false;    // First transferred (Article 6): set once, never unset.
  bool used = false;  // Retired or cancelled.
};

struct ModelAccount {
  int32_t id = 0;
  std::string registry;
  std::string serials;  // The registry whose serial numbers it holds (JPN01 account 13: MNG01's).
  AccountType type = AccountType::kGovernmentHolding;
  AccountStatus status = AccountStatus::kOpen;
  std::set<int64_t> starts;  // First serial of each live block the account holds.
};

struct ModelLot {
  std::string registry;
  int64_t first = 0;
  int64_t last = 0;
  int32_t vintage = 0;
  std::string project;
  bool itmo = false;
};

// What the model expects of one request.
struct Expectation {
  std::optional<Check> refusal;  // Unset: accepted.
  int64_t sequence = 0;          // Expected sequence when accepted.
  bool replayed = false;
  int64_t moved = -1;                          // Movements: tonnes moved.
  std::vector<std::pair<int64_t, int64_t>> blocks;  // Movements: created at the destination.
  int32_t to = 0;
  std::vector<std::pair<int64_t, int64_t>> lots;    // Issuance: the lots' ranges.
  std::vector<int32_t> touched;
  // Article 6 movements: per moved part, whether it is a first transfer, read from the result's
  // `ft_key` list ("parts" for transfer.international, "article6" for retire and cancel).
  std::vector<bool> first_transfers;
  std::string ft_key;
};

// The model of one Party's authorization of one project (Steps 2a/2b, changes).
struct A6Auth {
  bool revoked = false;
  bool exception = false;  // Revoked under the false-information exception.
  bool oimp = false;       // "NDC and OIMP" with a definition first transferring at issuance.
  bool increase = false;   // Change terms allow raising.
  bool any_party = false;  // No acquiring Parties named (else JPN only).
  std::map<int32_t, int64_t> authorized;
  std::map<int32_t, int64_t> issued;
};

constexpr int32_t kSpineAccounts = 11;
constexpr int32_t kMngRetirement = 10;  // Spine account, also target of MNG01 ITMO retirements.
constexpr int32_t kA6Mng = 12, kA6Jpn = 13, kA6JpnRetirement = 14, kA6MngCancellation = 15;
constexpr int kA6ProjectCount = 24;  // MN101..MN124.

struct KeyRecord {
  std::string key;
  std::string command;
  Json args;
  int64_t sequence = 0;
};

class NaiveLedger {
 public:
  std::map<std::string, std::vector<SerialState>> serials;  // Index: serial - 1.
  std::vector<ModelAccount> accounts;                        // Index: id (0 unused).
  std::vector<ModelLot> lots;                                // Index: lot id (0 unused).
  int64_t sequence = 0;
  int64_t next_tag = 1;

  NaiveLedger() {
    accounts.emplace_back();
    lots.emplace_back();
  }

  void AddAccount(const std::string& registry, AccountType type) {
    ModelAccount a;
    a.id = static_cast<int32_t>(accounts.size());
    a.registry = registry;
    a.serials = registry;
    a.type = type;
    accounts.push_back(a);
  }

  bool Known(int64_t id) const { return id >= 1 && id < static_cast<int64_t>(accounts.size()); }

  const SerialState* At(const std::string& registry, int64_t serial) const {
    const auto& v = serials.at(registry);
    if (serial < 1 || serial > static_cast<int64_t>(v.size())) return nullptr;
    return &v[static_cast<size_t>(serial - 1)];
  }

  // The last serial of the live block starting at `start` (a naive scan over equal tags).
  int64_t BlockEnd(const std::string& registry, int64_t start) const {
    const auto& v = serials.at(registry);
    const int64_t tag = v[static_cast<size_t>(start - 1)].tag;
    int64_t end = start;
    while (end < static_cast<int64_t>(v.size()) && v[static_cast<size_t>(end)].tag == tag) ++end;
    return end;
  }

  std::vector<std::pair<int64_t, int64_t>> BlocksOf(int32_t account) const {
    std::vector<std::pair<int64_t, int64_t>> out;
    const ModelAccount& a = accounts[static_cast<size_t>(account)];
    for (int64_t s : a.starts) out.emplace_back(s, BlockEnd(a.serials, s));
    return out;
  }

  void Assign(const std::string& registry, int64_t first, int64_t last, int32_t account) {
    auto& v = serials[registry];
    const int64_t tag = next_tag++;
    for (int64_t s = first; s <= last; ++s) {
      v[static_cast<size_t>(s - 1)].account = account;
      v[static_cast<size_t>(s - 1)].tag = tag;
    }
  }
};

struct Part {
  int64_t block_first = 0;
  int64_t block_last = 0;
  int64_t first = 0;  // Moved sub-range.
  int64_t last = 0;
};

class ModelRun {
 public:
  ModelRun(uint64_t seed, int64_t ops) : rng_(seed), ops_(ops) {}

  void Run() {
    SetUp();
    std::vector<service::Request> batch;
    std::vector<Expectation> expected;
    std::set<int32_t> touched;
    int64_t since_full = 0;
    bool reopened = false;
    for (int64_t i = 0; i < ops_; ++i) {
      done_ = i;
      auto [request, expectation] = Next();
      for (int32_t a : expectation.touched) touched.insert(a);
      batch.push_back(std::move(request));
      expected.push_back(std::move(expectation));
      if (batch.size() == kBatch || i + 1 == ops_) {
        const auto responses = r_.registry->ExecuteBatch(batch);
        for (size_t j = 0; j < batch.size(); ++j) Compare(batch[j], expected[j], responses[j]);
        if (::testing::Test::HasFatalFailure()) return;
        CheckJournalLength();
        // Terminal accounts only grow; their blocks are compared in the full checks.
        for (int32_t a : touched) {
          if (!IsTerminal(m_.accounts[static_cast<size_t>(a)].type)) CheckAccount(a);
        }
        if (::testing::Test::HasFailure()) return;
        touched.clear();
        since_full += static_cast<int64_t>(batch.size());
        batch.clear();
        expected.clear();
        if (!reopened && i >= ops_ / 2) {
          r_.Reopen();
          reopened = true;
          FullCheck("after reopening mid-way");
          since_full = 0;
        } else if (since_full >= kFullCheckEvery) {
          FullCheck("periodic");
          since_full = 0;
        }
        if (::testing::Test::HasFailure()) return;
      }
    }
    r_.Reopen();
    FullCheck("after the final reopen");
    auto pub = journal::LoadPublicKey(r_.db_path);
    ASSERT_TRUE(pub.has_value());
    const auto report = service::Verify(*r_.store, *pub, [] {
      return OpenDb(":memory:", false);
    });
    EXPECT_TRUE(report.ok()) << report.problems.front();
    EXPECT_EQ(report.entries, m_.sequence);
    std::printf("model test: %lld operations, %lld applied, %lld refused, %lld replayed, "
                "%lld serials issued, %lld international transfers, %zu authorizations\n",
                static_cast<long long>(ops_), static_cast<long long>(applied_),
                static_cast<long long>(refused_), static_cast<long long>(replayed_),
                static_cast<long long>(m_.serials["JPN01"].size() + m_.serials["MNG01"].size()),
                static_cast<long long>(international_), auths_.size());
    for (const auto& [command, counts] : by_command_) {
      std::string line = "  " + command + ":";
      for (const auto& [what, n] : counts) line += " " + what + " " + std::to_string(n);
      std::printf("%s\n", line.c_str());
    }
  }

  int64_t done() const { return done_; }

 private:
  // ---- Set-up: Parties, registries, entities and 11 accounts, mirrored in the model.
  void SetUp() {
    auto ok = [&](const std::string& command, const Json& args) {
      const auto response = r_.registry->Execute({command, args, "model", ""});
      ASSERT_TRUE(response.ok()) << command << ": " << response.failure->Message();
      ++m_.sequence;
    };
    ok("party.add", {{"code", "JPN"}, {"name", "Japan"}});
    ok("party.add", {{"code", "MNG"}, {"name", "Mongolia"}});
    ok("registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "JP"}});
    ok("registry.add", {{"code", "MNG01"}, {"party", "MNG"}, {"name", "MN"}});
    for (int i = 0; i < 3; ++i) ok("entity.add", {{"name", "e" + std::to_string(i)}, {"country", "JPN"}});
    m_.serials["JPN01"];
    m_.serials["MNG01"];
    const std::vector<std::tuple<std::string, AccountType, int>> accounts = {
        {"JPN01", AccountType::kGovernmentHolding, 0}, {"JPN01", AccountType::kGovernmentHolding, 0},
        {"JPN01", AccountType::kEntityHolding, 1},     {"JPN01", AccountType::kEntityHolding, 2},
        {"JPN01", AccountType::kRetirement, 0},        {"JPN01", AccountType::kCancellation, 0},
        {"JPN01", AccountType::kRetirement, 0},        {"MNG01", AccountType::kGovernmentHolding, 0},
        {"MNG01", AccountType::kEntityHolding, 3},     {"MNG01", AccountType::kRetirement, 0},
        {"MNG01", AccountType::kCancellation, 0}};
    for (const auto& [registry, type, holder] : accounts) {
      Json args = {{"registry", registry}, {"type", std::string(ToString(type))}, {"name", "acct"}};
      if (holder != 0) args["holder"] = holder;
      ok("account.open", args);
      m_.AddAccount(registry, type);
    }
    // Article 6: nomenclature, the JPN-MNG approach with both Step 1s, 12 registered projects
    // (20/80), and accounts 12 (MNG01 holding), 13 (JPN01 holding), 14 (JPN01 retirement),
    // 15 (MNG01 cancellation), used only by the Article 6 operations.
    testing::LoadNomenclature(r_);
    r_.Ok("ca.define", {{"key", "JPN-MNG"}, {"parties", {"JPN", "MNG"}}, {"ca_id", "CA0042"}});
    r_.Ok("ca.authorize", testing::Step1Args("JPN", "JPN01"));
    r_.Ok("ca.authorize", testing::Step1Args("MNG", "MNG01"));
    for (int i = 0; i < kA6ProjectCount; ++i) testing::RegisterProject(r_, A6Project(i));
    {
      auto tx = r_.store->BeginRead();
      ASSERT_TRUE(tx.has_value());
      auto last = (*tx)->LastEntry();
      ASSERT_TRUE(last.has_value() && last->has_value());
      m_.sequence = (*last)->sequence.value;
    }
    const std::vector<std::pair<std::string, AccountType>> a6 = {
        {"MNG01", AccountType::kGovernmentHolding}, {"JPN01", AccountType::kGovernmentHolding},
        {"JPN01", AccountType::kRetirement}, {"MNG01", AccountType::kCancellation}};
    for (const auto& [registry, type] : a6) {
      ok("account.open", {{"registry", registry}, {"type", std::string(ToString(type))}, {"name", "a6"}});
      m_.AddAccount(registry, type);
    }
    ASSERT_EQ(m_.accounts.size(), static_cast<size_t>(kA6MngCancellation + 1));
    // JPN01's Article 6 accounts hold only ITMOs acquired from MNG01: MNG01's serial numbers.
    m_.accounts[kA6Jpn].serials = "MNG01";
    m_.accounts[kA6JpnRetirement].serials = "MNG01";
  }

  static std::string A6Project(int64_t i) {
    return "MN1" + std::string(i + 1 < 10 ? "0" : "") + std::to_string(i + 1);
  }

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  // The spine's operations stay on the spine's accounts (the Article 6 ones have their own mix).
  int32_t RandomAccount() { return static_cast<int32_t>(Uniform(1, kSpineAccounts)); }
  int32_t RandomHolding() {
    static const int32_t kHolding[] = {1, 2, 3, 4, 8, 9};
    return kHolding[Uniform(0, 5)];
  }

  std::pair<service::Request, Expectation> Next() {
    if (Chance(0.2)) return Article6();
    const int64_t roll = Uniform(0, 999);
    if (roll < 160) return Issue();
    if (roll < 420) return Move(MovementKind::kTransfer, /*by_ranges=*/false);
    if (roll < 640) return Move(MovementKind::kTransfer, /*by_ranges=*/true);
    if (roll < 730) return Move(MovementKind::kRetirement, Chance(0.5));
    if (roll < 820) return Move(MovementKind::kCancellation, Chance(0.5));
    if (roll < 870) return SetStatus();
    if (roll < 900 && !keys_.empty()) return Replay();
    if (roll < 920 && !keys_.empty()) return ReuseKey();
    return Bad();
  }

  // Finishes an expectation: refusal or the next sequence; records the key of an applied request.
  std::pair<service::Request, Expectation> Finish(const std::string& command, Json args,
                                                  Expectation e) {
    service::Request request{command, std::move(args), "model", ""};
    if (!e.refusal) {
      e.sequence = ++m_.sequence;
      if (Chance(0.05)) {
        request.idempotency_key = "k" + std::to_string(keys_.size());
        keys_.push_back(KeyRecord{request.idempotency_key, command, request.args, e.sequence});
      }
    }
    return {std::move(request), std::move(e)};
  }

  std::pair<service::Request, Expectation> Refuse(const std::string& command, Json args, Check check,
                                                  std::vector<int32_t> touched = {}) {
    Expectation e;
    e.refusal = check;
    e.touched = std::move(touched);
    return Finish(command, std::move(args), std::move(e));
  }

  std::pair<service::Request, Expectation> Issue() {
    int32_t account = Chance(0.9) ? RandomHolding() : RandomAccount();
    if (Chance(0.01)) account = 99;
    const int lines = static_cast<int>(Uniform(1, 3));
    std::vector<int32_t> vintages = {2019, 2020, 2021, 2022, 2023};
    std::shuffle(vintages.begin(), vintages.end(), rng_);
    Json items = Json::array();
    std::vector<int64_t> quantities;
    for (int i = 0; i < lines; ++i) {
      int64_t q = Uniform(1, 30);
      if (Chance(0.02)) q = -Uniform(0, 3);
      quantities.push_back(q);
      items.push_back({{"vintage", vintages[static_cast<size_t>(i)]}, {"quantity", q}});
    }
    Json args = {{"account", account}, {"vintages", items}};
    std::string project;
    if (Chance(0.7)) {
      project = kProjects[Uniform(0, 2)];
      args["project"] = project;
    }
    if (!m_.Known(account)) return Refuse("issue", args, Check::kUnknownAccount);
    const ModelAccount& a = m_.accounts[static_cast<size_t>(account)];
    if (a.status == AccountStatus::kClosed) return Refuse("issue", args, Check::kAccountClosed);
    if (a.status == AccountStatus::kBlocked) return Refuse("issue", args, Check::kAccountBlocked);
    if (IsTerminal(a.type)) return Refuse("issue", args, Check::kWrongDestinationType);
    for (int64_t q : quantities) {
      if (q <= 0) return Refuse("issue", args, Check::kQuantityNotPositive);
    }
    Expectation e;
    auto& v = m_.serials[a.registry];
    for (int i = 0; i < lines; ++i) {
      const int64_t first = static_cast<int64_t>(v.size()) + 1;
      const int64_t last = first + quantities[static_cast<size_t>(i)] - 1;
      const int32_t lot = static_cast<int32_t>(m_.lots.size());
      m_.lots.push_back(ModelLot{a.registry, first, last, vintages[static_cast<size_t>(i)], project});
      const int64_t tag = m_.next_tag++;
      for (int64_t s = first; s <= last; ++s) v.push_back(SerialState{account, lot, tag});
      m_.accounts[static_cast<size_t>(account)].starts.insert(first);
      e.lots.emplace_back(first, last);
    }
    e.touched = {account};
    return Finish("issue", args, std::move(e));
  }

  // Random explicit ranges for a movement out of `from`: mostly sub-ranges of its blocks, some
  // running past a block's end, some anywhere, some overlapping.
  std::vector<SerialRange> RandomRanges(int32_t from) {
    std::vector<SerialRange> ranges;
    const ModelAccount& account = m_.accounts[static_cast<size_t>(from)];
    const int64_t top = static_cast<int64_t>(m_.serials[m_.accounts[static_cast<size_t>(from)].registry].size()) + 5;
    const int count = Chance(0.8) ? 1 : static_cast<int>(Uniform(2, 3));
    for (int i = 0; i < count; ++i) {
      if (account.starts.empty() || Chance(0.05)) {
        const int64_t a = Uniform(1, top);
        ranges.push_back(SerialRange{a, a + Uniform(0, 5)});
        continue;
      }
      // Mostly one of the first blocks (where quantity movements take from), sometimes any.
      const int64_t n = static_cast<int64_t>(account.starts.size());
      const int64_t pick = Chance(0.5) ? Uniform(0, std::min<int64_t>(n - 1, 3)) : Uniform(0, n - 1);
      const int64_t bf = *std::next(account.starts.begin(), pick);
      const int64_t bl = m_.BlockEnd(account.registry, bf);
      int64_t a = Uniform(bf, bl);
      int64_t b = Uniform(a, bl);
      if (Chance(0.3)) {
        a = bf;
        b = bl;  // A whole block.
      }
      if (Chance(0.08)) b += Uniform(1, 3);  // Past the block's end: held only if the next is.
      if (Chance(0.03) && a > 1) a -= 1;
      ranges.push_back(SerialRange{a, b});
    }
    if (Chance(0.03) && !ranges.empty()) ranges.push_back(ranges.front());  // Overlapping.
    return ranges;
  }

  std::pair<service::Request, Expectation> Move(MovementKind kind, bool by_ranges) {
    const std::string command = kind == MovementKind::kTransfer     ? "transfer"
                                : kind == MovementKind::kRetirement ? "retire"
                                                                    : "cancel";
    int32_t from = Chance(0.93) ? RandomHolding() : RandomAccount();
    if (Chance(0.005)) from = 77;
    std::optional<int32_t> to;
    if (kind == MovementKind::kTransfer) {
      to = Chance(0.9) ? RandomHolding() : RandomAccount();
      if (Chance(0.005)) to = 78;
    } else if (Chance(0.5)) {
      to = RandomAccount();
      const std::string& reg = m_.Known(from) ? m_.accounts[static_cast<size_t>(from)].registry : "JPN01";
      // Mostly an account of the right type in the right registry.
      if (Chance(0.8)) {
        const AccountType want = kind == MovementKind::kRetirement ? AccountType::kRetirement
                                                                   : AccountType::kCancellation;
        for (int tries = 0; tries < 20; ++tries) {
          const int32_t c = RandomAccount();
          if (m_.accounts[static_cast<size_t>(c)].type == want && m_.accounts[static_cast<size_t>(c)].registry == reg) {
            to = c;
            break;
          }
        }
      }
    }
    Json args = {{"from", from}};
    if (to) args["to"] = *to;
    std::vector<SerialRange> ranges;
    int64_t quantity = 0;
    std::optional<std::string> project;
    std::optional<int32_t> vintage;
    if (by_ranges) {
      ranges = RandomRanges(m_.Known(from) ? from : 1);
      Json list = Json::array();
      for (const SerialRange& r : ranges) list.push_back(FormatSerialRange(r));
      args["ranges"] = list;
    } else {
      quantity = Chance(0.97) ? Uniform(1, 40) : Uniform(-2, 0);
      if (Chance(0.01)) quantity = 1'000'000;
      args["quantity"] = quantity;
      if (Chance(0.2)) {
        project = kProjects[Uniform(0, 2)];
        args["project"] = *project;
      }
      if (Chance(0.2)) {
        vintage = static_cast<int32_t>(Uniform(2019, 2023));
        args["vintage"] = *vintage;
      }
    }
    int64_t use_year = 0;
    if (kind == MovementKind::kRetirement) {
      use_year = Chance(0.98) ? Uniform(2021, 2030) : 1900;
      args["use_year"] = use_year;
    }
    std::string purpose;
    if (kind == MovementKind::kCancellation) {
      static const char* const kPurposes[] = {"oimp", "omge", "voluntary", "other", "bogus"};
      purpose = kPurposes[Chance(0.98) ? Uniform(0, 3) : 4];
      args["purpose"] = purpose;
    }
    // ---- Predict, in the order the service checks.
    if (!m_.Known(from)) return Refuse(command, args, Check::kUnknownAccount);
    const ModelAccount& f = m_.accounts[static_cast<size_t>(from)];
    int32_t dest = 0;
    if (to) {
      if (!m_.Known(*to)) return Refuse(command, args, Check::kUnknownAccount);
      dest = *to;
    } else {
      const AccountType want = kind == MovementKind::kRetirement ? AccountType::kRetirement
                                                                 : AccountType::kCancellation;
      for (const ModelAccount& a : m_.accounts) {
        if (a.id != 0 && a.registry == f.registry && a.type == want && a.status == AccountStatus::kOpen) {
          dest = a.id;
          break;
        }
      }
      // Never default into an Article 6 account: name the spine's first one instead.
      if (dest == 0 || dest > kSpineAccounts) {
        for (const ModelAccount& a : m_.accounts) {
          if (a.id != 0 && a.registry == f.registry && a.type == want) {
            dest = a.id;
            break;
          }
        }
        args["to"] = dest;
      }
    }
    if (kind == MovementKind::kRetirement && use_year == 1900) {
      return Refuse(command, args, Check::kFieldInvalid);
    }
    if (kind == MovementKind::kCancellation && purpose == "bogus") {
      return Refuse(command, args, Check::kFieldInvalid);
    }
    const ModelAccount& t = m_.accounts[static_cast<size_t>(dest)];
    if (IsTerminal(f.type)) return Refuse(command, args, Check::kTerminalAccountCannotSend);
    if (f.status == AccountStatus::kClosed) return Refuse(command, args, Check::kAccountClosed);
    if (f.status == AccountStatus::kBlocked) return Refuse(command, args, Check::kAccountBlocked);
    if (f.id == t.id) return Refuse(command, args, Check::kSameAccount);
    if (t.status == AccountStatus::kClosed) return Refuse(command, args, Check::kAccountClosed);
    if (t.status == AccountStatus::kBlocked) return Refuse(command, args, Check::kAccountBlocked);
    if (f.registry != t.registry) return Refuse(command, args, Check::kCrossRegistryTransfer);
    const bool fits = kind == MovementKind::kTransfer       ? !IsTerminal(t.type)
                      : kind == MovementKind::kRetirement   ? t.type == AccountType::kRetirement
                                                            : t.type == AccountType::kCancellation;
    if (!fits) return Refuse(command, args, Check::kWrongDestinationType);
    std::vector<Part> parts;
    if (by_ranges) {
      std::vector<SerialRange> sorted = ranges;
      std::sort(sorted.begin(), sorted.end());
      for (size_t i = 1; i < sorted.size(); ++i) {
        if (sorted[i - 1].Overlaps(sorted[i])) return Refuse(command, args, Check::kSerialRangeInvalid);
      }
      for (const SerialRange& range : sorted) {
        for (int64_t s = range.first; s <= range.last; ++s) {
          const SerialState* st = m_.At(f.registry, s);
          if (st == nullptr || st->account != from) {
            return Refuse(command, args, Check::kSerialRangeNotHeld);
          }
          if (s == range.first || m_.At(f.registry, s - 1)->tag != st->tag) {
            int64_t bf = s;
            while (bf > 1 && m_.At(f.registry, bf - 1)->tag == st->tag) --bf;
            parts.push_back(Part{bf, m_.BlockEnd(f.registry, bf), s, s});
          } else {
            parts.back().last = s;
          }
        }
      }
      std::set<int64_t> seen;
      for (const Part& p : parts) {
        if (!seen.insert(p.block_first).second) return Refuse(command, args, Check::kSerialRangeInvalid);
      }
    } else {
      if (quantity <= 0) return Refuse(command, args, Check::kQuantityNotPositive);
      int64_t need = quantity;
      for (const int64_t bf : f.starts) {  // Ascending serial order, lazily.
        if (need == 0) break;
        const int64_t bl = m_.BlockEnd(f.registry, bf);
        const ModelLot& lot = m_.lots[static_cast<size_t>(m_.At(f.registry, bf)->lot)];
        if (project && lot.project != *project) continue;
        if (vintage && lot.vintage != *vintage) continue;
        const int64_t take = std::min(need, bl - bf + 1);
        parts.push_back(Part{bf, bl, bl - take + 1, bl});
        need -= take;
      }
      // Blocks are small here: far below kBlocksPerMovementMax.
      if (need > 0) return Refuse(command, args, Check::kQuantityAboveHolding);
    }
    // JCM credits of 2021 or later that no Party authorized (these plain issuances) may be
    // cancelled, never used towards an NDC (issue 27).
    if (kind == MovementKind::kRetirement) {
      for (const Part& p : parts) {
        const ModelLot& lot = m_.lots[static_cast<size_t>(m_.At(f.registry, p.first)->lot)];
        if (!lot.itmo && lot.vintage >= 2021) return Refuse(command, args, Check::kNotAuthorized);
      }
    }
    // ---- Apply to the model: each part's block splits into kept pieces and the moved piece.
    Expectation e;
    e.moved = 0;
    e.to = dest;
    ModelAccount& fm = m_.accounts[static_cast<size_t>(from)];
    ModelAccount& tm = m_.accounts[static_cast<size_t>(dest)];
    for (const Part& p : parts) {
      fm.starts.erase(p.block_first);
      if (p.first > p.block_first) {
        m_.Assign(f.registry, p.block_first, p.first - 1, from);
        fm.starts.insert(p.block_first);
      }
      m_.Assign(f.registry, p.first, p.last, dest);
      for (int64_t s = p.first; s <= p.last; ++s) {
        m_.serials[f.registry][static_cast<size_t>(s - 1)].used = kind != MovementKind::kTransfer;
      }
      tm.starts.insert(p.first);
      if (p.last < p.block_last) {
        m_.Assign(f.registry, p.last + 1, p.block_last, from);
        fm.starts.insert(p.last + 1);
      }
      e.moved += p.last - p.first + 1;
      e.blocks.emplace_back(p.first, p.last);
    }
    e.touched = {from, dest};
    return Finish(command, args, std::move(e));
  }

  // ---- Article 6 operations (accounts 12-15 and the MNG01 retirement account 10).
  std::pair<service::Request, Expectation> Article6() {
    const int64_t roll = Uniform(0, 999);
    if (roll < 30) return A6Authorize();
    if (roll < 110) return A6Change(Chance(0.003));
    if (roll < 380) return A6IssueJcm();
    if (roll < 620) return A6International();
    if (roll < 820) return A6Retire();
    return A6Cancel();
  }

  std::pair<std::string, std::string> A6Key(const std::string& party) {
    return {party, A6Project(Uniform(0, kA6ProjectCount - 1))};
  }

  std::pair<service::Request, Expectation> A6Authorize() {
    const auto key = A6Key(Chance(0.5) ? "JPN" : "MNG");
    A6Auth a;
    Json vintages = Json::array();
    for (int32_t y : {2021, 2022, 2023}) {
      if (!Chance(0.7)) continue;
      a.authorized[y] = Uniform(20, 300);
      vintages.push_back({{"vintage", y}, {"quantity", a.authorized[y]}});
    }
    if (vintages.empty()) {
      a.authorized[2021] = 100;
      vintages.push_back({{"vintage", 2021}, {"quantity", 100}});
    }
    a.oimp = Chance(0.3);
    a.increase = Chance(0.6);
    a.any_party = Chance(0.5);
    const std::string definition = a.oimp ? (Chance(0.9) ? "Issuance" : "Authorization") : "";
    Json args = {{"party", key.first},
                 {"project", key.second},
                 {"authorization_id", key.first + "-" + key.second + "-" + std::to_string(done_)},
                 {"date", "2025-06-01"},
                 {"purposes", a.oimp ? "NDC and OIMP" : "NDC"},
                 {"vintages", vintages},
                 {"acquiring_parties", a.any_party ? Json::array() : Json::array({"JPN"})},
                 {"change_terms", {{"increase", a.increase}, {"decrease", true}, {"revocation", true},
                                   {"false_information_exception", true}}}};
    if (!definition.empty()) args["first_transfer_definition"] = definition;
    if (Chance(0.03)) {  // Mitigation before 2021 cannot be an ITMO.
      args["vintages"].push_back({{"vintage", 2020}, {"quantity", 10}});
      return Refuse("authorization.add", args, Check::kItmoVintageBefore2021);
    }
    std::string& fixed = ca_definition_[key.first];  // Each Party's own (4/CMA.6 para 15).
    if (!definition.empty() && !fixed.empty() && definition != fixed) {
      return Refuse("authorization.add", args, Check::kConflictingFirstTransferDefinition);
    }
    if (auths_.count(key)) return Refuse("authorization.add", args, Check::kAlreadyExists);
    auths_[key] = a;
    if (!definition.empty() && fixed.empty()) fixed = definition;
    return Finish("authorization.add", args, Expectation{});
  }

  std::pair<service::Request, Expectation> A6Change(bool revoke) {
    const auto key = A6Key(Chance(0.5) ? "JPN" : "MNG");
    Json args = {{"party", key.first}, {"project", key.second}, {"effective_date", "2026-06-01"},
                 {"reason", "model change"}};
    bool exception = false;
    std::map<int32_t, int64_t> next;
    const auto known = auths_.find(key);
    if (revoke) {
      args["revoke"] = true;
    } else {
      Json vintages = Json::array();
      for (int32_t y : {2021, 2022, 2023}) {
        if (!Chance(0.7)) continue;
        // Mostly around what was issued (raising, or lowering below it), sometimes anything.
        const int64_t issued = known == auths_.end() ? 0 : known->second.issued[y];
        next[y] = Chance(0.8) ? std::max<int64_t>(1, issued + Uniform(-20, 300)) : Uniform(1, 400);
        vintages.push_back({{"vintage", y}, {"quantity", next[y]}});
      }
      if (vintages.empty()) {
        next[2022] = Uniform(1, 400);
        vintages.push_back({{"vintage", 2022}, {"quantity", next[2022]}});
      }
      args["vintages"] = vintages;
    }
    if (Chance(revoke ? 0.3 : 0.02)) {
      args["false_information_exception"] = true;
      exception = true;
    }
    const auto it = auths_.find(key);
    if (it == auths_.end()) return Refuse("authorization.change", args, Check::kUnknownAuthorization);
    A6Auth& a = it->second;
    if (a.revoked) return Refuse("authorization.change", args, Check::kAuthorizationRevoked);
    if (exception && !revoke) return Refuse("authorization.change", args, Check::kFieldInvalid);
    for (const auto& [y, q] : next) {
      const auto before = a.authorized.find(y);
      if (q > (before == a.authorized.end() ? 0 : before->second) && !a.increase) {
        return Refuse("authorization.change", args, Check::kChangeNotAllowedByTerms);
      }
    }
    if (revoke) {
      a.revoked = true;
      a.exception = exception;
    } else {
      a.authorized = next;
    }
    return Finish("authorization.change", args, Expectation{});
  }

  std::pair<service::Request, Expectation> A6IssueJcm() {
    const std::string project = A6Project(Uniform(0, kA6ProjectCount - 1));
    std::vector<int32_t> years = {2021, 2022, 2023};
    std::shuffle(years.begin(), years.end(), rng_);
    years.resize(static_cast<size_t>(Uniform(1, 3)));
    if (const A6Auth* a = FindAuth("MNG", project); a != nullptr && !a->authorized.empty() && Chance(0.8)) {
      years.clear();  // Mostly the vintages the Party authorized.
      for (const auto& [y, q] : a->authorized) {
        if (years.empty() || Chance(0.5)) years.push_back(y);
      }
    }
    if (Chance(0.1)) years.push_back(static_cast<int32_t>(Uniform(2019, 2020)));  // JCM credits only.
    std::sort(years.begin(), years.end());
    std::map<int32_t, int64_t> quantities;
    Json vintages = Json::array();
    int64_t mng = 0;
    for (int32_t y : years) {
      quantities[y] = Uniform(1, 40);
      mng += quantities[y];
      vintages.push_back({{"vintage", y}, {"quantity", quantities[y]}});
    }
    Json args = testing::IssueMngArgs(project, mng * 5, vintages);
    args["account"] = kA6Mng;
    const auto it = auths_.find({"MNG", project});
    A6Auth* auth = it == auths_.end() ? nullptr : &it->second;
    if (auth != nullptr) {
      for (const auto& [y, q] : quantities) {
        if (y < 2021) continue;
        if (auth->revoked) return Refuse("issue.jcm", args, Check::kAuthorizationRevoked);
        const auto authorized = auth->authorized.find(y);
        if (authorized == auth->authorized.end()) return Refuse("issue.jcm", args, Check::kVintageNotAuthorized);
        const int64_t left = std::max<int64_t>(0, authorized->second - auth->issued[y]);
        if (q > left) return Refuse("issue.jcm", args, Check::kAuthorizedQuantityExceeded);
      }
    }
    Expectation e;
    auto& v = m_.serials["MNG01"];
    for (const auto& [y, q] : quantities) {
      const bool itmo = y >= 2021 && auth != nullptr;
      if (itmo) auth->issued[y] += q;
      const int64_t first = static_cast<int64_t>(v.size()) + 1;
      const int32_t lot = static_cast<int32_t>(m_.lots.size());
      m_.lots.push_back(ModelLot{"MNG01", first, first + q - 1, y, project, itmo});
      const int64_t tag = m_.next_tag++;
      for (int64_t s = first; s < first + q; ++s) v.push_back(SerialState{kA6Mng, lot, tag, itmo && auth->oimp, false});
      m_.accounts[kA6Mng].starts.insert(first);
      e.lots.emplace_back(first, first + q - 1);
    }
    e.touched = {kA6Mng};
    return Finish("issue.jcm", args, std::move(e));
  }

  // What a user mostly does (70%): name the project and vintage of a block the account holds.
  void HeldFilter(int32_t from, Json& args, std::string& project, std::optional<int32_t>& vintage) {
    const ModelAccount& f = m_.accounts[static_cast<size_t>(from)];
    if (f.starts.empty() || !Chance(0.7)) return;
    const int64_t start = *std::next(f.starts.begin(), Uniform(0, static_cast<int64_t>(f.starts.size()) - 1));
    const ModelLot& lot = m_.lots[static_cast<size_t>(m_.At(f.serials, start)->lot)];
    project = lot.project;
    vintage = lot.vintage;
    args["project"] = project;
    args["vintage"] = *vintage;
  }

  // Parts taken by quantity from `from` (ascending serials, optionally one project's lots), or
  // nothing when it holds too little.
  std::optional<std::vector<Part>> A6Select(int32_t from, int64_t quantity, const std::string& project,
                                            std::optional<int32_t> vintage = std::nullopt) {
    std::vector<Part> parts;
    const ModelAccount& f = m_.accounts[static_cast<size_t>(from)];
    int64_t need = quantity;
    for (const int64_t bf : f.starts) {
      if (need == 0) break;
      const ModelLot& lot = m_.lots[static_cast<size_t>(m_.At(f.serials, bf)->lot)];
      if (!project.empty() && lot.project != project) continue;
      if (vintage && lot.vintage != *vintage) continue;
      const int64_t bl = m_.BlockEnd(f.serials, bf);
      const int64_t take = std::min(need, bl - bf + 1);
      parts.push_back(Part{bf, bl, bl - take + 1, bl});
      need -= take;
    }
    if (need > 0) return std::nullopt;
    return parts;
  }

  // Applies the parts to the model (MNG01 serials): moves them, sets first transfers and use.
  Expectation A6Apply(int32_t from, int32_t dest, const std::vector<Part>& parts,
                      const std::vector<bool>& first, bool used) {
    Expectation e;
    e.moved = 0;
    e.to = dest;
    ModelAccount& fm = m_.accounts[static_cast<size_t>(from)];
    ModelAccount& tm = m_.accounts[static_cast<size_t>(dest)];
    auto& v = m_.serials["MNG01"];
    for (size_t i = 0; i < parts.size(); ++i) {
      const Part& p = parts[i];
      fm.starts.erase(p.block_first);
      if (p.first > p.block_first) {
        m_.Assign("MNG01", p.block_first, p.first - 1, from);
        fm.starts.insert(p.block_first);
      }
      m_.Assign("MNG01", p.first, p.last, dest);
      tm.starts.insert(p.first);
      if (p.last < p.block_last) {
        m_.Assign("MNG01", p.last + 1, p.block_last, from);
        fm.starts.insert(p.last + 1);
      }
      for (int64_t s = p.first; s <= p.last; ++s) {
        SerialState& st = v[static_cast<size_t>(s - 1)];
        EXPECT_FALSE(first[i] && st.ft) << "the model first transfers serial " << s << " twice";
        st.ft = st.ft || first[i];
        st.used = used;
      }
      e.moved += p.last - p.first + 1;
      e.blocks.emplace_back(p.first, p.last);
    }
    e.first_transfers = first;
    e.touched = {from, dest};
    return e;
  }

  const A6Auth* FindAuth(const std::string& party, const std::string& project) const {
    const auto it = auths_.find({party, project});
    return it == auths_.end() ? nullptr : &it->second;
  }

  // Revoked for this block (4/CMA.6: only blocks not yet first transferred, unless the exception).
  static bool Stopped(const A6Auth& a, bool ft) { return a.revoked && (!ft || a.exception); }

  std::pair<service::Request, Expectation> A6International() {
    const bool forward = Chance(0.8);  // MNG01 -> JPN01, else back.
    const int32_t from = forward ? kA6Mng : kA6Jpn;
    const int32_t to = forward ? kA6Jpn : kA6Mng;
    const int64_t quantity = Uniform(1, 40);
    Json args = {{"from", from}, {"to", to}, {"quantity", quantity}};
    std::string project;
    std::optional<int32_t> vintage;
    if (Chance(0.2)) {
      project = A6Project(Uniform(0, kA6ProjectCount - 1));
      args["project"] = project;
    } else {
      HeldFilter(from, args, project, vintage);
    }
    const std::string command = "transfer.international";
    const auto parts = A6Select(from, quantity, project, vintage);
    if (!parts) return Refuse(command, args, Check::kQuantityAboveHolding);
    std::vector<bool> first;
    for (const Part& p : *parts) {
      const SerialState& st = *m_.At("MNG01", p.first);
      const ModelLot& lot = m_.lots[static_cast<size_t>(st.lot)];
      if (!lot.itmo) return Refuse(command, args, Check::kNotAuthorized);
      const A6Auth* a = FindAuth("MNG", lot.project);
      if (a == nullptr) return Refuse(command, args, Check::kNotAuthorized);
      if (Stopped(*a, st.ft)) return Refuse(command, args, Check::kAuthorizationRevoked);
      if (!forward && !a->any_party) return Refuse(command, args, Check::kNotAuthorized);
      first.push_back(!st.ft);
    }
    Expectation e = A6Apply(from, to, *parts, first, false);
    e.ft_key = "parts";
    return Finish(command, args, std::move(e));
  }

  std::pair<service::Request, Expectation> A6Retire() {
    const bool in_japan = Chance(0.6);  // JPN01 (acquired ITMOs) or MNG01's own retirement.
    const int32_t from = in_japan ? kA6Jpn : kA6Mng;
    const int32_t to = in_japan ? kA6JpnRetirement : kMngRetirement;
    const std::string using_party = in_japan ? "JPN" : "MNG";
    const int64_t quantity = Uniform(1, 30);
    const int32_t use_year = static_cast<int32_t>(Uniform(2021, 2030));
    Json args = {{"from", from}, {"to", to}, {"quantity", quantity}, {"use_year", use_year}};
    const AccountStatus status = m_.accounts[static_cast<size_t>(to)].status;
    if (status == AccountStatus::kClosed) return Refuse("retire", args, Check::kAccountClosed);
    if (status == AccountStatus::kBlocked) return Refuse("retire", args, Check::kAccountBlocked);
    std::string project;
    std::optional<int32_t> vintage;
    HeldFilter(from, args, project, vintage);
    const auto parts = A6Select(from, quantity, project, vintage);
    if (!parts) return Refuse("retire", args, Check::kQuantityAboveHolding);
    for (const Part& p : *parts) {
      const SerialState& st = *m_.At("MNG01", p.first);
      const ModelLot& lot = m_.lots[static_cast<size_t>(st.lot)];
      if (!lot.itmo) {  // JCM credits: used only when of before 2021, with no Article 6 check.
        if (lot.vintage >= 2021) return Refuse("retire", args, Check::kNotAuthorized);
        continue;
      }
      const A6Auth* own = FindAuth(using_party, lot.project);
      const A6Auth* first = FindAuth("MNG", lot.project);
      if (first == nullptr) return Refuse("retire", args, Check::kNotAuthorized);
      // The host never uses its own ITMOs; the user only what was first transferred to it, under
      // the host's authorization (changes stop only what the false-information exception
      // reaches), with its own too (Japan's Act), in a year of use not before the vintage.
      if (using_party == "MNG") return Refuse("retire", args, Check::kOwnOriginUse);
      if (!st.ft) return Refuse("retire", args, Check::kNotFirstTransferredToUser);
      if (Stopped(*first, true)) return Refuse("retire", args, Check::kAuthorizationRevoked);
      if (own == nullptr) return Refuse("retire", args, Check::kRetirementNeedsBothAuthorizations);
      if (Stopped(*own, true)) return Refuse("retire", args, Check::kAuthorizationRevoked);
      if (use_year < lot.vintage) return Refuse("retire", args, Check::kUseYearOutsideNdcPeriod);
    }
    Expectation e = A6Apply(from, to, *parts, std::vector<bool>(parts->size(), false), true);
    e.ft_key = "article6";
    return Finish("retire", args, std::move(e));
  }

  std::pair<service::Request, Expectation> A6Cancel() {
    static const char* const kPurposes[] = {"omge", "omge", "voluntary", "oimp"};
    const std::string purpose = kPurposes[Uniform(0, 3)];
    const int64_t quantity = Uniform(1, 20);
    Json args = {{"from", kA6Mng}, {"to", kA6MngCancellation}, {"quantity", quantity}, {"purpose", purpose}};
    std::string project;
    std::optional<int32_t> vintage;
    HeldFilter(kA6Mng, args, project, vintage);
    const auto parts = A6Select(kA6Mng, quantity, project, vintage);
    if (!parts) return Refuse("cancel", args, Check::kQuantityAboveHolding);
    std::vector<bool> first;
    for (const Part& p : *parts) {
      const SerialState& st = *m_.At("MNG01", p.first);
      const ModelLot& lot = m_.lots[static_cast<size_t>(st.lot)];
      if (!lot.itmo) {
        first.push_back(false);
        continue;
      }
      const A6Auth* a = FindAuth("MNG", lot.project);
      if (a == nullptr) return Refuse("cancel", args, Check::kNotAuthorized);
      if (purpose == "oimp" && !a->oimp) return Refuse("cancel", args, Check::kPurposeNotAuthorized);
      // OMGE first transfers a block not yet first transferred (paras 16-17); the definitions
      // used here (Issuance, Authorization) never make an OIMP cancellation one.
      const bool is_first = purpose == "omge" && !st.ft;
      if (is_first && a->revoked) return Refuse("cancel", args, Check::kAuthorizationRevoked);
      first.push_back(is_first);
    }
    Expectation e = A6Apply(kA6Mng, kA6MngCancellation, *parts, first, true);
    e.ft_key = "article6";
    return Finish("cancel", args, std::move(e));
  }

  std::pair<service::Request, Expectation> SetStatus() {
    int32_t account = RandomAccount();
    if (Chance(0.01)) account = 99;
    const int64_t roll = Uniform(0, 99);
    AccountStatus status = roll < 15 ? AccountStatus::kBlocked : AccountStatus::kOpen;
    if (roll >= 98 && done_ > 2000) status = AccountStatus::kClosed;
    const Json args = {{"account", account}, {"status", std::string(ToString(status))}};
    if (!m_.Known(account)) return Refuse("account.set_status", args, Check::kUnknownAccount);
    ModelAccount& a = m_.accounts[static_cast<size_t>(account)];
    if (a.status == AccountStatus::kClosed) {
      return Refuse("account.set_status", args, Check::kAccountClosed);
    }
    if (status == AccountStatus::kClosed && !a.starts.empty()) {
      return Refuse("account.set_status", args, Check::kAccountNotEmpty);
    }
    a.status = status;
    Expectation e;
    e.touched = {account};
    return Finish("account.set_status", args, std::move(e));
  }

  std::pair<service::Request, Expectation> Replay() {
    const KeyRecord& k = keys_[static_cast<size_t>(Uniform(0, static_cast<int64_t>(keys_.size()) - 1))];
    Expectation e;
    e.replayed = true;
    e.sequence = k.sequence;
    return {service::Request{k.command, k.args, "model", k.key}, std::move(e)};
  }

  std::pair<service::Request, Expectation> ReuseKey() {
    const KeyRecord& k = keys_[static_cast<size_t>(Uniform(0, static_cast<int64_t>(keys_.size()) - 1))];
    Json args = k.args;
    args["extra"] = 1;  // Another payload under the same key.
    Expectation e;
    e.refusal = Check::kIdempotencyKeyReused;
    return {service::Request{k.command, args, "model", k.key}, std::move(e)};
  }

  std::pair<service::Request, Expectation> Bad() {
    switch (Uniform(0, 6)) {
      case 0:
        return Refuse("no.such.command", Json::object(), Check::kUnknownCommand);
      case 1:
        return Refuse("transfer", {{"to", 1}, {"quantity", 1}}, Check::kFieldMissing);
      case 2:
        return Refuse("transfer", {{"from", 1}, {"to", 2}, {"quantity", "1"}}, Check::kFieldInvalid);
      case 3:
        return Refuse("transfer", {{"from", 1}, {"to", 2}, {"ranges", {"0-5"}}},
                      Check::kSerialRangeInvalid);
      case 4:
        return Refuse("issue", {{"account", 1}, {"vintages", {{{"vintage", 1990}, {"quantity", 1}}}}},
                      Check::kVintageOutOfRange);
      case 5:
        return Refuse("transfer", {{"from", 1}, {"to", 2}, {"quantity", 1}, {"ranges", {"1"}}},
                      Check::kFieldMissing);
      default:
        return Refuse("transfer", {{"from", 1}, {"to", 2}, {"ranges", {"5"}}, {"vintage", 2021}},
                      Check::kFieldInvalid);
    }
  }

  // ---- Comparisons.
  void Compare(const service::Request& request, const Expectation& e, const service::Response& r) {
    const std::string what = request.command + " " + request.args.dump() +
                             (request.idempotency_key.empty() ? "" : " key " + request.idempotency_key);
    if (e.refusal) {
      ++refused_;
      ++by_command_[request.command][CodeOf(*e.refusal)];
      ASSERT_FALSE(r.ok()) << what << " was accepted; the model refuses it with "
                           << CodeOf(*e.refusal);
      ASSERT_TRUE(r.failure->refusal.has_value()) << what << ": " << r.failure->Message();
      ASSERT_EQ(CodeOf(r.failure->refusal->check), CodeOf(*e.refusal))
          << what << ": " << r.failure->Message();
      return;
    }
    ASSERT_TRUE(r.ok()) << what << " was refused: " << r.failure->Message();
    ASSERT_EQ(r.replayed, e.replayed) << what;
    ASSERT_EQ(r.sequence.value, e.sequence) << what;
    if (e.replayed) {
      ++replayed_;
      return;
    }
    ++applied_;
    ++by_command_[request.command]["applied"];
    if (e.moved >= 0) {
      ASSERT_EQ(r.result.at("quantity").get<int64_t>(), e.moved) << what;
      const Json& blocks = r.result.at("blocks");
      ASSERT_EQ(blocks.size(), e.blocks.size()) << what << " -> " << r.result.dump();
      for (size_t i = 0; i < blocks.size(); ++i) {
        ASSERT_EQ(blocks[i].at("first").get<int64_t>(), e.blocks[i].first) << what;
        ASSERT_EQ(blocks[i].at("last").get<int64_t>(), e.blocks[i].second) << what;
        ASSERT_EQ(blocks[i].at("account").get<int32_t>(), e.to) << what;
      }
      if (!e.ft_key.empty()) {
        const Json& details = r.result.at(e.ft_key);
        ASSERT_EQ(details.size(), e.first_transfers.size()) << what << " -> " << r.result.dump();
        for (size_t i = 0; i < details.size(); ++i) {
          ASSERT_EQ(details[i].at("first_transfer").get<bool>(), e.first_transfers[i])
              << what << " -> " << r.result.dump();
        }
        if (e.ft_key == "parts") ++international_;
      }
    }
    if (!e.lots.empty()) {
      const Json& lots = r.result.at("lots");
      ASSERT_EQ(lots.size(), e.lots.size()) << what;
      for (size_t i = 0; i < lots.size(); ++i) {
        ASSERT_EQ(lots[i].at("first").get<int64_t>(), e.lots[i].first) << what;
        ASSERT_EQ(lots[i].at("last").get<int64_t>(), e.lots[i].second) << what;
      }
    }
  }

  void CheckJournalLength() {
    auto tx = r_.store->BeginRead();
    ASSERT_TRUE(tx.has_value());
    auto last = (*tx)->LastEntry();
    ASSERT_TRUE(last.has_value() && last->has_value());
    ASSERT_EQ((*last)->sequence.value, m_.sequence);
  }

  void CheckAccount(int32_t account) {
    auto tx = r_.store->BeginRead();
    ASSERT_TRUE(tx.has_value());
    auto live = (*tx)->LiveBlocks(AccountId{account}, BlockFilter{}, 1'000'000);
    ASSERT_TRUE(live.has_value());
    const auto expected = m_.BlocksOf(account);
    ASSERT_EQ(live->size(), expected.size()) << "account " << account;
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ((*live)[i].range.first, expected[i].first) << "account " << account;
      ASSERT_EQ((*live)[i].range.last, expected[i].second) << "account " << account;
    }
  }

  void FullCheck(const std::string& when) {
    SCOPED_TRACE("full check " + when + " after " + std::to_string(done_ + 1) + " operations");
    auto tx = r_.store->BeginRead();
    ASSERT_TRUE(tx.has_value());
    auto accounts = (*tx)->ListAccounts();
    auto lots = (*tx)->ListLots();
    ASSERT_TRUE(accounts.has_value() && lots.has_value());
    ASSERT_EQ(accounts->size() + 1, m_.accounts.size());
    std::map<int64_t, Account> account_by_id;
    for (const Account& a : *accounts) {
      ASSERT_EQ(a.status, m_.accounts[static_cast<size_t>(a.id.value)].status) << "account " << a.id.value;
      ASSERT_EQ(a.type, m_.accounts[static_cast<size_t>(a.id.value)].type);
      account_by_id[a.id.value] = a;
    }
    ASSERT_EQ(lots->size() + 1, m_.lots.size());
    for (const IssuanceLot& lot : *lots) {
      const ModelLot& ml = m_.lots[static_cast<size_t>(lot.id.value)];
      ASSERT_EQ(lot.registry.value, ml.registry);
      ASSERT_EQ(lot.range, (SerialRange{ml.first, ml.last}));
      ASSERT_EQ(lot.vintage.year, ml.vintage);
      ASSERT_EQ(lot.project.value, ml.project);
      ASSERT_EQ(lot.itmo, ml.itmo) << "lot " << lot.id.value;
    }
    std::vector<Block> blocks;
    BlockId after{0};
    for (;;) {
      auto page = (*tx)->ListBlocks(after, 10000);
      ASSERT_TRUE(page.has_value());
      if (page->empty()) break;
      after = page->back().id;
      for (Block& b : *page) blocks.push_back(std::move(b));
    }
    const auto problems = CheckLedgerInvariants(*lots, blocks, *accounts);
    ASSERT_TRUE(problems.empty()) << problems.front();
    {  // verify's streaming check agrees (parents looked up in the store, as verify does).
      LedgerInvariantStream stream(*lots, *accounts, [&tx](BlockId id) -> std::optional<Block> {
        auto block = (*tx)->GetBlock(id);
        return block ? *block : std::nullopt;
      });
      for (const Block& b : blocks) stream.Add(b);
      ASSERT_TRUE(stream.Finish()) << "the streaming invariant check disagrees";
    }
    std::map<int64_t, const Block*> by_id;
    for (const Block& b : blocks) by_id[b.id.value] = &b;
    // Per lot: issued = held + retired + cancelled, from the stored live blocks.
    std::map<int64_t, std::array<int64_t, 3>> sums;  // held, retired, cancelled
    size_t live = 0;
    for (const Block& b : blocks) {
      const Account& a = account_by_id.at(b.account.value);
      if (b.parent) {  // Lineage: the parent exists, holds the child, and closed when it was made.
        const auto p = by_id.find(b.parent->value);
        ASSERT_NE(p, by_id.end()) << "block " << b.id.value;
        ASSERT_EQ(p->second->lot, b.lot);
        ASSERT_TRUE(p->second->range.Contains(b.range));
        ASSERT_EQ(p->second->closed, std::optional<Sequence>(b.created));
        ASSERT_TRUE(!p->second->first_transferred || b.first_transferred)
            << "block " << b.id.value << " lost its parent's first transfer";
      }
      if (b.closed) {
        ASSERT_FALSE(IsTerminal(a.type)) << "block " << b.id.value << " left a terminal account";
        continue;
      }
      ++live;
      const int slot = a.type == AccountType::kRetirement ? 1 : a.type == AccountType::kCancellation ? 2 : 0;
      sums[b.lot.value][static_cast<size_t>(slot)] += b.range.Count().tonnes;
      if (a.type == AccountType::kRetirement) ASSERT_GE(b.use_year, 2021);
      if (a.type == AccountType::kCancellation) ASSERT_TRUE(b.cancellation_purpose.has_value());
      // The block is exactly one model block of the same owner.
      const std::string& reg = m_.lots[static_cast<size_t>(b.lot.value)].registry;
      const SerialState* first = m_.At(reg, b.range.first);
      ASSERT_NE(first, nullptr);
      ASSERT_EQ(first->account, b.account.value) << "block " << b.id.value;
      ASSERT_EQ(first->lot, b.lot.value);
      ASSERT_TRUE(m_.accounts[static_cast<size_t>(b.account.value)].starts.count(b.range.first))
          << "block " << b.id.value;
      ASSERT_EQ(m_.BlockEnd(reg, b.range.first), b.range.last) << "block " << b.id.value;
      for (int64_t s = b.range.first; s <= b.range.last; ++s) {  // Article 6 state per serial.
        const SerialState* st = m_.At(reg, s);
        ASSERT_EQ(st->ft, b.first_transferred) << "block " << b.id.value << " serial " << s;
        ASSERT_EQ(st->used, IsTerminal(a.type)) << "block " << b.id.value << " serial " << s;
      }
    }
    size_t model_live = 0;
    for (const ModelAccount& a : m_.accounts) model_live += a.starts.size();
    ASSERT_EQ(live, model_live);
    for (const IssuanceLot& lot : *lots) {
      const auto& s = sums[lot.id.value];
      ASSERT_EQ(s[0] + s[1] + s[2], lot.range.Count().tonnes) << "lot " << lot.id.value;
    }
    // The naive side of the same identity: per lot, serials by the type of their owner.
    std::map<int64_t, std::array<int64_t, 3>> naive;
    for (const auto& [reg, v] : m_.serials) {
      for (const SerialState& s : v) {
        const AccountType type = m_.accounts[static_cast<size_t>(s.account)].type;
        const int slot = type == AccountType::kRetirement ? 1 : type == AccountType::kCancellation ? 2 : 0;
        naive[s.lot][static_cast<size_t>(slot)] += 1;
      }
    }
    for (const IssuanceLot& lot : *lots) {
      ASSERT_EQ(naive[lot.id.value], sums[lot.id.value]) << "lot " << lot.id.value;
    }
  }

  std::mt19937_64 rng_;
  int64_t ops_;
  int64_t done_ = 0;
  testing::TestRegistry r_;
  NaiveLedger m_;
  std::vector<KeyRecord> keys_;
  std::map<std::pair<std::string, std::string>, A6Auth> auths_;  // (party, project).
  std::map<std::string, std::string>
      ca_definition_;  // Each Party's first-transfer definition, once fixed.
  int64_t applied_ = 0;
  int64_t refused_ = 0;
  int64_t replayed_ = 0;
  int64_t international_ = 0;
  std::map<std::string, std::map<std::string, int64_t>> by_command_;  // Outcomes per command.
};

TEST(ModelTest, RandomOperationsAgainstANaiveLedger) {
  const char* seed_env = std::getenv("JCM_SEED");
  const uint64_t seed =
      seed_env != nullptr ? std::strtoull(seed_env, nullptr, 10) : std::random_device{}();
  const char* ops_env = std::getenv("JCM_MODEL_OPS");
  const int64_t ops = ops_env != nullptr ? std::strtoll(ops_env, nullptr, 10) : JCM_MODEL_DEFAULT_OPS;
  SCOPED_TRACE("replay with JCM_SEED=" + std::to_string(seed) + " JCM_MODEL_OPS=" + std::to_string(ops));
  const auto start = std::chrono::steady_clock::now();
  ModelRun test(seed, ops);
  test.Run();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("model test: seed %llu, %.1f s\n", static_cast<unsigned long long>(seed), seconds);
  if (::testing::Test::HasFailure()) {
    std::printf("FAILED after %lld operations; replay with JCM_SEED=%llu\n",
                static_cast<long long>(test.done() + 1), static_cast<unsigned long long>(seed));
  }
}

}  // namespace
}  // namespace registry
