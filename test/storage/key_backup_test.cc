// Goal (issue 7): the journal's signing key can be rotated, on SQLite and on PostgreSQL, with the
// chain of trust kept in the journal itself; and a PostgreSQL registry can be backed up with
// pg_dump and restored with pg_restore into an empty schema, verified.
//
// Method: the real `jcmreg` binary on a real SQLite file and on the PostgreSQL test server
// (scripts/test-services.sh; $JCM_TEST_POSTGRES_URL or /tmp/jcm-test-pg/url), each registry in
// its own random schema with its own key directory.
//   * rotate mid-history, keep writing, verify passes; the old key file is refused; verifying
//     with the old public key names the rotation that retired it;
//   * an entry appended after the rotation and signed with the old key (as a server that was not
//     restarted would) is named by verify;
//   * an interrupted rotation (journal rotated, key file not yet replaced) is completed by
//     running `key rotate` again;
//   * PostgreSQL: backup, restore into a fresh schema, verify passes there, holdings and the
//     journal are equal; a missing, truncated or corrupted backup file, a non-empty target and
//     a wrong key are refused with a clear error and leave the target as it was.
// The PostgreSQL cases are skipped only when PostgreSQL is not installed on this machine; when it
// is installed but the test server is not running they fail (make test starts it).
#include <gtest/gtest.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "journal/chain.h"
#include "service/registry.h"
#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/postgres_url.h"
#include "testing/test_util.h"

extern char** environ;

