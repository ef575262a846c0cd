// Goal: both storage engines keep the same contract, so the registry behaves identically on an
// embedded SQLite file and on a PostgreSQL server. Method: the same scenarios run against each
// engine (TEST_P over "sqlite" and "postgres"): the Store contract directly (documents, blocks,
// savepoints, rollback on destruction, read-only transactions), and the registry on top of it
// (issue, transfers by quantity and by range, retirement, cancellation, refusals that change
// nothing, idempotency, holdings in the past, lineage, verify). On PostgreSQL verify replays the
// journal into an in-memory SQLite store and requires the same projection digest: a cross-engine
// equality check. The PostgreSQL server is the one scripts/test-services.sh starts (make test
// does); its URL comes from $JCM_TEST_POSTGRES_URL or /tmp/jcm-test-pg/url. Also: a race of 16
// threads on two registries (as two servers would be) sharing one PostgreSQL database, spending
// one block: exactly what it holds is spent, the journal has no gap or fork, verify passes.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <tuple>

#include "service/access.h"
#include "service/verify.h"
#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/postgres_url.h"
#include "testing/test_util.h"

namespace registry {
namespace {

using service::Json;

using registry::testing::PostgresUrl;

std::string RandomSchema() {
  return "t" + std::to_string(randombytes_uniform(1u << 30)) + "_" +
         std::to_string(randombytes_uniform(1u << 30));
}

StoreResult<std::unique_ptr<Store>> Scratch() {
  return sqlite::Open(sqlite::Options{":memory:", false});
}

class Engine {
 public:
  explicit Engine(const std::string& name) : name_(name), schema_(RandomSchema()) {}
  StoreResult<std::unique_ptr<Store>> Open() {
    if (name_ == "sqlite") return sqlite::Open(sqlite::Options{dir_.File("registry.db"), true});
    const std::string url = PostgresUrl();
    if (url.empty()) {
      return Fail(Error{ErrorCode::kUnavailable,
                        "no PostgreSQL test server: run scripts/test-services.sh start"});
    }
    return postgres::Open(postgres::Options{url, schema_});
  }

  // Runs `sql` on the engine's database outside the store (the store must be closed for SQLite).
  std::string Exec(const std::string& sql) {
    if (name_ == "sqlite") {
      sqlite3* db = nullptr;
      if (sqlite3_open(dir_.File("registry.db").c_str(), &db) != SQLITE_OK) return "cannot open";
      char* message = nullptr;
      const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
      std::string error = rc == SQLITE_OK ? "" : (message != nullptr ? message : "failed");
      sqlite3_free(message);
      sqlite3_close(db);
      return error;
    }
    PGconn* conn = PQconnectdb(PostgresUrl().c_str());
    std::string error;
    PGresult* r = PQexec(conn, ("SET search_path TO " + schema_ + "; " + sql).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
      error = PQerrorMessage(conn);
    }
    PQclear(r);
    PQfinish(conn);
    return error;
  }

 private:
  std::string name_;
  std::string schema_;
  testing::TempDir dir_;
};

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine_ = std::make_unique<Engine>(GetParam());
    auto store = engine_->Open();
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(store).value();
    registry_ = std::make_unique<service::Registry>(*store_, key_, clock_);
  }

  service::Response Run(const std::string& command, const Json& args, const std::string& key = "") {
    return registry_->Execute(service::Request{command, args, "test", key});
  }
  Json Ok(const std::string& command, const Json& args) {
    const auto r = Run(command, args);
    EXPECT_TRUE(r.ok()) << command << ": " << (r.ok() ? "" : r.failure->Message());
    return r.result;
  }
  void SetUpAccounts() {
    Ok("party.add", {{"code", "JPN"}, {"name", "Japan"}});
    Ok("registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "JCM Registry"}});
    for (const char* type : {"government_holding", "retirement", "cancellation", "government_holding"}) {
      Ok("account.open", {{"registry", "JPN01"}, {"type", type}, {"name", type}});
    }
  }
  std::string Digest() {
    auto d = store_->ProjectionDigest();
    EXPECT_TRUE(d.has_value());
    return d.has_value() ? *d : "";
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Store> store_;
  journal::SigningKey key_ = journal::GenerateKey();
  service::FixedClock clock_{"2026-03-01T00:00:00Z"};
  std::unique_ptr<service::Registry> registry_;
};

TEST_P(StoreContract, DocumentsAreVersioned) {
  auto tx = store_->Begin();
  ASSERT_TRUE(tx.has_value());
  EXPECT_EQ(*(*tx)->PutDocument("party", "JPN", "{\"v\":1}", Sequence{1}), 1);
  EXPECT_EQ(*(*tx)->PutDocument("party", "JPN", "{\"v\":2}", Sequence{2}), 2);
  EXPECT_EQ(*(*tx)->PutDocument("party", "MNG", "{}", Sequence{3}), 1);
  const auto current = (*tx)->GetDocument("party", "JPN");
  ASSERT_TRUE(current.has_value() && current->has_value());
  EXPECT_EQ((*current)->body, "{\"v\":2}");
  EXPECT_EQ((*tx)->DocumentHistory("party", "JPN")->size(), 2u);
  const auto list = (*tx)->ListDocuments("party", "", 10);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].key, "JPN");  // Byte order of keys, on both engines.
  EXPECT_EQ((*tx)->ListDocuments("party", "JPN", 10)->size(), 1u);
  ASSERT_TRUE((*tx)->Commit().ok());
}

