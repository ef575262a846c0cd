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
};

struct ModelAccount {
  int32_t id = 0;
  std::string registry;
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
};

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
    for (int64_t s : a.starts) out.emplace_back(s, BlockEnd(a.registry, s));
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
                "%lld serials issued\n",
                static_cast<long long>(ops_), static_cast<long long>(applied_),
                static_cast<long long>(refused_), static_cast<long long>(replayed_),
                static_cast<long long>(m_.serials["JPN01"].size() + m_.serials["MNG01"].size()));
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
  }

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int32_t RandomAccount() { return static_cast<int32_t>(Uniform(1, static_cast<int64_t>(m_.accounts.size()) - 1)); }
  int32_t RandomHolding() {
    static const int32_t kHolding[] = {1, 2, 3, 4, 8, 9};
    return kHolding[Uniform(0, 5)];
  }

  std::pair<service::Request, Expectation> Next() {
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
      if (dest == 0) return Refuse(command, args, Check::kUnknownAccount);
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
    if (e.moved >= 0) {
      ASSERT_EQ(r.result.at("quantity").get<int64_t>(), e.moved) << what;
      const Json& blocks = r.result.at("blocks");
      ASSERT_EQ(blocks.size(), e.blocks.size()) << what << " -> " << r.result.dump();
      for (size_t i = 0; i < blocks.size(); ++i) {
        ASSERT_EQ(blocks[i].at("first").get<int64_t>(), e.blocks[i].first) << what;
        ASSERT_EQ(blocks[i].at("last").get<int64_t>(), e.blocks[i].second) << what;
        ASSERT_EQ(blocks[i].at("account").get<int32_t>(), e.to) << what;
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
  int64_t applied_ = 0;
  int64_t refused_ = 0;
  int64_t replayed_ = 0;
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