namespace registry {
namespace {

using Json = nlohmann::json;
using Env = std::map<std::string, std::string>;
namespace fs = std::filesystem;

using registry::testing::PostgresUrl;

bool PostgresInstalled() {
  return fs::exists("/usr/lib/postgresql/15/bin/postgres") ||
         std::system("command -v pg_restore >/dev/null 2>&1") == 0;
}

#define REQUIRE_POSTGRES(url)                                                             \
  do {                                                                                    \
    if ((url).empty() && !PostgresInstalled()) GTEST_SKIP() << "PostgreSQL not installed"; \
    ASSERT_FALSE((url).empty()) << "no PostgreSQL test server: run scripts/test-services.sh start"; \
  } while (0)

std::string RandomSchema(const std::string& prefix) {
  return prefix + std::to_string(randombytes_uniform(1u << 30));
}

struct RunResult {
  int code = -1;
  std::string out;  // stdout and stderr together
};

RunResult Run(const std::vector<std::string>& argv, const Env& env) {
  std::vector<std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var = *e;
    if (!env.count(var.substr(0, var.find('=')))) vars.push_back(var);
  }
  for (const auto& [name, value] : env) vars.push_back(name + "=" + value);
  std::vector<char*> envp, args;
  for (std::string& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<std::string> copy = argv;
  for (std::string& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  int fds[2];
  RunResult result;
  if (pipe(fds) != 0) return result;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
    result.out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Psql(const std::string& url, const std::string& sql) {
  const RunResult r = Run({"/usr/bin/psql", "-X", "-q", "-A", "-t", "-d", url, "-c", sql}, {});
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// One registry reached through the CLI: an SQLite file, or a schema of the test PostgreSQL
// (dropped at the end).
class Target {
 public:
  // engine: "sqlite" or "postgres".
  Target(const std::string& engine, const std::string& url) : engine_(engine) {
    if (engine == "sqlite") {
      db_ = dir_.File("registry.db");
      key_path_ = db_;
    } else {
      db_ = url;
      schema_ = RandomSchema("keyrot");
      key_path_ = dir_.File("keys/registry");
      env_ = {{"JCMREG_PG_SCHEMA", schema_}, {"JCMREG_KEY", key_path_}};
    }
    env_["JCMREG_FIXED_TIME"] = "2026-03-01T00:00:00Z";
  }
  ~Target() {
    if (!schema_.empty()) Psql(db_, "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  }
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;
  RunResult Cli(std::vector<std::string> args, const Env& extra = {}) const {
    std::vector<std::string> argv = {JCMREG_BINARY, "--db", db_};
    argv.insert(argv.end(), args.begin(), args.end());
    Env env = env_;
    for (const auto& [k, v] : extra) env[k] = v;
    return Run(argv, env);
  }
  // Runs a command that must succeed.
  void Ok(const std::vector<std::string>& args) const {
    const RunResult r = Cli(args);
    ASSERT_EQ(r.code, 0) << "jcmreg " << args.front() << ": " << r.out;
  }
  StoreResult<std::unique_ptr<Store>> Open() const {
    if (engine_ == "sqlite") return sqlite::Open(sqlite::Options{db_, true});
    return postgres::Open(postgres::Options{db_, schema_});
  }
  const std::string& key_path() const { return key_path_; }
  const std::string& dir() const { return dir_.path(); }
  const std::string& schema() const { return schema_; }
  const std::string& db() const { return db_; }
  const Env& env() const { return env_; }

 private:
  testing::TempDir dir_;
  std::string engine_, db_, schema_, key_path_;
  Env env_;
};

// Parties, registries, accounts 1 (holding), 2 (retirement), 4 (holding); 1000 issued to 1.
void BuildHistory(const Target& t) {
  t.Ok({"init"});
  t.Ok({"party", "add", "JPN", "Japan"});
  t.Ok({"registry", "add", "JPN01", "--party", "JPN", "--name", "JCM Registry (Japan)"});
  t.Ok({"account", "open", "--registry", "JPN01", "--type", "government_holding", "--name", "gov"});
  t.Ok({"account", "open", "--registry", "JPN01", "--type", "retirement", "--name", "ret"});
  t.Ok({"account", "open", "--registry", "JPN01", "--type", "cancellation", "--name", "can"});
  t.Ok({"account", "open", "--registry", "JPN01", "--type", "government_holding", "--name", "g2"});
  t.Ok({"issue", "--account", "1", "--vintage", "2019:1000", "--project", "MN004"});
  t.Ok({"transfer", "--from", "1", "--to", "4", "--quantity", "100"});
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  in >> text;
  return text;
}

int64_t Total(const Target& t, int account) {
  const RunResult r = t.Cli({"--json", "holdings", std::to_string(account)});
  EXPECT_EQ(r.code, 0) << r.out;
  const Json j = Json::parse(r.out, nullptr, false);
  return j.is_object() ? j.value("total", int64_t{-1}) : -1;
}

class KeyRotation : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = PostgresUrl();
    if (GetParam() == "postgres") REQUIRE_POSTGRES(url_);
    target_ = std::make_unique<Target>(GetParam(), url_);
  }
  std::string url_;
  std::unique_ptr<Target> target_;
};

TEST_P(KeyRotation, RotateMidHistoryThenVerifyPasses) {
  const Target& t = *target_;
  ASSERT_NO_FATAL_FAILURE(BuildHistory(t));
  const std::string old_pub = ReadFile(journal::PublicKeyPath(t.key_path()));
  const std::string old_secret_copy = t.dir() + "/old.key";
  fs::copy_file(journal::KeyPath(t.key_path()), old_secret_copy);

  const RunResult rotated = t.Cli({"--json", "key", "rotate"});
  ASSERT_EQ(rotated.code, 0) << rotated.out;
  const Json r = Json::parse(rotated.out);
  EXPECT_EQ(r["rotation_entry"].get<int64_t>(), 9);  // 8 commands, then the rotation
  EXPECT_EQ(r["old_public_key"].get<std::string>(), old_pub);
  const std::string new_pub = ReadFile(journal::PublicKeyPath(t.key_path()));
  EXPECT_EQ(r["new_public_key"].get<std::string>(), new_pub);
  EXPECT_NE(new_pub, old_pub);
  EXPECT_FALSE(fs::exists(journal::KeyPath(t.key_path()) + ".new"));
  EXPECT_EQ(fs::status(journal::KeyPath(t.key_path())).permissions() & fs::perms::group_all,
            fs::perms::none);

  // Writing goes on under the new key; a second rotation chains on.
  t.Ok({"retire", "--from", "1", "--quantity", "50", "--year", "2025"});
  t.Ok({"key", "rotate"});
  t.Ok({"transfer", "--from", "4", "--to", "1", "--quantity", "10"});
  const RunResult verify = t.Cli({"--json", "verify"});
  EXPECT_EQ(verify.code, 0) << verify.out;
  EXPECT_EQ(Json::parse(verify.out)["entries"].get<int64_t>(), 12) << verify.out;
  EXPECT_EQ(Total(t, 1), 860);
  EXPECT_EQ(Total(t, 4), 90);
  // An auditor has only the public key: verify needs nothing else.
  fs::rename(journal::KeyPath(t.key_path()), t.dir() + "/current.key");
  const RunResult audit = t.Cli({"verify"});
  EXPECT_EQ(audit.code, 0) << audit.out;
  EXPECT_NE(t.Cli({"party", "add", "MNG", "Mongolia"}).code, 0);  // writing needs the secret
  fs::rename(t.dir() + "/current.key", journal::KeyPath(t.key_path()));

  // The journal shows the rotation, signed by the old key and naming the new one.
  const RunResult journal = t.Cli({"--json", "journal", "--after", "8", "--limit", "1"});
  ASSERT_EQ(journal.code, 0) << journal.out;
  const Json entry = Json::parse(journal.out)["entries"][0];
  EXPECT_EQ(entry["command"].get<std::string>(), "key.rotate") << entry.dump();

  // The retired secret key may not sign again.
  fs::copy_file(old_secret_copy, journal::KeyPath(t.key_path()), fs::copy_options::overwrite_existing);
  const RunResult stale = t.Cli({"party", "add", "MNG", "Mongolia"});
  EXPECT_EQ(stale.code, 3) << stale.out;
  EXPECT_NE(stale.out.find("no longer in force"), std::string::npos) << stale.out;

  // A verifier holding only the first public key is told which entry retired it.
  std::ofstream(journal::PublicKeyPath(t.key_path()), std::ios::trunc) << old_pub << "\n";
  const RunResult old_verify = t.Cli({"verify"});
  EXPECT_EQ(old_verify.code, 1) << old_verify.out;
  EXPECT_NE(old_verify.out.find("was retired by journal entry 9"), std::string::npos)
      << old_verify.out;
}

TEST_P(KeyRotation, EntrySignedWithTheOldKeyAfterRotationIsNamed) {
  const Target& t = *target_;
  ASSERT_NO_FATAL_FAILURE(BuildHistory(t));
  auto old_key = journal::LoadKey(t.key_path());
  ASSERT_TRUE(old_key.has_value()) << old_key.error();
  t.Ok({"key", "rotate"});                                            // entry 9
  t.Ok({"transfer", "--from", "1", "--to", "4", "--quantity", "5"});  // entry 10, new key
  {
    // A server started before the rotation still holds the old key and writes entry 11.
    auto store = t.Open();
    ASSERT_TRUE(store.has_value()) << store.error().message;
    service::FixedClock clock("2026-03-02T00:00:00Z");
    service::Registry stale(**store, *old_key, clock);
    const service::Response response =
        stale.Execute(service::Request{"party.add", {{"code", "MNG"}, {"name", "Mongolia"}}, "srv", ""});
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response.sequence.value, 11);
  }
  const RunResult verify = t.Cli({"verify"});
  EXPECT_EQ(verify.code, 1) << verify.out;
  EXPECT_NE(verify.out.find("journal entry 11: sealed by the retired key"), std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find("retired by entry 9"), std::string::npos) << verify.out;
  EXPECT_EQ(verify.out.find("journal entry 10"), std::string::npos) << verify.out;
}

TEST_P(KeyRotation, InterruptedRotationIsCompletedByRunningItAgain) {
  const Target& t = *target_;
  ASSERT_NO_FATAL_FAILURE(BuildHistory(t));
  const std::string key = journal::KeyPath(t.key_path()), pub = journal::PublicKeyPath(t.key_path());
  const std::string old_secret = t.dir() + "/old.key", old_pub = t.dir() + "/old.pub";
  fs::copy_file(key, old_secret);
  fs::copy_file(pub, old_pub);
  t.Ok({"key", "rotate"});
  // The state of a crash after the commit and before the key files were replaced.
  fs::rename(key, key + ".new");
  fs::copy_file(old_secret, key);
  fs::copy_file(old_pub, pub, fs::copy_options::overwrite_existing);
  EXPECT_NE(t.Cli({"verify"}).code, 0);  // the .pub is not the key in force yet
  const RunResult again = t.Cli({"key", "rotate"});
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("completed the interrupted rotation of journal entry 9"),
            std::string::npos)
      << again.out;
  EXPECT_FALSE(fs::exists(key + ".new"));
  t.Ok({"transfer", "--from", "1", "--to", "4", "--quantity", "5"});
  const RunResult verify = t.Cli({"--json", "verify"});
  EXPECT_EQ(verify.code, 0) << verify.out;
  EXPECT_EQ(Json::parse(verify.out)["entries"].get<int64_t>(), 10) << verify.out;
  // A stale pending key from a rotation that never reached the journal is discarded.
  std::ofstream(key + ".new") << "junk\n";
  fs::permissions(key + ".new", fs::perms::owner_read | fs::perms::owner_write);
  t.Ok({"key", "rotate"});
  t.Ok({"verify"});
}

// A changed rotation entry (another new key slipped in) breaks its hash, and the entries after
// it, signed by the real new key, no longer match the key the tampered entry names.
TEST(KeyRotationTamper, ChangedRotationEntryIsNamed) {
  Target t("sqlite", "");
  ASSERT_NO_FATAL_FAILURE(BuildHistory(t));
  t.Ok({"key", "rotate"});                                            // entry 9
  t.Ok({"transfer", "--from", "1", "--to", "4", "--quantity", "5"});  // entry 10
  const journal::SigningKey attacker = journal::GenerateKey();
  const std::string real = ReadFile(journal::PublicKeyPath(t.key_path()));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(t.db().c_str(), &db), SQLITE_OK);
  const std::string sql = "UPDATE journal SET payload = replace(payload, '" + real + "', '" +
                          journal::ToHex(attacker.public_key) + "') WHERE seq = 9";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
  const RunResult verify = t.Cli({"verify"});
  EXPECT_EQ(verify.code, 1) << verify.out;
  EXPECT_NE(verify.out.find("journal entry 9: content does not match its hash"), std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find("journal entry 10: the seal of entries 10-10 is invalid"),
            std::string::npos)
      << verify.out;
}

std::string EngineName(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

INSTANTIATE_TEST_SUITE_P(Engines, KeyRotation, ::testing::Values("sqlite", "postgres"), EngineName);

// ---- PostgreSQL backup and restore.

int64_t TablesIn(const std::string& url, const std::string& schema) {
  return std::stoll(Psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema + "'"));
}

bool SchemaExists(const std::string& url, const std::string& schema) {
  return Psql(url, "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'") == "1";
}

RunResult Jcmreg(const std::vector<std::string>& args, const Env& env) {
  std::vector<std::string> argv = {JCMREG_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, env);
}

class PostgresBackup : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = PostgresUrl();
    REQUIRE_POSTGRES(url_);
    source_ = std::make_unique<Target>("postgres", url_);
    ASSERT_NO_FATAL_FAILURE(BuildHistory(*source_));
    source_->Ok({"retire", "--from", "1", "--range", "801-850", "--year", "2025"});
    source_->Ok({"key", "rotate"});  // the backup carries a rotated journal
    source_->Ok({"transfer", "--from", "4", "--to", "1", "--quantity", "30"});
    backup_ = source_->dir() + "/registry.dump";
    const RunResult made = Jcmreg({"backup", "--db", url_, "--out", backup_}, source_->env());
    ASSERT_EQ(made.code, 0) << made.out;
    std::printf("%s", made.out.c_str());
  }
  void TearDown() override {
    for (const std::string& s : cleanup_) Psql(url_, "DROP SCHEMA IF EXISTS " + s + " CASCADE");
  }
  std::string NewSchema() {
    cleanup_.push_back(RandomSchema("restored"));
    return cleanup_.back();
  }