TEST_P(StoreContract, UncommittedTransactionRollsBackAndSavepointsNest) {
  {
    auto tx = store_->Begin();
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE((*tx)->PutDocument("party", "JPN", "{}", Sequence{1}).has_value());
  }  // Destroyed without commit.
  {
    auto tx = store_->Begin();
    EXPECT_FALSE((*tx)->GetDocument("party", "JPN")->has_value());
    ASSERT_TRUE((*tx)->Savepoint().ok());
    ASSERT_TRUE((*tx)->PutDocument("party", "A", "{}", Sequence{1}).has_value());
    ASSERT_TRUE((*tx)->RollbackToSavepoint().ok());
    ASSERT_TRUE((*tx)->Savepoint().ok());
    ASSERT_TRUE((*tx)->PutDocument("party", "B", "{}", Sequence{1}).has_value());
    ASSERT_TRUE((*tx)->ReleaseSavepoint().ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  auto read = store_->BeginRead();
  ASSERT_TRUE(read.has_value());
  EXPECT_FALSE((*read)->GetDocument("party", "A")->has_value());
  EXPECT_TRUE((*read)->GetDocument("party", "B")->has_value());
  EXPECT_FALSE((*read)->PutDocument("party", "C", "{}", Sequence{1}).has_value());
}

// A write transaction may cache what it reads (the SQLite store does); whatever it caches, a
// read after a rollback to a savepoint sees the rows as they were before the savepoint, through
// nested savepoints, and what was only read inside a savepoint stays readable after.
TEST_P(StoreContract, ReadsAfterARollbackToASavepointSeeTheRowsBeforeIt) {
  auto tx = store_->Begin();
  ASSERT_TRUE(tx.has_value());
  Transaction& t = **tx;
  const auto body = [&t](const char* key) -> std::string {
    const auto doc = t.GetDocument("party", key);
    EXPECT_TRUE(doc.has_value());
    return doc.has_value() && doc->has_value() ? (*doc)->body : "(none)";
  };
  const auto status = [&t](AccountId id) -> std::string {
    const auto account = t.GetAccount(id);
    EXPECT_TRUE(account.has_value());
    return account.has_value() && account->has_value() ? std::string(ToString((*account)->status))
                                                       : "(none)";
  };
  const auto open = [&t](const char* name) {
    return t.InsertAccount(Account{AccountId{}, RegistryCode{"JPN"},
                                   AccountType::kGovernmentHolding, AccountStatus::kOpen, name,
                                   EntityId{0}});
  };
  ASSERT_TRUE(t.PutDocument("party", "X", "x1", Sequence{1}).has_value());
  ASSERT_TRUE(t.PutDocument("party", "R", "r1", Sequence{1}).has_value());
  const auto kept = open("kept");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(status(*kept), "open");

  // Outer savepoint: writes, then a nested one whose writes are released into it.
  ASSERT_TRUE(t.Savepoint().ok());
  EXPECT_EQ(body("R"), "r1");  // Only read in here.
  ASSERT_TRUE(t.PutDocument("party", "X", "x2", Sequence{2}).has_value());
  ASSERT_TRUE(t.SetAccountStatus(*kept, AccountStatus::kBlocked).ok());
  EXPECT_EQ(status(*kept), "blocked");
  ASSERT_TRUE(t.Savepoint().ok());
  ASSERT_TRUE(t.PutDocument("party", "Y", "y1", Sequence{3}).has_value());
  const auto gone = open("gone");
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(status(*gone), "open");
  ASSERT_TRUE(t.ReleaseSavepoint().ok());
  EXPECT_EQ(body("Y"), "y1");

  // A nested savepoint rolled back alone undoes only its own writes.
  ASSERT_TRUE(t.Savepoint().ok());
  ASSERT_TRUE(t.PutDocument("party", "X", "x3", Sequence{4}).has_value());
  EXPECT_EQ(body("X"), "x3");
  ASSERT_TRUE(t.RollbackToSavepoint().ok());
  EXPECT_EQ(body("X"), "x2");

  ASSERT_TRUE(t.RollbackToSavepoint().ok());  // The outer one: everything since it.
  EXPECT_EQ(body("X"), "x1");
  EXPECT_EQ(body("Y"), "(none)");
  EXPECT_EQ(body("R"), "r1");
  EXPECT_EQ(status(*kept), "open");
  EXPECT_EQ(status(*gone), "(none)");
  EXPECT_EQ((*t.PutDocument("party", "X", "x2 again", Sequence{5})), 2);  // Versions too.
  ASSERT_TRUE(t.Commit().ok());
}

// The access generation moves with every write of a user or token document, in the writing
// transaction (a rollback takes it back), and with nothing else.
TEST_P(StoreContract, TheAccessGenerationMovesWithUserAndTokenWritesOnly) {
  const auto generation = [this] {
    auto read = store_->BeginRead();
    EXPECT_TRUE(read.has_value());
    const auto g = (*read)->AccessGeneration();
    EXPECT_TRUE(g.has_value());
    return g.has_value() ? *g : -1;
  };
  const int64_t start = generation();
  EXPECT_GE(start, 0);
  {
    auto tx = store_->Begin();
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE((*tx)->PutDocument("party", "JPN", "{}", Sequence{1}).has_value());
    ASSERT_TRUE((*tx)->PutDocument("proposal", "P000000000001", "{}", Sequence{1}).has_value());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  EXPECT_EQ(generation(), start);
  {
    auto tx = store_->Begin();
    ASSERT_TRUE((*tx)->PutDocument("user", "eve", "{}", Sequence{2}).has_value());
    EXPECT_EQ(*(*tx)->AccessGeneration(), start + 1);  // Its own write, before the commit.
    EXPECT_EQ(generation(), start);                     // Others see it at the commit.
    ASSERT_TRUE((*tx)->PutDocument("token", "abc", "{}", Sequence{2}).has_value());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  EXPECT_EQ(generation(), start + 2);
  {
    auto tx = store_->Begin();
    ASSERT_TRUE((*tx)->PutDocument("user", "eve", "{\"v\":2}", Sequence{3}).has_value());
  }  // Rolled back.
  EXPECT_EQ(generation(), start + 2);
}

TEST_P(StoreContract, ClosingABlockTwiceFails) {
  SetUpAccounts();
  Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2022}, {"quantity", 10}}}}});
  auto tx = store_->Begin();
  ASSERT_TRUE((*tx)->CloseBlock(BlockId{1}, Sequence{99}).ok());
  const auto again = (*tx)->CloseBlock(BlockId{1}, Sequence{100});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
}

