// Goal: a registry killed with SIGKILL at any point loses nothing it acknowledged and stays
// verifiable. Method: crash_driver runs a long script in batches of 1-8 operations (one
// transaction and one seal each), printing "ACK <sequence> <key>" after each committed
// operation; this test kills it after a random number of acknowledgements (0..150, so the kill
// lands at a random point of the next batch, mid-transaction or mid-commit), repeatedly
// (JCM_CRASH_ITERATIONS, default 30), each time on the same database. After each kill:
// service::Verify must pass (chain, seals covering every entry up to the last, replay,
// invariants: a batch cut short leaves no unsealed entry) and every acknowledged key must be in
// the journal at its acknowledged sequence. Seed: JCM_SEED (printed).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "journal/chain.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace registry {
namespace {

StoreResult<std::unique_ptr<Store>> OpenDb(const std::string& path, bool synchronous_full) {
  sqlite::Options options;
  options.path = path;
  options.synchronous_full = synchronous_full;
  return sqlite::Open(options);
}

struct Ack {
  int64_t sequence = 0;
  std::string key;
};

// Starts `argv`; returns its pid and the read end of a pipe on its stdout.
std::pair<pid_t, int> Spawn(const std::vector<std::string>& args) {
  int fds[2];
  REGISTRY_ASSERT(pipe(fds) == 0);
  const pid_t pid = fork();
  REGISTRY_ASSERT(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

TEST(Crash, KillNineRepeatedlyLosesNothingAcknowledged) {
  const char* seed_env = std::getenv("JCM_SEED");
  const uint64_t seed = seed_env != nullptr ? std::strtoull(seed_env, nullptr, 10) : std::random_device{}();
  const char* iter_env = std::getenv("JCM_CRASH_ITERATIONS");
  const int iterations = iter_env != nullptr ? std::atoi(iter_env) : 30;
  std::printf("crash test: JCM_SEED=%llu, %d iterations\n", static_cast<unsigned long long>(seed),
              iterations);
  SCOPED_TRACE("JCM_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  const std::string db = dir.File("crash.db");
  {
    const auto [pid, fd] = Spawn({CRASH_DRIVER, "setup", db});
    close(fd);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto pub = journal::LoadPublicKey(db);
  ASSERT_TRUE(pub.has_value());
  std::vector<Ack> acked;
  int64_t killed_mid_run = 0;
  for (int it = 0; it < iterations; ++it) {
    const int64_t kill_after = std::uniform_int_distribution<int64_t>(0, 150)(rng);
    const auto [pid, fd] =
        Spawn({CRASH_DRIVER, "run", db, std::to_string(it), std::to_string(rng())});
    std::string buffer;
    int64_t acks_this_run = 0;
    bool ready = false;
    bool killed = false;
    char chunk[4096];
    for (;;) {
      const ssize_t n = read(fd, chunk, sizeof chunk);
      if (n <= 0) break;  // EOF: the driver is gone.
      buffer.append(chunk, static_cast<size_t>(n));
      size_t eol = 0;
      while ((eol = buffer.find('\n')) != std::string::npos) {
        const std::string line = buffer.substr(0, eol);
        buffer.erase(0, eol + 1);
        if (line == "READY") {
          ready = true;
        } else if (line.rfind("ACK ", 0) == 0) {
          std::istringstream in(line.substr(4));
          Ack ack;
          in >> ack.sequence >> ack.key;
          acked.push_back(ack);
          ++acks_this_run;
        }
      }
      if (ready && !killed && acks_this_run >= kill_after) {
        kill(pid, SIGKILL);  // The driver is somewhere in its next operation.
        killed = true;
      }
    }
    close(fd);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(killed) << "the driver ended by itself, status " << status;
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    if (acks_this_run > kill_after) ++killed_mid_run;  // Acks already in the pipe when killed.
    // Reopen, verify, and find every acknowledged operation.
    auto store = OpenDb(db, true);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    const auto report = service::Verify(**store, *pub, [] { return OpenDb(":memory:", false); });
    ASSERT_TRUE(report.ok()) << "iteration " << it << ": " << report.problems.front();
    auto tx = (*store)->BeginRead();
    ASSERT_TRUE(tx.has_value());
    for (const Ack& ack : acked) {
      auto entry = (*tx)->EntryByIdempotencyKey(ack.key);
      ASSERT_TRUE(entry.has_value());
      ASSERT_TRUE(entry->has_value()) << "iteration " << it << ": acknowledged " << ack.key
                                      << " (sequence " << ack.sequence << ") is missing";
      ASSERT_EQ((*entry)->sequence.value, ack.sequence) << ack.key;
    }
    std::printf("crash iteration %d: killed after %lld acknowledged operations; journal %lld "
                "entries; all %zu acknowledged operations present, verify ok\n",
                it + 1, static_cast<long long>(acks_this_run),
                static_cast<long long>(report.entries), acked.size());
  }
  std::printf("crash test: %d kill -9 iterations, %zu acknowledged operations, all present\n",
              iterations, acked.size());
}

}  // namespace
}  // namespace registry
