// jcm_soak: the soak of issue 33 ("Hardening"). It builds a registry with the CLI, starts the
// real `jcmreg serve` on a loopback port, and for --seconds runs at once:
//   (a) write clients: four-eyes transfers and retirements (proposed by one focal point, approved
//       by the other), issuances and block.hold commands, each under an Idempotency-Key, every
//       acknowledged write (2xx with its journal sequence) recorded, every unanswered one sent
//       again with the same key until it is answered (across the killer's restarts);
//   (b) read clients: holdings, journal pages, totals, lots, traces, reports;
//   (c) slow clients, more connections than the server allows one address: heads trickled a
//       byte at a time, bodies announced and never sent, idle connections and idle keep-alives;
//   (d) a fuzzer: random bytes, invalid UTF-8 in the path, query, headers, Idempotency-Key and
//       body, duplicate JSON keys, oversized heads and bodies, chunked bodies, bad versions;
//   (e) a killer: SIGKILL to the server at seeded random intervals, then a restart on the same
//       database and port.
// Then it reads the whole journal (no gap, no fork), checks that every acknowledged write is at
// its sequence under its key (none lost) and that no key was journaled twice (none duplicated by
// a retry), stops the server with SIGTERM and runs `jcmreg verify`. A failure is printed when
// seen and makes the exit code 1: the server ending by itself (with its log's tail), any 500, a
// fuzzer answer that is not a 4xx JSON error with a catalogue code, a lost or duplicated write,
// verify failing. The seed is printed; --seed or JCM_SEED replays the same choices (the threads'
// interleaving, and so the run, still varies).
#include <httplib.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http/raw_http.h"
#include "testing/process.h"

namespace registry::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using testing::Env;
namespace fs = std::filesystem;

struct Options {
  std::string dir = "/tmp";
  std::string jcmreg = JCMREG_BINARY;
  int seconds = 1800;
  uint32_t seed = 0;
  int writers = 4;
  int readers = 2;
  int fuzzers = 1;
  int slow = 96;         // Slow connections from 127.0.0.1, more than --per-address.
  int slow_apart = 32;   // Slow connections from 127.0.0.2, fewer: they meet the timeouts.
  int per_address = 64;  // jcmreg serve --connections-per-address.
  int kill_min = 5;      // Seconds between kills, drawn uniformly.
  int kill_max = 60;
  bool keep = false;
};

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

void SleepMs(int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Failures, printed as they are found (the first 50 in full) and counted; any fails the run.
class Failures {
 public:
  void Add(const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (++count_ <= 50) std::printf("FAILURE: %s\n", what.c_str());
  }
  int64_t count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  int64_t count_ = 0;
};

Failures& Failed() {
  static Failures failures;
  return failures;
}

// Requests of one client kind and their answers by status (0: no answer).
class Tally {
 public:
  void Add(int status) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++by_status_[status];
  }
  std::map<int, int64_t> by_status() {
    std::lock_guard<std::mutex> lock(mutex_);
    return by_status_;
  }
  int64_t total() {
    int64_t sum = 0;
    for (const auto& [status, count] : by_status()) sum += count;
    return sum;
  }

 private:
  std::mutex mutex_;
  std::map<int, int64_t> by_status_;
};

// Shows a request or an answer with its non-printable bytes escaped, at most `most` bytes.
std::string Printable(const std::string& bytes, size_t most = 300) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < most; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (bytes.size() > most) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

// The `jcmreg serve` under test: always the same database and port. Start, Kill and Watch are
// called by one thread at a time (the killer, or main before and after the load); up() and
// starts() may be read by any.
class ServerProcess {
 public:
  ServerProcess(const Options& o, std::string db, int port)
      : o_(o), db_(std::move(db)), port_(port), log_(fs::path(db_).parent_path() / "serve.log") {}
  ~ServerProcess() { Kill(); }

  // Starts it and waits (up to 60 s) until /healthz answers 200.
  bool Start() {
    std::ofstream(log_, std::ios::app) << "--- start " << starts_ + 1 << "\n";
    pid_ = testing::Spawn(
        {o_.jcmreg, "serve", "--db", db_, "--listen", "127.0.0.1:" + std::to_string(port_),
         "--quiet", "--rate", "0", "--connections-per-address", std::to_string(o_.per_address)},
        {}, nullptr, log_);
    if (pid_ <= 0) return false;
    ++starts_;
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(5, 0);
    for (const auto deadline = Clock::now() + std::chrono::seconds(60); Clock::now() < deadline;) {
      if (auto res = client.Get("/healthz"); res && res->status == 200) {
        up_ = true;
        return true;
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) break;
      SleepMs(50);
    }
    return false;
  }

  void Kill() {
    up_ = false;
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  // How the process ended when it ended by itself ("exit 3", "signal 11"), nullopt while it runs.
  std::optional<std::string> Ended() {
    if (pid_ <= 0) return std::nullopt;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    up_ = false;
    pid_ = -1;
    return WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                             : "signal " + std::to_string(WTERMSIG(status));
  }

  // SIGTERM, then its exit code after at most 30 s (-1: did not exit by itself, then killed).
  int Stop() {
    up_ = false;
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 600; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      SleepMs(50);
    }
    Kill();
    return -1;
  }

  std::string LogTail() const { return Tail(log_, 2000); }
  bool up() const { return up_; }
  int64_t starts() const { return starts_; }
  int port() const { return port_; }

 private:
  const Options& o_;
  const std::string db_;
  const int port_;
  const std::string log_;
  pid_t pid_ = -1;
  std::atomic<bool> up_{false};
  std::atomic<int64_t> starts_{0};
};

