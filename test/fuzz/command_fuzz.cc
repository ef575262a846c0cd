// Fuzz target: JSON request decoding. The input is a JSON request {"command": ..., "args": ...}
// applied with service::ApplyCommand on a fresh in-memory registry holding two Parties, two
// accounts and one issuance. Property: no crash and no exception escapes; a refused command
// leaves the projection unchanged (it is rolled back to its savepoint, as the service does).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "fuzz_check.h"
#include "service/registry.h"
#include "storage/sqlite/sqlite_store.h"

namespace {

using registry::service::Json;

void Setup(registry::service::Registry& reg) {
  const std::pair<const char*, Json> steps[] = {
      {"party.add", {{"code", "JPN"}, {"name", "Japan"}}},
      {"party.add", {{"code", "MNG"}, {"name", "Mongolia"}}},
      {"registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "JCM Registry (Japan)"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "retirement"}, {"name", "ret"}}},
      {"account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov2"}}},
      {"issue", {{"account", 1}, {"vintages", {{{"vintage", 2019}, {"quantity", 1000}}}}}},
  };
  for (const auto& [command, args] : steps) {
    FUZZ_CHECK(reg.Execute({command, args, "fuzz", ""}).ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Json request = Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) return 0;
  const auto command = request.find("command");
  if (command == request.end() || !command->is_string()) return 0;
  const Json args = request.contains("args") ? request["args"] : Json::object();

  auto store = registry::sqlite::Open(registry::sqlite::Options{":memory:", false});
  FUZZ_CHECK(store.has_value());
  registry::service::FixedClock clock("2026-01-01T00:00:00Z");
  static const registry::journal::SigningKey key = registry::journal::GenerateKey();
  registry::service::Registry reg(**store, key, clock);
  Setup(reg);
  auto before = (*store)->ProjectionDigest();
  FUZZ_CHECK(before.has_value());

  auto tx = (*store)->Begin();
  FUZZ_CHECK(tx.has_value());
  FUZZ_CHECK((*tx)->Savepoint().ok());
  const registry::service::Context ctx{registry::Sequence{8}, "2026-01-01T00:00:00Z", "fuzz"};
  const auto result = registry::service::ApplyCommand(**tx, command->get<std::string>(), args, ctx);
  if (!result) {
    FUZZ_CHECK((*tx)->RollbackToSavepoint().ok());  // Rolls back and releases.
    FUZZ_CHECK((*tx)->Commit().ok());
    auto after = (*store)->ProjectionDigest();
    FUZZ_CHECK(after.has_value() && *after == *before);
    return 0;
  }
  FUZZ_CHECK((*tx)->ReleaseSavepoint().ok());
  FUZZ_CHECK((*tx)->Commit().ok());
  return 0;
}