  std::string url_, backup_;
  std::unique_ptr<Target> source_;
  std::vector<std::string> cleanup_;
};

TEST_F(PostgresBackup, RestoreIntoAFreshSchemaVerifiesWithEqualHoldings) {
  const std::string schema = NewSchema();
  const std::string key = source_->dir() + "/restored-keys/registry";
  const Env env = {{"JCMREG_PG_SCHEMA", schema}, {"JCMREG_KEY", key}};
  const RunResult restored = Jcmreg({"restore", "--from", backup_, "--db", url_}, env);
  ASSERT_EQ(restored.code, 0) << restored.out;
  std::printf("%s", restored.out.c_str());
  EXPECT_NE(restored.out.find("verify: ok (11 journal entries"), std::string::npos)
      << restored.out;
  EXPECT_TRUE(fs::exists(journal::KeyPath(key)));

  const RunResult verify = Jcmreg({"--db", url_, "--json", "verify"}, env);
  ASSERT_EQ(verify.code, 0) << verify.out;
  EXPECT_EQ(Json::parse(verify.out)["entries"].get<int64_t>(), 11);
  for (const std::string account : {"1", "2", "4"}) {
    const RunResult a = source_->Cli({"--json", "holdings", account});
    const RunResult b = Jcmreg({"--db", url_, "--json", "holdings", account}, env);
    ASSERT_EQ(a.code, 0);
    ASSERT_EQ(b.code, 0) << b.out;
    EXPECT_EQ(Json::parse(a.out), Json::parse(b.out)) << "account " << account;
  }
  EXPECT_EQ(Json::parse(source_->Cli({"--json", "journal", "--limit", "1000"}).out),
            Json::parse(Jcmreg({"--db", url_, "--json", "journal", "--limit", "1000"}, env).out));
  // The restored registry goes on with the backup's (rotated) key.
  const RunResult write =
      Jcmreg({"--db", url_, "transfer", "--from", "1", "--to", "4", "--quantity", "1"}, env);
  EXPECT_EQ(write.code, 0) << write.out;
  EXPECT_EQ(Jcmreg({"--db", url_, "verify"}, env).code, 0);

  // A second restore onto it is refused, and changes nothing.
  const RunResult again = Jcmreg({"restore", "--from", backup_, "--db", url_}, env);
  EXPECT_EQ(again.code, 3) << again.out;
  EXPECT_NE(again.out.find("is not empty"), std::string::npos) << again.out;
  EXPECT_EQ(Jcmreg({"--db", url_, "--json", "verify"}, env).code, 0);
  EXPECT_EQ(Total(*source_, 1), 880);
  EXPECT_EQ(Total(*source_, 4), 70);
}

