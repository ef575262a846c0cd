// `jcmreg serve --db PATH --listen HOST:PORT` and `jcmreg user add --role ROLE --scope SCOPE`.
#include "app/serve.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "cli/cli.h"
#include "core/utc_time.h"
#include "http/server.h"
#include "link/link_client.h"
#include "link/statement.h"
#include "service/access.h"
#include "service/json_text.h"
#include "storage/sqlite/sqlite_store.h"

namespace registry::app {
namespace {

// The whole number `flag` gives, from `min` to `max` (`max_note` says where max comes from, when
// it is not fixed); nullopt after a message naming the flag, its range and what was given.
std::optional<long> WholeNumberFlag(const std::string& flag, const std::string& text, long min,
                                    long max, const std::string& max_note = "") {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < min || value > max) {
    std::cerr << "usage error: " << flag << " takes a whole number from " << min << " to " << max
              << max_note << ", not '" << text << "'\n";
    return std::nullopt;
  }
  return value;
}

StoreResult<std::unique_ptr<Store>> Scratch() {
  return sqlite::OpenScratch();
}

int Serve(const cli::GlobalOptions& global, std::map<std::string, std::string> flags) {
  // SIGINT and SIGTERM are blocked in every thread (those made below inherit the mask) and taken
  // by sigwait in this one, which then stops the server as any caller would. Stopping from a
  // signal handler joined the listening thread while this thread was joining it too, and the
  // process hung on SIGTERM.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  const std::string& db = global.db;
  const std::string listen = flags.count("--listen") ? flags["--listen"] : "127.0.0.1:8080";
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "usage error: --listen HOST:PORT\n";
    return cli::kExitUsage;
  }
  http::ServerOptions options;
  options.host = listen.substr(0, colon);
  const std::string port_text = listen.substr(colon + 1);
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    std::cerr << "usage error: bad port '" << port_text << "'\n";
    return cli::kExitUsage;
  }
  options.port = static_cast<int>(port);
  if (flags.count("--rate")) {
    const double rate = std::strtod(flags["--rate"].c_str(), &end);
    if (*end != '\0' || rate < 0) {
      std::cerr << "usage error: bad --rate\n";
      return cli::kExitUsage;
    }
    options.rate_per_second = rate;
  }
  options.rate_burst = options.rate_per_second * 2;
  if (flags.count("--threads")) {
    // Requests handled at once; open connections that are not being answered take none.
    const auto threads =
        WholeNumberFlag("--threads", flags["--threads"], 1, static_cast<long>(kHttpThreadsMax));
    if (!threads) return cli::kExitUsage;
    options.threads = static_cast<size_t>(*threads);
  }
  if (flags.count("--report-builds")) {
    // Reports (AEF, statistics, verify...) built at once; one more is answered 503.
    const auto builds = WholeNumberFlag("--report-builds", flags["--report-builds"], 1,
                                        static_cast<long>(options.threads), " (the threads)");
    if (!builds) return cli::kExitUsage;
    options.report_builds_max = static_cast<size_t>(*builds);
  }
  if (flags.count("--report-cache-mib")) {
    // Public report answers kept while the journal head does not move; 0 turns the cache off.
    const auto mib = WholeNumberFlag("--report-cache-mib", flags["--report-cache-mib"], 0, 65536);
    if (!mib) return cli::kExitUsage;
    options.report_cache_bytes = static_cast<size_t>(*mib) << 20;
  }
  if (flags.count("--connections")) {
    const auto most = WholeNumberFlag("--connections", flags["--connections"], 1, 1000000);
    if (!most) return cli::kExitUsage;
    options.connections_max = static_cast<size_t>(*most);
  }
  if (flags.count("--trust-proxy")) {
    // The proxies (load balancers) in front of the registry, by the address they connect from:
    // their X-Forwarded-For names the client that rate limits count.
    std::string list = flags["--trust-proxy"];
    for (size_t start = 0; start <= list.size();) {
      const size_t comma = std::min(list.find(',', start), list.size());
      const std::string address = list.substr(start, comma - start);
      unsigned char buffer[sizeof(in6_addr)];
      if (::inet_pton(AF_INET, address.c_str(), buffer) != 1 &&
          ::inet_pton(AF_INET6, address.c_str(), buffer) != 1) {
        std::cerr << "usage error: --trust-proxy takes numeric IP addresses, not '" << address
                  << "'\n";
        return cli::kExitUsage;
      }
      options.trusted_proxies.push_back(address);
      start = comma + 1;
    }
  }
  if (flags.count("--connections-per-address")) {
    // Behind a proxy every connection comes from its address: raise it there.
    const auto most = WholeNumberFlag("--connections-per-address",
                                      flags["--connections-per-address"], 1,
                                      static_cast<long>(options.connections_max));
    if (!most) return cli::kExitUsage;
    options.connections_per_address_max = static_cast<size_t>(*most);
  }
  options.access_log = !flags.count("--quiet");
  auto witness_sync = journal::Witness::kDefaultSyncInterval;
  if (flags.count("--witness-sync-ms")) {
    // How often the witness file is fdatasynced; 0: after every line (journal/witness.h).
    const auto ms = WholeNumberFlag("--witness-sync-ms", flags["--witness-sync-ms"], 0, 60000);
    if (!ms) return cli::kExitUsage;
    witness_sync = std::chrono::milliseconds(*ms);
  }
  auto session = cli::OpenSession(db, false);
  if (!session) {
    std::cerr << "error: " << session.error() << "\n";
    return cli::kExitError;
  }
  // The witness file: one line per committed batch (journal/witness.h). --witness overrides the
  // $JCMREG_WITNESS that OpenSession opened.
  if (flags.count("--witness") || flags.count("--witness-sync-ms")) {
    const char* env = std::getenv("JCMREG_WITNESS");
    const std::string path = flags.count("--witness") ? flags["--witness"]
                             : env != nullptr         ? env
                                                      : "";
    if (path.empty()) {
      std::cerr << "usage error: --witness-sync-ms needs --witness FILE or $JCMREG_WITNESS\n";
      return cli::kExitUsage;
    }
    session->registry->SetWitness(nullptr);
    session->witness.reset();
    auto started = cli::StartWitness(path, witness_sync, *session);
    if (!started) {
      std::cerr << "error: " << started.error() << "\n";
      return cli::kExitError;
    }
    session->witness = std::move(started).value();
  }
  link::OutboxOptions link_options;
  if (flags.count("--link-terminate-after-s")) {
    const auto s = WholeNumberFlag("--link-terminate-after-s", flags["--link-terminate-after-s"], 1,
                                   86400 * 30);
    if (!s) return cli::kExitUsage;
    link_options.terminate_after = std::chrono::seconds(*s);
  }
  if (flags.count("--link-retry-max-ms")) {
    const auto ms =
        WholeNumberFlag("--link-retry-max-ms", flags["--link-retry-max-ms"], 10, 3600000);
    if (!ms) return cli::kExitUsage;
    link_options.retry_max = std::chrono::milliseconds(*ms);
    link_options.retry_min = std::min(link_options.retry_min, link_options.retry_max);
  }
  options.public_key = session->key.public_key;
  options.link_key = session->key;
  options.scratch = Scratch;
  http::Server server(*session->store, *session->registry, options);
  auto bound = server.Start();
  if (!bound) {
    std::cerr << "error: " << bound.error() << "\n";
    return cli::kExitError;
  }
  // The registry link's outbox: sends the open transfers to their peers, journals the answers.
  link::Outbox outbox(
      *session->store, session->key,
      [&server](service::Request r) { return server.Submit(std::move(r)); }, link_options);
  outbox.Start();
  std::cout << "serving " << db << " at http://" << options.host << ":" << *bound
            << "/v1 (OpenAPI: /v1/openapi.json)" << std::endl;
  // Until a stop signal, or the server ends by itself (looked at once a second).
  for (;;) {
    const timespec second{1, 0};
    const int signal = sigtimedwait(&stop_signals, nullptr, &second);
    if (signal == SIGINT || signal == SIGTERM || !server.Running()) break;
  }
  outbox.Stop();
  server.Stop();  // Answers what the writer holds, then returns.
  if (session->witness) {
    session->registry->SetWitness(nullptr);
    if (!session->witness->Sync()) return cli::kExitError;
  }
  return cli::kExitOk;
}

