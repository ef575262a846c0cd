// Goal: seals (ARCHITECTURE decision 4, revised): the registry seals each committed batch once,
// on its last entry, and verify catches every way the seals can be wrong: a changed byte in an
// entry inside a batch (which carries no signature of its own), a seal moved to another range or
// another entry, a seal deleted (in the middle or at the end: a batch cut short), the key a seal
// names changed, and a seal that spans a key rotation even when its signature is good.
// Method: a registry whose last commands run in batches of several (Registry::ExecuteBatch) is
// closed; one change is made through the sqlite3 C API; service::Verify must report it, naming
// the entry. The untouched copy verifies.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "journal/chain.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

// Runs `count` transfers of 1 t from account 1 to 4 as one batch; all must apply.
void TransferBatch(TestRegistry& r, int count) {
  std::vector<service::Request> batch;
  for (int i = 0; i < count; ++i) {
    batch.push_back({"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 1}}, "test", ""});
  }
  for (const service::Response& response : r.registry->ExecuteBatch(batch)) {
    ASSERT_TRUE(response.ok()) << response.failure->Message();
  }
}

// Entries 1-11 a batch each; then batches 12-16, 17-21 and 22-24.
void MakeRegistry(TestRegistry& r) {
  testing::SetUpBasicRegistry(r);  // Entries 1-10.
  r.Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2019}, {"quantity", 1000}}}}});
  TransferBatch(r, 5);
  TransferBatch(r, 5);
  TransferBatch(r, 3);
}

void Close(TestRegistry& r) {
  r.registry.reset();
  r.store.reset();  // Closed: the WAL is checkpointed into the main file.
}

service::VerifyReport VerifyFile(const std::string& path) {
  auto store = sqlite::Open(sqlite::Options{path, true});
  EXPECT_TRUE(store.has_value());
  auto pub = journal::LoadPublicKey(path);
  EXPECT_TRUE(pub.has_value());
  if (!store || !pub) return service::VerifyReport{0, 0, {"cannot open"}};
  return service::Verify(**store, *pub, [] { return sqlite::OpenScratch(); });
}

// The problems that name `needle`, and all of them for the failure message.
bool Reports(const service::VerifyReport& report, const std::string& needle) {
  for (const std::string& p : report.problems) {
    if (p.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string AllProblems(const service::VerifyReport& report) {
  std::string out;
  for (const std::string& p : report.problems) out += p + "\n";
  return out;
}

void ExecSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}

// Reads the blob `column` of journal entry `seq`.
std::string ReadBlob(const std::string& path, const std::string& column, int64_t seq) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* read = nullptr;
  const std::string sql = "SELECT " + column + " FROM journal WHERE seq = ?";
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &read, nullptr), SQLITE_OK);
  sqlite3_bind_int64(read, 1, seq);
  std::string blob;
  if (sqlite3_step(read) == SQLITE_ROW && sqlite3_column_blob(read, 0) != nullptr) {
    blob.assign(static_cast<const char*>(sqlite3_column_blob(read, 0)),
                static_cast<size_t>(sqlite3_column_bytes(read, 0)));
  }
  sqlite3_finalize(read);
  sqlite3_close(db);
  return blob;
}

void WriteBlob(const std::string& path, const std::string& column, int64_t seq,
               const std::string& blob) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* write = nullptr;
  const std::string sql = "UPDATE journal SET " + column + " = ? WHERE seq = ?";
  ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &write, nullptr), SQLITE_OK);
  sqlite3_bind_blob(write, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(write, 2, seq);
  ASSERT_EQ(sqlite3_step(write), SQLITE_DONE);
  sqlite3_finalize(write);
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}

std::vector<JournalEntry> Entries(Store& store) {
  auto tx = store.BeginRead();
  EXPECT_TRUE(tx.has_value());
  return (*tx)->ReadEntries(Sequence{0}, 1000).value();
}

