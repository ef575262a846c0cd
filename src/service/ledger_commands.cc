// Ledger commands: Parties, registries, entities, accounts, issuance and the movements
// (transfer, retirement, cancellation). Each handler: load, decide (core/ledger.h), save.
#include <algorithm>

#include "core/ledger.h"
#include "core/limits.h"
#include "service/command.h"
#include "service/json_text.h"
#include "service/ledger_write.h"
#include "service/reversal.h"

namespace registry::service {
namespace {

constexpr size_t kNameBytesMax = 256;

CommandResult<Json> AddParty(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const PartyCode code, PartyArg(args, "code"));
  ASSIGN_OR_RETURN(const std::string name, TextArg(args, "name", kNameBytesMax));
  ASSIGN_OR_RETURN(const auto existing, Lift(tx.GetDocument("party", code.value)));
  if (existing) {
    return Fail(Failure::Refused(Check::kAlreadyExists, "Party " + code.value + " exists"));
  }
  const Json body = {{"code", code.value}, {"name", name}};
  RETURN_IF_ERROR(tx.PutDocument("party", code.value, DumpJson(body), ctx.sequence));
  return body;
}

CommandResult<Json> AddRegistry(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const RegistryCode code, RegistryArg(args, "code"));
  ASSIGN_OR_RETURN(const PartyCode party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(const std::string name, TextArg(args, "name", kNameBytesMax));
  if (PartyOfRegistry(code) != party) {
    return Fail(Failure::Refused(Check::kFieldInvalid, "registry " + code.value +
                                                           " does not belong to Party " +
                                                           party.value));
  }
  ASSIGN_OR_RETURN(const auto party_doc, Lift(tx.GetDocument("party", party.value)));
  if (!party_doc) {
    return Fail(Failure::Refused(Check::kUnknownParty, "Party " + party.value + " is unknown"));
  }
  ASSIGN_OR_RETURN(const auto existing, Lift(tx.GetDocument("registry", code.value)));
  if (existing) {
    return Fail(Failure::Refused(Check::kAlreadyExists, "registry " + code.value + " exists"));
  }
  const Json body = {{"code", code.value}, {"party", party.value}, {"name", name}};
  RETURN_IF_ERROR(tx.PutDocument("registry", code.value, DumpJson(body), ctx.sequence));
  return body;
}

// Returns the next value of a named counter (1, 2, ...), stored as a document.
CommandResult<int64_t> NextCounter(Transaction& tx, const std::string& name, const Context& ctx) {
  ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument("counter", name)));
  const int64_t next = doc ? Json::parse(doc->body).at("value").get<int64_t>() + 1 : 1;
  RETURN_IF_ERROR(tx.PutDocument("counter", name, DumpJson(Json{{"value", next}}), ctx.sequence));
  return next;
}

CommandResult<Json> AddEntity(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string name, TextArg(args, "name", kNameBytesMax));
  ASSIGN_OR_RETURN(const PartyCode country, PartyArg(args, "country"));
  ASSIGN_OR_RETURN(const auto identification, OptionalTextArg(args, "identification", 128));
  ASSIGN_OR_RETURN(const int64_t id, NextCounter(tx, "entity", ctx));
  const Json body = {{"id", id},
                     {"name", name},
                     {"country", country.value},
                     {"identification", identification.value_or("")}};
  RETURN_IF_ERROR(tx.PutDocument("entity", EntityKey(EntityId{id}), DumpJson(body), ctx.sequence));
  return body;
}