int User(const cli::GlobalOptions& global, const std::string& verb,
         std::map<std::string, std::string> flags) {
  const std::string& db = global.db;
  if (verb == "add" && (!flags.count("--role") || !flags.count("--scope"))) {
    std::cerr << "usage error: --role and --scope are required\n";
    return cli::kExitUsage;
  }
  if (verb != "add" && !flags.count("--name")) {
    std::cerr << "usage error: --name is required\n";
    return cli::kExitUsage;
  }
  if (verb == "deactivate" && !flags.count("--reason")) {
    std::cerr << "usage error: --reason is required (it is journaled)\n";
    return cli::kExitUsage;
  }
  auto session = cli::OpenSession(db, false);
  if (!session) {
    std::cerr << "error: " << session.error() << "\n";
    return cli::kExitError;
  }
  std::optional<service::NewToken> token;
  service::Json args = service::Json::object();
  if (flags.count("--name")) args["name"] = flags["--name"];
  if (verb == "add") {
    args["role"] = flags["--role"];
    args["scope"] = flags["--scope"];
  }
  if (verb == "add" || verb == "token") {
    token = service::MakeToken();
    args["token_hash"] = token->hash;
  }
  if (verb == "deactivate") args["reason"] = flags["--reason"];
  const service::Response response = session->registry->Execute(
      service::Request{"user." + verb, args, global.actor, global.idempotency_key});
  if (!response.ok() || !token) return cli::PrintResponse(response, global.json);
  if (flags.count("--quiet")) {
    std::cout << token->token << "\n";
  } else {
    service::Json out = response.result;
    out["token"] = token->token;
    out["note"] = "the token is shown once; only its hash is stored";
    std::cout << service::DumpJsonLossy(out, 2) << "\n";
  }
  return cli::kExitOk;
}

