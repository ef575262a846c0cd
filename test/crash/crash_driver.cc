// The crash test's driver: runs a long script of ledger operations against a registry database,
// in batches of 1 to 8 operations with one transaction and one seal each (group commit, as the
// writer does), and prints "ACK <sequence> <idempotency key>" (flushed) for each operation that
// applied only after Registry::ExecuteBatch returned, i.e. after its batch's commit is durable. The
// crash test kills it with SIGKILL at random points and checks that every acknowledged operation
// survived.
//
// Usage: crash_driver setup DB          creates the registry (key, Parties, accounts) and exits;
//        crash_driver run DB RUN SEED   runs the script; keys are "r<RUN>-<n>".
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "journal/chain.h"
#include "service/registry.h"
#include "storage/sqlite/sqlite_store.h"

namespace registry {
namespace {

// Opens a database with the default VFS (fields set by name: Options grows).
StoreResult<std::unique_ptr<Store>> OpenDb(const std::string& path, bool synchronous_full) {
  sqlite::Options options;
  options.path = path;
  options.synchronous_full = synchronous_full;
  return sqlite::Open(options);
}

using service::Json;

int Die(const std::string& message) {
  std::fprintf(stderr, "crash_driver: %s\n", message.c_str());
  return 3;
}

int Setup(const std::string& db) {
  const journal::SigningKey key = journal::GenerateKey();
  if (auto saved = journal::SaveKey(db, key); !saved) return Die(saved.error());
  auto store = OpenDb(db, true);
  if (!store) return Die(store.error().message);
  service::SystemClock clock;
  service::Registry registry(**store, key, clock);
  const std::vector<std::pair<std::string, Json>> commands = {
      {"party.add", {{"code", "JPN"}, {"name", "Japan"}}},
      {"registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "JP"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "retirement"}, {"name", "ret"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "cancellation"}, {"name", "can"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov2"}}},
  };
  for (const auto& [command, args] : commands) {
    const auto response = registry.Execute({command, args, "crash", ""});
    if (!response.ok()) return Die(command + ": " + response.failure->Message());
  }
  return 0;
}

// One random operation of the script, under `idempotency_key`.
template <class Uniform>
service::Request NextOperation(Uniform& uniform, const std::string& idempotency_key) {
  const int64_t roll = uniform(0, 99);
  std::string command;
  Json args;
  if (roll < 30) {
    command = "issue";
    args = {{"account", uniform(0, 1) == 0 ? 1 : 4},
            {"vintages", {{{"vintage", uniform(2019, 2025)}, {"quantity", uniform(1, 500)}}}}};
  } else if (roll < 70) {
    const bool forth = uniform(0, 1) == 0;
    command = "transfer";
    args = {{"from", forth ? 1 : 4}, {"to", forth ? 4 : 1}, {"quantity", uniform(1, 300)}};
  } else if (roll < 85) {
    command = "retire";
    args = {{"from", uniform(0, 1) == 0 ? 1 : 4}, {"quantity", uniform(1, 50)}, {"use_year", 2025}};
  } else {
    command = "cancel";
    args = {
        {"from", uniform(0, 1) == 0 ? 1 : 4}, {"quantity", uniform(1, 50)}, {"purpose", "omge"}};
  }
  return service::Request{command, args, "crash", idempotency_key};
}

int Run(const std::string& db, const std::string& run, uint64_t seed) {
  auto key = journal::LoadKey(db);
  if (!key) return Die(key.error());
  auto store = OpenDb(db, true);
  if (!store) return Die(store.error().message);
  service::SystemClock clock;
  service::Registry registry(**store, *key, clock);
  std::mt19937_64 rng(seed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  std::printf("READY\n");
  std::fflush(stdout);
  for (int64_t n = 0; n < 1'000'000;) {
    std::vector<service::Request> batch;
    const int64_t size = uniform(1, 8);
    for (int64_t i = 0; i < size; ++i, ++n) {
      batch.push_back(NextOperation(uniform, "r" + run + "-" + std::to_string(n)));
    }
    const std::vector<service::Response> responses = registry.ExecuteBatch(batch);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (responses[i].ok()) {
        std::printf("ACK %lld %s\n", static_cast<long long>(responses[i].sequence.value),
                    batch[i].idempotency_key.c_str());
      } else if (!responses[i].failure->refusal) {
        return Die(batch[i].command + ": " + responses[i].failure->Message());
      }
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace registry

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "setup") return registry::Setup(argv[2]);
  if (argc == 5 && std::string(argv[1]) == "run") {
    return registry::Run(argv[2], argv[3], std::strtoull(argv[4], nullptr, 10));
  }
  std::fprintf(stderr, "usage: crash_driver setup DB | crash_driver run DB RUN SEED\n");
  return 2;
}
