// jcm_bench: the throughput benchmark of issue 8. It measures, in one process and one run,
//   (a) the storage limit: a minimal hand-written SQLite loop doing the writes of one transfer
//       (close a block, insert its two children, append a journal row whose SHA-256 hash chains
//       to the previous one), on the registry's own schema, WAL + synchronous=FULL, one commit
//       per batch: without a signature, with an Ed25519 signature on every entry (the format
//       before seals), and sealed as the registry seals (one Ed25519 signature per batch on its
//       last entry, the batch's journal rows written at its end; the yardstick for b/a);
//   (b) the registry's transfer path in process: service::Registry::ExecuteBatch with the same
//       batch size on a real file;
// and prints operations per second, b/a and p50/p99 latency per operation (the latency of an
// operation is the wall time of the batch that carried it, from BEGIN to the end of COMMIT).
// The `http` mode is (c): the real http::Server on loopback in this process, driven by N
// keep-alive connections from one epoll thread that writes requests as bytes and reads answers
// only as far as it must (a load generator in the manner of wrk, so that the 2 cores go to the
// server; --load-client httplib drives them from N httplib::Client threads instead).
// The `scale` mode builds a large registry (many live blocks held by other accounts, by direct
// issuance batches) and reports transfer cost against the number of blocks held elsewhere,
// issuing cost against quantity, peak RSS, and `verify` time per million entries.
// The `aef` mode builds a registry with N Article 6 actions in one year (N first transfers of
// 1 t from MNG01 to JPN01 by transfer.international, in big batches) and times the AEF as
// `jcmreg report aef` makes it (StreamAef with the pre-consistency checks, into nothing and then
// into an XLSX file) for
// the transferring Party (N "First transfer" rows) and the acquiring Party (N "Acquisition" rows
// and N holdings rows), with rows per second and the peak RSS of each AEF alone (issue 32).
//
// The storage-limit loop talks to SQLite directly on purpose: it is the yardstick the service is
// measured against, so it cannot go through the Store. It writes into a database whose schema
// the real store created, so both sides update the same tables and indexes.
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/nomenclature.h"
#include "http/server.h"
#include "journal/chain.h"
#include "journal/witness.h"
#include "report/aef_builder.h"
#include "service/access.h"
#include "service/registry.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"

namespace registry::bench {
namespace {

using Clock = std::chrono::steady_clock;
using service::Json;

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Stops the run with a message; the benchmark has no way to go on after a failed write.
[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "jcm_bench: %s\n", message.c_str());
  std::exit(3);
}

// The outcome of one timed run: its operations, its wall time and each operation's latency.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Stats {
  int64_t ops = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // User + system CPU of the process (the benchmark is one thread).
  std::vector<double> latency_us;  // One value per operation.

  double OpsPerSecond() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  double CpuMicrosPerOp() const { return ops > 0 ? cpu_seconds * 1e6 / static_cast<double>(ops) : 0; }
  double Percentile(double p) {
    if (latency_us.empty()) return 0;
    std::sort(latency_us.begin(), latency_us.end());
    const size_t index = std::min(latency_us.size() - 1,
                                  static_cast<size_t>(p * static_cast<double>(latency_us.size())));
    return latency_us[index];
  }
  void AddBatch(double batch_us, size_t batch_ops) {
    latency_us.insert(latency_us.end(), batch_ops, batch_us);
  }
};

int64_t PeakRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // Kibibytes on Linux.
}

// Resets the peak RSS that PhasePeakRssKib reads (Linux >= 4.0: writing 5 to clear_refs resets
// VmHWM), so that a phase's own peak is not hidden by an earlier, larger one.
void ResetPhasePeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// The peak RSS since the last ResetPhasePeakRss (VmHWM).
int64_t PhasePeakRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return 0;
}

int64_t CurrentRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return 0;
}

// A scratch directory removed at the end unless --keep.
class WorkDir {
 public:
  WorkDir(const std::string& parent, bool keep) : keep_(keep) {
    std::string tmpl = parent + "/jcm-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) Die("cannot create a directory under " + parent);
    path_ = tmpl;
  }
  ~WorkDir() {
    if (keep_) {
      std::printf("kept %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  bool keep_;
};

// Opens (creating the schema of) a registry database with the real store.
std::unique_ptr<Store> OpenStore(const std::string& path) {
  auto store = sqlite::Open(sqlite::Options{path, true});
  if (!store) Die("open " + path + ": " + store.error().message);
  return std::move(store).value();
}

// ---- (a) the storage limit -------------------------------------------------------------------

class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      Die("raw open " + path);
    }
    Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;");
  }
  ~RawDb() {
    for (sqlite3_stmt* stmt : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      Die(std::string(sql).substr(0, 40) + ": " + sqlite3_errmsg(db_));
    }
  }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      Die(std::string("prepare: ") + sqlite3_errmsg(db_));
    }
    statements_.push_back(stmt);
    return stmt;
  }
  void Step(sqlite3_stmt* stmt) {
    if (sqlite3_step(stmt) != SQLITE_DONE) Die(std::string("step: ") + sqlite3_errmsg(db_));
    sqlite3_reset(stmt);
  }
  int64_t LastRowId() const { return sqlite3_last_insert_rowid(db_); }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

// The text of a transfer's request and result, the same shape and size as the registry's.
std::string TransferPayload() { return R"({"from":1,"quantity":1,"to":2})"; }

std::string TransferResult(int64_t block, int64_t parent, int64_t serial, int64_t sequence) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                R"({"blocks":[{"account":2,"created":%lld,"first":%lld,"first_transferred":false,)"
                R"("id":%lld,"last":%lld,"lot":1,"parent":%lld,"quantity":1}],"from":1,)"
                R"("quantity":1,"to":2})",
                static_cast<long long>(sequence), static_cast<long long>(serial),
                static_cast<long long>(block), static_cast<long long>(serial),
                static_cast<long long>(parent));
  return buf;
}

// What the storage-limit loop does per operation beyond the bare writes; used to price the
// registry's per-command overheads one at a time.
struct Extras {
  bool sign = false;                // Ed25519 over each entry's hash.
  bool savepoint_exec = false;      // SAVEPOINT/RELEASE per operation, parsed each time.
  bool savepoint_prepared = false;  // The same with prepared statements.
  bool last_entry = false;          // Read the whole last journal row per operation.
  bool seal = false;                // One seal per batch on its last entry (no per-entry
                                    // signature), the batch's journal rows written at its end,
                                    // as the registry does (ARCHITECTURE decision 4).
};

// The yardstick's extras: sealed the way the registry seals.
Extras SignedAsTheRegistry() {
  Extras extras;
  extras.seal = true;
  return extras;
}