CommandResult<Json> OpenAccount(Transaction& tx, const Json& args, const Context& ctx) {
  static_cast<void>(ctx);
  ASSIGN_OR_RETURN(const RegistryCode registry, RegistryArg(args, "registry"));
  ASSIGN_OR_RETURN(const std::string type_text, TextArg(args, "type", 32));
  ASSIGN_OR_RETURN(const std::string name, TextArg(args, "name", kNameBytesMax));
  ASSIGN_OR_RETURN(const auto holder, OptionalIntArg(args, "holder"));
  const auto type = ParseAccountType(type_text);
  if (!type) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "account type '" + type_text +
                                     "' is not government_holding, entity_holding, retirement "
                                     "or cancellation"));
  }
  ASSIGN_OR_RETURN(const auto registry_doc, Lift(tx.GetDocument("registry", registry.value)));
  if (!registry_doc) {
    return Fail(Failure::Refused(Check::kUnknownRegistry,
                                 "registry " + registry.value + " is unknown"));
  }
  Account account{AccountId{}, registry, *type, AccountStatus::kOpen, name, EntityId{}};
  if (*type == AccountType::kEntityHolding) {
    if (!holder) {
      return Fail(Failure::Refused(Check::kFieldMissing,
                                   "field 'holder' (an entity id) is required for an entity "
                                   "holding account"));
    }
    ASSIGN_OR_RETURN(const auto entity, Lift(tx.GetDocument("entity", EntityKey(EntityId{*holder}))));
    if (!entity) {
      return Fail(Failure::Refused(Check::kUnknownEntity,
                                   "entity " + std::to_string(*holder) + " is unknown"));
    }
    account.holder = EntityId{*holder};
  } else if (holder) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "field 'holder' is only for entity holding accounts"));
  }
  ASSIGN_OR_RETURN(const AccountId id, Lift(tx.InsertAccount(account)));
  account.id = id;
  return AccountJson(account);
}

CommandResult<Json> SetAccountStatus(Transaction& tx, const Json& args, const Context& ctx) {
  static_cast<void>(ctx);
  ASSIGN_OR_RETURN(const int64_t id, IntArg(args, "account"));
  ASSIGN_OR_RETURN(const std::string status_text, TextArg(args, "status", 16));
  const auto status = ParseAccountStatus(status_text);
  if (!status) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "status '" + status_text + "' is not open, blocked or closed"));
  }
  ASSIGN_OR_RETURN(Account account, LoadAccount(tx, AccountId{id}));
  if (account.status == AccountStatus::kClosed) {
    return Fail(Failure::Refused(Check::kAccountClosed,
                                 "account " + std::to_string(id) + " is closed for good"));
  }
  if (*status == AccountStatus::kClosed) {
    ASSIGN_OR_RETURN(const auto live, Lift(tx.LiveBlocks(account.id, BlockFilter{}, 1)));
    if (!live.empty()) {
      return Fail(Failure::Refused(Check::kAccountNotEmpty,
                                   "account " + std::to_string(id) + " still holds credits"));
    }
  }
  RETURN_IF_ERROR(tx.SetAccountStatus(account.id, *status));
  account.status = *status;
  return AccountJson(account);
}

CommandResult<std::vector<IssuanceLine>> VintageLines(const Json& args) {
  const auto it = args.find("vintages");
  if (it == args.end() || !it->is_array() || it->empty()) {
    return Fail(Failure::Refused(Check::kFieldMissing,
                                 "field 'vintages' must list [{vintage, quantity}, ...]"));
  }
  if (it->size() > kVintagesPerIssuanceMax) {
    return Fail(Failure::Refused(Check::kTooManyItems, "at most " +
                                                           std::to_string(kVintagesPerIssuanceMax) +
                                                           " vintages per issuance"));
  }
  std::vector<IssuanceLine> lines;
  for (const Json& item : *it) {
    if (!item.is_object()) {
      return Fail(Failure::Refused(Check::kFieldInvalid, "each vintage is {vintage, quantity}"));
    }
    ASSIGN_OR_RETURN(const int64_t vintage, IntArg(item, "vintage"));
    ASSIGN_OR_RETURN(const int64_t quantity, IntArg(item, "quantity"));
    if (vintage < kVintageMin || vintage > kVintageMax) {
      return Fail(Failure::Refused(Check::kVintageOutOfRange,
                                   "vintage " + std::to_string(vintage) + " is not in [" +
                                       std::to_string(kVintageMin) + ", " +
                                       std::to_string(kVintageMax) + "]"));
    }
    for (const IssuanceLine& line : lines) {
      if (line.vintage.year == vintage) {
        return Fail(Failure::Refused(Check::kFieldInvalid,
                                     "vintage " + std::to_string(vintage) + " is listed twice"));
      }
    }
    lines.push_back(IssuanceLine{Vintage{static_cast<int32_t>(vintage)}, Quantity{quantity}});
  }
  return lines;
}

