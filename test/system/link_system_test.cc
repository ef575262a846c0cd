// The registry link between two installations (issue 29; docs/link.md): two real `jcmreg serve`
// processes on 127.0.0.1, each with its own database and key. Thailand's registry THA01 in one,
// Japan's JPN01 in the other; TH014's 1,009 t first transferred from Thailand and acquired by
// Japan. Then the same transfer again and again with one side killed (SIGKILL) at each step of
// the exchange, or at a random moment, or down for the whole retry period: after every run the
// units are in exactly one of the two registries, verify passes on both and reconciliation is
// clean. Randomized parts print their seed; JCM_SEED replays it, JCM_LINK_RUNS sets the number
// of fault runs (default 48).
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "testing/postgres_url.h"
#include "testing/process.h"

namespace {

using Json = nlohmann::json;
using registry::testing::Env;
using registry::testing::FreePort;
using registry::testing::Run;
using registry::testing::RunResult;
using registry::testing::Spawn;
namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

// One installation: its database (a file, or PostgreSQL with a schema and key file in `env`).
struct Installation {
  std::string db;
  Env env;
  std::string key_base;  // Where DB.pub (or $JCMREG_KEY.pub) is.

  RunResult Jcmreg(std::vector<std::string> args) const {
    args.insert(args.begin(), {JCMREG_BINARY, "--db", db});
    return Run(args, env);
  }
  void Exec(const std::string& command, const Json& args) const {
    const RunResult r = Jcmreg({"exec", command, args.dump()});
    ASSERT_EQ(r.code, 0) << db << ": " << command << " " << args.dump() << "\n" << r.out;
  }
  Json ExecJson(const std::string& command, const Json& args) const {
    const RunResult r = Jcmreg({"--json", "exec", command, args.dump()});
    EXPECT_EQ(r.code, 0) << command << "\n" << r.out;
    return Json::parse(r.out, nullptr, false);
  }
  std::string PublicKey() const { return ReadFile(key_base + ".pub"); }
  int64_t Held(int account) const {
    const RunResult r = Jcmreg({"--json", "holdings", std::to_string(account)});
    const Json j = Json::parse(r.out, nullptr, false);
    return j.is_object() ? j.value("total", int64_t{-1}) : -1;
  }
  Json Outgoing() const {
    const RunResult r = Jcmreg({"link", "transfers"});
    const Json j = Json::parse(r.out, nullptr, false);
    return j.is_object() ? j["outgoing"] : Json::array();
  }
};

Json Step1(const std::string& party, const std::string& registry) {
  return {{"key", "JPN-THA"},
          {"party", party},
          {"party_itmo_registry_id", registry},
          {"date", "2025-03-31"},
          {"valid_from", "2025-03-31"},
          {"purposes", "NDC"},
          {"regulatory_refs", {"JCM Rules of Implementation (Thailand-Japan)"}},
          {"change_terms", "Changes apply to mitigation outcomes not yet first transferred."},
          {"underlying_registry_ids", {"JCM"}},
          {"vintage_from", 2021},
          {"vintage_to", 2030},
          {"metric", "GHG"},
          {"gwp_values", "AR5"},
          {"gases", {"CO2"}},
          {"sectors", {"Energy generation"}},
          {"activity_types", {"Solar"}}};
}

// Both installations as the real JCM has them: each with the approach, both Step 1s, TH014 and
// both Parties' Step 2a; Thailand's registry issues TH014's 1,009 t of 2021 into THA01 account 1
// (its registry issued them before Japan's did, in the real flow); each believes the other.
// Accounts: THA 1 government, 2 mirror of JPN01, 3 transit to jpn; JPN 1 government, 2
// retirement, 3 mirror of THA01.
void SetUpPair(const Installation& tha, const Installation& jpn, int tha_port, int jpn_port,
               const std::string& scratch) {
  const std::string header = scratch + "/header.csv";
  {
    std::ifstream in(std::string(SOURCE_DIR) + "/data/jcm/projects.csv");
    std::string line;
    std::getline(in, line);
    std::ofstream(header) << line << "\n";
  }
  for (const Installation* i : {&tha, &jpn}) {
    ASSERT_EQ(i->Jcmreg({"init"}).code, 0);
    // The AEF's controlled lists, loaded by an import of no project.
    ASSERT_EQ(i->Jcmreg({"import", "projects", header, "--nomenclature",
                         std::string(SOURCE_DIR) + "/data/nomenclature"})
                  .code,
              0);
    i->Exec("party.add", {{"code", "JPN"}, {"name", "Japan"}});
    i->Exec("party.add", {{"code", "THA"}, {"name", "Thailand"}});
  }
  tha.Exec("registry.add", {{"code", "THA01"}, {"party", "THA"}, {"name", "Thailand"}});
  tha.Exec("account.open",
           {{"registry", "THA01"}, {"type", "government_holding"}, {"name", "gov"}});
  jpn.Exec("registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "Japan"}});
  jpn.Exec("account.open",
           {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov"}});
  jpn.Exec("account.open", {{"registry", "JPN01"}, {"type", "retirement"}, {"name", "ret"}});
  for (const Installation* i : {&tha, &jpn}) {
    i->Exec("ca.define", {{"key", "JPN-THA"}, {"parties", {"JPN", "THA"}}, {"ca_id", "CA0043"}});
    i->Exec("ca.authorize", Step1("THA", "THA01"));
    i->Exec("ca.authorize", Step1("JPN", "JPN01"));
    i->Exec(
        "project.add",
        {{"ref", "TH014"},
         {"host_party", "THA"},
         {"title", "Introduction of 5MW Floating Solar Power System on Industrial Water Reservoir"},
         {"methodology", "TH_AM001"},
         {"methodology_version", "Ver1.0"},
         {"sector", "Energy generation"},
         {"activity_type", "Solar"},
         {"participants", {"TSB Bangkok Co., Ltd."}},
         {"allocation", {{"THA", 100}, {"JPN", 0}}},
         {"ca_key", "JPN-THA"},
         {"state", "validation"}});
    i->Exec("project.transition", {{"ref", "TH014"},
                                   {"to", "registration_requested"},
                                   {"jc_decision", "TH-JC-REQ"},
                                   {"date", "2020-09-01"}});
    i->Exec("project.transition", {{"ref", "TH014"},
                                   {"to", "registered"},
                                   {"jc_decision", "TH-JC-REG"},
                                   {"date", "2020-09-28"}});
    for (const std::string party : {"THA", "JPN"}) {
      i->Exec("authorization.add", {{"party", party},
                                    {"project", "TH014"},
                                    {"authorization_id", party + "-TH014-A6"},
                                    {"date", "2025-06-01"},
                                    {"purposes", "NDC"},
                                    {"vintages", {{{"vintage", 2021}, {"quantity", 1200}}}},
                                    {"acquiring_parties", {"JPN"}},
                                    {"change_terms",
                                     {{"increase", true},
                                      {"decrease", true},
                                      {"revocation", true},
                                      {"false_information_exception", true}}}});
    }
  }
  tha.Exec("report.initial.submit", {{"party", "THA"}, {"ca", "JPN-THA"}, {"date", "2025-06-01"}});
  jpn.Exec("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-THA"}, {"date", "2025-06-01"}});
  tha.Exec("issue.jcm", {{"account", 1},
                         {"project", "TH014"},
                         {"jc_decision", "TH-JC-ISS"},
                         {"decision_date", "2025-10-30"},
                         {"monitoring_start", "2021-01-01"},
                         {"monitoring_end", "2021-12-31"},
                         {"total", 1009},
                         {"shares", {{"THA", 1009}, {"JPN", 0}}},
                         {"vintages", {{{"vintage", 2021}, {"quantity", 1009}}}}});
  tha.Exec("peer.set", {{"id", "jpn"},
                        {"url", "http://127.0.0.1:" + std::to_string(jpn_port)},
                        {"public_key", jpn.PublicKey()},
                        {"registries", {"JPN01"}}});
  jpn.Exec("peer.set", {{"id", "tha"},
                        {"url", "http://127.0.0.1:" + std::to_string(tha_port)},
                        {"public_key", tha.PublicKey()},
                        {"registries", {"THA01"}}});
}

// A `jcmreg serve` on a fixed port; killed or stopped by the test.
class Serve {
 public:
  Serve(const Installation& i, int port, const std::string& log, Env extra = {},
        std::vector<std::string> flags = {})
      : port_(port) {
    Env env = i.env;
    for (auto& [k, v] : extra) env[k] = v;
    std::vector<std::string> argv = {JCMREG_BINARY, "--db",
                                     i.db,          "serve",
                                     "--listen",    "127.0.0.1:" + std::to_string(port),
                                     "--quiet",     "--link-retry-max-ms",
                                     "200"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    pid_ = Spawn(argv, env, nullptr, log);
  }
  ~Serve() { Stop(); }
  bool Ready() const {
    for (int i = 0; i < 200; ++i) {
      httplib::Client c("127.0.0.1", port_);
      c.set_connection_timeout(0, 100000);
      if (auto res = c.Get("/healthz"); res && res->status == 200) return true;
      if (!Alive()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }
  bool Alive() const {
    if (pid_ <= 0) return false;
    int status = 0;
    return waitpid(pid_, &status, WNOHANG) == 0;
  }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  // Waits for a process that killed itself (a crash point) to end.
  bool WaitExit(std::chrono::milliseconds most) {
    const auto end = std::chrono::steady_clock::now() + most;
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

// The state of the first outgoing transfer of `tha`, once it has ended (or "" after `most`).
std::string WaitEnded(const Installation& tha, std::chrono::seconds most) {
  const auto end = std::chrono::steady_clock::now() + most;
  while (std::chrono::steady_clock::now() < end) {
    const Json out = tha.Outgoing();
    if (!out.empty()) {
      const std::string state = out[0].value("state", "");
      if (state == "completed" || state == "released") return state;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

// The states of every outgoing transfer of `tha` once all have ended (empty after `most`).
std::vector<std::string> WaitAllEnded(const Installation& tha, size_t count,
                                      std::chrono::seconds most) {
  const auto end = std::chrono::steady_clock::now() + most;
  while (std::chrono::steady_clock::now() < end) {
    const Json out = tha.Outgoing();
    std::vector<std::string> states;
    for (const Json& t : out) {
      const std::string state = t.value("state", "");
      if (state == "completed" || state == "released") states.push_back(state);
    }
    if (out.size() == count && states.size() == count) return states;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {};
}

// A hostile network between the two installations: an HTTP proxy in front of the receiver that,
// for each transfer or terminate message, drops it, forwards it and drops the answer, forwards
// it twice, delays it, or holds it back and sends it after the next one (reordering). Reconcile
// messages pass untouched. `blackout` drops everything until that time.
class FaultProxy {
 public:
  FaultProxy(int port, int target, uint32_t seed) : rng_(seed), target_(target) {
    server_.Post("/v1/link/messages",
                 [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    thread_ = std::thread([this, port] { server_.listen("127.0.0.1", port); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FaultProxy() {
    server_.stop();
    thread_.join();
  }
  void BlackoutFor(std::chrono::milliseconds ms) {
    std::lock_guard<std::mutex> lock(mu_);
    blackout_ = std::chrono::steady_clock::now() + ms;
  }
  std::map<std::string, int> counts() {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_;
  }

 private:
  httplib::Result Forward(const std::string& body) {
    httplib::Client c("127.0.0.1", target_);
    c.set_read_timeout(5, 0);
    return c.Post("/v1/link/messages", body, "application/json");
  }
  void Handle(const httplib::Request& req, httplib::Response& res) {
    const Json m = Json::parse(req.body, nullptr, false);
    int fault = 0;
    std::string held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (std::chrono::steady_clock::now() < blackout_) {
        ++counts_["blackout"];
        res.status = 502;
        return;
      }
      if (m.is_object() && m.value("type", "") != "reconcile") fault = static_cast<int>(rng_() % 6);
      static const char* const kNames[] = {"passed",     "dropped", "answer dropped",
                                           "duplicated", "delayed", "reordered"};
      ++counts_[kNames[fault]];
      if (fault == 5) {
        held.swap(held_);  // Send the one held back first, if any; hold this one.
        held_ = req.body;
      }
    }
    if (fault == 1) {
      res.status = 502;
      return;
    }
    if (fault == 4) std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng_() % 250));
    if (fault == 5) {
      if (!held.empty()) Forward(held);  // Stale: refused as a replay, or answered again.
      res.status = 502;                  // This one waits for the next message.
      return;
    }
    auto r = Forward(req.body);
    if (fault == 3) r = Forward(req.body);  // The same bytes again: a replay.
    if (!r || fault == 2) {
      res.status = 502;
      return;
    }
    res.status = r->status;
    res.set_content(r->body, "application/json");
  }

  httplib::Server server_;
  std::mutex mu_;
  std::mt19937 rng_;
  int target_;
  std::string held_;
  std::chrono::steady_clock::time_point blackout_{};
  std::map<std::string, int> counts_;
  std::thread thread_;
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/jcm-link-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The seed of a randomized test: $JCM_SEED, or a fresh one; printed so that it replays.
uint32_t Seed() {
  const char* env = std::getenv("JCM_SEED");
  const uint32_t seed = env != nullptr ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10))
                                       : std::random_device{}();
  std::printf("JCM_SEED=%u\n", seed);
  return seed;
}

// A copy of the template pair (databases and keys) in `to`, for one run; returns `to`.
std::string CopyPair(const std::string& base, const std::string& to) {
  fs::create_directories(to);
  for (const std::string f :
       {"tha.db", "tha.db.key", "tha.db.pub", "jpn.db", "jpn.db.key", "jpn.db.pub"}) {
    fs::copy_file(base + "/" + f, to + "/" + f);
  }
  for (const std::string key : {"/tha.db.key", "/jpn.db.key"}) {
    fs::permissions(to + key, fs::perms::owner_read | fs::perms::owner_write);
  }
  return to;
}

// Every serial of TH014's lot is in exactly one registry: THA's own accounts (government and
// transit) plus JPN's (government and retirement) hold 1,009, and THA's mirror of JPN01 holds
// exactly what Japan took.
void ExpectConserved(const Installation& tha, const Installation& jpn, const std::string& what) {
  const int64_t at_tha = tha.Held(1) + tha.Held(3);
  const int64_t at_jpn = jpn.Held(1) + jpn.Held(2);
  EXPECT_EQ(at_tha + at_jpn, 1009) << what << ": THA holds " << at_tha << ", JPN " << at_jpn;
  EXPECT_EQ(tha.Held(2), at_jpn) << what << ": the mirror of JPN01 at THA";
  EXPECT_EQ(tha.Held(3), 0) << what << ": nothing left in transit";
}

// TH014 from THA01 (one installation) to JPN01 (the other), then a use in Japan; what each sees.
void Th014Flow(const TempDir& dir, const Installation& tha, const Installation& jpn) {
  const int tha_port = FreePort(), jpn_port = FreePort();
  SetUpPair(tha, jpn, tha_port, jpn_port, dir.path());
  const Json sent = tha.ExecJson(
      "link.transfer", {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 1009}});
  EXPECT_EQ(sent.at("result").at("state"), "proposed");
  RunResult admin = tha.Jcmreg(
      {"user", "add", "--role", "administrator", "--scope", "*", "--name", "operator", "--quiet"});
  ASSERT_EQ(admin.code, 0);
  const std::string token = admin.out.substr(0, 64);
  Serve a(tha, tha_port, dir.path() + "/tha.log"), b(jpn, jpn_port, dir.path() + "/jpn.log");
  ASSERT_TRUE(a.Ready());
  ASSERT_TRUE(b.Ready());
  ASSERT_EQ(WaitEnded(tha, std::chrono::seconds(20)), "completed");
  EXPECT_EQ(jpn.Held(1), 1009);
  ExpectConserved(tha, jpn, "TH014");
  // Japan uses 500 t towards its NDC (use year 2026).
  jpn.Exec("retire", {{"from", 1}, {"to", 2}, {"quantity", 500}, {"use_year", 2026}});

  // Reconciliation, both ways.
  for (const auto& [i, peer] : {std::pair{&tha, "jpn"}, std::pair{&jpn, "tha"}}) {
    const RunResult r = i->Jcmreg({"--json", "link", "reconcile", peer});
    EXPECT_EQ(r.code, 0) << r.out;
    const Json rec = Json::parse(r.out, nullptr, false);
    EXPECT_EQ(rec.value("agreed", 0), 1) << r.out;
    EXPECT_TRUE(rec.value("mismatches", Json::array()).empty()) << r.out;
  }

  // The same reconciliation through the API (an operator's token of scope *).
  {
    httplib::Client api("127.0.0.1", tha_port);
    auto res = api.Get("/v1/link/reconcile?peer=jpn", {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    const Json rec = Json::parse(res->body, nullptr, false);
    EXPECT_EQ(rec.value("agreed", 0), 1) << res->body;
    EXPECT_TRUE(rec.value("mismatches", Json::array()).empty()) << res->body;
    res = api.Get("/v1/link/reconcile?peer=nobody", {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404);
  }

  // Hostile messages over HTTP: each refused with its check, nothing changed.
  httplib::Client client("127.0.0.1", jpn_port);
  const auto post = [&](const std::string& body) {
    auto res = client.Post("/v1/link/messages", body, "application/json");
    EXPECT_TRUE(res);
    return res ? std::pair{res->status, Json::parse(res->body, nullptr, false)}
               : std::pair{0, Json()};
  };
  Json forged = {{"protocol", "jcm-link/1"},
                 {"type", "transfer"},
                 {"from", "THA01"},
                 {"to", "JPN01"},
                 {"transaction", "THA01-999"},
                 {"sequence", 1},
                 {"sent", "2026-01-01T00:00:00Z"},
                 {"body", {{"account", 1}, {"units", Json::array()}}},
                 {"signature", std::string(128, '0')}};
  auto [status, body] = post(forged.dump());
  EXPECT_EQ(status, 401);
  EXPECT_EQ(body.value("check", ""), "link_signature_invalid");
  forged["from"] = "KOR01";
  forged["transaction"] = "KOR01-1";
  std::tie(status, body) = post(forged.dump());
  EXPECT_EQ(body.value("check", ""), "link_unknown_peer");
  std::tie(status, body) = post("{\"protocol\":");
  EXPECT_EQ(status, 400);
  std::tie(status, body) = post(std::string(2 << 20, ' '));
  EXPECT_EQ(status, 413);
  EXPECT_EQ(jpn.Held(1), 509);
  a.Stop();
  b.Stop();
  // A peer that is down: reconciliation says so, with its check, and changes nothing.
  const RunResult down = tha.Jcmreg({"link", "reconcile", "jpn"});
  EXPECT_NE(down.code, 0);  // Check::kLinkPeerUnreachable

  // A statement for a partner with no connection: Thailand's actions as THA's registry states
  // them, compared by Japan's registry with what it recorded of Thailand's side.
  const std::string statement = dir.path() + "/tha-statement.json";
  ASSERT_EQ(tha.Jcmreg({"link", "statement", "--party", "THA", "--year", "2026", "--from", "THA01",
                        "--to", "JPN01", "--out", statement})
                .code,
            0);
  const RunResult compared = jpn.Jcmreg({"--json", "link", "compare", statement, "--peer", "tha"});
  EXPECT_EQ(compared.code, 0) << compared.out;
  EXPECT_EQ(Json::parse(compared.out, nullptr, false).value("matched", 0), 1) << compared.out;
  {
    std::ifstream in(statement);
    Json altered = Json::parse(in, nullptr, false);
    altered["body"]["year"] = 2025;
    std::ofstream(statement) << altered.dump();
  }
  EXPECT_NE(jpn.Jcmreg({"link", "compare", statement, "--peer", "tha"}).code, 0);

  // Both verify; both AEFs show their side and cross-check with the other's.
  for (const Installation* i : {&tha, &jpn}) {
    const RunResult v = i->Jcmreg({"verify"});
    EXPECT_EQ(v.code, 0) << v.out;
  }
  ASSERT_EQ(tha.Jcmreg({"report", "aef", "--party", "THA", "--year", "2026", "--format", "csv",
                        "--out", dir.path() + "/aef-tha"})
                .code,
            0);
  ASSERT_EQ(jpn.Jcmreg({"report", "aef", "--party", "JPN", "--year", "2026", "--format", "csv",
                        "--out", dir.path() + "/aef-jpn"})
                .code,
            0);
  for (const auto& [i, party, partner] :
       {std::tuple{&tha, "THA", "/aef-jpn"}, std::tuple{&jpn, "JPN", "/aef-tha"}}) {
    const RunResult r =
        i->Jcmreg({"--json", "report", "aef", "--party", party, "--year", "2026", "--format", "csv",
                   "--out", dir.path() + "/x-" + party, "--partner", dir.path() + partner});
    const Json j = Json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.out;
    for (const Json& c : j["pre_consistency_checks"]) {
      if (c["item"] == 2) {
        EXPECT_EQ(c["status"], "Checked, no inconsistencies identified")
            << party << ": " << c.dump();
      }
    }
  }
  std::ifstream tha_actions(dir.path() + "/aef-tha/3_actions.csv");
  std::stringstream tha_text;
  tha_text << tha_actions.rdbuf();
  EXPECT_NE(
      tha_text.str().find(",First transfer,First transfer to another Party,CA0043,THA-TH014-A6,"
                          "THA,THA01,CA0043-THA01-THA-1-2021,CA0043-THA01-THA-1009-2021,"),
      std::string::npos)
      << tha_text.str();
  std::ifstream jpn_actions(dir.path() + "/aef-jpn/3_actions.csv");
  std::stringstream jpn_text;
  jpn_text << jpn_actions.rdbuf();
  EXPECT_NE(jpn_text.str().find(",Acquisition,NA,CA0043,"), std::string::npos) << jpn_text.str();
  EXPECT_NE(jpn_text.str().find(",Use,NA,CA0043,"), std::string::npos) << jpn_text.str();
}

TEST(LinkSystem, Th014FromThailandsRegistryToJapansAcrossTwoInstallations) {
  TempDir dir;
  Th014Flow(dir, Installation{dir.path() + "/tha.db", {}, dir.path() + "/tha.db"},
            Installation{dir.path() + "/jpn.db", {}, dir.path() + "/jpn.db"});
}

// The same with Japan's installation on PostgreSQL and Thailand's on SQLite.
TEST(LinkSystem, Th014WithJapanOnPostgresAndThailandOnSqlite) {
  const std::string url = registry::testing::PostgresUrl();
  ASSERT_FALSE(url.empty()) << "no PostgreSQL test server: run scripts/test-services.sh start";
  TempDir dir;
  const std::string schema = "link_jpn_" + std::to_string(getpid());
  Th014Flow(dir, Installation{dir.path() + "/tha.db", {}, dir.path() + "/tha.db"},
            Installation{url,
                         {{"JCMREG_PG_SCHEMA", schema}, {"JCMREG_KEY", dir.path() + "/jpn"}},
                         dir.path() + "/jpn"});
}

// One fault run: the template pair copied, the transfer (already proposed at THA) exchanged
// with a fault, then checked.
struct FaultCase {
  std::string name;
  std::string victim;          // "tha" or "jpn"
  std::string crash_at;        // A crash point, or "" for a kill at a random moment.
  int kill_after_ms = 0;       // For a random kill.
  bool receiver_down = false;  // JPN down for the whole retry period; THA terminates.
};

TEST(LinkSystem, KillEitherSideAtEveryStepUnitsAreNeverLostOrDoubled) {
  std::mt19937 rng(Seed());
  const char* runs_env = std::getenv("JCM_LINK_RUNS");
  const int runs = runs_env != nullptr ? std::atoi(runs_env) : 48;

  TempDir dir;
  const std::string base = dir.path() + "/template";
  fs::create_directories(base);
  const Installation tha_t{base + "/tha.db", {}, base + "/tha.db"};
  const Installation jpn_t{base + "/jpn.db", {}, base + "/jpn.db"};
  const int tha_port = FreePort(), jpn_port = FreePort();
  SetUpPair(tha_t, jpn_t, tha_port, jpn_port, dir.path());
  tha_t.Exec("link.transfer",
             {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 1009}});

  const std::vector<std::pair<std::string, std::string>> points = {
      {"tha", "sender_before_send"},
      {"tha", "sender_after_answer"},
      {"jpn", "receiver_before_commit"},
      {"jpn", "receiver_after_commit"}};
  std::map<std::string, int> completed, released;
  for (int run = 0; run < runs; ++run) {
    FaultCase c;
    const int kind = run % 6;
    if (kind < 4) {
      c.victim = points[kind].first;
      c.crash_at = points[kind].second;
      c.name = c.victim + " killed at " + c.crash_at;
    } else if (kind == 4) {
      c.victim = rng() % 2 ? "tha" : "jpn";
      c.kill_after_ms = static_cast<int>(rng() % 400);
      c.name = c.victim + " killed at a random moment";
    } else {
      c.victim = "jpn";
      c.receiver_down = true;
      c.name = "jpn down for the whole retry period";
    }
    SCOPED_TRACE("run " + std::to_string(run) + ": " + c.name);
    const std::string rd = CopyPair(base, dir.path() + "/run" + std::to_string(run));
    const Installation tha{rd + "/tha.db", {}, rd + "/tha.db"};
    const Installation jpn{rd + "/jpn.db", {}, rd + "/jpn.db"};
    const Env crash = c.crash_at.empty() ? Env{} : Env{{"JCMREG_LINK_CRASH_AT", c.crash_at}};
    // The receiver-down case: THA asks to terminate after 1 s, and JPN comes up only later.
    const std::vector<std::string> tha_flags =
        c.receiver_down ? std::vector<std::string>{"--link-terminate-after-s", "1"}
                        : std::vector<std::string>{};
    auto a = std::make_unique<Serve>(tha, tha_port, rd + "/tha.log",
                                     c.victim == "tha" ? crash : Env{}, tha_flags);
    std::unique_ptr<Serve> b;
    if (!c.receiver_down) {
      b = std::make_unique<Serve>(jpn, jpn_port, rd + "/jpn.log",
                                  c.victim == "jpn" ? crash : Env{});
    }
    Serve* victim_process = c.victim == "tha" ? a.get() : b.get();
    if (!c.crash_at.empty()) {
      ASSERT_TRUE(victim_process->WaitExit(std::chrono::seconds(20)))
          << "never reached " << c.crash_at;
    } else if (c.kill_after_ms > 0 || !c.receiver_down) {
      std::this_thread::sleep_for(std::chrono::milliseconds(c.kill_after_ms));
      victim_process->Kill();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    }
    // Back up, without the fault.
    if (c.victim == "tha") {
      a = std::make_unique<Serve>(tha, tha_port, rd + "/tha.log");
    } else {
      b = std::make_unique<Serve>(jpn, jpn_port, rd + "/jpn.log");
    }
    ASSERT_TRUE(a->Ready());
    ASSERT_TRUE(b->Ready());
    const std::string state = WaitEnded(tha, std::chrono::seconds(30));
    ASSERT_FALSE(state.empty()) << "the transfer did not end; see " << rd;
    (state == "completed" ? completed : released)[c.name]++;
    if (c.receiver_down) {
      EXPECT_EQ(state, "released");
    }
    const RunResult rec = tha.Jcmreg({"--json", "link", "reconcile", "jpn"});
    EXPECT_EQ(rec.code, 0) << rec.out;
    a->Stop();
    b->Stop();
    ExpectConserved(tha, jpn, c.name);
    EXPECT_EQ(tha.Jcmreg({"verify"}).code, 0);
    EXPECT_EQ(jpn.Jcmreg({"verify"}).code, 0);
    if (!::testing::Test::HasFailure()) fs::remove_all(rd);
  }
  for (const auto& [name, n] : completed) std::printf("completed  %3d  %s\n", n, name.c_str());
  for (const auto& [name, n] : released) std::printf("released   %3d  %s\n", n, name.c_str());
}

}  // namespace

namespace {

// Three transfers at once through a proxy that drops, delays, duplicates and reorders messages;
// every third run also blacks the network out for longer than the termination time.
TEST(LinkSystem, ThroughAHostileNetworkUnitsAreNeverLostOrDoubled) {
  std::mt19937 rng(Seed());
  const char* runs_env = std::getenv("JCM_LINK_PROXY_RUNS");
  const int runs = runs_env != nullptr ? std::atoi(runs_env) : 12;
  TempDir dir;
  const std::string base = dir.path() + "/template";
  fs::create_directories(base);
  const Installation tha_t{base + "/tha.db", {}, base + "/tha.db"};
  const Installation jpn_t{base + "/jpn.db", {}, base + "/jpn.db"};
  const int tha_port = FreePort(), jpn_port = FreePort(), proxy_port = FreePort();
  // THA reaches JPN through the proxy; JPN reaches THA directly.
  SetUpPair(tha_t, jpn_t, tha_port, proxy_port, dir.path());
  std::map<std::string, int> faults;
  int completed = 0, released = 0;
  for (int run = 0; run < runs; ++run) {
    SCOPED_TRACE("proxy run " + std::to_string(run));
    const std::string rd = CopyPair(base, dir.path() + "/prun" + std::to_string(run));
    const Installation tha{rd + "/tha.db", {}, rd + "/tha.db"};
    const Installation jpn{rd + "/jpn.db", {}, rd + "/jpn.db"};
    for (const int q : {300, 300, 409}) {
      tha.Exec("link.transfer",
               {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", q}});
    }
    const bool blackout = run % 3 == 2;
    FaultProxy proxy(proxy_port, jpn_port, static_cast<uint32_t>(rng()));
    if (blackout) proxy.BlackoutFor(std::chrono::milliseconds(2500));
    Serve a(tha, tha_port, rd + "/tha.log", {},
            blackout ? std::vector<std::string>{"--link-terminate-after-s", "2"}
                     : std::vector<std::string>{});
    Serve b(jpn, jpn_port, rd + "/jpn.log");
    ASSERT_TRUE(a.Ready());
    ASSERT_TRUE(b.Ready());
    const std::vector<std::string> states = WaitAllEnded(tha, 3, std::chrono::seconds(60));
    ASSERT_EQ(states.size(), 3u) << "the transfers did not all end; see " << rd;
    for (const std::string& s : states) (s == "completed" ? completed : released)++;
    const RunResult rec = tha.Jcmreg({"--json", "link", "reconcile", "jpn"});
    EXPECT_EQ(rec.code, 0) << rec.out;
    for (const auto& [k, n] : proxy.counts()) faults[k] += n;
    a.Stop();
    b.Stop();
    ExpectConserved(tha, jpn, "proxy run " + std::to_string(run));
    EXPECT_EQ(tha.Jcmreg({"verify"}).code, 0);
    EXPECT_EQ(jpn.Jcmreg({"verify"}).code, 0);
    if (!::testing::Test::HasFailure()) fs::remove_all(rd);
  }
  std::printf("transfers completed %d, released %d\n", completed, released);
  for (const auto& [k, n] : faults) std::printf("messages %-15s %d\n", k.c_str(), n);
}

}  // namespace