Stats RunStorageLimit(const std::string& path, int64_t ops, int batch, const Extras& extras,
                      const journal::SigningKey& key) {
  OpenStore(path).reset();  // Creates the registry's schema; the loop below writes into it.
  RawDb db(path);
  const int64_t total = ops + 1;
  db.Exec("BEGIN IMMEDIATE");
  db.Exec("INSERT INTO accounts VALUES (1, 'JPN01', 'government_holding', 'open', 'a', 0),"
          "(2, 'JPN01', 'government_holding', 'open', 'b', 0)");
  db.Exec("INSERT INTO lots VALUES (1, 'JPN01', 1, 0, '', 2019, '', 'JPN', 0, '', 0, '', '', '',"
          " '', '', '', '', 1)");
  sqlite3_stmt* setup = db.Prepare(
      "INSERT INTO blocks VALUES (1, 1, 1, ?, 1, 0, NULL, 1, NULL, 0, NULL, 0)");
  sqlite3_bind_int64(setup, 1, total);
  db.Step(setup);
  db.Exec("COMMIT");

  sqlite3_stmt* close = db.Prepare("UPDATE blocks SET closed = ? WHERE id = ? AND closed IS NULL");
  sqlite3_stmt* insert = db.Prepare(
      "INSERT INTO blocks(lot, first, last, account, ft, parent, created, closed, use_year, "
      "cancel_purpose, hold) VALUES (1, ?, ?, ?, 0, ?, ?, NULL, 0, NULL, 0)");
  sqlite3_stmt* append = db.Prepare(
      "INSERT INTO journal(seq, time, actor, idem, command, payload, result, prev_hash, hash, "
      "sig, seal_first, seal_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  sqlite3_stmt* savepoint = db.Prepare("SAVEPOINT cmd");
  sqlite3_stmt* release = db.Prepare("RELEASE cmd");
  sqlite3_stmt* last = db.Prepare("SELECT * FROM journal ORDER BY seq DESC LIMIT 1");
  int64_t checksum = 0;

  JournalEntry entry;
  entry.time = "2026-01-01T00:00:00Z";
  entry.actor = "bench";
  entry.command = "transfer";
  entry.payload = TransferPayload();
  std::vector<JournalEntry> pending;  // With seal: the batch's entries, written at its end.
  auto append_row = [&](const JournalEntry& e) {
    sqlite3_bind_int64(append, 1, e.sequence.value);
    sqlite3_bind_text(append, 2, e.time.data(), static_cast<int>(e.time.size()), SQLITE_STATIC);
    sqlite3_bind_text(append, 3, e.actor.data(), static_cast<int>(e.actor.size()), SQLITE_STATIC);
    sqlite3_bind_text(append, 4, "", 0, SQLITE_STATIC);
    sqlite3_bind_text(append, 5, e.command.data(), static_cast<int>(e.command.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(append, 6, e.payload.data(), static_cast<int>(e.payload.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(append, 7, e.result.data(), static_cast<int>(e.result.size()),
                      SQLITE_STATIC);
    sqlite3_bind_blob(append, 8, e.prev_hash.data(), 32, SQLITE_STATIC);
    sqlite3_bind_blob(append, 9, e.hash.data(), 32, SQLITE_STATIC);
    if (e.seal.has_value()) {  // Signed per entry (Extras::sign) or per batch (Extras::seal).
      sqlite3_bind_blob(append, 10, e.seal->signature.data(), 64, SQLITE_STATIC);
      sqlite3_bind_int64(append, 11, e.seal->first.value);
      sqlite3_bind_blob(append, 12, key.public_key.data(), 32, SQLITE_STATIC);
    } else {
      sqlite3_bind_blob(append, 10, e.hash.data(), 0, SQLITE_STATIC);
      sqlite3_bind_null(append, 11);
      sqlite3_bind_null(append, 12);
    }
    db.Step(append);
  };
  int64_t sequence = 1;  // The setup counts as entry 1, as the registry's issuance does.
  int64_t live = 1;      // The remainder block of account 1.
  int64_t next_serial = 1;
  Stats stats;
  const auto start = Clock::now();
  const double cpu_start = CpuSeconds();
  for (int64_t done = 0; done < ops;) {
    const int64_t n = std::min<int64_t>(batch, ops - done);
    const auto t0 = Clock::now();
    db.Exec("BEGIN IMMEDIATE");
    for (int64_t i = 0; i < n; ++i) {
      if (extras.savepoint_exec) db.Exec("SAVEPOINT cmd");
      if (extras.savepoint_prepared) db.Step(savepoint);
      if (extras.last_entry) {
        while (sqlite3_step(last) == SQLITE_ROW) {
          // Copy the row out as the store's ReadEntry does.
          std::string text;
          for (int col = 1; col <= 6; ++col) {
            text.assign(reinterpret_cast<const char*>(sqlite3_column_text(last, col)),
                        static_cast<size_t>(sqlite3_column_bytes(last, col)));
            checksum += static_cast<int64_t>(text.size());
          }
          checksum += sqlite3_column_bytes(last, 8);
        }
        sqlite3_reset(last);
      }
      ++sequence;
      sqlite3_bind_int64(close, 1, sequence);
      sqlite3_bind_int64(close, 2, live);
      db.Step(close);
      const int64_t parent = live;
      const int64_t serial = next_serial++;
      // The moved tonne, to account 2.
      sqlite3_bind_int64(insert, 1, serial);
      sqlite3_bind_int64(insert, 2, serial);
      sqlite3_bind_int64(insert, 3, 2);
      sqlite3_bind_int64(insert, 4, parent);
      sqlite3_bind_int64(insert, 5, sequence);
      db.Step(insert);
      const int64_t moved = db.LastRowId();
      // The remainder, back to account 1.
      sqlite3_bind_int64(insert, 1, next_serial);
      sqlite3_bind_int64(insert, 2, total);
      sqlite3_bind_int64(insert, 3, 1);
      sqlite3_bind_int64(insert, 4, parent);
      sqlite3_bind_int64(insert, 5, sequence);
      db.Step(insert);
      live = db.LastRowId();
      entry.sequence = Sequence{sequence};
      entry.prev_hash = entry.hash;
      entry.result = TransferResult(moved, parent, serial, sequence);
      entry.hash = journal::EntryHash(entry);
      if (extras.seal) {
        pending.push_back(entry);
      } else {
        if (extras.sign) entry.seal = journal::MakeSeal(key, entry.sequence, entry);
        append_row(entry);
      }
      if (extras.savepoint_exec) db.Exec("RELEASE cmd");
      if (extras.savepoint_prepared) db.Step(release);
    }
    if (extras.seal) {
      pending.back().seal = journal::MakeSeal(key, pending.front().sequence, pending.back());
      for (const JournalEntry& e : pending) append_row(e);
      pending.clear();
    }
    db.Exec("COMMIT");
    stats.AddBatch(Seconds(t0, Clock::now()) * 1e6, static_cast<size_t>(n));
    done += n;
  }
  stats.seconds = Seconds(start, Clock::now());
  stats.cpu_seconds = CpuSeconds() - cpu_start;
  stats.ops = ops;
  if (checksum < 0) Die("impossible row size");
  return stats;
}

// ---- (b) the registry in process -------------------------------------------------------------

// A registry on a real file with Japan's registry, accounts 1 and 2 (government holding) and
// account 3 (government holding, the "other" holder of the scale runs).
struct BenchRegistry {
  std::unique_ptr<Store> store;
  journal::SigningKey key = journal::GenerateKey();
  service::FixedClock clock{"2026-01-01T00:00:00Z"};
  std::unique_ptr<service::Registry> registry;
  std::unique_ptr<journal::Witness> witness;

  explicit BenchRegistry(const std::string& path) : store(OpenStore(path)) {
    registry = std::make_unique<service::Registry>(*store, key, clock);
    Must("party.add", {{"code", "JPN"}, {"name", "Japan"}});
    Must("registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "JCM Registry (Japan)"}});
    for (const char* name : {"sender", "receiver", "other"}) {
      Must("account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", name}});
    }
  }

  // Seals every batch from now on into `path` (journal/witness.h).
  void Witness(const std::string& path, int sync_ms) {
    auto opened = journal::Witness::Open(path, std::chrono::milliseconds(sync_ms));
    if (!opened) Die(opened.error());
    witness = std::move(opened).value();
    registry->SetWitness(witness.get());
  }

  Json Must(const std::string& command, const Json& args) {
    const service::Response r = registry->Execute(service::Request{command, args, "bench", ""});
    if (!r.ok()) Die(command + " " + args.dump() + ": " + r.failure->Message());
    return r.result;
  }

  // Runs `count` copies of `request` in batches of `batch`; every command must apply. Only one
  // batch of requests exists at a time, so the benchmark's own memory stays flat.
  Stats RunBatches(const service::Request& request, int64_t count, int batch) {
    return RunGenerated([&](int64_t) { return request; }, count, batch, true);
  }

  // Runs requests make(0) .. make(count - 1) in batches of `batch`; every command must apply.
  // Without `keep_latency` only the totals are kept (the long filler runs of `scale`).
  template <typename Make>
  Stats RunGenerated(const Make& make, int64_t count, int batch, bool keep_latency,
                     int64_t progress_every = 0) {
    Stats stats;
    const auto start = Clock::now();
    const double cpu_start = CpuSeconds();
    std::vector<service::Request> chunk;
    int64_t next_progress = progress_every;
    for (int64_t done = 0; done < count;) {
      const int64_t n = std::min<int64_t>(batch, count - done);
      chunk.clear();
      for (int64_t i = 0; i < n; ++i) chunk.push_back(make(done + i));
      const auto t0 = Clock::now();
      const auto responses = registry->ExecuteBatch(chunk);
      if (keep_latency) stats.AddBatch(Seconds(t0, Clock::now()) * 1e6, static_cast<size_t>(n));
      for (size_t i = 0; i < responses.size(); ++i) {
        if (!responses[i].ok()) {
          Die(chunk[i].command + " " + chunk[i].args.dump() + ": " +
              responses[i].failure->Message());
        }
      }
      done += n;
      if (progress_every > 0 && done >= next_progress) {
        next_progress += progress_every;
        std::printf("  ... %lld of %lld in %.0f s (%.0f ops/s), RSS %lld KiB\n",
                    static_cast<long long>(done), static_cast<long long>(count),
                    Seconds(start, Clock::now()),
                    static_cast<double>(done) / Seconds(start, Clock::now()),
                    static_cast<long long>(CurrentRssKib()));
      }
    }
    stats.seconds = Seconds(start, Clock::now());
    stats.cpu_seconds = CpuSeconds() - cpu_start;
    stats.ops = count;
    return stats;
  }

  Stats Transfers(int64_t ops, int batch) {
    return RunBatches(
        service::Request{"transfer", {{"from", 1}, {"to", 2}, {"quantity", 1}}, "bench", ""}, ops,
        batch);
  }

  // The two administrators of the four-eyes runs, (b2) and (c2): one proposes, the other
  // approves. Returns their API tokens.
  static constexpr const char* kFourEyesUsers[2] = {"alice", "bob"};
  std::array<std::string, 2> AddFourEyesUsers() {
    std::array<std::string, 2> tokens;
    for (int u = 0; u < 2; ++u) {
      const service::NewToken token = service::MakeToken();
      Must("user.add", {{"name", kFourEyesUsers[u]},
                        {"role", service::kRoleAdministrator},
                        {"scope", "*"},
                        {"token_hash", token.hash}});
      tokens[u] = token.token;
    }
    return tokens;
  }

  // (b2) the four-eyes transfer of (c2) without HTTP, on a registry that has made no proposal
  // yet (they are numbered from 1): proposal.create of one serial of account 1 by one user, then
  // proposal.approve by the other, `batch` requests per commit (a transfer's two requests may
  // fall in one batch or two, as in the writer). The serials from `first_serial` on go one by
  // one. Stats::ops counts transfers, its latencies are per request.
  Stats FourEyes(int64_t ops, int batch, int64_t first_serial) {
    AddFourEyesUsers();
    Stats stats = RunGenerated(
        [&](int64_t i) {
          const int64_t op = i / 2;
          const char* proposer = kFourEyesUsers[op % 2];
          if (i % 2 == 0) {
            const std::string serial = std::to_string(first_serial + op);
            const Json args = {{"from", 1}, {"to", 2}, {"ranges", {serial}}};
            return service::Request{
                "proposal.create", {{"command", "transfer"}, {"args", args}}, proposer, ""};
          }
          return service::Request{"proposal.approve", {{"id", op + 1}},
                                  kFourEyesUsers[1 - op % 2], ""};
        },
        2 * ops, batch, true);
    stats.ops = ops;
    return stats;
  }

  Stats Issues(int64_t ops, int batch, int64_t quantity, int vintages, int account) {
    Json lines = Json::array();
    for (int v = 0; v < vintages; ++v) lines.push_back({{"vintage", 2013 + v}, {"quantity", quantity}});
    return RunBatches(
        service::Request{"issue", {{"account", account}, {"vintages", lines}}, "bench", ""}, ops,
        batch);
  }

  // Runs `verify` (chain, signatures, replay into memory, invariants); returns its seconds.
  double Verify(int64_t* entries) {
    const auto t0 = Clock::now();
    const service::VerifyReport report = service::Verify(*store, key.public_key, [] {
      return sqlite::OpenScratch();
    });
    const double seconds = Seconds(t0, Clock::now());
    if (!report.ok()) Die("verify failed: " + report.problems.front());
    *entries = report.entries;
    return seconds;
  }
};

void PrintRow(const char* name, Stats& stats, double base) {
  std::printf("%-48s %8.0f %8.3f %8.0f %8.0f %10.1f\n", name, stats.OpsPerSecond(),
              base > 0 ? stats.OpsPerSecond() / base : 0, stats.Percentile(0.50),
              stats.Percentile(0.99), stats.CpuMicrosPerOp());
}

std::vector<int> ParseList(const std::string& text, int min_value = 1) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const int value = std::atoi(text.substr(pos, comma - pos).c_str());
    if (value < min_value) Die("'" + text + "' must be a comma-separated list of integers >= " + std::to_string(min_value));
    out.push_back(value);
    pos = comma + 1;
  }
  return out;
}

// Which load generator drives (c). `lean` (the default) is one thread on epoll with N keep-alive
// connections, requests written as bytes and answers read as far as status, length and body, as
// wrk and similar tools do: it leaves the 2 cores to the server. `httplib` is N threads, each
// with its own httplib::Client (what the runs before 2026-12-02 used; those threads took 17-21%
// of the process's CPU, the lean thread 6-9%, besides the context switches they cause).
enum class LoadClient { kLean, kHttplib };

struct Options {
  std::string dir = "/tmp";
  bool keep = false;
  int64_t ops = 20000;
  std::string batches = "256";
  int64_t commits_max = 256;
  std::string only = "ab";
  bool extras = false;      // Also price the registry's per-command overheads on (a).  // Which of the runs to do (profiling one side).
  bool verify = false;
  // Throughput (b): a witness file beside b.db, fdatasynced at most every N ms (0: every line;
  // -1: no witness). What `serve --witness` costs the writer (journal/witness.h).
  int witness_sync_ms = -1;
  // Scale mode.
  int64_t blocks = 1000000;
  std::string checkpoints = "0,10000,100000,1000000";
  std::string pending = "100,1000";  // Pending proposals on the source account to probe at.
  int64_t probe_ops = 5000;
  int64_t issue_ops = 2000;
  int vintages = 1;
  int scale_batch = 256;  // `all`: the batch of the scale and aef runs.
  int64_t entries = 0;  // Grow the journal to this many entries (0: do not).
  // HTTP mode.
  std::string clients = "1,4,16,64";
  int64_t http_ops = 2000;
  std::string load_client = "lean";  // LoadClient: lean or httplib.
  int server_threads = 0;             // The server's workers; 0: its default (jcmreg serve's).
  // AEF mode.
  int64_t actions = 1000000;
  std::string data = JCM_SOURCE_DIR "/data/nomenclature";
};

// The figures `jcm_bench all` prints again at its end, one line each, so that one run gives
// the three throughputs, both ratios and the scale figures together.
std::vector<std::string>& SummaryLines() {
  static std::vector<std::string> lines;
  return lines;
}

// The figures issue 8's aims are judged by, as `all` measures them; printed at its end against
// each aim (measured and reported, never asserted: a slow moment of the host is not a bug).
struct AimFigures {
  double lowest_b_over_a = -1;  // Over the batch sizes; -1 until (a) and (b) ran.
  int lowest_batch = 0;
  struct Http {
    int clients = 0;
    double transfers_per_second = 0;
    double p99_ms = 0;
  };
  std::vector<Http> four_eyes;  // (c2) at each N.
  double verify_entries_per_second = -1;
};
AimFigures& Aims() {
  static AimFigures figures;
  return figures;
}

// The lines `all` prints under its summary: each aim of issue 8, the figure, met or not.
std::vector<std::string> AimLines(const AimFigures& f) {
  std::vector<std::string> lines;
  char line[256];
  if (f.lowest_b_over_a >= 0) {
    std::snprintf(line, sizeof line, "b/a >= 0.8 at every batch: lowest %.2f (batch %d): %s",
                  f.lowest_b_over_a, f.lowest_batch, f.lowest_b_over_a >= 0.8 ? "met" : "not met");
    lines.emplace_back(line);
  }
  if (!f.four_eyes.empty()) {
    const auto meets = [](const AimFigures::Http& h) {
      return h.transfers_per_second >= 10000 && h.p99_ms < 20;
    };
    // The best N: one that meets the aim if any, else the most transfers per second.
    const AimFigures::Http* best = &f.four_eyes.front();
    for (const AimFigures::Http& h : f.four_eyes) {
      if (meets(h) != meets(*best) ? meets(h)
                                   : h.transfers_per_second > best->transfers_per_second) {
        best = &h;
      }
    }
    std::snprintf(line, sizeof line,
                  "four-eyes transfers over HTTP >= 10,000/s with p99 < 20 ms per request: "
                  "best N=%d, %.0f/s, p99 %.1f ms: %s",
                  best->clients, best->transfers_per_second, best->p99_ms,
                  meets(*best) ? "met" : "not met");
    lines.emplace_back(line);
  }
  if (f.verify_entries_per_second >= 0) {
    std::snprintf(line, sizeof line, "verify >= 200,000 entries/s: %.0f: %s",
                  f.verify_entries_per_second,
                  f.verify_entries_per_second >= 200000 ? "met" : "not met");
    lines.emplace_back(line);
  }
  return lines;
}

__attribute__((format(printf, 1, 2))) void Note(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  SummaryLines().emplace_back(line);
}

int Throughput(const Options& o) {
  std::printf("throughput: up to %lld transfers of 1 t per run (at most %lld commits), WAL + "
              "synchronous=FULL, real files in %s\n",
              static_cast<long long>(o.ops), static_cast<long long>(o.commits_max), o.dir.c_str());
  std::printf("%-48s %8s %8s %8s %8s %10s\n", "run", "ops/s", "x/a(sig)", "p50 us", "p99 us",
              "cpu us/op");
  const journal::SigningKey key = journal::GenerateKey();
  int run = 0;
  for (const int batch : ParseList(o.batches)) {
    // Small batches are bounded by fsync latency; cap their commits so a run stays short.
    const int64_t ops = std::min(o.ops, batch * o.commits_max);
    WorkDir dir(o.dir, o.keep);
    const bool run_a = o.only.find('a') != std::string::npos;
    const bool run_b = o.only.find('b') != std::string::npos;
    Stats plain, inline_a, signed_a, b, b2;
    if (run_a) plain = RunStorageLimit(dir.File("a-plain.db"), ops, batch, Extras{}, key);
    if (run_a) {
      inline_a = RunStorageLimit(dir.File("a-inline.db"), ops, batch, Extras{true}, key);
    }
    if (run_a) {
      signed_a = RunStorageLimit(dir.File("a-signed.db"), ops, batch, SignedAsTheRegistry(), key);
    }
    BenchRegistry r(dir.File("b.db"));
    r.Must("issue", {{"account", 1}, {"vintages", {{{"vintage", 2019}, {"quantity", ops + 1}}}}});
    if (o.witness_sync_ms >= 0) r.Witness(dir.File("b.witness"), o.witness_sync_ms);
    if (run_b) b = r.Transfers(ops, batch);
    // (b2) on a registry of its own, so that (b)'s file and journal stay as they were.
    BenchRegistry r2(dir.File("b2.db"));
    if (run_b) {
      const Json issued = r2.Must(
          "issue", {{"account", 1}, {"vintages", {{{"vintage", 2019}, {"quantity", ops}}}}});
      b2 = r2.FourEyes(ops, batch, issued.at("lots").at(0).at("first").get<int64_t>());
    }
    // The yardstick: the same writes and the same seal, made the way the registry makes them
    // (one signature per batch, the batch's journal rows written at its end).
    const double base = signed_a.OpsPerSecond();
    char name[96];
    std::printf("batch %d: %lld transfers\n", batch, static_cast<long long>(ops));
    std::snprintf(name, sizeof name, "batch %d (a) sqlite, no signature", batch);
    PrintRow(name, plain, base);
    std::snprintf(name, sizeof name, "batch %d (a) sqlite + Ed25519 per entry", batch);
    PrintRow(name, inline_a, base);
    std::snprintf(name, sizeof name, "batch %d (a) sqlite + one seal per batch", batch);
    PrintRow(name, signed_a, base);
    std::snprintf(name, sizeof name, "batch %d (b) Registry::ExecuteBatch", batch);
    PrintRow(name, b, base);
    std::snprintf(name, sizeof name, "batch %d (b2) four-eyes, in process", batch);
    PrintRow(name, b2, base);
    if (run_a && run_b) {
      std::printf(
          "%-48s b/a(sealed) = %.3f   b/a(signed per entry) = %.3f   b/a(unsigned) = %.3f\n", "",
          b.OpsPerSecond() / base, b.OpsPerSecond() / inline_a.OpsPerSecond(),
          b.OpsPerSecond() / plain.OpsPerSecond());
      Note(
          "batch %4d  (a) %6.0f ops/s unsigned, %6.0f signed per entry, %6.0f sealed  (b) %6.0f "
          "ops/s  b/a %.2f (per entry %.2f, unsigned %.2f)  (b) p50 %.1f ms p99 %.1f ms",
          batch, plain.OpsPerSecond(), inline_a.OpsPerSecond(), base, b.OpsPerSecond(),
          b.OpsPerSecond() / base, b.OpsPerSecond() / inline_a.OpsPerSecond(),
          b.OpsPerSecond() / plain.OpsPerSecond(), b.Percentile(0.5) / 1000,
          b.Percentile(0.99) / 1000);
      AimFigures& aims = Aims();
      if (aims.lowest_b_over_a < 0 || b.OpsPerSecond() / base < aims.lowest_b_over_a) {
        aims.lowest_b_over_a = b.OpsPerSecond() / base;
        aims.lowest_batch = batch;
      }
      Note("batch %4d  (b2) four-eyes in process %6.0f transfers/s (%.0f requests/s), "
           "%.1f us CPU per transfer, b2/a %.2f",
           batch, b2.OpsPerSecond(), 2 * b2.OpsPerSecond(), b2.CpuMicrosPerOp(),
           b2.OpsPerSecond() / base);
    }
    if (o.verify && run_b) {
      int64_t entries = 0;
      const double seconds = r.Verify(&entries);
      std::printf("%-48s verify: %lld entries in %.3f s\n", "", static_cast<long long>(entries),
                  seconds);
      if (entries != ops + 6) Die("the journal does not hold one entry per transfer");
      const double seconds2 = r2.Verify(&entries);
      std::printf("%-48s verify (b2): %lld entries in %.3f s\n", "",
                  static_cast<long long>(entries), seconds2);
      if (entries != 2 * ops + 8) Die("the (b2) journal does not hold two entries per transfer");
    }
    if (o.extras && run_a) {
      // The registry's per-command overheads, priced one at a time on top of (a) signed inline.
      const struct {
        const char* name;
        Extras extras;
      } variants[] = {
          {"+ SAVEPOINT/RELEASE via exec", {true, true, false, false}},
          {"+ SAVEPOINT/RELEASE prepared", {true, false, true, false}},
          {"+ read last journal row", {true, false, false, true}},
      };
      int index = 0;
      for (const auto& v : variants) {
        Stats extra = RunStorageLimit(dir.File("a-extra" + std::to_string(index++) + ".db"), ops,
                                      batch, v.extras, key);
        std::snprintf(name, sizeof name, "batch %d (a) signed inline %s", batch, v.name);
        PrintRow(name, extra, base);
      }
    }
    ++run;
  }
  std::printf("(c) over HTTP: see `jcm_bench http`\n");
  std::printf("peak RSS %lld KiB\n", static_cast<long long>(PeakRssKib()));
  return run > 0 ? 0 : 2;
}

// ---- (c) over HTTP -------------------------------------------------------------------------

// The writer's group-commit counters from /metrics: {requests, batches}.
std::pair<int64_t, int64_t> WriterCounters(int port) {
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/metrics");
  if (!res || res->status != 200) Die("GET /metrics failed");
  auto value = [&](const std::string& name) -> int64_t {
    const size_t at = res->body.find("\n" + name + " ");
    if (at == std::string::npos) Die("/metrics has no " + name);
    return std::atoll(res->body.c_str() + at + name.size() + 2);
  };
  return {value("jcm_writer_batch_size_sum"), value("jcm_writer_batch_size_count")};
}

struct HttpStats {
  Stats stats;            // ops = operations (c1: holds, c2: transfers); latency per request.
  int64_t requests = 0;
  double mean_batch = 0;  // Requests per group-commit batch of the writer during the run.
  double load_cpu_seconds = 0;  // CPU of the load client's threads (in stats.cpu_seconds too).
};

// CPU time of the calling thread since it started.
double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// One HTTP request of an operation: what to send and the status it must be answered with.
struct Outgoing {
  std::string path;
  std::string token;
  Json body;
  int expected = 200;
  bool answer_needed = false;  // The next step reads the answer's JSON.
};

// Request `step` of operation `op` (0..ops-1), given the parsed answer to step-1 (null at step
// 0); nullopt once the operation is complete.
using NextRequest =
    std::function<std::optional<Outgoing>(int64_t op, int step, const Json& previous)>;

[[noreturn]] void DieOnAnswer(const Outgoing& out, int status, std::string_view body) {
  Die("POST " + out.path + " " + out.body.dump() + ": HTTP " + std::to_string(status) + " " +
      std::string(body));
}

// N threads with one httplib::Client each. Returns the CPU seconds the threads used.
double DriveHttplib(int port, int clients, int64_t ops, const NextRequest& next,
                    std::vector<std::vector<double>>& latencies) {
  std::atomic<int64_t> counter{0};
  std::vector<double> cpu(static_cast<size_t>(clients), 0);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(120, 0);
      for (int64_t op = counter++; op < ops; op = counter++) {
        Json previous;
        for (int step = 0;; ++step) {
          std::optional<Outgoing> out = next(op, step, previous);
          if (!out) break;
          const httplib::Headers headers = {{"Authorization", "Bearer " + out->token}};
          const auto t0 = Clock::now();
          auto res = client.Post(out->path.c_str(), headers, out->body.dump(), "application/json");
          if (!res) Die("POST " + out->path + ": " + httplib::to_string(res.error()));
          latencies[static_cast<size_t>(c)].push_back(Seconds(t0, Clock::now()) * 1e6);
          if (res->status != out->expected) DieOnAnswer(*out, res->status, res->body);
          previous = out->answer_needed ? Json::parse(res->body, nullptr, false) : Json();
        }
      }
      cpu[static_cast<size_t>(c)] = ThreadCpuSeconds();
    });
  }
  for (std::thread& t : threads) t.join();
  double total = 0;
  for (const double seconds : cpu) total += seconds;
  return total;
}