cli::SubcommandRunner AddServe(CLI::App& app, const cli::GlobalOptions& global) {
  auto options = std::make_shared<cli::TextOptions>();
  CLI::App* serve = app.add_subcommand(
      "serve", "serve the JSON API (/v1, OpenAPI at /v1/openapi.json) and the portal");
  options->Add(serve, "--listen", "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any)");
  options->Add(serve, "--rate", "requests per second per client address (0: no limit)");
  options->Add(serve, "--threads", "requests handled at once (1 to 1024)");
  options->Add(serve, "--report-builds", "reports built at once (1 to --threads)");
  options->Add(serve, "--report-cache-mib", "MiB of public report answers kept (0: none)");
  options->Add(serve, "--connections", "connections open at once");
  options->Add(serve, "--connections-per-address", "connections from one client address");
  options->Add(serve, "--trust-proxy", "ADDR[,ADDR]: proxies whose X-Forwarded-For is believed");
  options->Add(serve, "--witness", "FILE: append the journal head of every committed batch");
  options->Add(serve, "--link-terminate-after-s",
               "ask a peer to terminate a link transfer unanswered this long (default 600)");
  options->Add(serve, "--link-retry-max-ms", "longest wait between link retries (default 30000)");
  options->Add(serve, "--witness-sync-ms", "how often the witness file is synced (0: each line)");
  options->AddFlag(serve, "--quiet", "no access log");
  return [serve, options, &global]() -> std::optional<int> {
    if (!serve->parsed()) return std::nullopt;
    return Serve(global, options->Given());
  };
}

cli::SubcommandRunner AddUser(CLI::App& app, const cli::GlobalOptions& global) {
  CLI::App* user = app.add_subcommand("user", "API users and their tokens")->require_subcommand(1);
  user->footer(
      "  roles: administrator focal_point secretariat account_representative auditor\n"
      "  scopes: * party:JPN registry:JPN01 account:N");
  struct Verb {
    CLI::App* app;
    std::shared_ptr<cli::TextOptions> options;
  };
  auto verbs = std::make_shared<std::map<std::string, Verb>>();
  const auto add = [&](const std::string& verb, const std::string& help) {
    Verb v{user->add_subcommand(verb, help), std::make_shared<cli::TextOptions>()};
    (*verbs)[verb] = v;
    return v;
  };
  Verb added = add("add", "a new user and its token (shown once)");
  added.options->Add(added.app, "--role", "the user's role");
  added.options->Add(added.app, "--scope", "what the user may act on");
  added.options->Add(added.app, "--name", "the user's name (default: made from role and scope)");
  added.options->AddFlag(added.app, "--quiet", "print only the token");
  Verb deactivated = add("deactivate", "stop a user (its tokens stop working)");
  deactivated.options->Add(deactivated.app, "--name", "the user");
  deactivated.options->Add(deactivated.app, "--reason", "why (journaled)");
  Verb activated = add("activate", "let a deactivated user act again");
  activated.options->Add(activated.app, "--name", "the user");
  Verb token = add("token", "a new token for a user (earlier ones stop working)");
  token.options->Add(token.app, "--name", "the user");
  token.options->AddFlag(token.app, "--quiet", "print only the token");
  return [verbs, &global]() -> std::optional<int> {
    for (const auto& [verb, v] : *verbs) {
      if (v.app->parsed()) return User(global, verb, v.options->Given());
    }
    return std::nullopt;
  };
}

}  // namespace

