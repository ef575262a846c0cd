// Access control commands (user.add) and the permission rules of service/access.h.
#include <sodium.h>

#include <algorithm>

#include "core/assert.h"
#include "core/ids.h"
#include "service/access.h"
#include "service/json_text.h"
#include "service/ledger_write.h"
#include "service/proposal.h"

namespace registry::service {
namespace {

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

bool StartsWith(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool IsUserName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-' || c == '@';
  });
}

bool IsHex64(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

CommandResult<Json> AddUser(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string role, TextArg(args, "role", 32));
  ASSIGN_OR_RETURN(const std::string scope, TextArg(args, "scope", 32));
  ASSIGN_OR_RETURN(const std::string token_hash, TextArg(args, "token_hash", 64));
  ASSIGN_OR_RETURN(const auto name_arg, OptionalTextArg(args, "name", 64));
  if (!IsRole(role)) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "role '" + role +
                                     "' is not administrator, focal_point, secretariat, "
                                     "account_representative or auditor"));
  }
  if (!IsScope(scope)) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "scope '" + scope +
                                     "' is not *, party:JPN, registry:JPN01 or account:N"));
  }
  if (!IsHex64(token_hash)) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "field 'token_hash' must be 64 lowercase hex digits"));
  }
  std::string name;
  if (name_arg && !name_arg->empty()) {
    name = *name_arg;
  } else {
    ASSIGN_OR_RETURN(const auto counter, Lift(tx.GetDocument("counter", "user")));
    const int64_t next = counter ? Json::parse(counter->body).at("value").get<int64_t>() + 1 : 1;
    RETURN_IF_ERROR(
        tx.PutDocument("counter", "user", DumpJson(Json{{"value", next}}), ctx.sequence));
    name = "user-" + std::to_string(next);
  }
  if (!IsUserName(name)) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "user name '" + name + "' must be 1-64 of [A-Za-z0-9._@-]"));
  }
  ASSIGN_OR_RETURN(const auto existing, Lift(tx.GetDocument("user", name)));
  if (existing) return Fail(Failure::Refused(Check::kAlreadyExists, "user " + name + " exists"));
  ASSIGN_OR_RETURN(const auto token_doc, Lift(tx.GetDocument("token", token_hash)));
  if (token_doc) {
    return Fail(Failure::Refused(Check::kAlreadyExists, "this token is registered already"));
  }
  const Json body = {{"name", name}, {"role", role}, {"scope", scope}, {"active", true},
                     {"created", ctx.time}, {"created_by", ctx.actor}};
  RETURN_IF_ERROR(tx.PutDocument("user", name, DumpJson(body), ctx.sequence));
  RETURN_IF_ERROR(
      tx.PutDocument("token", token_hash, DumpJson(Json{{"user", name}}), ctx.sequence));
  return Json{{"name", name}, {"role", role}, {"scope", scope}};
}

// The current body of user `name`, or a refusal naming it.
CommandResult<Json> LoadUser(Transaction& tx, const std::string& name) {
  ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument("user", name)));
  if (!doc) return Fail(Failure::Refused(Check::kNotFound, "user " + name + " does not exist"));
  return Json::parse(doc->body);
}

// "user.deactivate" {name, reason}: the user's tokens stop working at once (Authenticate);
// the user stays, with its history in the journal. Nobody deactivates themselves (a lone
// administrator would lock the API; the CLI, which opens the database, can always do it).
CommandResult<Json> DeactivateUser(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string name, TextArg(args, "name", 64));
  ASSIGN_OR_RETURN(const std::string reason, TextArg(args, "reason", 500));
  ASSIGN_OR_RETURN(Json user, LoadUser(tx, name));
  if (name == ctx.actor) {
    return Fail(Failure::Refused(Check::kForbidden, "user " + name + " cannot deactivate itself"));
  }
  if (!user.value("active", false)) {
    return Fail(Failure::Refused(Check::kFieldInvalid, "user " + name + " is inactive already"));
  }
  user["active"] = false;
  user["deactivated"] = ctx.time;
  user["deactivated_by"] = ctx.actor;
  user["reason"] = reason;
  RETURN_IF_ERROR(tx.PutDocument("user", name, DumpJson(user), ctx.sequence));
  return Json{{"name", name}, {"active", false}, {"reason", reason}};
}