// One thread, epoll, `clients` keep-alive connections; each runs one operation at a time.
class LeanClients {
 public:
  LeanClients(int port, int64_t ops, const NextRequest& next, std::vector<double>& latencies)
      : port_(port), ops_(ops), next_(next), latencies_(latencies) {}

  void Run(int clients) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) Die("epoll_create1 failed");
    conns_.resize(static_cast<size_t>(clients));
    for (size_t i = 0; i < conns_.size(); ++i) {
      Connect(i);
      StartOperation(i);
    }
    std::vector<epoll_event> events(conns_.size());
    while (running_ > 0) {
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 120000);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) Die("no answer from the server in 120 s");
      for (int e = 0; e < n; ++e) Readable(events[static_cast<size_t>(e)].data.u64);
    }
    for (Conn& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
    close(epoll_);
  }

 private:
  struct Conn {
    int fd = -1;
    int64_t op = -1;  // -1: idle, no operation left.
    int step = 0;
    Outgoing out;
    std::string in;
    Clock::time_point sent;
  };

  void Connect(size_t i) {
    Conn& c = conns_[i];
    if (c.fd >= 0) {
      epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
    }
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0) Die("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      Die("connect to 127.0.0.1:" + std::to_string(port_) + " failed");
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Non-blocking: an event epoll reported for a connection since replaced finds nothing.
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) Die("epoll_ctl failed");
  }

  void StartOperation(size_t i) {
    Conn& c = conns_[i];
    c.op = next_op_ < ops_ ? next_op_++ : -1;
    if (c.op < 0) return;
    ++running_;
    c.step = 0;
    Send(i, Json());
  }

  // Sends the next request of the connection's operation, or ends the operation.
  void Send(size_t i, const Json& previous) {
    Conn& c = conns_[i];
    std::optional<Outgoing> out = next_(c.op, c.step, previous);
    if (!out) {
      --running_;
      StartOperation(i);
      return;
    }
    c.out = std::move(*out);
    const std::string body = c.out.body.dump();
    std::string bytes = "POST " + c.out.path +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + c.out.token +
                        "\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
    c.in.clear();
    c.sent = Clock::now();
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t w = send(c.fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd writable{c.fd, POLLOUT, 0};
        poll(&writable, 1, 1000);
        continue;
      }
      if (w <= 0) Die("send to the server failed");
      done += static_cast<size_t>(w);
    }
  }

  void Readable(size_t i) {
    Conn& c = conns_[i];
    char buffer[16384];
    const ssize_t r = recv(c.fd, buffer, sizeof buffer, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (r == 0 && c.op < 0) {  // An idle connection the server closed: nothing was asked.
      epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
      c.fd = -1;
      return;
    }
    if (r <= 0) Die("the server closed a connection in the middle of an answer");
    c.in.append(buffer, static_cast<size_t>(r));
    const size_t head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) return;
    const std::string_view head(c.in.data(), head_end);
    const std::string_view length_value = HeaderValue(head, "content-length");
    if (c.in.compare(0, 9, "HTTP/1.1 ") != 0 || length_value.empty()) {
      Die("an answer without a status line or a Content-Length: " + std::string(head));
    }
    size_t length = 0;
    const auto parsed =
        std::from_chars(length_value.data(), length_value.data() + length_value.size(), length);
    if (parsed.ec != std::errc() || parsed.ptr != length_value.data() + length_value.size()) {
      Die("an answer whose Content-Length is not a number: " + std::string(head));
    }
    if (c.in.size() < head_end + 4 + length) return;
    latencies_.push_back(Seconds(c.sent, Clock::now()) * 1e6);
    const int status = std::atoi(c.in.c_str() + 9);
    const std::string_view body(c.in.data() + head_end + 4, length);
    if (status != c.out.expected) DieOnAnswer(c.out, status, body);
    const Json previous = c.out.answer_needed ? Json::parse(body, nullptr, false) : Json();
    // The server ends a keep-alive connection after so many requests; open another.
    if (HeaderValue(head, "connection") == "close") Connect(i);
    ++c.step;
    Send(i, previous);
  }

  // The value of header `name` (lower case) in `head`, without surrounding blanks; empty when
  // the header is absent.
  static std::string_view HeaderValue(std::string_view head, std::string_view name) {
    for (size_t at = head.find("\r\n"); at != std::string::npos; at = head.find("\r\n", at + 2)) {
      const size_t start = at + 2;
      if (head.size() - start <= name.size() || head[start + name.size()] != ':') continue;
      bool same = true;
      for (size_t k = 0; k < name.size() && same; ++k) {
        same = std::tolower(static_cast<unsigned char>(head[start + k])) == name[k];
      }
      if (!same) continue;
      size_t from = start + name.size() + 1;
      size_t to = std::min(head.find("\r\n", from), head.size());
      while (from < to && head[from] == ' ') ++from;
      while (to > from && head[to - 1] == ' ') --to;
      return head.substr(from, to - from);
    }
    return {};
  }

  int port_;
  int64_t ops_;
  const NextRequest& next_;
  std::vector<double>& latencies_;
  int epoll_ = -1;
  std::vector<Conn> conns_;
  int64_t next_op_ = 0;
  int64_t running_ = 0;
};