TEST_P(StoreContract, LotsComeInPagesByIdOnBothEngines) {
  SetUpAccounts();
  Ok("issue", {{"account", 1},
               {"vintages",
                {{{"vintage", 2020}, {"quantity", 10}},
                 {{"vintage", 2022}, {"quantity", 20}},
                 {{"vintage", 2023}, {"quantity", 30}}}}});
  auto tx = store_->BeginRead();
  ASSERT_TRUE(tx.has_value());
  const auto all = (*tx)->ListLots();
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 3u);
  const auto first = (*tx)->ListLotsAfter(IssuanceId{0}, 2);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].id, (*all)[0].id);
  EXPECT_EQ((*first)[1].id, (*all)[1].id);
  const auto rest = (*tx)->ListLotsAfter((*first)[1].id, 2);
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, (*all)[2].id);
  EXPECT_EQ((*rest)[0].range.Count().tonnes, 30);
  EXPECT_TRUE((*tx)->ListLotsAfter((*all)[2].id, 10)->empty());
}

// The engine sums each account's live tonnes (the public totals); the sums equal the live blocks.
TEST_P(StoreContract, LiveTonnesByAccountEqualTheLiveBlocks) {
  SetUpAccounts();
  {
    auto tx = store_->BeginRead();
    EXPECT_TRUE((*tx)->LiveTonnesByAccount()->empty());
  }
  Ok("issue",
     {{"account", 1},
      {"vintages",
       {{{"vintage", 2020}, {"quantity", 1000}}, {{"vintage", 2022}, {"quantity", 500}}}}});
  Ok("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"101-300", "1201-1300"}}});
  Ok("retire", {{"from", 4}, {"quantity", 50}, {"use_year", 2026}});
  Ok("cancel", {{"from", 1}, {"ranges", {"5-9"}}, {"purpose", "voluntary"}});
  auto tx = store_->BeginRead();
  ASSERT_TRUE(tx.has_value());
  const auto sums = (*tx)->LiveTonnesByAccount();
  ASSERT_TRUE(sums.has_value()) << sums.error().message;
  std::vector<std::pair<AccountId, int64_t>> expected;
  for (int64_t id = 1; id <= 4; ++id) {
    const auto live = (*tx)->LiveBlocks(AccountId{id}, BlockFilter{}, 1000);
    ASSERT_TRUE(live.has_value());
    int64_t held = 0;
    for (const Block& b : *live) held += b.range.Count().tonnes;
    if (held > 0) expected.emplace_back(AccountId{id}, held);
  }
  EXPECT_EQ(*sums, expected);
  EXPECT_EQ(expected.size(), 4u);  // 1195 in 1, 50 retired in 2, 5 cancelled in 3, 250 in 4.
  EXPECT_EQ(expected[0].second, 1195);
}

TEST_P(StoreContract, LedgerScenarioVerifiesAndRefusalsChangeNothing) {
  SetUpAccounts();
  Ok("issue",
     {{"account", 1},
      {"vintages",
       {{{"vintage", 2020}, {"quantity", 1000}}, {{"vintage", 2022}, {"quantity", 500}}}}});
  clock_.Set("2026-04-01T00:00:00Z");
  const Json moved = Ok("transfer", {{"from", 1}, {"to", 4}, {"quantity", 1200}});
  EXPECT_EQ(moved["quantity"], 1200);
  Ok("transfer", {{"from", 4}, {"to", 1}, {"ranges", {"301-310"}}});
  Ok("retire", {{"from", 4}, {"quantity", 100}, {"use_year", 2026}});
  Ok("cancel", {{"from", 1}, {"ranges", {"305-306"}}, {"purpose", "voluntary"}});
  const std::string before = Digest();
  for (const auto& [command, args] : std::vector<std::pair<std::string, Json>>{
           {"transfer", {{"from", 1}, {"to", 4}, {"quantity", 999999}}},
           {"transfer", {{"from", 2}, {"to", 1}, {"quantity", 1}}},
           {"transfer", {{"from", 1}, {"to", 4}, {"ranges", {"305-305"}}}},
           {"transfer", {{"from", 1}, {"to", 1}, {"quantity", 1}}},
           {"retire", {{"from", 1}, {"to", 4}, {"quantity", 1}, {"use_year", 2026}}}}) {
    EXPECT_FALSE(Run(command, args).ok()) << args.dump();
  }
  EXPECT_EQ(Digest(), before);
  // Idempotency: the same key and payload answer the first result; another payload is refused.
  const auto first = Run("transfer", {{"from", 1}, {"to", 4}, {"quantity", 5}}, "k1");
  const auto again = Run("transfer", {{"from", 1}, {"to", 4}, {"quantity", 5}}, "k1");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.sequence, first.sequence);
  const auto other = Run("transfer", {{"from", 1}, {"to", 4}, {"quantity", 6}}, "k1");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.failure->refusal->check, Check::kIdempotencyKeyReused);
  // Holdings in the past and lineage.
  auto read = store_->BeginRead();
  EXPECT_EQ((*read)->HoldingPage(AccountId{4}, Sequence{6}, 0, 1000).value().size(), 0u);
  EXPECT_GE((*read)->BlocksHoldingSerial(RegistryCode{"JPN01"}, 305).value().size(), 3u);
  read->reset();
  const auto report = service::Verify(*store_, key_.public_key, Scratch);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
  EXPECT_GT(report.entries, 8);
}