// pg_dump takes one snapshot: a backup taken while a writer keeps appending restores to a
// consistent prefix of the journal that verifies.
TEST_F(PostgresBackup, BackupUnderConcurrentWritesRestoresAndVerifies) {
  auto key = journal::LoadKey(source_->key_path());
  ASSERT_TRUE(key.has_value()) << key.error();
  auto store = source_->Open();
  ASSERT_TRUE(store.has_value()) << store.error().message;
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    service::FixedClock clock("2026-03-03T00:00:00Z");
    service::Registry registry(**store, *key, clock);
    for (int i = 0; !stop; ++i) {
      const service::Response r = registry.Execute(service::Request{
          "entity.add", {{"name", "entity " + std::to_string(i)}, {"country", "JPN"}}, "w", ""});
      if (r.ok()) ++written;
    }
  });
  while (written < 20) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string hot = source_->dir() + "/hot.dump";
  const RunResult made = Jcmreg({"backup", "--db", url_, "--out", hot}, source_->env());
  const int during = written;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  writer.join();
  ASSERT_EQ(made.code, 0) << made.out;
  const std::string schema = NewSchema();
  const Env env = {{"JCMREG_PG_SCHEMA", schema}, {"JCMREG_KEY", source_->dir() + "/hot-keys/k"}};
  const RunResult restored = Jcmreg({"restore", "--from", hot, "--db", url_}, env);
  ASSERT_EQ(restored.code, 0) << restored.out;
  const RunResult verify = Jcmreg({"--db", url_, "--json", "verify"}, env);
  ASSERT_EQ(verify.code, 0) << verify.out;
  const int64_t entries = Json::parse(verify.out)["entries"].get<int64_t>();
  std::printf("hot backup: %d entities written by then, %d in all; restored %lld entries\n", during,
              written.load(), static_cast<long long>(entries));
  EXPECT_GE(entries, 11 + 20);
  EXPECT_LE(entries, 11 + written.load());
  EXPECT_EQ(source_->Cli({"verify"}).code, 0);
}