// Runs `ops` operations (requests made by `next`) from `clients` keep-alive connections driven
// by `kind`, recording each request's latency.
HttpStats RunClients(int port, int clients, int64_t ops, int requests_per_op, LoadClient kind,
                     const NextRequest& next) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
  const auto before = WriterCounters(port);
  const double cpu_start = CpuSeconds();
  const auto start = Clock::now();
  double load_cpu = 0;
  if (kind == LoadClient::kLean) {
    const double before_cpu = ThreadCpuSeconds();
    LeanClients(port, ops, next, latencies[0]).Run(clients);
    load_cpu = ThreadCpuSeconds() - before_cpu;
  } else {
    load_cpu = DriveHttplib(port, clients, ops, next, latencies);
  }
  HttpStats out;
  out.load_cpu_seconds = load_cpu;
  out.stats.seconds = Seconds(start, Clock::now());
  out.stats.cpu_seconds = CpuSeconds() - cpu_start;
  out.stats.ops = ops;
  out.requests = ops * requests_per_op;
  for (auto& l : latencies) out.stats.latency_us.insert(out.stats.latency_us.end(), l.begin(), l.end());
  if (static_cast<int64_t>(out.stats.latency_us.size()) != out.requests) {
    Die(std::to_string(out.stats.latency_us.size()) + " answers for " +
        std::to_string(out.requests) + " requests");
  }
  const auto after = WriterCounters(port);
  const int64_t batches = after.second - before.second;
  out.mean_batch = batches > 0 ? static_cast<double>(after.first - before.first) /
                                     static_cast<double>(batches)
                               : 0;
  return out;
}