// Seals (ARCHITECTURE decision 4, migration 6) on both engines: a batch's entries are written
// with one seal, on its last entry, naming the batch's first entry and the key; the entries
// inside it read back without one. A signature of the format before seals (one per entry over
// its bare hash, with no range or key: what a registry of schema 5 holds) reads back as a seal
// of its one entry and verifies beside the batch seals.
TEST_P(StoreContract, ABatchIsSealedOnceAndOldSignaturesAreSealsOfOne) {
  SetUpAccounts();  // Entries 1-6, a batch each.
  Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2020}, {"quantity", 1000}}}}});  // 7
  std::vector<service::Request> batch;
  for (int i = 0; i < 4; ++i) {
    batch.push_back({"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 10 + i}}, "test", ""});
  }
  batch.push_back({"transfer", Json{{"from", 2}, {"to", 1}, {"quantity", 1}}, "test", ""});
  const auto responses = registry_->ExecuteBatch(batch);  // Entries 8-11; the last is refused.
  ASSERT_EQ(responses.size(), 5u);
  EXPECT_FALSE(responses[4].ok());
  auto read = store_->BeginRead();
  ASSERT_TRUE(read.has_value());
  const std::vector<JournalEntry> entries = (*read)->ReadEntries(Sequence{0}, 100).value();
  read->reset();
  ASSERT_EQ(entries.size(), 11u);
  for (const JournalEntry& e : entries) {
    const int64_t seq = e.sequence.value;
    if (seq >= 8 && seq <= 10) {
      EXPECT_FALSE(e.seal.has_value()) << seq;
      continue;
    }
    ASSERT_TRUE(e.seal.has_value()) << seq;
    EXPECT_EQ(e.seal->first.value, seq == 11 ? 8 : seq);
    ASSERT_TRUE(e.seal->key.has_value()) << seq;
    EXPECT_EQ(*e.seal->key, key_.public_key);
    EXPECT_TRUE(journal::VerifySeal(key_.public_key, e)) << seq;
  }
  // Entry 7's seal rewritten as a registry of schema 5 held it: a signature over its bare hash.
  const JournalEntry& issue = entries[6];
  const std::string hex = journal::ToHex(journal::Sign(key_, issue.hash));
  const std::string blob = GetParam() == "sqlite" ? "X'" + hex + "'" : "'\\x" + hex + "'::bytea";
  store_.reset();
  registry_.reset();
  ASSERT_EQ(engine_->Exec("UPDATE journal SET sig = " + blob +
                          ", seal_first = NULL, seal_key = NULL WHERE seq = 7"),
            "");
  auto reopened = engine_->Open();
  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  store_ = std::move(reopened).value();
  read = store_->BeginRead();
  ASSERT_TRUE(read.has_value());
  const auto old = (*read)->ReadEntries(Sequence{6}, 1).value();
  read->reset();
  ASSERT_EQ(old.size(), 1u);
  ASSERT_TRUE(old[0].seal.has_value());
  EXPECT_FALSE(old[0].seal->key.has_value());
  EXPECT_EQ(old[0].seal->first.value, 7);
  const auto report = service::Verify(*store_, key_.public_key, Scratch);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
  EXPECT_EQ(report.entries, 11);
}

TEST_P(StoreContract, ReservationsNeverOverlapAndAreFoundByRange) {
  auto tx = store_->Begin();
  ASSERT_TRUE(tx.has_value());
  Transaction& t = **tx;
  const AccountId a{1};
  const AccountId b{2};
  ASSERT_TRUE(t.InsertReservation({a, {10, 19}, 1}).ok());
  ASSERT_TRUE(t.InsertReservation({a, {30, 30}, 1}).ok());
  ASSERT_TRUE(t.InsertReservation({a, {40, 49}, 2}).ok());
  ASSERT_TRUE(t.InsertReservation({b, {10, 19}, 3}).ok());  // Another account: no overlap.
  // Overlaps from the left, from the right, inside and around are refused.
  for (const SerialRange r : {SerialRange{5, 10}, SerialRange{19, 25}, SerialRange{12, 13},
                              SerialRange{25, 35}, SerialRange{1, 100}}) {
    const auto s = t.InsertReservation({a, r, 9});
    ASSERT_FALSE(s.ok()) << r.first << "-" << r.last;
    EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_NE(s.error().message.find("proposal 1"), std::string::npos) << s.error().message;
  }
  auto ranges = [&](SerialRange r, size_t limit) {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const Reservation& x : t.ReservationsOverlapping(a, r, limit).value()) {
      EXPECT_EQ(x.account, a);
      out.emplace_back(x.range.first, x.range.last);
    }
    return out;
  };
  using V = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(ranges({15, 15}, 10), (V{{10, 19}}));     // Inside the predecessor.
  EXPECT_EQ(ranges({20, 29}, 10), V{});                // Between two.
  EXPECT_EQ(ranges({19, 40}, 10), (V{{10, 19}, {30, 30}, {40, 49}}));
  EXPECT_EQ(ranges({19, 40}, 2), (V{{10, 19}, {30, 30}}));
  EXPECT_EQ(ranges({1, 9}, 10), V{});
  EXPECT_EQ(ranges({50, 99}, 10), V{});
  EXPECT_EQ(t.ReservationsOverlapping(a, {45, 45}, 1).value().at(0).proposal, 2);
  // Three rows of two proposals: 2 is reached; 3 rows reach 3, but 2 proposals do not.
  EXPECT_TRUE(t.ReservingProposalsReach(a, 1).value());
  EXPECT_TRUE(t.ReservingProposalsReach(a, 2).value());
  EXPECT_FALSE(t.ReservingProposalsReach(a, 3).value());
  EXPECT_FALSE(t.ReservingProposalsReach(a, 4).value());
  EXPECT_FALSE(t.ReservingProposalsReach(AccountId{7}, 1).value());
  EXPECT_TRUE(t.ReservingProposalsReach(AccountId{7}, 0).value());
  // Deleting needs the exact start and the owning proposal.
  EXPECT_EQ(t.DeleteReservation(a, 11, 1).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(t.DeleteReservation(a, 10, 2).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(t.DeleteReservation(a, 10, 1).ok());
  ASSERT_TRUE(t.DeleteReservation(a, 30, 1).ok());
  EXPECT_TRUE(t.ReservingProposalsReach(a, 1).value());
  EXPECT_FALSE(t.ReservingProposalsReach(a, 2).value());
  EXPECT_EQ(ranges({1, 100}, 10), (V{{40, 49}}));
  ASSERT_TRUE(t.InsertReservation({a, {5, 39}, 4}).ok());  // The freed serials again.
  ASSERT_TRUE(t.Commit().ok());
  auto read = store_->BeginRead();
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ((*read)->ReservationsOverlapping(a, {1, 100}, 10).value().size(), 2u);
  EXPECT_FALSE((*read)->InsertReservation({a, {60, 60}, 5}).ok());  // Read-only.
}

// The pending-proposal count a write transaction asks about follows its own inserts and deletes,
// and a rollback to a savepoint takes them back (SQLite counts an account's rows once per
// transaction and keeps the count).
TEST_P(StoreContract, TheProposalCountFollowsWritesAndRollbacksInOneTransaction) {
  auto tx = store_->Begin();
  ASSERT_TRUE(tx.has_value());
  Transaction& t = **tx;
  const AccountId a{1};
  const auto reach = [&t, a](int64_t count) {
    const auto r = t.ReservingProposalsReach(a, count);
    EXPECT_TRUE(r.has_value());
    return r.has_value() && *r;
  };
  const auto reached = [&reach] {  // The greatest count reached, up to 5.
    int64_t n = 0;
    while (n < 5 && reach(n + 1)) ++n;
    return n;
  };
  EXPECT_EQ(reached(), 0);  // Counted now, before any write.
  ASSERT_TRUE(t.InsertReservation({a, {10, 19}, 1}).ok());
  ASSERT_TRUE(t.InsertReservation({a, {20, 29}, 1}).ok());
  EXPECT_EQ(reached(), 1);  // Two rows, one proposal.
  ASSERT_TRUE(t.Savepoint().ok());
  ASSERT_TRUE(t.InsertReservation({a, {30, 39}, 2}).ok());
  ASSERT_TRUE(t.Savepoint().ok());
  ASSERT_TRUE(t.InsertReservation({a, {40, 49}, 3}).ok());
  EXPECT_EQ(reached(), 3);
  ASSERT_TRUE(t.ReleaseSavepoint().ok());  // Proposal 3 now belongs to the outer savepoint.
  ASSERT_TRUE(t.Savepoint().ok());
  ASSERT_TRUE(t.DeleteReservation(a, 10, 1).ok());
  ASSERT_TRUE(t.DeleteReservation(a, 20, 1).ok());
  EXPECT_EQ(reached(), 2);
  ASSERT_TRUE(t.RollbackToSavepoint().ok());  // Proposal 1 is back.
  EXPECT_EQ(reached(), 3);
  ASSERT_FALSE(t.InsertReservation({a, {45, 45}, 4}).ok());  // Refused: nothing changes.
  EXPECT_EQ(reached(), 3);
  ASSERT_TRUE(t.RollbackToSavepoint().ok());  // The outer one: proposals 2 and 3 go.
  EXPECT_EQ(reached(), 1);
  ASSERT_TRUE(t.InsertReservation({a, {50, 50}, 5}).ok());
  // An account first counted after a delete in the same savepoint (a count too low would let
  // proposals past the limit).
  const AccountId b{2};
  ASSERT_TRUE(t.InsertReservation({b, {10, 10}, 6}).ok());
  ASSERT_TRUE(t.Savepoint().ok());
  ASSERT_TRUE(t.DeleteReservation(b, 10, 6).ok());
  EXPECT_FALSE(t.ReservingProposalsReach(b, 1).value());
  ASSERT_TRUE(t.RollbackToSavepoint().ok());
  EXPECT_TRUE(t.ReservingProposalsReach(b, 1).value());
  ASSERT_TRUE(t.Commit().ok());
  auto read = store_->BeginRead();
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE((*read)->ReservingProposalsReach(a, 2).value());
  EXPECT_FALSE((*read)->ReservingProposalsReach(a, 3).value());
}

// A registry written before reservations were rows kept them in one "reservation" document per
// account; migration 2 turns the latest version of each into rows and drops the documents, and
// the result is what replaying the journal gives (verify compares the two).
TEST_P(StoreContract, ReservationDocumentsOfAnOlderSchemaMigrateToRows) {
  SetUpAccounts();
  Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2022}, {"quantity", 50}},
                                             {{"vintage", 2023}, {"quantity", 50}}}}});
  auto propose = [&](const Json& args) {
    return Ok("proposal.create", {{"command", "transfer"}, {"args", args}}).at("id").get<int64_t>();
  };
  const int64_t p1 = propose({{"from", 1}, {"to", 4}, {"ranges", {"30-34", "60"}}});
  const int64_t p2 = propose({{"from", 1}, {"to", 4}, {"quantity", 3}});
  const int64_t p3 = propose({{"from", 1}, {"to", 4}, {"ranges", {"70-79"}}});
  Ok("proposal.reject", {{"id", p3}});
  const std::string now = Digest();
  ASSERT_NE(now.find("reservations:3 rows"), std::string::npos) << now;
  // p2's quantity of 3 reserved the last 3 serials of the first block (the split rule).
  const SerialRange p2_range = [&] {
    auto tx = store_->BeginRead();
    for (const Reservation& x :
         (*tx)->ReservationsOverlapping(AccountId{1}, {1, 100}, 10).value()) {
      if (x.proposal == p2) return x.range;
    }
    return SerialRange{0, 0};
  }();
  ASSERT_EQ(p2_range, (SerialRange{48, 50}));
  registry_.reset();
  store_.reset();
  // The same registry as schema 1 stored it: two versions of the document, the latest current.
  const std::string v1 = R"({"account":1,"holds":[{"proposal":)" + std::to_string(p3) +
                         R"(,"ranges":["70-79"]}]})";
  const std::string v2 = R"({"account":1,"holds":[{"proposal":)" + std::to_string(p1) +
                         R"(,"ranges":["30-34","60"]},{"proposal":)" + std::to_string(p2) +
                         R"(,"ranges":["48-50"]}]})";
  const std::string error = engine_->Exec(
      "DROP TABLE reservations; DROP TABLE access_generation; "
      "UPDATE meta SET value = '1' WHERE key = 'schema_version'; "
      "INSERT INTO documents VALUES ('reservation', 'A000000000001', 1, '" + v1 + "', 7), "
      "('reservation', 'A000000000001', 2, '" + v2 + "', 9);");
  ASSERT_EQ(error, "");
  auto reopened = engine_->Open();
  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  store_ = std::move(reopened).value();
  registry_ = std::make_unique<service::Registry>(*store_, key_, clock_);
  EXPECT_EQ(Digest(), now);
  const auto report = service::Verify(*store_, key_.public_key, Scratch);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
  // The migrated reservations work: a movement is refused, an approval releases them.
  EXPECT_EQ(Run("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"49"}}}).failure->refusal->check,
            Check::kSerialsReserved);
  registry_ = std::make_unique<service::Registry>(*store_, key_, clock_);
  const auto approved = registry_->Execute(
      service::Request{"proposal.approve", Json{{"id", p1}}, "someone-else", ""});
  ASSERT_TRUE(approved.ok()) << approved.failure->Message();
  auto read = store_->BeginRead();
  const auto left = (*read)->ReservationsOverlapping(AccountId{1}, {1, 100}, 10).value();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].range, (SerialRange{48, 50}));
  EXPECT_EQ(left[0].proposal, p2);
}