// "user.activate" {name}: the user's current token works again.
CommandResult<Json> ActivateUser(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string name, TextArg(args, "name", 64));
  ASSIGN_OR_RETURN(Json user, LoadUser(tx, name));
  if (user.value("active", false)) {
    return Fail(Failure::Refused(Check::kFieldInvalid, "user " + name + " is active already"));
  }
  user["active"] = true;
  user["activated"] = ctx.time;
  user["activated_by"] = ctx.actor;
  user.erase("reason");
  RETURN_IF_ERROR(tx.PutDocument("user", name, DumpJson(user), ctx.sequence));
  return Json{{"name", name}, {"active", true}};
}

// "user.token" {name, token_hash}: a new token for the user; every earlier one stops working
// (the user document names its current token's hash, which Authenticate requires). For a token
// that leaked or a device that was lost, without losing the user's identity in the journal.
CommandResult<Json> ReplaceToken(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string name, TextArg(args, "name", 64));
  ASSIGN_OR_RETURN(const std::string token_hash, TextArg(args, "token_hash", 64));
  if (!IsHex64(token_hash)) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "field 'token_hash' must be 64 lowercase hex digits"));
  }
  ASSIGN_OR_RETURN(Json user, LoadUser(tx, name));
  ASSIGN_OR_RETURN(const auto token_doc, Lift(tx.GetDocument("token", token_hash)));
  if (token_doc) {
    return Fail(Failure::Refused(Check::kAlreadyExists, "this token is registered already"));
  }
  user["token_hash"] = token_hash;
  user["token_replaced"] = ctx.time;
  user["token_replaced_by"] = ctx.actor;
  RETURN_IF_ERROR(tx.PutDocument("user", name, DumpJson(user), ctx.sequence));
  RETURN_IF_ERROR(
      tx.PutDocument("token", token_hash, DumpJson(Json{{"user", name}}), ctx.sequence));
  return Json{{"name", name}, {"active", user.value("active", false)}};
}

}  // namespace

NewToken MakeToken() {
  REGISTRY_ASSERT(sodium_init() >= 0);
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  NewToken out;
  out.token = Hex(bytes, sizeof bytes);
  out.hash = HashToken(out.token);
  sodium_memzero(bytes, sizeof bytes);
  return out;
}

std::string HashToken(const std::string& token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return Hex(digest, sizeof digest);
}

bool IsRole(const std::string& role) {
  return role == kRoleAdministrator || role == kRoleFocalPoint || role == kRoleSecretariat ||
         role == kRoleAccountRepresentative || role == kRoleAuditor;
}

