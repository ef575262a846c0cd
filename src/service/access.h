// Access control: users, roles, scopes and API tokens (ARCHITECTURE "Who uses it", decision 9).
//
// A user is a document ("user", name) with a role and a scope; a token is a document
// ("token", hex SHA-256 of the token) naming its user. The token itself (256 random bits) is
// made outside any handler (MakeToken), shown once, and only its hash enters the journal.
// The permission rules here are pure functions of the principal and the request.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "service/command.h"

namespace registry::service {

// Roles as in ARCHITECTURE.md "Who uses it".
inline constexpr const char* kRoleAdministrator = "administrator";
inline constexpr const char* kRoleFocalPoint = "focal_point";
inline constexpr const char* kRoleSecretariat = "secretariat";
inline constexpr const char* kRoleAccountRepresentative = "account_representative";
inline constexpr const char* kRoleAuditor = "auditor";

struct Principal {
  std::string name;
  std::string role;
  std::string scope;  // "*", "party:JPN", "registry:JPN01" or "account:12".
};

// A fresh token: 32 bytes from randombytes_buf, hex encoded (64 characters), and its hash.
struct NewToken {
  std::string token;
  std::string hash;  // Hex SHA-256 of the token text.
};
NewToken MakeToken();
std::string HashToken(const std::string& token);

bool IsRole(const std::string& role);
bool IsScope(const std::string& scope);

// Finds the user of a token, or nullopt when the token is unknown or its user is disabled.
StoreResult<std::optional<Principal>> Authenticate(Transaction& tx, const std::string& token);

// Authenticate, remembering who each token is for as long as the store's access generation
// stays the same (Transaction::AccessGeneration: no user or token document written since, by
// this process or any other). A request then reads one number instead of reading and parsing
// the token's and its user's documents (~4% of a four-eyes transfer's CPU over HTTP,
// docs/benchmarks.md), and a token deactivated or replaced anywhere still stops at the next
// request. Unknown and refused tokens are not remembered, so random tokens fill nothing; at
// `capacity` tokens the cache starts again empty. Thread-safe.
class AccessCache {
 public:
  explicit AccessCache(size_t capacity = 10000) : capacity_(capacity) {}
  AccessCache(const AccessCache&) = delete;
  AccessCache& operator=(const AccessCache&) = delete;

  StoreResult<std::optional<Principal>> Authenticate(Transaction& tx, const std::string& token);

 private:
  const size_t capacity_;
  std::mutex mu_;
  int64_t generation_ = -1;                              // Guarded by mu_.
  std::unordered_map<std::string, Principal> by_hash_;  // Guarded by mu_; HashToken -> user.
};

// True when the role may run `command` at all (scope is checked separately).
bool RoleMayRun(const Principal& who, const std::string& command);
// True when the role may approve or reject a proposal of `command`.
bool RoleMayApprove(const Principal& who, const std::string& command);
// Whether `who` may run `command` with `args`: the one decision every write route makes, resource
// or generic (issue 33). Users and tokens: administrators of scope *. proposal.create: the role
// may run the proposed command and the scope covers its arguments. proposal.approve, .reject and
// .expire: the proposal (args.id) is loaded and the role may decide its command (RoleMayApprove;
// .expire also RoleMayRun) and the scope covers its arguments. Any other command: RoleMayRun
// and ScopeCoversArgs. Refuses with kForbidden naming the user, the role and the scope (or
// kUnknownProposal, kFieldInvalid for a proposal id); true otherwise.
CommandResult<bool> Authorize(Transaction& tx, const Principal& who, const std::string& command,
                              const Json& args);
// True for the commands only administrators run (no role in the command roles table).
bool AdministratorOnly(const std::string& command);
// The roles that may run `command` (or propose it, when it needs four-eyes), administrator first;
// from the same table Authorize reads.
std::vector<std::string> RolesThatMayRun(std::string_view command);
// True when the role may read non-public data (holdings, journal, trace, verify, proposals).
bool RoleMayReadPrivate(const Principal& who);
// True when the scope covers `account` (read from `tx`); "*" covers everything.
StoreResult<bool> ScopeCoversAccount(Transaction& tx, const Principal& who, AccountId account);
// True when the scope covers the command's arguments: the account in "from" / "account" when
// there is one; a Party- or registry-scoped user may only touch accounts of that Party/registry.
StoreResult<bool> ScopeCoversArgs(Transaction& tx, const Principal& who, const Json& args);

void AddAccessCommands(HandlerTable& table);

}  // namespace registry::service