int64_t JournalHead(Store& store) {
  auto tx = store.BeginRead();
  if (!tx) Die("read: " + tx.error().message);
  auto last = (*tx)->LastEntry();
  if (!last || !last->has_value()) Die("the journal is empty");
  return (*last)->sequence.value;
}

std::string SerialRange(int64_t serial) {
  return std::to_string(serial) + "-" + std::to_string(serial);
}

void PrintHttpRow(const char* name, HttpStats& run, double base) {
  const double ops = static_cast<double>(run.stats.ops);
  std::printf("%-30s %8.0f %8.0f %8.3f %8.0f %8.0f %8.1f %10.1f %10.1f\n", name,
              run.stats.OpsPerSecond(), static_cast<double>(run.requests) / run.stats.seconds,
              base > 0 ? run.stats.OpsPerSecond() / base : 0, run.stats.Percentile(0.50),
              run.stats.Percentile(0.99), run.mean_batch, run.stats.cpu_seconds * 1e6 / ops,
              (run.stats.cpu_seconds - run.load_cpu_seconds) * 1e6 / ops);
}

int Http(const Options& o) {
  const LoadClient load_client =
      o.load_client == "httplib" ? LoadClient::kHttplib : LoadClient::kLean;
  std::printf(
      "http: %lld operations per run over HTTP/1.1 keep-alive on 127.0.0.1, in-process "
      "http::Server (single writer, group commit), WAL + synchronous=FULL, files in %s\n"
      "  (c1) POST /v1/commands/block.hold {account 1, one serial}: 1 request, 1 block "
      "closed, 2 written, 1 signed entry\n"
      "  (c2) four-eyes transfer of one serial: POST /v1/transfers (202, user A) + POST "
      "/v1/proposals/{id}/approve (200, user B) = 2 requests, 2 journal entries\n"
      "  (a) sqlite + one seal per batch at batch = N clients (the best group commit N "
      "clients allow)\n"
      "  server: %zu workers (--server-threads; jcmreg serve --threads)\n"
      "  load client: %s; cpu us/op is the whole process's, srv us/op without the load "
      "client's threads\n",
      static_cast<long long>(o.http_ops), o.dir.c_str(),
      o.server_threads > 0 ? static_cast<size_t>(o.server_threads) : http::ServerOptions{}.threads,
      load_client == LoadClient::kLean
          ? "lean (one epoll thread drives the N connections)"
          : "httplib (one thread and one httplib::Client per connection)");
  std::printf("%-30s %8s %8s %8s %8s %8s %8s %10s %10s\n", "run", "ops/s", "req/s", "c/a",
              "p50 us", "p99 us", "batch", "cpu us/op", "srv us/op");
  const journal::SigningKey key = journal::GenerateKey();
  for (const int clients : ParseList(o.clients)) {
    const int64_t ops = o.http_ops;
    WorkDir dir(o.dir, o.keep);
    Stats a = RunStorageLimit(dir.File("a-signed.db"), ops, clients, SignedAsTheRegistry(), key);
    BenchRegistry r(dir.File("c.db"));
    const Json issued =
        r.Must("issue", {{"account", 1}, {"vintages", {{{"vintage", 2019}, {"quantity", 2 * ops}}}}});
    const int64_t first = issued.at("lots").at(0).at("first").get<int64_t>();
    const std::array<std::string, 2> tokens = r.AddFourEyesUsers();
    http::ServerOptions options;
    options.port = 0;
    options.rate_per_second = 0;  // Rate limiting off: the clients are the load.
    options.access_log = false;
    // No worker waits for a commit (the writer hands answers back), so the server's default
    // pool serves any N; --server-threads tries others.
    if (o.server_threads > 0) options.threads = static_cast<size_t>(o.server_threads);
    // Every client connects from 127.0.0.1.
    options.connections_per_address_max = std::max<size_t>(options.connections_per_address_max,
                                                           static_cast<size_t>(clients));
    options.public_key = r.key.public_key;
    options.scratch = [] { return sqlite::OpenScratch(); };
    const int64_t head_before = JournalHead(*r.store);
    http::Server server(*r.store, *r.registry, options);
    auto port = server.Start();
    if (!port) Die("server: " + port.error());
    // (c1): serials first .. first+ops-1 are held one by one.
    HttpStats c1 = RunClients(
        *port, clients, ops, 1, load_client,
        [&](int64_t op, int step, const Json&) -> std::optional<Outgoing> {
          if (step == 1) return std::nullopt;
          return Outgoing{"/v1/commands/block.hold",
                          tokens[0],
                          {{"account", 1}, {"ranges", {SerialRange(first + op)}}, {"hold", true}},
                          200};
        });
    // (c2): serials first+ops .. first+2*ops-1 go to account 2, proposed by A, approved by B.
    HttpStats c2 = RunClients(
        *port, clients, ops, 2, load_client,
        [&](int64_t op, int step, const Json& previous) -> std::optional<Outgoing> {
          const size_t proposer = op % 2 == 0 ? 1 : 0;
          if (step == 0) {
            return Outgoing{"/v1/transfers",
                            tokens[proposer],
                            {{"from", 1}, {"to", 2}, {"ranges", {SerialRange(first + ops + op)}}},
                            202,
                            true};
          }
          if (step == 2) return std::nullopt;
          const Json::json_pointer id("/result/id");
          if (!previous.contains(id) || !previous.at(id).is_number_integer()) {
            Die("POST /v1/transfers answered without result.id: " + previous.dump());
          }
          return Outgoing{"/v1/proposals/" + std::to_string(previous.at(id).get<int64_t>()) +
                              "/approve",
                          tokens[1 - proposer], Json::object(), 200};
        });
    server.Stop();
    const double base = a.OpsPerSecond();
    char name[64];
    std::printf("N=%d clients\n", clients);
    std::snprintf(name, sizeof name, "N=%d (a) sqlite+seal b=%d", clients, clients);
    std::printf("%-30s %8.0f %8s %8.3f %8.0f %8.0f %8d %10.1f\n", name, a.OpsPerSecond(), "-", 1.0,
                a.Percentile(0.5), a.Percentile(0.99), clients, a.CpuMicrosPerOp());
    std::snprintf(name, sizeof name, "N=%d (c1) block.hold", clients);
    PrintHttpRow(name, c1, base);
    std::snprintf(name, sizeof name, "N=%d (c2) 4-eyes transfer", clients);
    PrintHttpRow(name, c2, base);
    Note("N=%-3d (a) %6.0f ops/s  (c1) block.hold %5.0f ops/s c1/a %.2f p50 %.1f ms p99 %.1f ms  "
         "(c2) 4-eyes %5.0f transfers/s (%5.0f req/s) c2/a %.2f p50 %.1f ms p99 %.1f ms",
         clients, base, c1.stats.OpsPerSecond(), c1.stats.OpsPerSecond() / base,
         c1.stats.Percentile(0.5) / 1000, c1.stats.Percentile(0.99) / 1000,
         c2.stats.OpsPerSecond(), static_cast<double>(c2.requests) / c2.stats.seconds,
         c2.stats.OpsPerSecond() / base, c2.stats.Percentile(0.5) / 1000,
         c2.stats.Percentile(0.99) / 1000);
    Aims().four_eyes.push_back(
        {clients, c2.stats.OpsPerSecond(), c2.stats.Percentile(0.99) / 1000});
    // Every operation applied exactly once: one entry per hold, two per transfer.
    const int64_t head = JournalHead(*r.store);
    if (head - head_before != 3 * ops) {
      Die("the journal grew by " + std::to_string(head - head_before) + " entries, not " +
          std::to_string(3 * ops));
    }
    if (o.verify) {
      int64_t entries = 0;
      const double seconds = r.Verify(&entries);
      std::printf("%-30s verify: %lld entries in %.3f s\n", "", static_cast<long long>(entries),
                  seconds);
    }
  }
  std::printf("peak RSS %lld KiB\n", static_cast<long long>(PeakRssKib()));
  return 0;
}