bool IsScope(const std::string& scope) {
  if (scope == "*") return true;
  if (StartsWith(scope, "party:")) return ParsePartyCode(scope.substr(6)).has_value();
  if (StartsWith(scope, "registry:")) return ParseRegistryCode(scope.substr(9)).has_value();
  if (StartsWith(scope, "account:")) {
    const std::string digits = scope.substr(8);
    return !digits.empty() && digits.size() <= 15 &&
           std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  return false;
}

namespace {

// Authenticate for a token of 64 characters whose HashToken is `hash`.
StoreResult<std::optional<Principal>> AuthenticateHash(Transaction& tx, const std::string& hash) {
  auto token_doc = tx.GetDocument("token", hash);
  if (!token_doc) return Fail(token_doc.error());
  if (!token_doc->has_value()) return std::optional<Principal>();
  const std::string name = Json::parse((*token_doc)->body).at("user").get<std::string>();
  auto user_doc = tx.GetDocument("user", name);
  if (!user_doc) return Fail(user_doc.error());
  if (!user_doc->has_value()) return std::optional<Principal>();
  const Json user = Json::parse((*user_doc)->body);
  if (!user.value("active", false)) return std::optional<Principal>();
  // A user whose token was replaced (user.token) names the current one; earlier tokens fail.
  if (user.contains("token_hash") && user["token_hash"] != hash) {
    return std::optional<Principal>();
  }
  return std::optional<Principal>(Principal{name, user.at("role").get<std::string>(),
                                            user.at("scope").get<std::string>()});
}

}  // namespace

StoreResult<std::optional<Principal>> Authenticate(Transaction& tx, const std::string& token) {
  if (token.size() != 64) return std::optional<Principal>();
  return AuthenticateHash(tx, HashToken(token));
}

StoreResult<std::optional<Principal>> AccessCache::Authenticate(Transaction& tx,
                                                                const std::string& token) {
  if (token.size() != 64) return std::optional<Principal>();
  // Read first: documents read after it (in this snapshot, or later under READ COMMITTED) are at
  // least as new as the generation they are remembered under.
  ASSIGN_OR_RETURN(const int64_t generation, tx.AccessGeneration());
  const std::string hash = HashToken(token);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation == generation_) {
      if (auto it = by_hash_.find(hash); it != by_hash_.end()) {
        return std::optional<Principal>(it->second);
      }
    }
  }
  ASSIGN_OR_RETURN(auto who, AuthenticateHash(tx, hash));
  if (!who) return who;
  std::lock_guard<std::mutex> lock(mu_);
  if (generation != generation_) {  // Users or tokens changed since (or this snapshot is older).
    by_hash_.clear();
    generation_ = generation;
  }
  if (by_hash_.size() >= capacity_) by_hash_.clear();
  by_hash_.emplace(hash, *who);
  return who;
}

