// Commands: the unit of change. A command is a type ("transfer") and JSON arguments; its handler
// is a function of (transaction, arguments, context) that loads, decides with core/, and writes.
// Handlers never read a clock or generate randomness: everything comes from the Context, so
// replaying the journal reproduces the state exactly.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/checks.h"
#include "core/ids.h"
#include "core/result.h"
#include "core/serial_range.h"
#include "storage/store.h"

namespace registry::service {

using Json = nlohmann::json;

// Why a command did not apply: refused by a rule (the request's fault), or an operational error
// (the environment's fault: disk, database).
struct Failure {
  std::optional<Refusal> refusal;
  std::optional<Error> error;

  Failure() = default;
  Failure(Refusal r) : refusal(std::move(r)) {}  // NOLINT(google-explicit-constructor)
  Failure(Error e) : error(std::move(e)) {}      // NOLINT(google-explicit-constructor)
  static Failure Refused(Check check, std::string message) {
    return Failure(Refusal{check, std::move(message)});
  }
  static Failure Of(Refusal refusal) { return Failure(std::move(refusal)); }
  static Failure Of(Error error) { return Failure(std::move(error)); }
  std::string Message() const { return refusal ? refusal->message : error->message; }
};

template <class T>
using CommandResult = Result<T, Failure>;

// The two error macros STYLE.md allows. Each works with Result<T, E> and Status<E> whose E
// converts to the enclosing function's error type.
#define JCM_CONCAT_INNER(a, b) a##b
#define JCM_CONCAT(a, b) JCM_CONCAT_INNER(a, b)
#define RETURN_IF_ERROR(expr)                         \
  do {                                                \
    auto jcm_status_ = (expr);                        \
    if (!jcm_status_) return Fail(jcm_status_.error()); \
  } while (0)
#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(JCM_CONCAT(jcm_r_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)  \
  auto tmp = (expr);                           \
  if (!tmp) return Fail(std::move(tmp).error()); \
  lhs = std::move(tmp).value()

struct Context {
  Sequence sequence;  // The journal sequence this command will have if it applies.
  std::string time;   // ISO 8601 UTC.
  std::string actor;
  // A proposal's trial of its command (proposal.create), inside a savepoint the caller rolls
  // back: a movement runs every check it makes for real and then skips writing its blocks,
  // whose writes can fail only on a broken invariant and which the rollback would undo anyway.
  bool dry_run = false;
};

using Handler = CommandResult<Json> (*)(Transaction& tx, const Json& args, const Context& ctx);
using HandlerTable = std::map<std::string, Handler, std::less<>>;

// Each module adds its commands to the table.
void AddLedgerCommands(HandlerTable& table);

// The table of every command, built once.
const HandlerTable& Handlers();

// ---- Argument access: each returns a Refusal naming the field when it is absent or malformed.
CommandResult<std::string> TextArg(const Json& args, const char* name, size_t max_bytes = 4096);
CommandResult<std::optional<std::string>> OptionalTextArg(const Json& args, const char* name,
                                                          size_t max_bytes = 4096);
CommandResult<int64_t> IntArg(const Json& args, const char* name);
CommandResult<std::optional<int64_t>> OptionalIntArg(const Json& args, const char* name);
// A JSON integer that fits int64_t (one above 2^63-1 parses as unsigned and would wrap).
bool IsInt64(const Json& value);
CommandResult<bool> BoolArg(const Json& args, const char* name, bool default_value);
CommandResult<RegistryCode> RegistryArg(const Json& args, const char* name);
CommandResult<PartyCode> PartyArg(const Json& args, const char* name);
CommandResult<std::vector<SerialRange>> RangesArg(const Json& args, const char* name);

// Loads an account or refuses with kUnknownAccount.
CommandResult<Account> LoadAccount(Transaction& tx, AccountId id);

// The current version of document (kind, key) parsed, or nullopt when there is none; and a new
// version of it written at the command's sequence.
CommandResult<std::optional<Json>> LoadJson(Transaction& tx, const char* kind,
                                            const std::string& key);
CommandResult<bool> PutJson(Transaction& tx, const char* kind, const std::string& key,
                            const Json& body, const Context& ctx);

// Wraps a storage error or value into a CommandResult.
template <class T>
CommandResult<T> Lift(StoreResult<T> r) {
  if (!r) return Fail(Failure::Of(std::move(r).error()));
  return std::move(r).value();
}
template <class T>
CommandResult<T> Lift(Result<T, Refusal> r) {
  if (!r) return Fail(Failure::Of(std::move(r).error()));
  return std::move(r).value();
}
inline CommandResult<bool> Lift(StoreStatus s) {
  if (!s) return Fail(Failure::Of(s.error()));
  return true;
}

}  // namespace registry::service