struct StatementArgs {
  std::string party, year, from, to, out, file, peer, public_key;
};

// Mismatches for people (a headline and a line each) or, with --json, `summary` with them listed.
int PrintMismatches(const cli::GlobalOptions& global, const std::vector<link::Mismatch>& mismatches,
                    service::Json summary, const std::string& headline) {
  if (global.json) {
    summary["mismatches"] = service::MismatchesJson(mismatches);
    std::cout << service::DumpJsonLossy(summary, 2) << "\n";
  } else {
    std::cout << headline << ", " << mismatches.size() << " mismatches\n";
    for (const link::Mismatch& m : mismatches) {
      std::cout << "  " << CodeOf(m.check) << " " << InfoOf(m.check).name
                << (m.transaction.empty() ? "" : " " + m.transaction) << ": " << m.message << "\n";
    }
  }
  return mismatches.empty() ? cli::kExitOk : cli::kExitRefused;
}

// jcmreg link statement | compare (a partner with no connected registry; docs/link.md).
int Statement(const cli::GlobalOptions& global, const std::string& verb, const StatementArgs& a) {
  auto session = cli::OpenSession(global.db, false);
  if (!session) {
    std::cerr << "error: " << session.error() << "\n";
    return cli::kExitError;
  }
  if (verb == "statement") {
    const auto year = ParseCalendarDate(a.year + "-01-01");
    if (!year) {
      std::cerr << "usage error: --year takes a year like 2026, not '" << a.year << "'\n";
      return cli::kExitUsage;
    }
    auto m = link::MakeStatement(*session->store, session->key, a.from, a.to, a.party,
                                 std::stoi(a.year));
    if (!m) {
      std::cerr << "error: " << m.error() << "\n";
      return cli::kExitError;
    }
    std::ofstream out(a.out);
    out << service::DumpJsonLossy(service::LinkMessageJson(*m), 2) << "\n";
    if (!out.flush()) {
      std::cerr << "error: cannot write " << a.out << "\n";
      return cli::kExitError;
    }
    std::cout << "statement of " << a.party << "'s " << m->body["actions"].size() << " actions of "
              << a.year << " written to " << a.out << "\n";
    return cli::kExitOk;
  }
  journal::PublicKey key{};
  if (!a.public_key.empty()) {
    if (a.public_key.size() != 64 || !journal::FromHex(a.public_key, key.data(), key.size())) {
      std::cerr << "usage error: --public-key takes 64 hex digits\n";
      return cli::kExitUsage;
    }
  } else {
    std::vector<service::Peer> peers;
    if (auto tx = session->store->BeginRead()) {
      if (auto listed = service::ListPeers(**tx)) peers = std::move(*listed);
    }
    bool found = false;
    for (const service::Peer& p : peers) {
      if (p.id == a.peer) {
        key = p.public_key;
        found = true;
      }
    }
    if (!found) {
      std::cerr << "usage error: name the signer with --peer ID (a configured peer) or "
                   "--public-key HEX\n";
      return cli::kExitUsage;
    }
  }
  std::ifstream in(a.file);
  std::stringstream text;
  text << in.rdbuf();
  auto json = service::ParseRequestJson(text.str());
  if (!in || !json) {
    std::cerr << "error: " << a.file << " is not a JSON statement"
              << (json ? "" : ": " + json.error().message) << "\n";
    return cli::kExitError;
  }
  auto compared = link::CompareStatement(*session->store, *json, key);
  if (!compared) {
    std::cerr << "error: " << compared.error() << "\n";
    return cli::kExitError;
  }
  return PrintMismatches(global, compared->mismatches,
                         service::Json{{"matched", compared->matched}},
                         "compared: " + std::to_string(compared->matched) + " actions match");
}