namespace {

// Who may run each command, besides administrators (who may run every command; users.* only
// with scope *). Written from ARCHITECTURE.md "Who uses it": the focal point authorizes the
// approach, projects and quantities, keeps its Party's NDC accounting and reports, and approves
// international transfers; the JC secretariat registers projects and records issuance decisions;
// an account representative transfers, retires and cancels what its account holds; the auditor
// reads. A command absent from this table is for administrators only. The proposal.* commands
// are decided by the command they propose (Authorize). AccessTest checks that every command of
// Handlers() is either here or deliberately administrator-only.
struct CommandRoles {
  std::string_view command;
  bool focal_point = false;
  bool secretariat = false;
  bool account_representative = false;
};

constexpr CommandRoles kCommandRoles[] = {
    // Step 1 and Step 2a, and the CARP id the approach gets: the Parties' own acts.
    {"ca.define", true, false, false},
    {"ca.assign_id", true, false, false},
    {"ca.authorize", true, false, false},
    {"authorization.add", true, false, false},
    {"authorization.change", true, false, false},
    // A Party's NDC accounting and reports (2/CMA.3 paras 7-9, 18-20; R-REP-07).
    {"ndc.configure", true, false, false},
    {"ndc.inventory", true, false, false},
    {"ndc.finalize", true, false, false},
    {"report.initial.submit", true, false, false},
    {"report.aef.submit", true, false, false},
    {"notification.record", true, false, false},
    // What the UNFCCC secretariat notified about the Party's AEF (4/CMA.6 paras 39-44): the
    // secretariat is not a user; the Party records it and its correction [I].
    {"inconsistency.record", true, false, false},
    {"inconsistency.correct", true, false, false},
    {"report.confidential.set", true, false, false},
    {"report.confidential.clear", true, false, false},
    // The project cycle and issuance decisions (JCM Project Cycle Procedure).
    {"entity.add", false, true, false},
    {"project.add", false, true, false},
    {"project.transition", false, true, false},
    // The Credit Allocation Form is submitted with the registration (JCM Project Cycle
    // Procedure) and recorded by the JC secretariat.
    {"project.allocation_form", false, true, false},
    // A reversal is found by the project's monitoring and verification, which the JC receives
    // (docs/article6.md "Removals and reversals").
    {"project.reversal", false, true, false},
    // The project cycle's records (registration request to crediting-period renewal) are kept
    // by the JC secretariat, like the transitions they may make.
    {"project.record", false, true, false},
    {"issue", false, true, false},
    {"issue.jcm", false, true, false},
    // Under an approach other than the JCM there is no JC: the host Party's registry issues.
    {"issue.itmo", true, false, false},
    // Movements: a government's account is operated by its focal point.
    {"transfer", true, false, true},
    {"transfer.international", true, false, true},
    {"retire", true, false, true},
    {"cancel", true, false, true},
    // The registry link: a transfer to an account of a peer's registry, like any international
    // transfer. peer.set (trust), link.cancel and the steps the link itself takes
    // (link.complete, link.release, link.receive) are the administrator's.
    {"link.transfer", true, false, true},
};

const CommandRoles* RolesOf(std::string_view command) {
  for (const CommandRoles& roles : kCommandRoles) {
    if (roles.command == command) return &roles;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> RolesThatMayRun(std::string_view command) {
  std::vector<std::string> roles = {"administrator"};
  if (const CommandRoles* r = RolesOf(command)) {
    if (r->focal_point) roles.emplace_back("focal_point");
    if (r->secretariat) roles.emplace_back("secretariat");
    if (r->account_representative) roles.emplace_back("account_representative");
  }
  return roles;
}

namespace {

bool IsUserCommand(const std::string& command) { return StartsWith(command, "user."); }

Failure Forbidden(std::string message) {
  return Failure::Refused(Check::kForbidden, std::move(message));
}

std::string WhoText(const Principal& who) {
  return "user " + who.name + " (" + who.role + ", scope " + who.scope + ")";
}

// The proposal `args.id` names, or a refusal (unknown_proposal; field_invalid for a bad id).
CommandResult<Json> LoadProposalOf(Transaction& tx, const Json& args) {
  const auto id = args.find("id");
  if (id == args.end() || !IsInt64(*id) || id->get<int64_t>() <= 0) {
    return Fail(Failure::Refused(Check::kFieldInvalid, "proposal id must be a positive integer"));
  }
  const int64_t n = id->get<int64_t>();
  ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument("proposal", ProposalKey(n))));
  if (!doc) {
    return Fail(Failure::Refused(Check::kUnknownProposal,
                                 "proposal " + std::to_string(n) + " does not exist"));
  }
  Json proposal = Json::parse(doc->body, nullptr, false);
  if (!proposal.is_object() || !proposal.contains("command") || !proposal["command"].is_string()) {
    return Fail(Failure::Of(Error{
        ErrorCode::kCorruption, "proposal " + std::to_string(n) + " is not a proposal document"}));
  }
  return proposal;
}

// Refuses when `who`'s scope does not cover `args` (ScopeCoversArgs), naming `what`.
CommandResult<bool> RequireScope(Transaction& tx, const Principal& who, const Json& args,
                                 const std::string& what) {
  ASSIGN_OR_RETURN(const bool covered, Lift(ScopeCoversArgs(tx, who, args)));
  if (!covered) return Fail(Forbidden(what + " is outside the scope of " + WhoText(who)));
  return true;
}

}  // namespace

bool RoleMayRun(const Principal& who, const std::string& command) {
  if (who.role == kRoleAdministrator) return true;
  const CommandRoles* roles = RolesOf(command);
  if (roles == nullptr) return false;
  if (who.role == kRoleFocalPoint) return roles->focal_point;
  if (who.role == kRoleSecretariat) return roles->secretariat;
  if (who.role == kRoleAccountRepresentative) return roles->account_representative;
  return false;  // Auditors read; they run nothing.
}

bool RoleMayApprove(const Principal& who, const std::string& command) {
  if (who.role == kRoleAdministrator) return true;
  if (who.role == kRoleAuditor || who.role == kRoleSecretariat) return false;
  return RoleMayRun(who, command);
}

CommandResult<bool> Authorize(Transaction& tx, const Principal& who, const std::string& command,
                              const Json& args) {
  if (IsUserCommand(command)) {
    // A user made or given a token by a Party-scoped administrator could have any scope, so
    // managing users is for administrators of the whole registry.
    if (who.role != kRoleAdministrator || who.scope != "*") {
      return Fail(Forbidden("only an administrator of scope * manages users and tokens; " +
                            WhoText(who) + " may not run " + command));
    }
    return true;
  }
  if (command == "proposal.create") {
    const auto proposed = args.find("command");
    const auto inner = args.find("args");
    if (proposed == args.end() || !proposed->is_string() || inner == args.end() ||
        !inner->is_object()) {
      return true;  // Malformed: the handler refuses it with the field's own check.
    }
    const std::string name = proposed->get<std::string>();
    if (!RoleMayRun(who, name)) {
      return Fail(Forbidden(WhoText(who) + " may not propose " + name));
    }
    return RequireScope(tx, who, *inner, "the proposed " + name);
  }
  if (StartsWith(command, "proposal.")) {
    ASSIGN_OR_RETURN(const Json proposal, LoadProposalOf(tx, args));
    const std::string proposed = proposal["command"].get<std::string>();
    const std::string id = std::to_string(args["id"].get<int64_t>());
    // Expiring a proposal past its time is housekeeping its initiator's peers may do too; it
    // still reveals the proposal, so it takes a role that may run or decide its command.
    const bool may = command == "proposal.expire"
                         ? RoleMayRun(who, proposed) || RoleMayApprove(who, proposed)
                         : RoleMayApprove(who, proposed);
    if (!may) {
      return Fail(Forbidden(WhoText(who) + " may not decide proposals of " + proposed));
    }
    return RequireScope(tx, who, proposal.value("args", Json::object()), "proposal " + id);
  }
  if (!RoleMayRun(who, command)) {
    return Fail(Forbidden(WhoText(who) + " may not run " + command));
  }
  return RequireScope(tx, who, args, "the request");
}

bool AdministratorOnly(const std::string& command) {
  return !IsUserCommand(command) && !StartsWith(command, "proposal.") &&
         RolesOf(command) == nullptr;
}

bool RoleMayReadPrivate(const Principal& who) { return IsRole(who.role); }

StoreResult<bool> ScopeCoversAccount(Transaction& tx, const Principal& who, AccountId account) {
  if (who.scope == "*") return true;
  if (StartsWith(who.scope, "account:")) {
    return who.scope.substr(8) == std::to_string(account.value);
  }
  auto loaded = tx.GetAccount(account);
  if (!loaded) return Fail(loaded.error());
  if (!loaded->has_value()) return false;
  const RegistryCode& registry = (*loaded)->registry;
  if (StartsWith(who.scope, "registry:")) return who.scope.substr(9) == registry.value;
  if (StartsWith(who.scope, "party:")) {
    return who.scope.substr(6) == PartyOfRegistry(registry).value;
  }
  return false;
}

StoreResult<bool> ScopeCoversArgs(Transaction& tx, const Principal& who, const Json& args) {
  if (who.scope == "*") return true;
  for (const char* field : {"from", "account"}) {
    const auto it = args.find(field);
    if (it != args.end() && it->is_number_integer()) {
      return ScopeCoversAccount(tx, who, AccountId{it->get<int64_t>()});
    }
  }
  for (const char* field : {"registry", "party"}) {
    const auto it = args.find(field);
    if (it == args.end() || !it->is_string()) continue;
    const std::string value = it->get<std::string>();
    if (StartsWith(who.scope, "registry:")) {
      return std::string_view(field) == "registry" && who.scope.substr(9) == value;
    }
    if (StartsWith(who.scope, "party:")) {
      // A registry is its Party's (JPN01 is Japan's); a Party is itself.
      const auto registry = ParseRegistryCode(value);
      const std::string party = std::string_view(field) == "registry"
                                    ? (registry ? PartyOfRegistry(*registry).value : "")
                                    : value;
      return !party.empty() && who.scope.substr(6) == party;
    }
    return false;
  }
  // Nothing in the arguments to scope by: only unscoped (*) users may run it.
  return false;
}

void AddAccessCommands(HandlerTable& table) {
  table.emplace("user.add", AddUser);
  table.emplace("user.deactivate", DeactivateUser);
  table.emplace("user.activate", ActivateUser);
  table.emplace("user.token", ReplaceToken);
}

}  // namespace registry::service