TEST_P(StoreContract, HoldingPagesAndTotalsMatchTheBlocksNowAndInThePast) {
  SetUpAccounts();
  Ok("issue", {{"account", 1},
               {"vintages",
                {{{"vintage", 2020}, {"quantity", 100}},
                 {{"vintage", 2022}, {"quantity", 50}},
                 {{"vintage", 2023}, {"quantity", 7}}}}});
  const int64_t past = [&] {
    auto tx = store_->BeginRead();
    return (*(*tx)->LastEntry())->sequence.value;
  }();
  Ok("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"20-29"}}});
  Ok("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"120-121"}}});
  auto read = store_->BeginRead();
  ASSERT_TRUE(read.has_value());
  Transaction& t = **read;
  for (const std::optional<Sequence> at : {std::optional<Sequence>(), std::optional(Sequence{past})}) {
    // The holding from every block of the ledger: account 1's, live then, by first serial.
    std::vector<Block> expected;
    for (const Block& b : t.ListBlocks(BlockId{0}, 1000).value()) {
      const Sequence when = at.value_or(Sequence{INT64_MAX});
      if (b.account.value != 1 || b.created.value > when.value) continue;
      if (b.closed && b.closed->value <= when.value) continue;
      expected.push_back(b);
    }
    std::sort(expected.begin(), expected.end(),
              [](const Block& a, const Block& b) { return a.range.first < b.range.first; });
    int64_t tonnes = 0;
    for (const Block& b : expected) tonnes += b.range.Count().tonnes;
    EXPECT_EQ(tonnes, at ? 157 : 145);
    const auto total = t.HoldingTotal(AccountId{1}, at).value();
    EXPECT_EQ(total.first, static_cast<int64_t>(expected.size()));
    EXPECT_EQ(total.second, tonnes);
    std::vector<int64_t> ids;
    int64_t after = 0;
    for (int page = 0; page < 10; ++page) {
      const auto blocks = t.HoldingPage(AccountId{1}, at, after, 2).value();
      for (const Block& b : blocks) ids.push_back(b.id.value);
      if (blocks.size() < 2) break;
      after = blocks.back().range.first;
    }
    ASSERT_EQ(ids.size(), expected.size());
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], expected[i].id.value);
  }
  EXPECT_EQ(t.HoldingTotal(AccountId{3}, std::nullopt).value(), std::make_pair(int64_t{0}, int64_t{0}));
  EXPECT_TRUE(t.HoldingPage(AccountId{3}, std::nullopt, 0, 10).value().empty());
}