TEST(Seals, EachBatchIsSealedOnceOnItsLastEntry) {
  TestRegistry r;
  MakeRegistry(r);
  const std::vector<JournalEntry> entries = Entries(*r.store);
  ASSERT_EQ(entries.size(), 24u);
  std::vector<std::pair<int64_t, int64_t>> seals;
  for (const JournalEntry& e : entries) {
    if (!e.seal.has_value()) continue;
    seals.emplace_back(e.seal->first.value, e.sequence.value);
    ASSERT_TRUE(e.seal->key.has_value());
    EXPECT_EQ(*e.seal->key, r.key.public_key);
    EXPECT_TRUE(journal::VerifySeal(r.key.public_key, e)) << e.sequence.value;
  }
  std::vector<std::pair<int64_t, int64_t>> expected;
  for (int64_t i = 1; i <= 11; ++i) expected.emplace_back(i, i);
  expected.insert(expected.end(), {{12, 16}, {17, 21}, {22, 24}});
  EXPECT_EQ(seals, expected);
  Close(r);
  const auto report = VerifyFile(r.db_path);
  EXPECT_TRUE(report.ok()) << AllProblems(report);
  EXPECT_EQ(report.entries, 24);
}

// Entry 14 is inside the batch 12-16: its only protection is the chain up to the seal on 16.
TEST(Seals, AChangedByteInsideABatchIsCaught) {
  TestRegistry r;
  MakeRegistry(r);
  Close(r);
  ExecSql(r.db_path, "UPDATE journal SET actor = 'tesT' WHERE seq = 14");
  const auto report = VerifyFile(r.db_path);
  EXPECT_TRUE(Reports(report, "journal entry 14: content does not match its hash"))
      << AllProblems(report);
}

TEST(Seals, ASealWhoseRangeIsChangedIsCaught) {
  TestRegistry r;
  MakeRegistry(r);
  Close(r);
  ExecSql(r.db_path, "UPDATE journal SET seal_first = 13 WHERE seq = 16");
  const auto report = VerifyFile(r.db_path);
  EXPECT_TRUE(Reports(report, "journal entry 16: the seal of entries 13-16 is invalid"))
      << AllProblems(report);
  EXPECT_TRUE(Reports(report, "journal entry 12: entries 12-12 are covered by no seal"))
      << AllProblems(report);
}

// The seal of 12-16 moved onto entry 15 (and claiming 12-15): its signature is over entry 16.
TEST(Seals, ASealMovedToAnotherEntryIsCaught) {
  TestRegistry r;
  MakeRegistry(r);
  Close(r);
  ExecSql(r.db_path,
          "UPDATE journal SET (sig, seal_first, seal_key) = (SELECT sig, seal_first, seal_key "
          "FROM journal WHERE seq = 16) WHERE seq = 15; "
          "UPDATE journal SET sig = X'', seal_first = NULL, seal_key = NULL WHERE seq = 16");
  const auto report = VerifyFile(r.db_path);
  EXPECT_TRUE(Reports(report, "journal entry 15: the seal of entries 12-15 is invalid"))
      << AllProblems(report);
}

// A seal taken from one batch and put on the last entry of another, range and all.
TEST(Seals, ASealMovedToAnotherBatchIsCaught) {
  TestRegistry r;
  MakeRegistry(r);
  Close(r);
  ExecSql(r.db_path,
          "UPDATE journal SET (sig, seal_first, seal_key) = (SELECT sig, seal_first, seal_key "
          "FROM journal WHERE seq = 16) WHERE seq = 21");
  const auto report = VerifyFile(r.db_path);
  EXPECT_TRUE(Reports(report, "journal entry 21: the seal of entries 12-21 is invalid"))
      << AllProblems(report);
  EXPECT_TRUE(Reports(report, "journal entry 21: its seal covers entries 12-21, overlapping"))
      << AllProblems(report);
}

TEST(Seals, ADeletedSealIsCaught) {
  TestRegistry r;
  MakeRegistry(r);
  Close(r);
  ExecSql(r.db_path,
          "UPDATE journal SET sig = X'', seal_first = NULL, seal_key = NULL "
          "WHERE seq = 16");
  const auto report = VerifyFile(r.db_path);
  EXPECT_TRUE(Reports(report, "journal entry 12: entries 12-16 are covered by no seal"))
      << AllProblems(report);
}

