// Goal (issue 33, break 7): the journal head is anchored outside the database.
//   * An older copy of the database (truncated, rolled back, or rolled back and written on: a
//     fork) verifies under today's public key on its own; given an expected head (SEQ:HASHHEX,
//     from `jcmreg head` or a witness file) `verify` fails on it and names why. A journal that
//     grew past the head passes.
//   * `jcmreg serve --witness FILE` appends one line per committed batch; `verify --witness FILE`
//     passes on the live database and fails on an older copy; serve refuses to start on a copy
//     behind its witness.
//   * Another registry's key pair copied over r.db.key / r.db.pub is refused when a writer starts
//     (a CLI write, `serve`, `key rotate`), with exit code 3 and nothing written.
// Method: the real `jcmreg` binary on SQLite files in a temporary directory (older copies made
// with `jcmreg backup`, as an operator would), a real `serve` on a loopback port spoken to with
// raw HTTP; and the Witness class in process (torn lines, malformed lines, one line per batch).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "http/raw_http.h"
#include "journal/witness.h"
#include "service/registry.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

extern char** environ;

namespace registry {
namespace {

namespace fs = std::filesystem;
using Env = std::map<std::string, std::string>;

// Starts `argv` with the environment plus `env`; its stdout and stderr go to *out_fd.
pid_t Spawn(const std::vector<std::string>& argv, const Env& env, int* out_fd) {
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
  if (pipe(fds) != 0) return -1;
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
  *out_fd = fds[0];
  return pid;
}

struct RunResult {
  int code = -1;
  std::string out;  // stdout and stderr together
};

RunResult RunProgram(const std::vector<std::string>& argv, const Env& env) {
  RunResult result;
  int fd = -1;
  const pid_t pid = Spawn(argv, env, &fd);
  if (pid < 0) return result;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
    result.out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// One registry file driven through the CLI.
class CliRegistry {
 public:
  CliRegistry() : db_(dir_.File("r.db")) {}
  RunResult Cli(const std::string& db, std::vector<std::string> args) const {
    std::vector<std::string> argv = {JCMREG_BINARY, "--db", db};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, env_);
  }
  RunResult Cli(std::vector<std::string> args) const { return Cli(db_, std::move(args)); }
  void Ok(std::vector<std::string> args) const { Ok(db_, std::move(args)); }
  void Ok(const std::string& db, std::vector<std::string> args) const {
    const RunResult r = Cli(db, args);
    ASSERT_EQ(r.code, 0) << "jcmreg " << args.front() << ": " << r.out;
  }
  // Entries 1-8: Parties, a registry, accounts 1 and 3 (holding) and 2 (retirement), an
  // issuance to 1 and a transfer to 3. `init` first unless the registry exists.
  void Build(bool init = true) const {
    if (init) Ok({"init"});
    Ok({"party", "add", "JPN", "Japan"});
    Ok({"party", "add", "MNG", "Mongolia"});
    Ok({"registry", "add", "JPN01", "--party", "JPN", "--name", "JCM Registry (Japan)"});
    Ok({"account", "open", "--registry", "JPN01", "--type", "government_holding", "--name", "g"});
    Ok({"account", "open", "--registry", "JPN01", "--type", "retirement", "--name", "r"});
    Ok({"account", "open", "--registry", "JPN01", "--type", "government_holding", "--name", "h"});
    Ok({"issue", "--account", "1", "--vintage", "2019:1000", "--project", "MN004"});
    Ok({"transfer", "--from", "1", "--to", "3", "--quantity", "10"});
  }
  // The head `jcmreg head` prints for `db`.
  std::string Head(const std::string& db) const {
    const RunResult r = Cli(db, {"head"});
    EXPECT_EQ(r.code, 0) << r.out;
    return Trimmed(r.out);
  }
  std::string Head() const { return Head(db_); }
  // An online copy of the registry as it is now (the operator's backup).
  std::string Backup(const std::string& name) const {
    const std::string out = dir_.File(name);
    const RunResult r = RunProgram({JCMREG_BINARY, "backup", "--db", db_, "--out", out}, env_);
    EXPECT_EQ(r.code, 0) << r.out;
    return out;
  }
  // The journal entries of `db`, read without the CLI (no key involved).
  int64_t Entries(const std::string& db) const {
    auto store = sqlite::Open(sqlite::Options{db, true});
    EXPECT_TRUE(store.has_value());
    if (!store) return -1;
    auto head = journal::ReadHead(**store);
    EXPECT_TRUE(head.has_value());
    return head ? head->sequence : -1;
  }
  const std::string& db() const { return db_; }
  std::string File(const std::string& name) const { return dir_.File(name); }
  const Env& env() const { return env_; }

 private:
  testing::TempDir dir_;
  std::string db_;
  Env env_ = {{"JCMREG_FIXED_TIME", "2026-03-01T00:00:00Z"}};
};

TEST(AnchorHead, HeadIsTheLastEntrysSequenceAndHash) {
  CliRegistry r;
  r.Ok({"init"});
  EXPECT_EQ(r.Head(), "0:" + std::string(64, '0'));  // An empty journal.
  ASSERT_NO_FATAL_FAILURE(r.Build(false));
  const std::string head = r.Head();
  auto store = sqlite::Open(sqlite::Options{r.db(), true});
  ASSERT_TRUE(store.has_value());
  auto tx = (*store)->BeginRead();
  ASSERT_TRUE(tx.has_value());
  auto last = (*tx)->LastEntry();
  ASSERT_TRUE(last.has_value() && last->has_value());
  EXPECT_EQ(head, std::to_string((*last)->sequence.value) + ":" + journal::ToHex((*last)->hash));
  EXPECT_EQ((*last)->sequence.value, 8);
  // --json says the same; an auditor with only the public key reads it too.
  fs::rename(journal::KeyPath(r.db()), r.File("away.key"));
  const RunResult json = r.Cli({"--json", "head"});
  EXPECT_EQ(json.code, 0) << json.out;
  EXPECT_NE(json.out.find("\"head\": \"" + head + "\""), std::string::npos) << json.out;
}

// The break: an older copy verifies under today's public key. With the head published later it
// fails, naming the truncation.
TEST(AnchorVerify, TruncatedOrRolledBackCopyFailsAgainstTheExpectedHead) {
  CliRegistry r;
  ASSERT_NO_FATAL_FAILURE(r.Build());
  const std::string old_copy = r.Backup("old.db");  // Entries 1-8.
  r.Ok({"retire", "--from", "1", "--quantity", "5", "--year", "2025"});
  r.Ok({"party", "add", "KEN", "Kenya"});
  const std::string head = r.Head();
  ASSERT_EQ(head.substr(0, 3), "10:");

  const RunResult plain = r.Cli(old_copy, {"verify"});
  EXPECT_EQ(plain.code, 0) << "the older copy verifies on its own: " << plain.out;

  const RunResult anchored = r.Cli(old_copy, {"verify", "--expect-head", head});
  EXPECT_EQ(anchored.code, 1) << anchored.out;
  EXPECT_NE(anchored.out.find("FAIL the journal ends at entry 8 but the expected head is entry 10"),
            std::string::npos)
      << anchored.out;
  EXPECT_NE(anchored.out.find("truncated or rolled-back copy"), std::string::npos) << anchored.out;
  EXPECT_NE(anchored.out.find("verify: FAILED"), std::string::npos) << anchored.out;

  // The live registry holds that head.
  const RunResult live = r.Cli({"verify", "--expect-head", head});
  EXPECT_EQ(live.code, 0) << live.out;
}

// A copy rolled back and then written on has as many entries, or more, but another history.
TEST(AnchorVerify, RolledBackCopyWrittenOnIsAFork) {
  CliRegistry r;
  ASSERT_NO_FATAL_FAILURE(r.Build());
  const std::string old_copy = r.Backup("old.db");  // Entries 1-8.
  r.Ok({"party", "add", "KEN", "Kenya"});           // 9
  const std::string head = r.Head();
  r.Ok(old_copy, {"party", "add", "THA", "Thailand"});  // 9 on the copy: another entry
  r.Ok(old_copy, {"party", "add", "VNM", "Viet Nam"});  // 10
  EXPECT_EQ(r.Cli(old_copy, {"verify"}).code, 0);

  const RunResult anchored = r.Cli(old_copy, {"verify", "--expect-head", head});
  EXPECT_EQ(anchored.code, 1) << anchored.out;
  EXPECT_NE(anchored.out.find("FAIL journal entry 9: its hash"), std::string::npos) << anchored.out;
  EXPECT_NE(anchored.out.find("rewritten or forked"), std::string::npos) << anchored.out;
}

TEST(AnchorVerify, GrownJournalPassesAndBadHeadsAreUsageErrors) {
  CliRegistry r;
  ASSERT_NO_FATAL_FAILURE(r.Build());
  const std::string published = r.Head();
  r.Ok({"party", "add", "KEN", "Kenya"});
  r.Ok({"transfer", "--from", "1", "--to", "3", "--quantity", "1"});
  const RunResult grown =
      r.Cli({"--json", "verify", "--expect-head", published, "--expect-head", r.Head()});
  EXPECT_EQ(grown.code, 0) << grown.out;
  EXPECT_NE(grown.out.find("\"entries\": 10"), std::string::npos) << grown.out;

  for (const std::string& bad :
       std::vector<std::string>{"9", "9:abc", "x:" + std::string(64, '0'),
                                "-1:" + std::string(64, '0'), "0:" + std::string(64, '1')}) {
    const RunResult refused = r.Cli({"verify", "--expect-head", bad});
    EXPECT_EQ(refused.code, 2) << bad << ": " << refused.out;
    EXPECT_NE(refused.out.find("--expect-head takes SEQ:HASHHEX"), std::string::npos)
        << refused.out;
  }
}

// ---- serve --witness.

// One `jcmreg serve` process on 127.0.0.1 with an ephemeral port.
class Serve {
 public:
  Serve(const CliRegistry& r, const std::string& db, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {JCMREG_BINARY, "serve",       "--db",   db,
                                     "--listen",    "127.0.0.1:0", "--quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = Spawn(argv, r.env(), &fd_);
    while (pid_ > 0 && first_line_.find('\n') == std::string::npos) {
      pollfd p{fd_, POLLIN, 0};
      char c = 0;
      if (poll(&p, 1, 30000) <= 0 || read(fd_, &c, 1) != 1) break;
      first_line_.push_back(c);
    }
    const std::string marker = "at http://127.0.0.1:";
    const size_t at = first_line_.find(marker);
    if (at != std::string::npos) port_ = std::atoi(first_line_.c_str() + at + marker.size());
  }
  ~Serve() { Stop(SIGKILL); }
  Serve(const Serve&) = delete;
  Serve& operator=(const Serve&) = delete;

  // Sends `signal` and waits for the end: the exit code and whatever it printed.
  RunResult Stop(int signal) {
    RunResult result;
    if (pid_ <= 0) return result;
    kill(pid_, signal);
    result.out = first_line_;
    char buf[4096];
    for (ssize_t n; (n = read(fd_, buf, sizeof buf)) > 0;) {
      result.out.append(buf, static_cast<size_t>(n));
    }
    close(fd_);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
  }
  // Waits for a process that should end by itself (refusing to start).
  RunResult Wait() {
    RunResult result;
    result.out = first_line_;
    char buf[4096];
    for (ssize_t n; (n = read(fd_, buf, sizeof buf)) > 0;) {
      result.out.append(buf, static_cast<size_t>(n));
    }
    close(fd_);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
  }
  int port() const { return port_; }

  // POST /v1/commands/entity.add as `token`: the HTTP status.
  int AddEntity(const std::string& token, const std::string& name) const {
    http::raw::RawConnection c(port_);
    if (!c.connected()) return 0;
    const std::string body = "{\"name\":\"" + name + "\",\"country\":\"JPN\"}";
    c.Send("POST /v1/commands/entity.add HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
           token + "\r\nIdempotency-Key: " + name +
           "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body);
    return http::raw::StatusOf(c.ReadAnswer());
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  int port_ = 0;
  std::string first_line_;
};

std::string AddAdministrator(const CliRegistry& r) {
  const RunResult added =
      RunProgram({JCMREG_BINARY, "user", "add", "--db", r.db(), "--role", "administrator",
                  "--scope", "*", "--name", "admin", "--quiet"},
                 r.env());
  EXPECT_EQ(added.code, 0) << added.out;
  return Trimmed(added.out);
}

TEST(AnchorWitness, ServeSealsEveryCommitAndVerifyChecksTheFile) {
  CliRegistry r;
  ASSERT_NO_FATAL_FAILURE(r.Build());
  const std::string token = AddAdministrator(r);  // Entry 9.
  const std::string old_copy = r.Backup("old.db");
  const std::string witness = r.File("head.witness");
  {
    Serve serve(r, r.db(), {"--witness", witness, "--witness-sync-ms", "0"});
    ASSERT_GT(serve.port(), 0);
    // The head it started on is witnessed at once.
    const std::vector<std::string> at_start = Lines(witness);
    ASSERT_EQ(at_start.size(), 1u);
    EXPECT_EQ(at_start[0].substr(0, at_start[0].find(' ')), r.Head());
    for (int i = 1; i <= 3; ++i) {
      const int status = serve.AddEntity(token, "entity " + std::to_string(i));
      EXPECT_GE(status, 200);
      EXPECT_LT(status, 300);
      // Each write is a batch of its own here: one more line, naming the new head.
      const std::vector<std::string> lines = Lines(witness);
      ASSERT_EQ(lines.size(), static_cast<size_t>(1 + i));
      EXPECT_EQ(lines.back(), r.Head() + " 2026-03-01T00:00:00Z");
      EXPECT_EQ(lines.back().substr(0, 3), std::to_string(9 + i) + ":");
    }
    const RunResult stopped = serve.Stop(SIGTERM);
    EXPECT_EQ(stopped.code, 0) << stopped.out;
  }
  const RunResult live = r.Cli({"verify", "--witness", witness});
  EXPECT_EQ(live.code, 0) << live.out;

  // The older copy verifies alone, not against the witness.
  EXPECT_EQ(r.Cli(old_copy, {"verify"}).code, 0);
  const RunResult old = r.Cli(old_copy, {"verify", "--witness", witness});
  EXPECT_EQ(old.code, 1) << old.out;
  EXPECT_NE(old.out.find("the journal ends at entry 9 but the expected head is entry 12"),
            std::string::npos)
      << old.out;

  // A server started on the older copy with the same witness would fork the journal: refused.
  Serve refused(r, old_copy, {"--witness", witness});
  const RunResult ended = refused.Wait();
  EXPECT_EQ(ended.code, 3) << ended.out;
  EXPECT_NE(ended.out.find("before the witnessed head 12:"), std::string::npos) << ended.out;
  EXPECT_EQ(r.Entries(old_copy), 9);
  EXPECT_EQ(Lines(witness).size(), 4u);

  // A witness line that is not a head is named.
  std::ofstream(witness, std::ios::app) << "garbage\n";
  const RunResult malformed = r.Cli({"verify", "--witness", witness});
  EXPECT_EQ(malformed.code, 3) << malformed.out;
  EXPECT_NE(malformed.out.find("line 5 is not SEQ:HASHHEX TIME"), std::string::npos)
      << malformed.out;
}

// CLI writes seal into the file $JCMREG_WITNESS names, and refuse an older copy behind it.
TEST(AnchorWitness, CliWritesSealIntoJcmregWitness) {
  CliRegistry r;
  ASSERT_NO_FATAL_FAILURE(r.Build());
  const std::string old_copy = r.Backup("old.db");  // Entries 1-8.
  const std::string witness = r.File("cli.witness");
  const Env with = {{"JCMREG_WITNESS", witness}};
  const auto cli = [&](const std::string& db, std::vector<std::string> args) {
    std::vector<std::string> argv = {JCMREG_BINARY, "--db", db};
    argv.insert(argv.end(), args.begin(), args.end());
    Env env = r.env();
    env.insert(with.begin(), with.end());
    return RunProgram(argv, env);
  };
  const RunResult first = cli(r.db(), {"party", "add", "KEN", "Kenya"});  // 9
  ASSERT_EQ(first.code, 0) << first.out;
  std::vector<std::string> lines = Lines(witness);
  ASSERT_EQ(lines.size(), 2u);  // The head it started on (8), then entry 9.
  EXPECT_EQ(lines[0].substr(0, 2), "8:");
  EXPECT_EQ(lines[1].substr(0, lines[1].find(' ')), r.Head());
  ASSERT_EQ(cli(r.db(), {"party", "add", "THA", "Thailand"}).code, 0);  // 10
  lines = Lines(witness);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2].substr(0, lines[2].find(' ')), r.Head());
  EXPECT_EQ(r.Cli({"verify", "--witness", witness}).code, 0);
  // Reading needs no witness; verify and head ignore $JCMREG_WITNESS.
  EXPECT_EQ(cli(old_copy, {"verify"}).code, 0);
  const RunResult refused = cli(old_copy, {"party", "add", "VNM", "Viet Nam"});
  EXPECT_EQ(refused.code, 3) << refused.out;
  EXPECT_NE(refused.out.find("the journal ends at entry 8, before the witnessed head 10:"),
            std::string::npos)
      << refused.out;
  EXPECT_EQ(r.Entries(old_copy), 8);
  EXPECT_EQ(Lines(witness).size(), 3u);
}

// ---- The writer's key against the journal's last signature.

TEST(AnchorKey, AnotherRegistrysKeyPairIsRefusedAtStartWithNothingWritten) {
  CliRegistry r;
  ASSERT_NO_FATAL_FAILURE(r.Build());
  CliRegistry other;
  other.Ok({"init"});
  other.Ok({"party", "add", "JPN", "Japan"});
  // Another registry's key pair copied over ours (both files, so they agree with each other).
  const std::string key = journal::KeyPath(r.db()), pub = journal::PublicKeyPath(r.db());
  fs::rename(key, r.File("own.key"));
  fs::rename(pub, r.File("own.pub"));
  fs::copy_file(journal::KeyPath(other.db()), key);
  fs::copy_file(journal::PublicKeyPath(other.db()), pub);
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
  const int64_t before = r.Entries(r.db());

  const RunResult write = r.Cli({"party", "add", "KEN", "Kenya"});
  EXPECT_EQ(write.code, 3) << write.out;
  EXPECT_NE(write.out.find("the journal's last entry 8 is not sealed by this signing key"),
            std::string::npos)
      << write.out;
  EXPECT_NE(write.out.find("nothing written"), std::string::npos) << write.out;

  const RunResult user = RunProgram({JCMREG_BINARY, "user", "add", "--db", r.db(), "--role",
                                     "administrator", "--scope", "*", "--name", "x", "--quiet"},
                                    r.env());
  EXPECT_EQ(user.code, 3) << user.out;

  const RunResult rotate = r.Cli({"key", "rotate"});
  EXPECT_EQ(rotate.code, 3) << rotate.out;
  EXPECT_NE(rotate.out.find("is not sealed by this signing key"), std::string::npos) << rotate.out;

  Serve serve(r, r.db(), {});
  const RunResult served = serve.Wait();
  EXPECT_EQ(served.code, 3) << served.out;
  EXPECT_NE(served.out.find("is not sealed by this signing key"), std::string::npos) << served.out;
  EXPECT_EQ(served.out.find("serving"), std::string::npos) << served.out;

  EXPECT_EQ(r.Entries(r.db()), before);
  EXPECT_FALSE(fs::exists(key + ".new"));
  // Verify, with the foreign public key, fails too (as before); with our own key it passes.
  EXPECT_EQ(r.Cli({"verify"}).code, 1);
  fs::remove(key);
  fs::remove(pub);
  fs::rename(r.File("own.key"), key);
  fs::rename(r.File("own.pub"), pub);
  r.Ok({"party", "add", "KEN", "Kenya"});
  r.Ok({"verify"});
}

// After a rotation the key the journal rotated to signs; so does `key rotate` completing an
// interrupted rotation with the old key (key_backup_test covers it end to end).
TEST(AnchorKey, KeyRotationKeepsTheRightKeyAccepted) {
  CliRegistry r;
  ASSERT_NO_FATAL_FAILURE(r.Build());
  r.Ok({"key", "rotate"});                 // 9, the last entry, signed by the old key
  r.Ok({"party", "add", "KEN", "Kenya"});  // 10, by the new key
  r.Ok({"key", "rotate"});
  r.Ok({"verify"});

  auto store = sqlite::Open(sqlite::Options{r.db(), true});
  ASSERT_TRUE(store.has_value());
  const journal::SigningKey stranger = journal::GenerateKey();
  auto current = journal::LoadKey(r.db());
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(journal::CheckKeySignsHead(**store, current->public_key, false), "");
  EXPECT_NE(journal::CheckKeySignsHead(**store, stranger.public_key, false), "");
  EXPECT_NE(journal::CheckKeySignsHead(**store, stranger.public_key, true), "");
}

// ---- The Witness class.

TEST(AnchorWitnessFile, OneLinePerCommittedBatchAfterTheCommit) {
  testing::TestRegistry r;
  testing::SetUpBasicRegistry(r);
  const std::string path = r.dir.File("w");
  int64_t batch_head = 0, single_head = 0;
  {
    auto witness = journal::Witness::Open(path, std::chrono::milliseconds(0));
    ASSERT_TRUE(witness.has_value()) << witness.error();
    EXPECT_FALSE((*witness)->last().has_value());
    r.registry->SetWitness(witness->get());
    const std::vector<service::Request> batch = {
        {"party.add", {{"code", "KEN"}, {"name", "Kenya"}}, "t", ""},
        {"party.add", {{"code", "KEN"}, {"name", "Kenya"}}, "t", ""},  // refused: exists
        {"party.add", {{"code", "THA"}, {"name", "Thailand"}}, "t", ""}};
    const auto responses = r.registry->ExecuteBatch(batch);
    ASSERT_TRUE(responses[0].ok() && !responses[1].ok() && responses[2].ok());
    batch_head = responses[2].sequence.value;
    r.Refused("party.add", {{"code", "THA"}, {"name", "Thailand"}}, Check::kAlreadyExists);
    single_head = r.Run("party.add", {{"code", "VNM"}, {"name", "Viet Nam"}}).sequence.value;
    EXPECT_EQ((*witness)->last()->sequence, single_head);
    r.registry->SetWitness(nullptr);
  }
  auto head = journal::ReadHead(*r.store);
  ASSERT_TRUE(head.has_value());
  auto heads = journal::ReadWitness(path);
  ASSERT_TRUE(heads.has_value()) << heads.error();
  // The batch, then the single command; nothing for the refusal.
  ASSERT_EQ(heads->size(), 2u);
  EXPECT_EQ((*heads)[0].sequence, batch_head);
  EXPECT_EQ((*heads)[1], *head);
  EXPECT_EQ(single_head, batch_head + 1);
  const std::vector<std::string> lines = Lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], journal::FormatHead(*head) + " 2026-01-01T00:00:00Z");