// A registry written by an older version (test/storage/testdata/README.md) opens with today's
// code, is migrated, and verifies: its journal replays to the same answers and the migrated
// projection equals the replayed one. Then its pending proposals still hold their serials.
TEST(SqliteUpgrade, ARegistryOfSchema1MigratesAndVerifies) {
  testing::TempDir dir;
  const std::string db = dir.File("registry.db");
  namespace fs = std::filesystem;
  const std::string source = std::string(JCM_STORAGE_TESTDATA) + "/schema1-registry.db";
  fs::copy_file(source, db);
  fs::copy_file(source + ".pub", db + ".pub");
  auto store = sqlite::Open(sqlite::Options{db, true});
  ASSERT_TRUE(store.has_value()) << store.error().message;
  const auto key = journal::LoadPublicKey(db);
  ASSERT_TRUE(key.has_value()) << key.error();
  const auto report = service::Verify(**store, *key, Scratch);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
  EXPECT_EQ(report.entries, 15);
  auto tx = (*store)->BeginRead();
  ASSERT_TRUE(tx.has_value());
  auto rows = [&](int64_t account) {
    std::vector<std::tuple<int64_t, int64_t, int64_t>> out;
    for (const Reservation& r :
         (*tx)->ReservationsOverlapping(AccountId{account}, {1, 10000}, 100).value()) {
      out.emplace_back(r.range.first, r.range.last, r.proposal);
    }
    return out;
  };
  using V = std::vector<std::tuple<int64_t, int64_t, int64_t>>;
  EXPECT_EQ(rows(1), (V{{1, 25, 1}, {30, 40, 2}, {1200, 1200, 2}}));
  EXPECT_EQ(rows(3), (V{{881, 887, 5}}));
  EXPECT_TRUE((*tx)->ListDocuments("reservation", "", 10).value().empty());
  // Migration 3: past holdings walk the account's blocks by serial.
  const auto plan = sqlite::QueryPlan(db, sqlite::kHoldingPageAsOfSql);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_NE(plan->find("blocks_closed"), std::string::npos) << *plan;
  EXPECT_EQ(plan->find("TEMP B-TREE"), std::string::npos) << *plan;
}