// jcmreg link peers | transfers | reconcile PEER (docs/link.md).
int Link(const cli::GlobalOptions& global, const std::string& verb, const std::string& peer) {
  auto session = cli::OpenSession(global.db, false);
  if (!session) {
    std::cerr << "error: " << session.error() << "\n";
    return cli::kExitError;
  }
  if (verb == "reconcile") {
    auto result = link::ReconcileWithPeer(*session->store, session->key, peer);
    if (!result) {
      std::cerr << "error: " << CodeOf(result.error().check) << " " << result.error().message
                << "\n";
      return cli::kExitError;
    }
    return PrintMismatches(global, result->mismatches, service::ReconciliationJson(peer, *result),
                           "reconciled with peer " + peer + ": " + std::to_string(result->agreed) +
                               " agreed, " + std::to_string(result->in_flight) + " in flight");
  }
  auto tx = session->store->BeginRead();
  if (!tx) {
    std::cerr << "error: " << tx.error().message << "\n";
    return cli::kExitError;
  }
  service::Json out;
  if (verb == "peers") {
    auto peers = service::ListPeers(**tx);
    if (!peers) return cli::kExitError;
    out = service::Json::array();
    for (const service::Peer& p : *peers) {
      out.push_back({{"id", p.id},
                     {"url", p.url},
                     {"public_key", journal::ToHex(p.public_key)},
                     {"registries", p.registries}});
    }
  } else {
    auto transfers = service::LinkTransfersJson(**tx);
    if (!transfers) return cli::kExitError;
    out = *transfers;
  }
  std::cout << service::DumpJsonLossy(out, 2) << "\n";
  return cli::kExitOk;
}

cli::SubcommandRunner AddLink(CLI::App& app, const cli::GlobalOptions& global) {
  CLI::App* link = app.add_subcommand(
      "link", "the registry link to peer installations: peers, transfers, reconcile PEER");
  link->require_subcommand(1);
  auto peer = std::make_shared<std::string>();
  CLI::App* peers = link->add_subcommand("peers", "the configured peers (peer.set adds one)");
  CLI::App* transfers = link->add_subcommand("transfers", "transfers to and from peers");
  CLI::App* reconcile = link->add_subcommand(
      "reconcile", "compare this registry's view of the transfers with PEER's; changes nothing");
  reconcile->add_option("peer", *peer, "the peer's id")->required();
  auto st = std::make_shared<StatementArgs>();
  CLI::App* statement = link->add_subcommand(
      "statement",
      "a signed statement of a Party's AEF actions of a year, for a partner with no "
      "connected registry");
  statement->add_option("--party", st->party, "the Party whose actions")->required();
  statement->add_option("--year", st->year, "the year")->required();
  statement->add_option("--from", st->from, "the registry hosted here that signs")->required();
  statement->add_option("--to", st->to, "the partner's registry")->required();
  statement->add_option("--out", st->out, "FILE to write")->required();
  CLI::App* compare = link->add_subcommand(
      "compare", "check a partner's signed statement and compare it with this registry's view");
  compare->add_option("file", st->file, "the statement (JSON)")->required();
  compare->add_option("--peer", st->peer, "the configured peer that signed it");
  compare->add_option("--public-key", st->public_key, "or the signer's public key (64 hex)");
  return [=, &global]() -> std::optional<int> {
    if (statement->parsed()) return Statement(global, "statement", *st);
    if (compare->parsed()) return Statement(global, "compare", *st);
    if (peers->parsed()) return Link(global, "peers", "");
    if (transfers->parsed()) return Link(global, "transfers", "");
    if (reconcile->parsed()) return Link(global, "reconcile", *peer);
    return std::nullopt;
  };
}

void RegisterAppCommands() {
  cli::RegisterSubcommands(AddServe);
  cli::RegisterSubcommands(AddLink);
  cli::RegisterSubcommands(AddUser);
}

}  // namespace registry::app