  // Verify in process takes the witness's heads, and the head of an older journal fails.
  service::VerifyOptions options;
  options.expected_heads = *heads;
  EXPECT_TRUE(service::Verify(
                  *r.store, r.key.public_key, [] { return sqlite::OpenScratch(); }, options)
                  .ok());
  options.expected_heads.push_back(journal::Head{head->sequence + 1, head->hash});
  const service::VerifyReport beyond = service::Verify(
      *r.store, r.key.public_key, [] { return sqlite::OpenScratch(); }, options);
  ASSERT_EQ(beyond.problems.size(), 1u);
  EXPECT_NE(beyond.problems[0].find("truncated or rolled-back"), std::string::npos);
}

TEST(AnchorWitnessFile, TornLastLineIsCutAndMalformedLinesNamed) {
  testing::TempDir dir;
  const std::string path = dir.File("w");
  const journal::Head a{7, Hash{1, 2, 3}}, b{9, Hash{4, 5, 6}};
  {
    std::ofstream out(path);
    out << journal::FormatHead(a) << " 2026-01-01T00:00:00Z\n"
        << journal::FormatHead(b).substr(0, 30);  // A write cut by a crash.
  }
  auto heads = journal::ReadWitness(path);
  ASSERT_TRUE(heads.has_value()) << heads.error();
  EXPECT_EQ(*heads, std::vector<journal::Head>{a});
  {
    auto witness = journal::Witness::Open(path, std::chrono::milliseconds(0));
    ASSERT_TRUE(witness.has_value()) << witness.error();
    EXPECT_EQ((*witness)->last(), a);
    (*witness)->Seal(b, "2026-01-02T00:00:00Z");
  }
  EXPECT_EQ(Lines(path),
            (std::vector<std::string>{journal::FormatHead(a) + " 2026-01-01T00:00:00Z",
                                      journal::FormatHead(b) + " 2026-01-02T00:00:00Z"}));
  std::ofstream(path, std::ios::app) << "12:nothex\n";
  auto malformed = journal::ReadWitness(path);
  ASSERT_FALSE(malformed.has_value());
  EXPECT_NE(malformed.error().find("line 3"), std::string::npos) << malformed.error();
  EXPECT_FALSE(journal::Witness::Open(path).has_value());  // Its last line is not a head.
}

}  // namespace
}  // namespace registry