// A registry written before seals (test/storage/testdata/README.md: schema 5, an Ed25519
// signature on every entry, and a key rotation) opens with today's code, is migrated (6: seals),
// and verifies: each old signature is a seal of its one entry, the rotation's by the old key.
// Then it takes new batches, sealed once each by the key in force, and the whole journal, old
// entries and new, still verifies; the old head was accepted as sealed by that key.
TEST(SqliteUpgrade, ARegistryWithPerEntrySignaturesVerifiesAndTakesBatchSeals) {
  testing::TempDir dir;
  const std::string db = dir.File("registry.db");
  namespace fs = std::filesystem;
  const std::string source = std::string(JCM_STORAGE_TESTDATA) + "/schema5-registry.db";
  fs::copy_file(source, db);
  fs::copy_file(source + ".pub", db + ".pub");
  fs::copy_file(source + ".key", db + ".key");
  fs::permissions(db + ".key", fs::perms::owner_read | fs::perms::owner_write);  // Git keeps 0644.
  auto store = sqlite::Open(sqlite::Options{db, true});
  ASSERT_TRUE(store.has_value()) << store.error().message;
  const auto key = journal::LoadKey(db);
  ASSERT_TRUE(key.has_value()) << key.error();
  const auto pub = journal::LoadPublicKey(db);
  ASSERT_TRUE(pub.has_value()) << pub.error();
  ASSERT_EQ(*pub, key->public_key);
  auto report = service::Verify(**store, *pub, Scratch);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
  EXPECT_EQ(report.entries, 11);
  {
    auto tx = (*store)->BeginRead();
    ASSERT_TRUE(tx.has_value());
    for (const JournalEntry& e : (*tx)->ReadEntries(Sequence{0}, 100).value()) {
      ASSERT_TRUE(e.seal.has_value()) << e.sequence.value;
      EXPECT_FALSE(e.seal->key.has_value()) << e.sequence.value;  // The format before seals.
      EXPECT_EQ(e.seal->first, e.sequence);
    }
  }
  EXPECT_EQ(journal::CheckKeyInForce(**store, key->public_key), "");
  EXPECT_EQ(journal::CheckKeySignsHead(**store, key->public_key, false), "");
  service::FixedClock clock{"2026-12-08T00:00:00Z"};
  service::Registry registry(**store, *key, clock);
  std::vector<service::Request> batch;
  for (int i = 1; i <= 3; ++i) {
    batch.push_back({"transfer", Json{{"from", 1}, {"to", 2}, {"quantity", i}}, "test", ""});
  }
  for (const service::Response& r : registry.ExecuteBatch(batch)) {
    EXPECT_TRUE(r.ok()) << r.failure->Message();
  }
  EXPECT_TRUE(
      registry.Execute({"transfer", Json{{"from", 2}, {"to", 1}, {"quantity", 4}}, "test", ""})
          .ok());
  report = service::Verify(**store, *pub, Scratch);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
  EXPECT_EQ(report.entries, 15);
  auto tx = (*store)->BeginRead();
  ASSERT_TRUE(tx.has_value());
  const auto added = (*tx)->ReadEntries(Sequence{11}, 100).value();
  ASSERT_EQ(added.size(), 4u);
  EXPECT_FALSE(added[0].seal.has_value());
  EXPECT_FALSE(added[1].seal.has_value());
  for (const size_t i : {size_t{2}, size_t{3}}) {
    ASSERT_TRUE(added[i].seal.has_value());
    ASSERT_TRUE(added[i].seal->key.has_value());
    EXPECT_EQ(*added[i].seal->key, key->public_key);
  }
  EXPECT_EQ(added[2].seal->first.value, 12);
  EXPECT_EQ(added[3].seal->first.value, 15);
}

// A page of a holding at a past moment (the holdings route's ?as_of, the AEF's year-end
// holdings) walks the account's blocks in serial order from the page's start, so a page costs
// the same whatever the account's history. Before migration 3 SQLite read every block the
// account ever had and sorted them, for every page: 1,000,000 year-end holdings took 35 s. The
// page merges the live blocks then with those closed since, each from its own index.
TEST(SqlitePlan, PastHoldingPagesWalkAnIndexInSerialOrder) {
  testing::TempDir dir;
  const std::string db = dir.File("registry.db");
  {
    auto store = sqlite::Open(sqlite::Options{db, true});
    ASSERT_TRUE(store.has_value()) << store.error().message;
  }
  const auto plan = sqlite::QueryPlan(db, sqlite::kHoldingPageAsOfSql);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_NE(plan->find("MERGE (UNION ALL)"), std::string::npos) << *plan;
  EXPECT_NE(plan->find("blocks_live (account=? AND first>?)"), std::string::npos) << *plan;
  EXPECT_NE(plan->find("blocks_closed (account=? AND first>?)"), std::string::npos) << *plan;
  EXPECT_EQ(plan->find("TEMP B-TREE"), std::string::npos) << *plan;
  // ... and the live statements still walk the live blocks only (a full (account, first)
  // index was preferred to blocks_live and walked every closed block too).
  const auto live = sqlite::QueryPlan(
      db, "SELECT id FROM blocks WHERE account = ?1 AND closed IS NULL AND first > ?2 "
          "ORDER BY first LIMIT ?3");
  ASSERT_TRUE(live.has_value()) << live.error().message;
  EXPECT_NE(live->find("blocks_live"), std::string::npos) << *live;
}