struct Answer {
  int status = 0;  // 0: no HTTP answer (refused, reset, timed out).
  std::string body;
  Json json;
};

Answer Call(int port, const std::string& method, const std::string& path, const std::string& token,
            const std::string& body = "", const std::string& key = "") {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(30, 0);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  if (!key.empty()) headers.emplace("Idempotency-Key", key);
  auto res = method == "GET" ? client.Get(path.c_str(), headers)
                             : client.Post(path.c_str(), headers, body, "application/json");
  Answer a;
  if (!res) return a;
  a.status = res->status;
  a.body = res->body;
  a.json = Json::parse(res->body, nullptr, false);
  return a;
}

// ---- Set-up, with the CLI: two Parties and registries, five accounts, two large issuances,
// users of four roles.

struct Setup {
  std::string db;
  std::string admin, secretariat, auditor;
  std::array<std::string, 2> focal_points;
  int64_t hold_first = 0;  // The first serial of account 5's lot, which block.hold works on.
};

std::string Jcmreg(const Options& o, const std::string& db, std::vector<std::string> args) {
  std::vector<std::string> argv = {o.jcmreg, "--db", db, "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  const testing::RunResult r = testing::Run(argv);
  if (r.code != 0) {
    std::fprintf(stderr, "jcm_soak: set-up step failed (%d): %s\n%s\n", r.code,
                 Printable(args.back()).c_str(), r.out.c_str());
    std::exit(3);
  }
  return r.out;
}

std::string AddUser(const Options& o, const std::string& db, const std::string& name,
                    const std::string& role, const std::string& scope) {
  testing::RunResult r = testing::Run({o.jcmreg, "user", "add", "--db", db, "--role", role,
                                       "--scope", scope, "--name", name, "--quiet"});
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  if (r.code != 0 || r.out.size() != 64) {
    std::fprintf(stderr, "jcm_soak: user add %s failed: %s\n", name.c_str(), r.out.c_str());
    std::exit(3);
  }
  return r.out;
}

Setup SetUp(const Options& o, const std::string& db) {
  Setup s;
  s.db = db;
  testing::Run({o.jcmreg, "--db", db, "init"});
  const std::vector<std::pair<std::string, Json>> commands = {
      {"party.add", {{"code", "JPN"}, {"name", "Japan"}}},
      {"party.add", {{"code", "MNG"}, {"name", "Mongolia"}}},
      {"registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "JCM Registry (Japan)"}}},
      {"registry.add", {{"code", "MNG01"}, {"party", "MNG"}, {"name", "JCM Registry (Mongolia)"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "retirement"}, {"name", "ret"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "cancellation"}, {"name", "can"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov2"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "held"}}},
      {"issue", {{"account", 1}, {"vintages", {{{"vintage", 2020}, {"quantity", 1'000'000'000}}}}}},
  };
  for (const auto& [type, args] : commands) Jcmreg(o, db, {"exec", type, args.dump()});
  const std::string issued =
      Jcmreg(o, db,
             {"exec", "issue",
              Json{{"account", 5}, {"vintages", {{{"vintage", 2021}, {"quantity", 1'000'000'000}}}}}
                  .dump()});
  const Json result = Json::parse(issued, nullptr, false);
  const Json::json_pointer first("/result/lots/0/first");
  if (!result.is_object() || !result.contains(first)) {
    std::fprintf(stderr, "jcm_soak: the issuance answered without lots: %s\n", issued.c_str());
    std::exit(3);
  }
  s.hold_first = result.at(first).get<int64_t>();
  s.admin = AddUser(o, db, "admin", "administrator", "*");
  s.secretariat = AddUser(o, db, "secretariat", "secretariat", "*");
  s.auditor = AddUser(o, db, "auditor", "auditor", "*");
  s.focal_points = {AddUser(o, db, "fp1", "focal_point", "party:JPN"),
                    AddUser(o, db, "fp2", "focal_point", "party:JPN")};
  return s;
}

// ---- (a) Write clients.

struct Acknowledged {
  std::string key;
  int64_t sequence = 0;
};

class Writes {
 public:
  void Acknowledge(std::string key, int64_t sequence, bool after_retry) {
    std::lock_guard<std::mutex> lock(mutex_);
    acknowledged_.push_back({std::move(key), sequence});
    if (after_retry) ++acknowledged_after_retry_;
  }
  std::vector<Acknowledged> acknowledged() {
    std::lock_guard<std::mutex> lock(mutex_);
    return acknowledged_;
  }
  int64_t acknowledged_after_retry() {
    std::lock_guard<std::mutex> lock(mutex_);
    return acknowledged_after_retry_;
  }
  void Count(const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++operations_[what];
  }
  std::map<std::string, int64_t> operations() {
    std::lock_guard<std::mutex> lock(mutex_);
    return operations_;
  }

 private:
  std::mutex mutex_;
  std::vector<Acknowledged> acknowledged_;
  int64_t acknowledged_after_retry_ = 0;
  std::map<std::string, int64_t> operations_;  // "transfer ok", "issue refused", ...
};

class WriteClient {
 public:
  WriteClient(const Setup& s, int port, int index, uint32_t seed, Tally& tally, Writes& writes,
              const std::atomic<bool>& stop)
      : s_(s),
        port_(port),
        index_(index),
        rng_(seed),
        tally_(tally),
        writes_(writes),
        stop_(stop) {}

  void Run() {
    for (int64_t i = 0; !stop_; ++i) {
      const std::string key = "soak-w" + std::to_string(index_) + "-" + std::to_string(i);
      const int pick = Uniform(0, 99);
      const int64_t quantity = Uniform(1, 50);
      if (pick < 40) {
        FourEyes("transfer", "/v1/transfers", {{"from", 1}, {"to", 4}, {"quantity", quantity}},
                 key);
      } else if (pick < 55) {
        FourEyes("retire", "/v1/retirements",
                 {{"from", 1}, {"quantity", quantity}, {"use_year", 2026}}, key);
      } else if (pick < 75) {
        Direct("issue", "/v1/issuances", s_.secretariat,
               {{"account", 1}, {"vintages", {{{"vintage", 2022}, {"quantity", quantity}}}}}, key);
      } else {
        // Each hold splits a block of account 5 at a serial no other client touches.
        const int64_t serial = s_.hold_first + index_ * int64_t{10'000'000} + i;
        const std::string range = std::to_string(serial) + "-" + std::to_string(serial);
        Direct("hold", "/v1/commands/block.hold", s_.admin,
               {{"account", 5}, {"ranges", {range}}, {"hold", true}}, key);
      }
    }
  }

 private:
  int Uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }

  // Sends until answered otherwise than 503 or not at all (the server killed, restarting, or
  // evicting), with the same key each time; a 2xx is recorded as acknowledged at its sequence.
  Answer Send(const std::string& path, const std::string& token, const Json& body,
              const std::string& key) {
    const std::string text = body.dump();
    const auto deadline = Clock::now() + std::chrono::seconds(180);
    for (int attempt = 0;; ++attempt) {
      Answer a = Call(port_, "POST", path, token, text, key);
      tally_.Add(a.status);
      if (a.status != 0 && a.status != 503) {
        if (a.status >= 500) {
          Failed().Add("write " + path + " key " + key + " answered " + std::to_string(a.status) +
                       ": " + Printable(a.body));
        } else if (a.status / 100 == 2) {
          const Json::json_pointer sequence("/sequence");
          if (!a.json.is_object() || !a.json.contains(sequence) ||
              !a.json.at(sequence).is_number_integer()) {
            Failed().Add("write " + key + " acknowledged without a sequence: " + Printable(a.body));
          } else {
            writes_.Acknowledge(key, a.json.at(sequence).get<int64_t>(), attempt > 0);
          }
        }
        return a;
      }
      if (Clock::now() > deadline) {
        Failed().Add("write " + path + " key " + key + " unanswered for 180 s");
        return a;
      }
      SleepMs(Uniform(50, 300));
    }
  }

  void Direct(const std::string& what, const std::string& path, const std::string& token,
              const Json& body, const std::string& key) {
    const Answer a = Send(path, token, body, key);
    writes_.Count(what + (a.status / 100 == 2 ? " ok" : " refused"));
  }

  // Proposed by one focal point (202 and a proposal id), approved by the other (200).
  void FourEyes(const std::string& what, const std::string& path, const Json& body,
                const std::string& key) {
    const size_t proposer = Uniform(0, 1) == 0 ? 0 : 1;
    const Answer proposed = Send(path, s_.focal_points[proposer], body, key + "-p");
    const Json::json_pointer id("/result/id");
    if (proposed.status != 202 || !proposed.json.contains(id)) {
      writes_.Count(what + " refused");
      return;
    }
    const std::string approve =
        "/v1/proposals/" + std::to_string(proposed.json.at(id).get<int64_t>()) + "/approve";
    const Answer approved =
        Send(approve, s_.focal_points[1 - proposer], Json::object(), key + "-a");
    if (approved.status != 200) {
      Failed().Add("approval " + key + "-a answered " + std::to_string(approved.status) + ": " +
                   Printable(approved.body));
    }
    writes_.Count(what + (approved.status == 200 ? " ok" : " refused"));
  }

  const Setup& s_;
  const int port_;
  const int index_;
  std::mt19937 rng_;
  Tally& tally_;
  Writes& writes_;
  const std::atomic<bool>& stop_;
};

// ---- (b) Read clients: 200, or 503 when the server is busy, or no answer while it is down.

void ReadClient(const Setup& s, int port, uint32_t seed, Tally& tally,
                const std::atomic<bool>& stop) {
  std::mt19937 rng(seed);
  const auto uniform = [&](int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(rng);
  };
  while (!stop) {
    std::string path;
    std::string token = s.auditor;
    switch (uniform(0, 7)) {
      case 0:
        path = "/v1/accounts/1/holdings";
        break;
      case 1:
        path = "/v1/accounts/4/holdings";
        token = s.focal_points[0];
        break;
      case 2:
        path = "/v1/journal?after=" + std::to_string(uniform(0, 2000)) + "&limit=100";
        break;
      case 3:
        path = "/v1/totals";
        token.clear();
        break;
      case 4:
        path = "/v1/lots?limit=50";
        token.clear();
        break;
      case 5:
        path = "/v1/trace/JPN01/" + std::to_string(s.hold_first + uniform(0, 1000));
        break;
      case 6:
        path = "/v1/statistics/annual";
        token.clear();
        break;
      default:  // One proposal: GET /v1/proposals lists them all, unpaged (megabytes by now).
        path = "/v1/proposals/" + std::to_string(uniform(1, 100));
        break;
    }
    const Answer a = Call(port, "GET", path, token);
    tally.Add(a.status);
    if (a.status == 0) SleepMs(uniform(50, 300));  // The server is down: wait as writers do.
    // A proposal not made yet is 404 unknown_proposal (in the first second of the run).
    const bool not_yet =
        a.status == 404 && a.json.is_object() && a.json.value("check", "") == "unknown_proposal";
    if (a.status != 0 && a.status != 200 && a.status != 503 && !not_yet) {
      Failed().Add("read " + path + " answered " + std::to_string(a.status) + ": " +
                   Printable(a.body));
    }
  }
}

// ---- (c) Slow clients: `count` connections from one thread, each doing one of four slow things
// over and over. The server answers a trickled head or a missing body 408, closes an idle
// connection, and at its per-address limit closes the oldest waiting one for a new one.

enum class Slow { kTrickleHead, kBodyNeverSent, kIdle, kIdleKeepAlive };

struct SlowConnection {
  Slow kind = Slow::kIdle;
  int fd = -1;
  std::string to_send;
  size_t sent = 0;
  Clock::time_point next;  // When to send the next byte, or to reconnect.
  std::string received;
  bool connecting = false;  // The non-blocking connect is not yet done.
  bool answered = false;    // Since it was opened.
};

// A connection to 127.0.0.1:port from the loopback address `source` (127.0.0.1 or 127.0.0.2).
int ConnectNonBlocking(int port, const std::string& source) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
    close(fd);
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

class SlowClients {
 public:
  SlowClients(int port, std::string source, int count, uint32_t seed, Tally& tally,
              const std::atomic<bool>& stop)
      : port_(port),
        source_(std::move(source)),
        rng_(seed),
        tally_(tally),
        stop_(stop),
        connections_(static_cast<size_t>(count)) {
    for (size_t i = 0; i < connections_.size(); ++i)
      connections_[i].kind = static_cast<Slow>(i % 4);
  }

  void Run() {
    while (!stop_) {
      const auto now = Clock::now();
      std::vector<pollfd> polled;
      std::vector<SlowConnection*> owners;
      for (SlowConnection& c : connections_) {
        if (c.fd < 0 && now >= c.next) Open(c);
        if (c.fd < 0) continue;
        if (!c.connecting && c.sent < c.to_send.size() && now >= c.next) SendSome(c);
        if (c.fd < 0) continue;
        polled.push_back({c.fd, static_cast<short>(c.connecting ? POLLOUT : POLLIN), 0});
        owners.push_back(&c);
      }
      poll(polled.data(), polled.size(), 50);
      for (size_t i = 0; i < polled.size(); ++i) {
        if (polled[i].revents == 0) continue;
        if (owners[i]->connecting) {
          Connected(*owners[i]);
        } else {
          Receive(*owners[i]);
        }
      }
    }
    for (SlowConnection& c : connections_) {
      if (c.fd >= 0) close(c.fd);
    }
  }

  int64_t opened() const { return opened_; }
  int64_t refused() const { return refused_; }
  int64_t closed_without_answer() const { return closed_without_answer_; }

 private:
  void Open(SlowConnection& c) {
    c.fd = ConnectNonBlocking(port_, source_);
    c.received.clear();
    c.answered = false;
    c.sent = 0;
    c.next = Clock::now();
    if (c.fd < 0) {
      c.next += std::chrono::milliseconds(500);
      return;
    }
    c.connecting = true;
    switch (c.kind) {
      case Slow::kTrickleHead:
        c.to_send = "GET /v1/totals HTTP/1.1\r\nHost: soak\r\nX-Trickle: " + std::string(200, 'a') +
                    "\r\n\r\n";
        break;
      case Slow::kBodyNeverSent:
        c.to_send =
            "POST /v1/transfers HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n";
        break;
      case Slow::kIdle:
        c.to_send.clear();
        break;
      case Slow::kIdleKeepAlive:
        c.to_send = "GET /healthz HTTP/1.1\r\nHost: soak\r\n\r\n";
        break;
    }
  }

  // Counts the connection once it is made (the server may be down: then it is tried again).
  void Connected(SlowConnection& c) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      ++refused_;
      Close(c);
      return;
    }
    c.connecting = false;
    ++opened_;
  }

  // A trickled head goes a byte at a time, 100-400 ms apart; the others all at once.
  void SendSome(SlowConnection& c) {
    const size_t n = c.kind == Slow::kTrickleHead ? 1 : c.to_send.size() - c.sent;
    const ssize_t done = send(c.fd, c.to_send.data() + c.sent, n, MSG_NOSIGNAL);
    if (done < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) Close(c);
      return;
    }
    c.sent += static_cast<size_t>(done);
    c.next = Clock::now() +
             std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 400)(rng_));
  }

  void Receive(SlowConnection& c) {
    char buffer[4096];
    for (;;) {
      const ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        c.received.append(buffer, static_cast<size_t>(n));
        Answers(c);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (!c.answered) {
        ++closed_without_answer_;
        tally_.Add(0);
      }
      Close(c);
      return;
    }
  }

  // Counts each whole answer in c.received (a 500 is a failure) and keeps what follows.
  void Answers(SlowConnection& c) {
    for (;;) {
      const size_t head_end = c.received.find("\r\n\r\n");
      if (head_end == std::string::npos) return;
      const std::string head = c.received.substr(0, head_end);
      const size_t at = head.find("Content-Length: ");
      const size_t length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
      if (c.received.size() < head_end + 4 + length) return;
      const int status = http::raw::StatusOf(c.received);
      tally_.Add(status);
      if (status >= 500 && status != 503) {
        Failed().Add("slow client answered " + std::to_string(status) + ": " +
                     Printable(c.received));
      }
      c.received.erase(0, head_end + 4 + length);
      c.answered = true;
    }
  }

  void Close(SlowConnection& c) {
    close(c.fd);
    c.fd = -1;
    c.next = Clock::now() +
             std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 500)(rng_));
  }

  const int port_;
  const std::string source_;
  std::mt19937 rng_;
  Tally& tally_;
  const std::atomic<bool>& stop_;
  std::vector<SlowConnection> connections_;
  int64_t opened_ = 0;
  int64_t refused_ = 0;
  int64_t closed_without_answer_ = 0;
};

// ---- (d) The fuzzer: requests that are invalid by construction, so every answer must be a 4xx
// JSON error naming a catalogue code (JCM-NNN).

class Fuzzer {
 public:
  // An unanswered request's bytes are saved in `prefix` + N + ".bin", to be replayed.
  Fuzzer(const Setup& s, const ServerProcess& server, std::string prefix, uint32_t seed,
         Tally& tally, const std::atomic<bool>& stop)
      : s_(s),
        server_(server),
        prefix_(std::move(prefix)),
        rng_(seed),
        tally_(tally),
        stop_(stop) {}

  void Run() {
    while (!stop_) {
      const std::string request = Next();
      const int64_t starts = server_.starts();
      const bool up = server_.up();
      http::raw::RawConnection connection(server_.port(), 15000);
      std::string answer;
      if (connection.connected()) {
        // A send cut short (the server refused an oversized head before all of it arrived)
        // still leaves its answer to read.
        (void)connection.Send(request);
        answer = connection.ReadAnswer();
      }
      const int status = http::raw::StatusOf(answer);
      tally_.Add(status);
      if (status == 0) {
        // No answer: the server was killed or was down, or a failure when it was up throughout.
        if (up && server_.up() && server_.starts() == starts) {
          const std::string file = prefix_ + std::to_string(++unanswered_while_up_) + ".bin";
          std::ofstream(file, std::ios::binary) << request;
          Failed().Add("fuzz request unanswered while the server was up (its bytes in " + file +
                       "): " + Printable(request));
        }
        SleepMs(20);
        continue;
      }
      Check(request, answer, status);
    }
  }

  int64_t unanswered_while_up() const { return unanswered_while_up_; }

 private:
  void Check(const std::string& request, const std::string& answer, int status) {
    static const std::regex kCode("JCM-[0-9]{3}");
    const Json body = Json::parse(http::raw::BodyOf(answer), nullptr, false);
    const bool coded = body.is_object() && body.contains("code") && body["code"].is_string() &&
                       std::regex_match(body["code"].get<std::string>(), kCode);
    if (status == 503 && coded) return;  // Overloaded: every connection busy.
    if (status / 100 != 4 || !coded) {
      Failed().Add("fuzz answer " + std::to_string(status) + " " + Printable(answer) +
                   " to request " + Printable(request));
    }
  }

  int Uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }

  std::string RandomBytes(int low, int high) {
    std::string out(static_cast<size_t>(Uniform(low, high)), '\0');
    for (char& c : out) c = static_cast<char>(Uniform(0, 255));
    return out;
  }

  // A byte sequence that is never UTF-8 (or is a control character), raw or percent-encoded.
  std::string BadText(bool percent) {
    static const std::vector<std::string> kBad = {
        "\xff", "\xfe", "\xc0\xaf", "\x80", "\xed\xa0\x80", "\xe2\x82", "\xf8\x88\x80\x80\x80",
        "\xc3", "\x01"};
    const std::string& bad =
        kBad[static_cast<size_t>(Uniform(0, static_cast<int>(kBad.size()) - 1))];
    if (!percent) return bad;
    std::string out;
    for (const char c : bad) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      out += hex;
    }
    return out;
  }

  std::string Post(const std::string& path, const std::string& token, const std::string& body,
                   const std::string& extra = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: soak\r\nAuthorization: Bearer " + token +
           "\r\nContent-Type: application/json\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  std::string Next() {
    const std::string& fp = s_.focal_points[0];
    const std::string transfer = R"({"from":1,"to":4,"quantity":1})";
    switch (Uniform(0, 13)) {
      case 0: {  // Random bytes: never a request line.
        std::string garbage = RandomBytes(1, 4096);
        if (!garbage.empty() && garbage[0] >= 'A' && garbage[0] <= 'Z') garbage[0] = '\x01';
        return garbage + "\r\n\r\n";
      }
      case 1:
        return "GET /v1/" + RandomBytes(0, 8) + BadText(Uniform(0, 1) == 1) + " HTTP/1.1\r\n\r\n";
      case 2:
        return "GET /v1/documents/project/" + BadText(true) + " HTTP/1.1\r\nHost: soak\r\n\r\n";
      case 3:
        return "GET /v1/accounts/1/holdings?as_of=" + BadText(true) +
               " HTTP/1.1\r\nAuthorization: Bearer " + s_.auditor + "\r\n\r\n";
      case 4:
        return "GET /v1/totals HTTP/1.1\r\nX-Soak: a" + BadText(false) + "b\r\n\r\n";
      case 5:
        return Post("/v1/transfers", fp, transfer, "Idempotency-Key: k" + BadText(false) + "\r\n");
      case 6:  // Invalid UTF-8 inside a JSON string of a write's body.
        return Post("/v1/entities", s_.secretariat,
                    R"({"name":"e)" + BadText(false) + R"(","country":"JPN"})");
      case 7:  // Duplicate keys, the last one invalid (a strict parser refuses both orders).
        return Post("/v1/transfers", fp, R"({"from":1,"to":4,"quantity":1,"quantity":"x"})");
      case 8:  // A head over 16 KiB, in one field or in over 100 fields.
        if (Uniform(0, 1) == 0) {
          return "GET /v1/totals HTTP/1.1\r\nX-Big: " +
                 std::string(static_cast<size_t>(Uniform(17, 30)) * 1024, 'b') + "\r\n\r\n";
        } else {
          std::string head = "GET /v1/totals HTTP/1.1\r\n";
          for (int i = 0; i < 120; ++i) head += "X-F" + std::to_string(i) + ": v\r\n";
          return head + "\r\n";
        }
      case 9:
        return "POST /v1/transfers HTTP/1.1\r\nAuthorization: Bearer " + fp +
               "\r\nTransfer-Encoding: chunked\r\n\r\n1f\r\n" + transfer + "\r\n0\r\n\r\n";
      case 10:  // A body over 64 KiB announced.
        return "POST /v1/transfers HTTP/1.1\r\nAuthorization: Bearer " + fp +
               "\r\nContent-Length: " + std::to_string(Uniform(65537, 10'000'000)) + "\r\n\r\n{";
      case 11: {  // Not JSON.
        std::string body = RandomBytes(1, 512);
        body[0] = '#';
        return Post("/v1/transfers", fp, body);
      }
      case 12: {
        static const char* const kVersions[] = {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTX/1.1",
                                                "HTTP/1"};
        return std::string("GET /healthz ") + kVersions[Uniform(0, 4)] + "\r\n\r\n";
      }
      default:  // A POST without Content-Length.
        return "POST /v1/transfers HTTP/1.1\r\nAuthorization: Bearer " + fp + "\r\n\r\n" + transfer;
    }
  }

  const Setup& s_;
  const ServerProcess& server_;
  const std::string prefix_;
  std::mt19937 rng_;
  Tally& tally_;
  const std::atomic<bool>& stop_;
  std::atomic<int64_t> unanswered_while_up_{0};
};

// The value of a counter in /metrics (summed over its label sets), -1 when it is absent.
int64_t Metric(int port, const std::string& name) {
  const Answer a = Call(port, "GET", "/metrics", "");
  if (a.status != 200) return -1;
  int64_t sum = -1;
  std::istringstream lines(a.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name, 0) != 0) continue;
    const size_t space = line.rfind(' ');
    sum = std::max<int64_t>(sum, 0) + std::atoll(line.c_str() + space + 1);
  }
  return sum;
}

// ---- (e) The killer, which also watches for the server ending by itself.

struct KillerFigures {
  int64_t kills = 0;
  int64_t ended_by_itself = 0;
  int64_t evicted = 0;           // jcm_http_connections_evicted_total of each killed server,
  int64_t handler_failures = 0;  // and jcm_http_handler_failures_total, read just before.
};

KillerFigures Killer(const Options& o, ServerProcess& server, uint32_t seed,
                     const std::atomic<bool>& stop) {
  std::mt19937 rng(seed);
  KillerFigures figures;
  const auto watch = [&] {
    if (const auto ended = server.Ended()) {
      ++figures.ended_by_itself;
      Failed().Add("the server ended by itself (" + *ended + "); its log ends:\n" +
                   server.LogTail());
      if (!server.Start()) Failed().Add("the server did not start again");
    }
  };
  while (!stop) {
    const int64_t wait_ms =
        std::uniform_int_distribution<int64_t>(o.kill_min * 1000, o.kill_max * 1000)(rng);
    for (const auto until = Clock::now() + std::chrono::milliseconds(wait_ms);
         !stop && Clock::now() < until;) {
      watch();
      SleepMs(100);
    }
    if (stop) break;
    figures.evicted +=
        std::max<int64_t>(0, Metric(server.port(), "jcm_http_connections_evicted_total"));
    figures.handler_failures +=
        std::max<int64_t>(0, Metric(server.port(), "jcm_http_handler_failures_total"));
    server.Kill();
    ++figures.kills;
    SleepMs(std::uniform_int_distribution<int64_t>(0, 2000)(rng));
    if (!server.Start()) {
      Failed().Add("the server did not start again after kill " + std::to_string(figures.kills) +
                   "; its log ends:\n" + server.LogTail());
    }
  }
  watch();
  if (!server.up() && !server.Start()) Failed().Add("the server did not start for the end");
  return figures;
}

// ---- The end: the journal read whole and checked against the acknowledged writes.

struct JournalFigures {
  int64_t entries = 0;
  int64_t lost = 0;
  int64_t duplicated = 0;
};

JournalFigures CheckJournal(const Setup& s, int port, const std::vector<Acknowledged>& acked) {
  JournalFigures f;
  std::map<int64_t, std::string> key_at;  // sequence -> idempotency key
  std::map<std::string, int64_t> times;   // key -> entries journaled under it
  std::string last_hash;
  for (;;) {
    const Answer page = Call(
        port, "GET", "/v1/journal?after=" + std::to_string(f.entries) + "&limit=1000", s.auditor);
    if (page.status != 200 || !page.json.is_object()) {
      Failed().Add("journal page after " + std::to_string(f.entries) + " answered " +
                   std::to_string(page.status) + ": " + Printable(page.body));
      break;
    }
    const Json& entries = page.json["entries"];
    if (entries.empty()) break;
    for (const Json& e : entries) {
      const int64_t sequence = e["sequence"].get<int64_t>();
      if (sequence != f.entries + 1) {
        Failed().Add("journal gap or repeat: " + std::to_string(sequence) + " after " +
                     std::to_string(f.entries));
      }
      if (!last_hash.empty() && e["prev_hash"].get<std::string>() != last_hash) {
        Failed().Add("journal fork at " + std::to_string(sequence));
      }
      last_hash = e["hash"].get<std::string>();
      f.entries = sequence;
      const std::string key = e.value("idempotency_key", "");
      if (key.empty()) continue;
      key_at[sequence] = key;
      if (++times[key] == 2) {
        ++f.duplicated;
        Failed().Add("key " + key + " journaled twice (again at " + std::to_string(sequence) + ")");
      }
    }
  }
  for (const Acknowledged& a : acked) {
    const auto at = key_at.find(a.sequence);
    if (at == key_at.end() || at->second != a.key) {
      ++f.lost;
      Failed().Add("acknowledged write " + a.key + " at " + std::to_string(a.sequence) +
                   " is not in the journal there (found: " +
                   (at == key_at.end() ? std::string("nothing") : at->second) + ")");
    }
  }
  return f;
}

void PrintTally(const char* kind, Tally& tally, double seconds) {
  std::string statuses;
  for (const auto& [status, count] : tally.by_status()) {
    statuses += " " + (status == 0 ? std::string("none") : std::to_string(status)) + ":" +
                std::to_string(count);
  }
  std::printf("%-6s %10lld %9.1f  %s\n", kind, static_cast<long long>(tally.total()),
              static_cast<double>(tally.total()) / seconds, statuses.c_str());
}

int Soak(const Options& o) {
  std::string pattern = o.dir + "/jcm-soak-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "jcm_soak: cannot create a directory under %s\n", o.dir.c_str());
    return 3;
  }
  const std::string dir = pattern;
  const std::string db = dir + "/registry.db";
  std::printf("soak: seed %u (JCM_SEED=%u replays its choices), %d s, server %s, database %s\n",
              o.seed, o.seed, o.seconds, o.jcmreg.c_str(), db.c_str());
  std::printf(
      "  clients: %d writers, %d readers, %d slow connections from 127.0.0.1 and %d from "
      "127.0.0.2 (server limit %d per address), %d fuzzer(s); SIGKILL every %d-%d s\n",
      o.writers, o.readers, o.slow, o.slow_apart, o.per_address, o.fuzzers, o.kill_min, o.kill_max);
  const Setup s = SetUp(o, db);
  ServerProcess server(o, db, testing::FreePort());
  if (!server.Start()) {
    std::printf("FAILURE: the server did not start; its log ends:\n%s\n", server.LogTail().c_str());
    return 1;
  }
  std::printf("  serving on 127.0.0.1:%d\n", server.port());
  std::atomic<bool> stop_load{false}, stop_killer{false};
  Tally write_tally, read_tally, slow_tally, apart_tally, fuzz_tally;
  Writes writes;
  std::vector<std::unique_ptr<WriteClient>> writers;
  std::vector<std::thread> threads;
  uint32_t stream = o.seed;
  const auto next_seed = [&] { return stream = stream * 2654435761u + 1013904223u; };
  for (int i = 0; i < o.writers; ++i) {
    writers.push_back(std::make_unique<WriteClient>(s, server.port(), i, next_seed(), write_tally,
                                                    writes, stop_load));
    threads.emplace_back([&w = *writers.back()] { w.Run(); });
  }
  for (int i = 0; i < o.readers; ++i) {
    threads.emplace_back(
        [&, seed = next_seed()] { ReadClient(s, server.port(), seed, read_tally, stop_load); });
  }
  SlowClients slow(server.port(), "127.0.0.1", o.slow, next_seed(), slow_tally, stop_load);
  SlowClients apart(server.port(), "127.0.0.2", o.slow_apart, next_seed(), apart_tally, stop_load);
  threads.emplace_back([&] { slow.Run(); });
  threads.emplace_back([&] { apart.Run(); });
  std::vector<std::unique_ptr<Fuzzer>> fuzzers;
  for (int i = 0; i < o.fuzzers; ++i) {
    fuzzers.push_back(std::make_unique<Fuzzer>(s, server,
                                               dir + "/fuzz" + std::to_string(i) + "-unanswered-",
                                               next_seed(), fuzz_tally, stop_load));
    threads.emplace_back([&f = *fuzzers.back()] { f.Run(); });
  }
  const auto start = Clock::now();
  KillerFigures killed;
  std::thread killer([&, seed = next_seed()] { killed = Killer(o, server, seed, stop_killer); });
  for (int report = 60; Seconds(start, Clock::now()) < o.seconds;) {
    SleepMs(200);
    if (Seconds(start, Clock::now()) >= report) {
      std::printf("  %4d s: %zu writes acknowledged, %lld restarts, %lld failures\n", report,
                  writes.acknowledged().size(), static_cast<long long>(server.starts() - 1),
                  static_cast<long long>(Failed().count()));
      report += 60;
    }
  }
  // The killer stops first and leaves the server up, so that the writers' retries end.
  stop_killer = true;
  killer.join();
  stop_load = true;
  for (std::thread& t : threads) t.join();
  const double seconds = Seconds(start, Clock::now());

  const std::vector<Acknowledged> acked = writes.acknowledged();
  const JournalFigures journal = CheckJournal(s, server.port(), acked);
  const int64_t handler_failures = Metric(server.port(), "jcm_http_handler_failures_total");
  const int64_t evicted = Metric(server.port(), "jcm_http_connections_evicted_total");
  const int stopped = server.Stop();
  if (stopped != 0) Failed().Add("the server's SIGTERM stop ended with " + std::to_string(stopped));
  const testing::RunResult verify = testing::Run({o.jcmreg, "--db", db, "verify"});
  if (verify.code != 0) Failed().Add("jcmreg verify failed: " + verify.out);

  int64_t fuzz_unanswered = 0;
  for (const auto& f : fuzzers) fuzz_unanswered += f->unanswered_while_up();
  int64_t five_hundreds = 0;
  for (Tally* t : {&write_tally, &read_tally, &slow_tally, &apart_tally, &fuzz_tally}) {
    for (const auto& [status, count] : t->by_status()) {
      if (status >= 500 && status != 503) five_hundreds += count;
    }
  }
  std::printf("\nran %.0f s\n%-6s %10s %9s  %s\n", seconds, "kind", "requests", "req/s",
              "answers by status (none: no answer)");
  PrintTally("write", write_tally, seconds);
  PrintTally("read", read_tally, seconds);
  PrintTally("slow", slow_tally, seconds);
  PrintTally("slow2", apart_tally, seconds);
  PrintTally("fuzz", fuzz_tally, seconds);
  std::printf(
      "slow connections made (closed by the server before any answer): from 127.0.0.1 "
      "%lld (%lld), from 127.0.0.2 %lld (%lld); refused while the server was down %lld\n",
      static_cast<long long>(slow.opened()), static_cast<long long>(slow.closed_without_answer()),
      static_cast<long long>(apart.opened()), static_cast<long long>(apart.closed_without_answer()),
      static_cast<long long>(slow.refused() + apart.refused()));
  std::printf(
      "connections evicted at the per-address limit (/metrics of every server before "
      "its kill): %lld\n",
      static_cast<long long>(killed.evicted + evicted));
  std::string operations;
  for (const auto& [what, count] : writes.operations()) {
    operations += " " + what + ":" + std::to_string(count);
  }
  std::printf("write operations:%s\n", operations.c_str());
  std::printf("kills: %lld (server starts %lld; ended by itself %lld)\n",
              static_cast<long long>(killed.kills), static_cast<long long>(server.starts()),
              static_cast<long long>(killed.ended_by_itself));
  std::printf("acknowledged writes: %zu (%lld of them after a retry with the same key)\n",
              acked.size(), static_cast<long long>(writes.acknowledged_after_retry()));
  std::printf("acknowledged writes LOST: %lld\n", static_cast<long long>(journal.lost));
  std::printf("writes duplicated by retry: %lld\n", static_cast<long long>(journal.duplicated));
  std::printf("500s: %lld (handler failures in /metrics: %lld)\n",
              static_cast<long long>(five_hundreds),
              static_cast<long long>(killed.handler_failures + handler_failures));
  std::printf("fuzz requests unanswered while the server was up: %lld\n",
              static_cast<long long>(fuzz_unanswered));
  std::printf("journal: %lld entries, no gap, no fork unless listed above\n",
              static_cast<long long>(journal.entries));
  std::printf("verify: %s", verify.code == 0 ? "ok: " : "FAILED: ");
  std::printf("%s", verify.out.c_str());
  if (five_hundreds > 0 && Failed().count() == 0) Failed().Add("500 answers");
  if (killed.handler_failures + handler_failures > 0) Failed().Add("handlers failed (/metrics)");
  const int64_t failures = Failed().count();
  std::printf("result: %s (%lld failures)\n", failures == 0 ? "PASS" : "FAIL",
              static_cast<long long>(failures));
  if (!o.keep && failures == 0) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  } else {
    std::printf("kept %s (serve.log has the server's output)\n", dir.c_str());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace registry::bench

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  registry::bench::Options o;
  const char* env_seed = std::getenv("JCM_SEED");
  o.seed = env_seed != nullptr ? static_cast<uint32_t>(std::strtoul(env_seed, nullptr, 10))
                               : std::random_device{}();
  CLI::App app{
      "jcm_soak: mixed load, slow clients, invalid bytes and kill -9 against jcmreg serve"};
  app.add_option("--dir", o.dir, "where the registry's directory is made");
  app.add_option("--jcmreg", o.jcmreg, "the jcmreg binary to serve with");
  app.add_option("--seconds", o.seconds, "how long the load runs")->check(CLI::Range(1, 1000000));
  app.add_option("--seed", o.seed, "the seed (default $JCM_SEED or random)");
  app.add_option("--writers", o.writers, "write clients")->check(CLI::Range(1, 64));
  app.add_option("--readers", o.readers, "read clients")->check(CLI::Range(0, 64));
  app.add_option("--fuzzers", o.fuzzers, "fuzzer clients")->check(CLI::Range(0, 16));
  app.add_option("--slow", o.slow, "slow connections from 127.0.0.1 (with the other clients)")
      ->check(CLI::Range(0, 10000));
  app.add_option("--slow-apart", o.slow_apart, "slow connections from 127.0.0.2")
      ->check(CLI::Range(0, 10000));
  app.add_option("--per-address", o.per_address, "serve --connections-per-address")
      ->check(CLI::Range(1, 100000));
  app.add_option("--kill-min", o.kill_min, "fewest seconds between kills")
      ->check(CLI::Range(1, 100000));
  app.add_option("--kill-max", o.kill_max, "most seconds between kills")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--keep", o.keep, "keep the registry's directory");
  CLI11_PARSE(app, argc, argv);
  if (o.kill_max < o.kill_min) o.kill_max = o.kill_min;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return registry::bench::Soak(o);
}