// The last batch's seal deleted, or the batch cut after some of its entries: the journal ends
// with entries no seal covers.
TEST(Seals, AnUnsealedTailIsCaught) {
  for (const char* cut : {"UPDATE journal SET sig = X'', seal_first = NULL, seal_key = NULL "
                          "WHERE seq = 24",
                          "DELETE FROM journal WHERE seq = 24"}) {
    TestRegistry r;
    MakeRegistry(r);
    Close(r);
    ExecSql(r.db_path, cut);
    const auto report = VerifyFile(r.db_path);
    EXPECT_TRUE(Reports(report, "journal entry 22: entries 22-2")) << cut << "\n"
                                                                   << AllProblems(report);
    EXPECT_TRUE(Reports(report, "the journal's last entry must carry a seal"))
        << cut << "\n"
        << AllProblems(report);
  }
}

// The key a seal names is not in its signed message (Ed25519 binds the key that signs): a change
// of it is caught by comparing it with the key in force.
TEST(Seals, AChangedByteOfTheNamedKeyIsCaught) {
  TestRegistry r;
  MakeRegistry(r);
  Close(r);
  std::string key = ReadBlob(r.db_path, "seal_key", 21);
  ASSERT_EQ(key.size(), 32u);
  key[5] = static_cast<char>(key[5] ^ 0x10);
  WriteBlob(r.db_path, "seal_key", 21, key);
  const auto report = VerifyFile(r.db_path);
  EXPECT_TRUE(Reports(report, "journal entry 21: the seal of entries 17-21 names the key"))
      << AllProblems(report);
}

// A rotation is a batch of its own, sealed by the old key; the batches after it are sealed by
// the new key, and the whole journal verifies under the new public key. A seal that spans the
// rotation is refused even when its signature is good (made here with the new key).
TEST(Seals, ARotationIsSealedAloneByTheOldKey) {
  TestRegistry r;
  MakeRegistry(r);
  const journal::PublicKey old_key = r.key.public_key;
  auto rotated = journal::RotateKey(*r.store, r.db_path, "2026-01-02T00:00:00Z", "admin");
  ASSERT_TRUE(rotated.has_value()) << rotated.error();
  ASSERT_EQ(rotated->rotation.sequence, 25);
  auto fresh = journal::LoadKey(r.db_path);
  ASSERT_TRUE(fresh.has_value()) << fresh.error();
  r.key = *fresh;
  r.Reopen();
  TransferBatch(r, 4);  // 26-29.
  const std::vector<JournalEntry> entries = Entries(*r.store);
  ASSERT_EQ(entries.size(), 29u);
  ASSERT_TRUE(entries[24].seal.has_value());
  EXPECT_EQ(entries[24].seal->first.value, 25);
  EXPECT_EQ(entries[24].seal->key, old_key);
  ASSERT_TRUE(entries[28].seal.has_value());
  EXPECT_EQ(entries[28].seal->first.value, 26);
  EXPECT_EQ(entries[28].seal->key, fresh->public_key);
  EXPECT_EQ(journal::CheckKeySignsHead(*r.store, fresh->public_key, false), "");
  EXPECT_NE(journal::CheckKeySignsHead(*r.store, old_key, false), "");
  Close(r);
  auto report = VerifyFile(r.db_path);
  EXPECT_TRUE(report.ok()) << AllProblems(report);

  // One seal over 25-29 by the new key in place of the two.
  const Seal spanning = journal::MakeSeal(*fresh, Sequence{25}, entries[28]);
  ExecSql(r.db_path,
          "UPDATE journal SET sig = X'', seal_first = NULL, seal_key = NULL "
          "WHERE seq = 25; UPDATE journal SET seal_first = 25 WHERE seq = 29");
  WriteBlob(r.db_path, "sig", 29,
            std::string(spanning.signature.begin(), spanning.signature.end()));
  report = VerifyFile(r.db_path);
  EXPECT_TRUE(Reports(report, "journal entry 25: key.rotate inside the seal of entries 25-29"))
      << AllProblems(report);
  EXPECT_FALSE(Reports(report, "is invalid")) << AllProblems(report);
}

}  // namespace
}  // namespace registry