TEST_F(PostgresBackup, DamagedOrMissingBackupIsRefusedAndChangesNothing) {
  const std::string schema = NewSchema();
  const std::string key = source_->dir() + "/other-keys/registry";
  const Env env = {{"JCMREG_PG_SCHEMA", schema}, {"JCMREG_KEY", key}};
  const auto refused = [&](const std::string& file, const std::string& expected) {
    const RunResult r = Jcmreg({"restore", "--from", file, "--db", url_}, env);
    EXPECT_NE(r.code, 0) << file << ": " << r.out;
    EXPECT_NE(r.out.find(expected), std::string::npos) << file << ": " << r.out;
    EXPECT_FALSE(SchemaExists(url_, schema)) << file;
    EXPECT_FALSE(fs::exists(journal::KeyPath(key))) << file;
  };
  refused(source_->dir() + "/absent.dump", "no backup at");

  // Truncated: half the archive.
  const std::string truncated = source_->dir() + "/truncated.dump";
  fs::copy_file(backup_, truncated);
  fs::copy_file(journal::KeyPath(backup_), journal::KeyPath(truncated));
  fs::copy_file(journal::PublicKeyPath(backup_), journal::PublicKeyPath(truncated));
  fs::resize_file(truncated, fs::file_size(backup_) / 2);
  refused(truncated, "nothing restored");

  // Corrupted: bytes overwritten in the middle of the data.
  const std::string corrupted = source_->dir() + "/corrupted.dump";
  fs::copy_file(backup_, corrupted);
  fs::copy_file(journal::KeyPath(backup_), journal::KeyPath(corrupted));
  fs::copy_file(journal::PublicKeyPath(backup_), journal::PublicKeyPath(corrupted));
  {
    std::fstream f(corrupted, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = static_cast<std::streamoff>(fs::file_size(corrupted));
    for (std::streamoff at = size / 2; at < size / 2 + 64 && at < size; ++at) {
      f.seekp(at);
      f.put('\x5a');
    }
  }
  refused(corrupted, "nothing restored");

  // Not an archive at all.
  const std::string junk = source_->dir() + "/junk.dump";
  std::ofstream(junk) << "this is not a pg_dump archive\n";
  fs::copy_file(journal::KeyPath(backup_), journal::KeyPath(junk));
  fs::copy_file(journal::PublicKeyPath(backup_), journal::PublicKeyPath(junk));
  refused(junk, "not a readable pg_dump archive");

  // A backup whose public key is not the journal's key in force does not verify: removed.
  const std::string wrong = source_->dir() + "/wrong.dump";
  fs::copy_file(backup_, wrong);
  const journal::SigningKey other = journal::GenerateKey();
  ASSERT_TRUE(journal::SaveKey(wrong, other).ok());
  const RunResult r = Jcmreg({"restore", "--from", wrong, "--db", url_}, env);
  EXPECT_EQ(r.code, 4) << r.out;
  EXPECT_NE(r.out.find("does not verify"), std::string::npos) << r.out;
  EXPECT_FALSE(SchemaExists(url_, schema)) << r.out;
  EXPECT_FALSE(fs::exists(journal::KeyPath(key)));

  // The source is untouched by all of it.
  EXPECT_EQ(source_->Cli({"verify"}).code, 0);
}

TEST_F(PostgresBackup, NonEmptyTargetAndBadArgumentsAreRefused) {
  const int64_t tables = TablesIn(url_, source_->schema());
  // Restoring onto the live source schema itself.
  const RunResult onto = Jcmreg({"restore", "--from", backup_, "--db", url_}, source_->env());
  EXPECT_EQ(onto.code, 3) << onto.out;
  EXPECT_NE(onto.out.find("target schema " + source_->schema() + " of"), std::string::npos)
      << onto.out;
  EXPECT_EQ(source_->Cli({"verify"}).code, 0);
  const RunResult bad_schema =
      Jcmreg({"restore", "--from", backup_, "--db", url_, "--schema", "Bad-Name"}, {});
  EXPECT_EQ(bad_schema.code, 2) << bad_schema.out;
  // The backup file is never overwritten.
  const RunResult twice = Jcmreg({"backup", "--db", url_, "--out", backup_}, source_->env());
  EXPECT_EQ(twice.code, 3) << twice.out;
  EXPECT_NE(twice.out.find("already exists"), std::string::npos) << twice.out;
  // No registry in that schema.
  const std::string empty = NewSchema();
  const RunResult none = Jcmreg({"backup", "--db", url_, "--out", source_->dir() + "/x.dump",
                                 "--schema", empty},
                                source_->env());
  EXPECT_EQ(none.code, 3) << none.out;
  EXPECT_NE(none.out.find("no registry in schema"), std::string::npos) << none.out;
  EXPECT_FALSE(fs::exists(source_->dir() + "/x.dump"));
  EXPECT_EQ(TablesIn(url_, source_->schema()), tables);
}

}  // namespace
}  // namespace registry