int Scale(const Options& o) {
  const int batch = ParseList(o.batches).front();
  std::printf("scale: up to %lld live blocks held by another account, %d vintage(s) per issue, "
              "journal grown to %lld entries, batch %d\n",
              static_cast<long long>(o.blocks), o.vintages, static_cast<long long>(o.entries),
              batch);
  WorkDir dir(o.dir, o.keep);
  BenchRegistry r(dir.File("scale.db"));
  // Accounts 4 and 5 pass one 1 t block back and forth to grow the journal (see below).
  for (const char* name : {"filler-a", "filler-b"}) {
    r.Must("account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", name}});
  }
  r.Must("issue", {{"account", 4}, {"vintages", {{{"vintage", 2019}, {"quantity", 1}}}}});
  // Account 1 holds enough to send every probe transfer.
  const std::vector<int> checkpoints = [&] {
    std::vector<int> c;
    for (int v : ParseList(o.checkpoints, 0)) {
      if (v <= o.blocks && (c.empty() || v > c.back())) c.push_back(v);
    }
    if (c.empty()) c.push_back(0);
    return c;
  }();
  std::vector<int> pendings;
  for (int v : ParseList(o.pending, 0)) {
    if (v > 1000) Die("--pending: at most 1000 proposals may be pending on one account");
    if (v > 0 && (pendings.empty() || v > pendings.back())) pendings.push_back(v);
  }
  const int64_t max_pending = pendings.empty() ? 0 : pendings.back();
  const Json probe_lot = r.Must(
      "issue", {{"account", 1},
                {"vintages", {{{"vintage", 2019},
                               {"quantity", o.probe_ops * static_cast<int64_t>(checkpoints.size() +
                                                                                pendings.size() + 1) +
                                                max_pending + 1}}}}});
  const int64_t probe_bottom = probe_lot.at("lots").at(0).at("first").get<int64_t>();
  std::printf("%-12s %10s %10s %10s %14s %12s %10s\n", "blocks(other)", "xfer ops/s", "p50 us",
              "p99 us", "build ops/s", "journal", "RSS KiB");
  auto probe = [&](int64_t held, double build_rate) {
    Stats transfers = r.Transfers(o.probe_ops, batch);
    const int64_t entries = JournalHead(*r.store);
    std::printf("%-12lld %10.0f %10.0f %10.0f %14.0f %12lld %10lld\n", static_cast<long long>(held),
                transfers.OpsPerSecond(), transfers.Percentile(0.5), transfers.Percentile(0.99),
                build_rate, static_cast<long long>(entries),
                static_cast<long long>(CurrentRssKib()));
    Note("scale  transfer with %8lld blocks held elsewhere, journal %9lld entries: %6.0f ops/s, "
         "p50 %.1f ms p99 %.1f ms, RSS %lld MiB",
         static_cast<long long>(held), static_cast<long long>(entries), transfers.OpsPerSecond(),
         transfers.Percentile(0.5) / 1000, transfers.Percentile(0.99) / 1000,
         static_cast<long long>(CurrentRssKib() / 1024));
  };
  int64_t held = 0;
  for (const int target : checkpoints) {
    double build_rate = 0;
    if (target > held) {
      const int64_t issues = (target - held + o.vintages - 1) / o.vintages;
      Stats build = r.RunGenerated(
          [&](int64_t) {
            Json lines = Json::array();
            for (int v = 0; v < o.vintages; ++v) {
              lines.push_back({{"vintage", 2013 + v}, {"quantity", 1}});
            }
            return service::Request{"issue", {{"account", 3}, {"vintages", lines}}, "bench", ""};
          },
          issues, batch, false, 250000);
      build_rate = static_cast<double>(issues) / build.seconds;
      held += issues * o.vintages;
    }
    probe(held, build_rate);
  }
  // Pending four-eyes proposals on the probe's source account: each reserves one serial at the
  // bottom of account 1's holding, which the probe (the last serials first, R-ID-03) never
  // reaches, and every probe transfer is checked against all of them.
  if (!pendings.empty()) {
    std::printf("\n%-12s %10s %10s %10s %14s %12s %10s\n", "pending", "xfer ops/s", "p50 us",
                "p99 us", "propose ops/s", "journal", "RSS KiB");
  }
  int64_t pending = 0;
  for (const int target : pendings) {
    Stats build = r.RunGenerated(
        [&](int64_t i) {
          const int64_t serial = probe_bottom + pending + i;
          return service::Request{
              "proposal.create",
              {{"command", "transfer"},
               {"args", {{"from", 1}, {"to", 2}, {"ranges", {std::to_string(serial)}}}}},
              "bench",
              ""};
        },
        target - pending, batch, false);
    pending = target;
    Stats transfers = r.Transfers(o.probe_ops, batch);
    std::printf("%-12lld %10.0f %10.0f %10.0f %14.0f %12lld %10lld\n",
                static_cast<long long>(pending), transfers.OpsPerSecond(),
                transfers.Percentile(0.5), transfers.Percentile(0.99), build.OpsPerSecond(),
                static_cast<long long>(JournalHead(*r.store)),
                static_cast<long long>(CurrentRssKib()));
    Note("scale  transfer with %4lld proposals pending on its source account: %6.0f ops/s, "
         "p50 %.1f ms p99 %.1f ms (proposing: %.0f ops/s)",
         static_cast<long long>(pending), transfers.OpsPerSecond(),
         transfers.Percentile(0.5) / 1000, transfers.Percentile(0.99) / 1000,
         build.OpsPerSecond());
  }
  // The journal grows to --entries with transfers that keep the live blocks as they are: the
  // whole 1 t block of account 4 goes to account 5 and back (each closes one block and creates
  // one), so history grows and nothing else does; then the transfer probe runs again.
  // The probe after the filler and the issuing runs add the rest, so verify reads --entries.
  const int64_t filler = o.entries - JournalHead(*r.store) - o.probe_ops - 4 * o.issue_ops;
  if (filler > 0) {
    Stats build = r.RunGenerated(
        [](int64_t i) {
          const int from = i % 2 == 0 ? 4 : 5;
          return service::Request{"transfer", {{"from", from}, {"to", 9 - from}, {"quantity", 1}},
                                  "bench", ""};
        },
        filler, batch, false, 1000000);
    Note("scale  journal grown by %lld transfers in %.0f s: %.0f ops/s",
         static_cast<long long>(filler), build.seconds, build.OpsPerSecond());
    if (!pendings.empty()) {  // The pending table came in between: the header again.
      std::printf("\n%-12s %10s %10s %10s %14s %12s %10s\n", "blocks(other)", "xfer ops/s",
                  "p50 us", "p99 us", "build ops/s", "journal", "RSS KiB");
    }
    probe(held, build.OpsPerSecond());
  }
  std::printf("\n%-14s %10s %10s %10s\n", "issue quantity", "ops/s", "p50 us", "p99 us");
  for (const int64_t quantity : {int64_t{1}, int64_t{1000}, int64_t{1000000}, int64_t{1000000000}}) {
    Stats issue = r.Issues(o.issue_ops, batch, quantity, 1, 1);
    std::printf("%-14lld %10.0f %10.0f %10.0f\n", static_cast<long long>(quantity),
                issue.OpsPerSecond(), issue.Percentile(0.5), issue.Percentile(0.99));
    Note("scale  issue %10lld t: %6.0f ops/s, p50 %.1f ms p99 %.1f ms",
         static_cast<long long>(quantity), issue.OpsPerSecond(), issue.Percentile(0.5) / 1000,
         issue.Percentile(0.99) / 1000);
  }
  const int64_t rss_before_verify = PeakRssKib();
  int64_t entries = 0;
  const double seconds = r.Verify(&entries);
  if (filler > 0 && entries != o.entries) {
    Die("verify read " + std::to_string(entries) + " entries, not the " +
        std::to_string(o.entries) + " asked for");
  }
  std::printf("\nverify: %lld entries in %.2f s = %.0f entries/s = %.2f s per million\n",
              static_cast<long long>(entries), seconds, static_cast<double>(entries) / seconds,
              seconds * 1e6 / static_cast<double>(entries));
  std::error_code ec;
  const auto wal = std::filesystem::file_size(dir.File("scale.db-wal"), ec);
  const double db_mib =
      static_cast<double>(std::filesystem::file_size(dir.File("scale.db"))) / 1048576.0;
  std::printf("database %.1f MiB (+ WAL %.1f MiB), peak RSS %lld KiB (before verify %lld KiB)\n",
              db_mib, ec ? 0.0 : static_cast<double>(wal) / 1048576.0,
              static_cast<long long>(PeakRssKib()), static_cast<long long>(rss_before_verify));
  Aims().verify_entries_per_second = static_cast<double>(entries) / seconds;
  Note("scale  verify: %lld entries in %.1f s = %.0f entries/s = %.1f s per million",
       static_cast<long long>(entries), seconds, static_cast<double>(entries) / seconds,
       seconds * 1e6 / static_cast<double>(entries));
  {  // Yardstick: one entry's Ed25519 signature check alone, on one core.
    const journal::SigningKey k = journal::GenerateKey();
    const Hash h = journal::EntryHash(JournalEntry{});
    const auto sig = journal::Sign(k, h);
    constexpr int kChecks = 20000;
    int good = 0;
    const auto t0 = Clock::now();
    for (int i = 0; i < kChecks; ++i) good += journal::VerifySignature(k.public_key, h, sig) ? 1 : 0;
    const double s = Seconds(t0, Clock::now());
    if (good != kChecks) Die("the yardstick signature does not verify");
    std::printf("yardstick: an Ed25519 signature check alone: %.0f per second on one core (%.1f us)\n",
                kChecks / s, s * 1e6 / kChecks);
    Note("scale  yardstick: one Ed25519 signature check alone %.1f us = %.0f per second per core",
         s * 1e6 / kChecks, kChecks / s);
  }
  Note("scale  %lld live blocks held elsewhere, database %.0f MiB, peak RSS %lld MiB before "
       "verify, %lld MiB after",
       static_cast<long long>(held), db_mib, static_cast<long long>(rss_before_verify / 1024),
       static_cast<long long>(PeakRssKib() / 1024));
  return 0;
}

