#include "service/command.h"

#include <limits>

#include "core/limits.h"
#include "service/access.h"
#include "service/adjustments.h"
#include "service/article6_hooks.h"
#include "service/confidentiality.h"
#include "service/due.h"
#include "service/inconsistency.h"
#include "service/initial_report.h"
#include "service/json_text.h"
#include "service/link.h"
#include "service/proposal.h"
#include "service/reversal.h"

namespace registry::service {

const HandlerTable& Handlers() {
  static const HandlerTable* table = [] {
    auto* t = new HandlerTable();  // Built once, lives for the process: never destroyed.
    AddLedgerCommands(*t);
    AddArticle6Commands(*t);
    AddAccessCommands(*t);
    AddProposalCommands(*t);
    AddAdjustmentCommands(*t);
    AddInitialReportCommands(*t);
    AddConfidentialityCommands(*t);
    AddLinkCommands(*t);
    AddDueCommands(*t);
    AddReversalCommands(*t);
    AddInconsistencyCommands(*t);
    return t;
  }();
  return *table;
}

namespace {

Failure Missing(const char* name) {
  return Failure::Refused(Check::kFieldMissing, std::string("field '") + name + "' is required");
}

Failure Invalid(const char* name, const std::string& why) {
  return Failure::Refused(Check::kFieldInvalid, std::string("field '") + name + "' " + why);
}

}  // namespace

CommandResult<std::optional<std::string>> OptionalTextArg(const Json& args, const char* name,
                                                          size_t max_bytes) {
  const auto it = args.find(name);
  if (it == args.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Fail(Invalid(name, "must be a string"));
  const std::string& text = it->get_ref<const std::string&>();
  if (text.size() > max_bytes) {
    return Fail(Invalid(name, "is longer than " + std::to_string(max_bytes) + " bytes"));
  }
  return std::optional<std::string>(text);
}

CommandResult<std::string> TextArg(const Json& args, const char* name, size_t max_bytes) {
  auto text = OptionalTextArg(args, name, max_bytes);
  if (!text) return Fail(text.error());
  if (!text->has_value() || (*text)->empty()) return Fail(Missing(name));
  return **text;
}

CommandResult<std::optional<int64_t>> OptionalIntArg(const Json& args, const char* name) {
  const auto it = args.find(name);
  if (it == args.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return Fail(Invalid(name, "must be an integer"));
  // Read as int64_t, a larger one would wrap to a negative the caller never sent.
  if (!IsInt64(*it)) return Fail(Invalid(name, "is larger than 9223372036854775807"));
  return std::optional<int64_t>(it->get<int64_t>());
}

bool IsInt64(const Json& value) {
  if (!value.is_number_integer()) return false;
  return !value.is_number_unsigned() ||
         value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

CommandResult<int64_t> IntArg(const Json& args, const char* name) {
  auto value = OptionalIntArg(args, name);
  if (!value) return Fail(value.error());
  if (!value->has_value()) return Fail(Missing(name));
  return **value;
}

CommandResult<bool> BoolArg(const Json& args, const char* name, bool default_value) {
  const auto it = args.find(name);
  if (it == args.end() || it->is_null()) return default_value;
  if (!it->is_boolean()) return Fail(Invalid(name, "must be true or false"));
  return it->get<bool>();
}

CommandResult<RegistryCode> RegistryArg(const Json& args, const char* name) {
  auto text = TextArg(args, name, 16);
  if (!text) return Fail(text.error());
  auto code = ParseRegistryCode(*text);
  if (!code) return Fail(Invalid(name, "'" + *text + "' is not a registry ID like JPN01"));
  return *code;
}

CommandResult<PartyCode> PartyArg(const Json& args, const char* name) {
  auto text = TextArg(args, name, 16);
  if (!text) return Fail(text.error());
  auto code = ParsePartyCode(*text);
  if (!code) return Fail(Invalid(name, "'" + *text + "' is not an ISO alpha-3 Party code"));
  return *code;
}

CommandResult<std::vector<SerialRange>> RangesArg(const Json& args, const char* name) {
  std::vector<SerialRange> ranges;
  const auto it = args.find(name);
  if (it == args.end() || it->is_null()) return ranges;
  if (!it->is_array()) return Fail(Invalid(name, "must be a list of serial ranges"));
  if (it->size() > kRangesPerRequestMax) {
    return Fail(Failure::Refused(Check::kTooManyItems,
                                 "at most " + std::to_string(kRangesPerRequestMax) + " ranges"));
  }
  for (const Json& item : *it) {
    if (!item.is_string()) return Fail(Invalid(name, "items must be strings like \"101-200\""));
    auto range = ParseSerialRange(item.get<std::string>());
    if (!range) {
      return Fail(Failure::Refused(Check::kSerialRangeInvalid,
                                   "serial range '" + item.get<std::string>() +
                                       "' is not N or N-M with 1 <= N <= M"));
    }
    ranges.push_back(*range);
  }
  return ranges;
}

CommandResult<std::optional<Json>> LoadJson(Transaction& tx, const char* kind,
                                            const std::string& key) {
  ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument(kind, key)));
  if (!doc) return std::optional<Json>();
  return std::optional<Json>(Json::parse(doc->body));
}

CommandResult<bool> PutJson(Transaction& tx, const char* kind, const std::string& key,
                            const Json& body, const Context& ctx) {
  RETURN_IF_ERROR(tx.PutDocument(kind, key, DumpJson(body), ctx.sequence));
  return true;
}

CommandResult<Account> LoadAccount(Transaction& tx, AccountId id) {
  auto account = tx.GetAccount(id);
  if (!account) return Fail(Failure::Of(account.error()));
  if (!account->has_value()) {
    return Fail(Failure::Refused(Check::kUnknownAccount,
                                 "account " + std::to_string(id.value) + " does not exist"));
  }
  return **account;
}

}  // namespace registry::service