CommandResult<Json> Issue(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const int64_t account_id, IntArg(args, "account"));
  ASSIGN_OR_RETURN(const std::vector<IssuanceLine> lines, VintageLines(args));
  ASSIGN_OR_RETURN(const auto project_text, OptionalTextArg(args, "project", 16));
  ASSIGN_OR_RETURN(const Account account, LoadAccount(tx, AccountId{account_id}));
  IssuanceLot proto;
  proto.registry = account.registry;
  proto.first_transferring_party = PartyOfRegistry(account.registry);
  proto.created = ctx.sequence;
  if (project_text) {
    const auto project = ParseProjectRef(*project_text);
    if (!project) {
      return Fail(Failure::Refused(Check::kFieldInvalid,
                                   "project '" + *project_text + "' is not like TH014"));
    }
    proto.project = *project;
  }
  ASSIGN_OR_RETURN(const auto jc_decision, OptionalTextArg(args, "jc_decision", 128));
  ASSIGN_OR_RETURN(const auto start, OptionalTextArg(args, "monitoring_start", 10));
  ASSIGN_OR_RETURN(const auto end, OptionalTextArg(args, "monitoring_end", 10));
  ASSIGN_OR_RETURN(const auto sector, OptionalTextArg(args, "sector", 128));
  ASSIGN_OR_RETURN(const auto activity, OptionalTextArg(args, "activity_type", 128));
  proto.jc_decision = jc_decision.value_or("");
  proto.monitoring_start = start.value_or("");
  proto.monitoring_end = end.value_or("");
  proto.sector = sector.value_or("");
  proto.activity_type = activity.value_or("");
  std::vector<IssuanceLot> lots;
  for (const IssuanceLine& line : lines) {
    IssuanceLot lot = proto;
    lot.vintage = line.vintage;
    lots.push_back(lot);
  }
  return WriteIssuance(tx, account, lines, lots, ctx);
}

CommandResult<Json> Transfer(Transaction& tx, const Json& args, const Context& ctx) {
  return Move(tx, args, ctx, MovementKind::kTransfer);
}

CommandResult<Json> Retire(Transaction& tx, const Json& args, const Context& ctx) {
  return Move(tx, args, ctx, MovementKind::kRetirement);
}

// A cancellation that names a reversal ({..., purpose: "other", reversal: "KH005/1"}) remediates
// it (service/reversal.h): at most what is left of it.
CommandResult<Json> Cancel(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const auto remediation, RemediationOf(tx, args));
  ASSIGN_OR_RETURN(Json result, Move(tx, args, ctx, MovementKind::kCancellation));
  if (remediation) {
    ASSIGN_OR_RETURN(Json remediated,
                     RecordRemediation(tx, *remediation, result.at("quantity").get<int64_t>(),
                                       result.at("from").get<int64_t>(), ctx));
    result["reversal"] = std::move(remediated);
  }
  return result;
}

}  // namespace

void AddLedgerCommands(HandlerTable& table) {
  table.emplace("party.add", AddParty);
  table.emplace("registry.add", AddRegistry);
  table.emplace("entity.add", AddEntity);
  table.emplace("account.open", OpenAccount);
  table.emplace("account.set_status", SetAccountStatus);
  table.emplace("issue", Issue);
  table.emplace("transfer", Transfer);
  table.emplace("retire", Retire);
  table.emplace("cancel", Cancel);
}

}  // namespace registry::service