// ---- AEF build time ------------------------------------------------------------------------

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What one AEF run measured.
struct AefRun {
  size_t actions = 0, holdings = 0;
  double seconds = 0, file_mib = 0;
  int64_t rss_before_kib = 0, peak_kib = 0;
};

// Takes the rows and drops them: the AEF's own cost (reading, making the rows, the checks)
// without a file's.
class NullAefSink final : public report::AefRowSink {
 public:
  Status<std::string> BeginTable(const report::AefTable&) override { return {}; }
  Status<std::string> Row(const std::vector<std::string>&) override { return {}; }
  Status<std::string> Finish(const std::vector<report::ListedClaim>&) override { return {}; }
};

// The AEF of `party` for 2026 as `jcmreg report aef` makes it: StreamAef with the
// pre-consistency checks beside it, into an XLSX file at `xlsx_path` (or, when empty, into
// nothing); dies on a problem found by the checks.
AefRun RunAef(Store& store, const char* party, const std::string& xlsx_path) {
  AefRun run;
  run.rss_before_kib = CurrentRssKib();
  ResetPhasePeakRss();
  const auto t0 = Clock::now();
  std::unique_ptr<report::AefRowSink> sink = std::make_unique<NullAefSink>();
  if (!xlsx_path.empty()) {
    auto opened = report::OpenXlsxSink(xlsx_path);
    if (!opened) Die("AEF " + std::string(party) + ": " + opened.error());
    sink = std::move(opened).value();
  }
  report::ConsistencyChecker checker(nullptr, std::nullopt);
  auto summary = report::StreamAef(
      store, report::AefRequest{PartyCode{party}, 2026, "1.0", "2027-04-15"}, *sink, &checker);
  run.seconds = Seconds(t0, Clock::now());
  if (!summary) Die(std::string("StreamAef ") + party + ": " + summary.error().Message());
  run.peak_kib = PhasePeakRssKib();
  run.actions = summary->rows[report::kActions];
  run.holdings = summary->rows[report::kHoldings];
  std::error_code ec;
  if (!xlsx_path.empty()) {
    run.file_mib = static_cast<double>(std::filesystem::file_size(xlsx_path, ec)) / 1048576.0;
  }
  for (const report::ConsistencyResult& check : checker.Results()) {
    if (!check.problems.empty()) Die(std::string(party) + ": " + check.problems.front());
  }
  return run;
}

int Aef(const Options& o) {
  const int batch = ParseList(o.batches).front();
  std::printf(
      "aef: %lld first transfers MNG01 -> JPN01 of 1 t each in 2026 (transfer.international, "
      "batch %d), then the AEF of MNG and JPN for 2026 as XLSX\n",
      static_cast<long long>(o.actions), batch);
  WorkDir dir(o.dir, o.keep);
  BenchRegistry r(dir.File("aef.db"));  // JPN, JPN01, accounts 1-3.
  r.Must("party.add", {{"code", "MNG"}, {"name", "Mongolia"}});
  r.Must("registry.add", {{"code", "MNG01"}, {"party", "MNG"}, {"name", "JCM Registry (Mongolia)"}});
  const int64_t mng_gov = r.Must("account.open", {{"registry", "MNG01"}, {"type", "government_holding"},
                                                  {"name", "Government of Mongolia"}})["id"].get<int64_t>();
  for (const char* list : kNomenclatureLists) {
    auto values = ParseNomenclatureCsv(ReadText(o.data + "/" + list + ".csv"));
    if (!values) Die(std::string(list) + ": " + values.error());
    r.Must("nomenclature.set", {{"list", list}, {"values", *values}});
  }
  r.Must("ca.define", {{"key", "JPN-MNG"}, {"parties", {"JPN", "MNG"}}, {"ca_id", "CA0042"}});
  for (const auto& [party, reg] : {std::pair{"JPN", "JPN01"}, std::pair{"MNG", "MNG01"}}) {
    r.Must("ca.authorize", {{"key", "JPN-MNG"}, {"party", party}, {"date", "2025-03-31"},
                            {"valid_from", "2025-03-31"}, {"purposes", "NDC"},
                            {"regulatory_refs", {"JCM Rules of Implementation ver05.0"}},
                            {"change_terms", "bench"}, {"party_itmo_registry_id", reg},
                            {"underlying_registry_ids", {"JCM"}}, {"vintage_from", 2021},
                            {"metric", "GHG"}, {"gwp_values", "AR5"}, {"gases", {"CO2"}},
                            {"sectors", {"Energy generation"}}, {"activity_types", {"Solar"}}});
    r.Must("report.initial.submit", {{"party", party}, {"ca", "JPN-MNG"}, {"date", "2025-12-01"}});
  }
  r.Must("project.add", {{"ref", "MN901"}, {"host_party", "MNG"}, {"title", "Bench solar"},
                         {"methodology", "MN_AM003"}, {"methodology_version", "Ver3.0"},
                         {"sector", "Energy generation"}, {"activity_type", "Solar"},
                         {"participants", {"Bench Co."}}, {"allocation", {{"MNG", 20}, {"JPN", 80}}},
                         {"ca_key", "JPN-MNG"}, {"state", "validation"}});
  r.Must("project.transition", {{"ref", "MN901"}, {"to", "registration_requested"},
                                {"jc_decision", "JC-REQ"}, {"date", "2025-05-01"}});
  r.Must("project.transition", {{"ref", "MN901"}, {"to", "registered"}, {"jc_decision", "JC-REG"},
                                {"date", "2025-05-20"}});
  const int64_t share = o.actions;  // MNG's 20 % side: one tonne per action.
  for (const char* party : {"MNG", "JPN"}) {
    r.Must("authorization.add",
           {{"party", party}, {"project", "MN901"}, {"authorization_id", std::string(party) + "-MN901-1"},
            {"date", "2025-06-01"}, {"purposes", "NDC"},
            {"vintages", {{{"vintage", 2021}, {"quantity", share * 5}}}},
            {"acquiring_parties", {"JPN"}},
            {"change_terms", {{"increase", true}, {"decrease", true}, {"revocation", true}}}});
  }
  r.Must("issue.jcm", {{"account", mng_gov}, {"project", "MN901"}, {"jc_decision", "JC-ISS"},
                       {"decision_date", "2025-12-20"}, {"monitoring_start", "2021-01-01"},
                       {"monitoring_end", "2021-12-31"}, {"total", share * 5},
                       {"shares", {{"MNG", share}, {"JPN", share * 4}}},
                       {"vintages", {{{"vintage", 2021}, {"quantity", share}}}}});
  Stats build = r.RunBatches(service::Request{"transfer.international",
                                              {{"from", mng_gov}, {"to", 1}, {"quantity", 1}}, "bench", ""},
                             o.actions, batch);
  std::printf("set-up: %lld transfer.international in %.1f s (%.0f ops/s), RSS %lld KiB\n",
              static_cast<long long>(o.actions), build.seconds, build.OpsPerSecond(),
              static_cast<long long>(CurrentRssKib()));
  std::error_code ec;
  std::printf("database %.1f MiB\n",
              static_cast<double>(std::filesystem::file_size(dir.File("aef.db"), ec)) / 1048576.0);
  // A kept database opens with jcmreg (`report aef --db DIR/aef.db`): its key beside it.
  if (o.keep) {
    if (auto saved = journal::SaveKey(dir.File("aef.db"), r.key); !saved) Die(saved.error());
  }
  std::printf("%-6s %-5s %10s %10s %10s %10s %10s %14s %14s\n", "party", "into", "actions",
              "holdings", "seconds", "actions/s", "file MiB", "RSS before KiB", "AEF peak KiB");
  for (const char* party : {"MNG", "JPN"}) {
    for (const bool xlsx : {false, true}) {
      const AefRun run =
          RunAef(*r.store, party, xlsx ? dir.File(std::string("aef-") + party + ".xlsx") : "");
      std::printf("%-6s %-5s %10zu %10zu %10.2f %10.0f %10.1f %14lld %14lld\n", party,
                  xlsx ? "xlsx" : "none", run.actions, run.holdings, run.seconds,
                  static_cast<double>(run.actions) / run.seconds, run.file_mib,
                  static_cast<long long>(run.rss_before_kib), static_cast<long long>(run.peak_kib));
      Note(
          "aef    %s: %zu actions (%zu holdings) %s in %.2f s = %.0f actions/s = %.1f s per "
          "million, peak RSS of the AEF %lld MiB",
          party, run.actions, run.holdings, xlsx ? "written as XLSX" : "streamed and checked",
          run.seconds, static_cast<double>(run.actions) / run.seconds,
          run.seconds * 1e6 / static_cast<double>(run.actions),
          static_cast<long long>(run.peak_kib / 1024));
      if (static_cast<int64_t>(run.actions) != o.actions) {
        Die(std::string(party) + ": " + std::to_string(run.actions) + " actions, expected " +
            std::to_string(o.actions));
      }
    }
  }
  return 0;
}