// SQLite's memory statistics are off in a process that opened a store (ConfigureProcess): with
// them on, every allocation takes one process-wide mutex. Each test runs in its own process
// (gtest_discover_tests), so this store is SQLite's first use here.
TEST(SqliteProcess, MemoryStatisticsAreOff) {
  testing::TempDir dir;
  auto store = sqlite::Open(sqlite::Options{dir.File("registry.db"), true});
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto tx = (*store)->Begin();
  ASSERT_TRUE(tx.has_value()) << tx.error().message;
  const std::string body(100000, 'x');  // Page buffers and an overflow chain: allocations.
  ASSERT_TRUE((*tx)->PutDocument("party", "JPN", body, Sequence{1}).has_value());
  ASSERT_TRUE((*tx)->Commit().ok());
  // Counted only while the statistics are on; zero although SQLite allocated page buffers.
  EXPECT_EQ(sqlite3_memory_highwater(0), 0);
  int current = 0;
  int highwater = 0;
  EXPECT_EQ(sqlite3_status(SQLITE_STATUS_MALLOC_COUNT, &current, &highwater, 0), SQLITE_OK);
  EXPECT_EQ(highwater, 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// Two stores on one fresh PostgreSQL schema, standing for two API servers, and the key and
// clock both sign and date with.
struct TwoPostgresServers {
  std::string url = PostgresUrl();
  std::string schema = RandomSchema();
  std::unique_ptr<Store> a, b;
  journal::SigningKey key = journal::GenerateKey();
  service::FixedClock clock{"2026-05-01T00:00:00Z"};

  ::testing::AssertionResult Open() {
    if (url.empty()) {
      return ::testing::AssertionFailure()
             << "no PostgreSQL test server: run scripts/test-services.sh start";
    }
    for (std::unique_ptr<Store>* store : {&a, &b}) {
      auto opened = postgres::Open(postgres::Options{url, schema});
      if (!opened) return ::testing::AssertionFailure() << opened.error().message;
      *store = std::move(opened).value();
    }
    return ::testing::AssertionSuccess();
  }
};

// Two registries on one PostgreSQL database stand for two API servers; 16 threads spend one
// block of 1,000 t in transfers of 30 t: exactly 33 succeed (990 t), none more.
TEST(PostgresRace, SixteenClientsOnTwoServersSpendExactlyWhatTheBlockHolds) {
  TwoPostgresServers s;
  ASSERT_TRUE(s.Open());
  const std::string& url = s.url;
  const std::string& schema = s.schema;
  const journal::SigningKey& key = s.key;
  service::FixedClock& clock = s.clock;
  service::Registry server_a(*s.a, key, clock);
  auto ok = [&](const std::string& command, const Json& args) {
    const auto r = server_a.Execute(service::Request{command, args, "setup", ""});
    ASSERT_TRUE(r.ok()) << r.failure->Message();
  };
  ok("party.add", {{"code", "JPN"}, {"name", "Japan"}});
  ok("registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "JCM Registry"}});
  ok("account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "a"}});
  ok("account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "b"}});
  ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2022}, {"quantity", 1000}}}}});
  std::atomic<int> accepted{0}, refused{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      // Each thread needs its own connection: one store (and registry) per thread, alternating
      // between the two "servers'" settings.
      auto store = postgres::Open(postgres::Options{url, schema});
      if (!store) {
        ++errors;
        return;
      }
      service::Registry registry(**store, key, clock);
      for (int i = 0; i < 5; ++i) {
        const auto r = registry.Execute(service::Request{
            "transfer", {{"from", 1}, {"to", 2}, {"quantity", 30}}, "client" + std::to_string(t), ""});
        if (r.ok()) {
          ++accepted;
        } else if (r.failure->refusal) {
          ++refused;
        } else {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(accepted.load(), 33);
  EXPECT_EQ(refused.load(), 16 * 5 - 33);
  auto read = s.b->BeginRead();
  int64_t held_1 = 0, held_2 = 0;
  for (const Block& bl : (*read)->LiveBlocks(AccountId{1}, {}, 100000).value()) held_1 += bl.range.Count().tonnes;
  for (const Block& bl : (*read)->LiveBlocks(AccountId{2}, {}, 100000).value()) held_2 += bl.range.Count().tonnes;
  EXPECT_EQ(held_1, 10);
  EXPECT_EQ(held_2, 990);
  read->reset();
  const auto report = service::Verify(*s.b, key.public_key, Scratch);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
  EXPECT_EQ(report.entries, 5 + 33);  // No gap, no fork: every accepted transfer once.
}

// Two servers on one PostgreSQL schema: what server A remembers of a token (AccessCache) holds
// only until server B writes a user or token document; the deactivation B journals stops the
// token at A's next request, though A wrote nothing.
TEST(PostgresAccess, ATokenChangedThroughAnotherServerStopsAtTheNextRequest) {
  TwoPostgresServers s;
  ASSERT_TRUE(s.Open());
  service::Registry server_b(*s.b, s.key, s.clock);
  const auto run = [&server_b](const std::string& command, const Json& args) {
    const auto r = server_b.Execute(service::Request{command, args, "admin", ""});
    ASSERT_TRUE(r.ok()) << command << ": " << r.failure->Message();
  };
  const service::NewToken token = service::MakeToken();
  run("user.add", {{"name", "rep"}, {"role", service::kRoleAuditor}, {"scope", "*"},
                   {"token_hash", token.hash}});
  service::AccessCache cache;
  const auto who = [&] {
    auto read = s.a->BeginRead();
    EXPECT_TRUE(read.has_value());
    const auto found = cache.Authenticate(**read, token.token);
    EXPECT_TRUE(found.has_value()) << found.error().message;
    return found.has_value() && found->has_value() ? (*found)->name : "(refused)";
  };
  EXPECT_EQ(who(), "rep");
  EXPECT_EQ(who(), "rep");  // From the cache now.
  run("user.deactivate", {{"name", "rep"}, {"reason", "left"}});
  EXPECT_EQ(who(), "(refused)");
  run("user.activate", {{"name", "rep"}});
  EXPECT_EQ(who(), "rep");
  const service::NewToken fresh = service::MakeToken();
  run("user.token", {{"name", "rep"}, {"token_hash", fresh.hash}});
  EXPECT_EQ(who(), "(refused)");
}

}  // namespace
}  // namespace registry
