// Goal: a change of one byte of one journal row is caught: service::Verify reports a problem
// naming the sequence of the changed entry, and `jcmreg verify` exits 1 naming it too.
// Method: a registry with a few entries is closed; then (a) one byte of one entry's payload is
// changed through the sqlite3 C API, (b) one byte of a payload is changed in the raw database
// file, found by its bytes, (c) one byte of a seal's signature is changed (each command here is a
// batch of its own, so every entry carries its seal; test/unit/seal_test.cc covers batches of
// several). The untouched copy verifies.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace registry {
namespace {

// Opens a database with the default VFS (fields set by name: Options grows).
StoreResult<std::unique_ptr<Store>> OpenDb(const std::string& path, bool synchronous_full) {
  sqlite::Options options;
  options.path = path;
  options.synchronous_full = synchronous_full;
  return sqlite::Open(options);
}

using testing::TestRegistry;

// The payload of entry 11 below; unique in the file (no other row holds these bytes).
const char kIssuePayload[] =
    "{\"account\":1,\"project\":\"MN004\",\"vintages\":[{\"quantity\":1000,\"vintage\":2019}]}";

void MakeRegistry(TestRegistry& r) {
  testing::SetUpBasicRegistry(r);  // Entries 1-10.
  r.Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2019}, {"quantity", 1000}}}},
                 {"project", "MN004"}});                                           // 11
  r.Ok("transfer", {{"from", 1}, {"to", 4}, {"quantity", 300}});                    // 12
  r.Ok("retire", {{"from", 4}, {"ranges", {"701-750"}}, {"use_year", 2025}});      // 13
  r.Ok("cancel", {{"from", 1}, {"quantity", 10}, {"purpose", "voluntary"}});       // 14
  r.registry.reset();
  r.store.reset();  // Closed: the WAL is checkpointed into the main file.
}

constexpr int64_t kIssueSequence = 11;

service::VerifyReport VerifyFile(const std::string& path) {
  auto store = OpenDb(path, true);
  EXPECT_TRUE(store.has_value());
  auto pub = journal::LoadPublicKey(path);
  EXPECT_TRUE(pub.has_value());
  return service::Verify(**store, *pub, [] { return sqlite::OpenScratch(); });
}

bool Names(const service::VerifyReport& report, int64_t sequence) {
  const std::string needle = "journal entry " + std::to_string(sequence) + ":";
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

// Runs `jcmreg --db path verify`; returns the exit code and the output.
std::pair<int, std::string> RunJcmregVerify(const std::string& path) {
  const std::string command = std::string(JCMREG_BINARY) + " --db '" + path + "' verify 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
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

TEST(Tamper, UntouchedRegistryVerifies) {
  TestRegistry r;
  MakeRegistry(r);
  const auto report = VerifyFile(r.db_path);
  EXPECT_TRUE(report.ok()) << AllProblems(report);
  EXPECT_EQ(report.entries, 14);
  const auto [code, output] = RunJcmregVerify(r.db_path);
  EXPECT_EQ(code, 0) << output;
}

// Verify replays into a scratch file unlinked as soon as it is open (bounded memory, nothing left
// behind): the scratch directory is empty while the replay runs and after it, in process and
// through `jcmreg verify`.
TEST(Tamper, VerifyReplaysIntoAnUnlinkedScratchFile) {
  TestRegistry r;
  MakeRegistry(r);
  char dir_template[] = "/tmp/jcm-scratch-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", dir.c_str(), 1);
  auto entries = [&] {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
    return n;
  };
  auto store = OpenDb(r.db_path, true);
  ASSERT_TRUE(store.has_value());
  auto pub = journal::LoadPublicKey(r.db_path);
  ASSERT_TRUE(pub.has_value());
  int opened = 0;
  const auto report = service::Verify(**store, *pub, [&] {
    auto scratch = sqlite::OpenScratch();
    ++opened;
    EXPECT_EQ(entries(), 0u) << "the scratch file is still linked in " << dir;
    return scratch;
  });
  EXPECT_TRUE(report.ok()) << AllProblems(report);
  EXPECT_EQ(opened, 1);
  const auto [code, output] = RunJcmregVerify(r.db_path);
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(entries(), 0u);
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  std::filesystem::remove_all(dir);
}

TEST(Tamper, OneBytePayloadChangeThroughSqlite) {
  TestRegistry r;
  MakeRegistry(r);
  // 1000 -> 9000 in the payload of the issuance: one byte.
  ExecSql(r.db_path, "UPDATE journal SET payload = replace(payload, '\"quantity\":1000', "
                     "'\"quantity\":9000') WHERE seq = 11");
  const auto report = VerifyFile(r.db_path);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(Names(report, kIssueSequence)) << AllProblems(report);
  const auto [code, output] = RunJcmregVerify(r.db_path);
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("journal entry 11"), std::string::npos) << output;
}

TEST(Tamper, OneBytePayloadChangeInTheRawFile) {
  TestRegistry r;
  MakeRegistry(r);
  std::string bytes;
  {
    std::ifstream in(r.db_path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    bytes = s.str();
  }
  const std::string payload = kIssuePayload;
  const size_t at = bytes.find(payload);
  ASSERT_NE(at, std::string::npos) << "payload not found in the file";
  ASSERT_EQ(bytes.find(payload, at + 1), std::string::npos) << "payload found twice";
  const size_t digit = at + payload.find("1000");
  bytes[digit] = '9';  // One byte: 1000 -> 9000.
  {
    std::ofstream out(r.db_path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const auto report = VerifyFile(r.db_path);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(Names(report, kIssueSequence)) << AllProblems(report);
  const auto [code, output] = RunJcmregVerify(r.db_path);
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("journal entry 11"), std::string::npos) << output;
}

TEST(Tamper, OneByteSignatureChange) {
  TestRegistry r;
  MakeRegistry(r);
  // Flip the lowest bit of the first byte of the signature of entry 13's seal.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(r.db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* read = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT sig FROM journal WHERE seq = 13", -1, &read, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(read), SQLITE_ROW);
  std::string sig(static_cast<const char*>(sqlite3_column_blob(read, 0)),
                  static_cast<size_t>(sqlite3_column_bytes(read, 0)));
  sqlite3_finalize(read);
  ASSERT_EQ(sig.size(), 64u);
  sig[0] = static_cast<char>(sig[0] ^ 1);
  sqlite3_stmt* write = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE journal SET sig = ? WHERE seq = 13", -1, &write, nullptr),
            SQLITE_OK);
  sqlite3_bind_blob(write, 1, sig.data(), static_cast<int>(sig.size()), SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(write), SQLITE_DONE);
  sqlite3_finalize(write);
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
  const auto report = VerifyFile(r.db_path);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(Names(report, 13)) << AllProblems(report);
  const auto [code, output] = RunJcmregVerify(r.db_path);
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("journal entry 13: the seal of entries 13-13 is invalid"),
            std::string::npos)
      << output;
}

}  // namespace
}  // namespace registry