// Options shared by `scale` and `all`.
void AddScaleOptions(CLI::App& app, Options& o) {
  app.add_option("--blocks", o.blocks, "live blocks to build in another account")
      ->check(CLI::Range(int64_t{0}, int64_t{100000000}));
  app.add_option("--entries", o.entries, "grow the journal to this many entries (0: do not)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
  app.add_option("--checkpoints", o.checkpoints, "block counts at which to probe transfers");
  app.add_option("--pending", o.pending,
                 "pending four-eyes proposals on the source account at which to probe transfers "
                 "(at most 1000, the limit per account)");
  app.add_option("--probe-ops", o.probe_ops, "transfers per probe")->check(CLI::Range(1, 10000000));
  app.add_option("--issue-ops", o.issue_ops, "issuances per quantity")->check(CLI::Range(1, 10000000));
}

// Options shared by `http` and `all`.
void AddLoadClientOption(CLI::App& app, Options& o) {
  app.add_option("--load-client", o.load_client,
                 "what drives (c): lean (one epoll thread, the default) or httplib (a thread and "
                 "an httplib::Client per connection, as before 2026-12-02)")
      ->check(CLI::IsMember({"lean", "httplib"}));
  app.add_option("--server-threads", o.server_threads,
                 "the server's workers (jcmreg serve --threads); 0, the default: the server's default")
      ->check(CLI::Range(0, static_cast<int>(kHttpThreadsMax)));
}

// Options shared by `aef` and `all`.
void AddAefOptions(CLI::App& app, Options& o) {
  app.add_option("--actions", o.actions, "international first transfers (AEF actions) to create")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  app.add_option("--data", o.data, "folder with the AEF nomenclature CSV files");
}

// One run of everything issue 8 asks for, in one process: (a) and (b) at each --batch, (c) at
// each --clients, the scale run and the AEF build time; then the summary lines together.
int All(Options o) {
  std::printf("jcm_bench all: %u cores, started %s", std::thread::hardware_concurrency(),
              [] {
                const std::time_t t = std::time(nullptr);
                return std::string(std::ctime(&t));
              }().c_str());
  const auto start = Clock::now();
  if (const int rc = Throughput(o); rc != 0) return rc;
  std::printf("\n");
  if (const int rc = Http(o); rc != 0) return rc;
  std::printf("\n");
  o.batches = std::to_string(o.scale_batch);
  if (const int rc = Scale(o); rc != 0) return rc;
  std::printf("\n");
  if (const int rc = Aef(o); rc != 0) return rc;
  std::printf("\nsummary (%.0f s in all, peak RSS %lld MiB)\n", Seconds(start, Clock::now()),
              static_cast<long long>(PeakRssKib() / 1024));
  for (const std::string& line : SummaryLines()) std::printf("  %s\n", line.c_str());
  std::printf("against the aims of issue 8 (measured, never asserted)\n");
  for (const std::string& line : AimLines(Aims())) std::printf("  %s\n", line.c_str());
  return 0;
}

}  // namespace
}  // namespace registry::bench

int main(int argc, char** argv) {
  // Before the (a) loop's own sqlite3_open: (a) and the registry under the same SQLite settings.
  registry::sqlite::ConfigureProcess();
  using registry::bench::Options;
  Options o;
  CLI::App app{"jcm_bench: registry throughput against SQLite's own limit"};
  app.require_subcommand(1);
  app.add_option("--dir", o.dir, "where the scratch databases go (a real disk, not tmpfs)");
  app.add_flag("--keep", o.keep, "keep the scratch databases");
  app.add_option("--batch", o.batches, "batch size, or a comma-separated list (throughput)");
  CLI::App* throughput = app.add_subcommand("throughput", "(a) and (b) at each batch size");
  throughput->add_option("--ops", o.ops, "transfers per run")->check(CLI::Range(1, 100000000));
  throughput->add_option("--commits-max", o.commits_max, "commits per run at most")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  throughput->add_option("--only", o.only, "a, b or ab: which runs to do (for profiling)")
      ->check(CLI::IsMember({"a", "b", "ab"}));
  throughput->add_flag("--extras", o.extras,
                       "also run (a) with savepoints / last-entry reads added, one at a time");
  throughput->add_flag("--verify", o.verify, "verify each registry after its run");
  throughput->add_option("--witness-sync-ms", o.witness_sync_ms,
                         "(b) seals each batch into a witness file, synced every N ms (0: each "
                         "line; -1, the default: no witness)")
      ->check(CLI::Range(-1, 60000));
  CLI::App* scale = app.add_subcommand("scale", "cost against blocks held, quantity; verify time");
  AddScaleOptions(*scale, o);
  scale->add_option("--vintages", o.vintages, "vintages (blocks) per issuance while building")
      ->check(CLI::Range(1, 64));
  CLI::App* http = app.add_subcommand("http", "(c) over HTTP with N concurrent clients");
  http->add_option("--clients", o.clients, "client counts, comma-separated");
  http->add_option("--ops", o.http_ops, "operations per run")->check(CLI::Range(1, 10000000));
  http->add_flag("--verify", o.verify, "verify each registry after its runs");
  AddLoadClientOption(*http, o);
  CLI::App* aef = app.add_subcommand("aef", "AEF build time for N actions of one Party in one year");
  AddAefOptions(*aef, o);
  CLI::App* all = app.add_subcommand(
      "all", "throughput (a)(b), http (c), scale and aef in one run, then a summary of the figures");
  all->add_option("--ops", o.ops, "transfers per throughput run")->check(CLI::Range(1, 100000000));
  all->add_option("--clients", o.clients, "client counts, comma-separated");
  all->add_option("--http-ops", o.http_ops, "operations per HTTP run")->check(CLI::Range(1, 10000000));
  AddLoadClientOption(*all, o);
  all->add_option("--scale-batch", o.scale_batch, "batch size of the scale and aef runs")
      ->check(CLI::Range(1, 100000));
  AddScaleOptions(*all, o);
  AddAefOptions(*all, o);
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // Lines appear as runs finish, even into a file.
  if (*all) return registry::bench::All(o);
  if (*throughput) return registry::bench::Throughput(o);
  if (*http) return registry::bench::Http(o);
  if (*aef) return registry::bench::Aef(o);
  return registry::bench::Scale(o);
}
