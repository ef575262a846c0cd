#include "service/initial_report.h"

#include "core/jcm_data.h"
#include "service/json_text.h"

namespace registry::service {
namespace {

constexpr const char* kKind = "initial_report";

std::string Key(const PartyCode& party, const std::string& ca_key) {
  return party.value + ":" + ca_key;
}

CommandResult<Json> Submit(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const PartyCode party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(const std::string ca_key, TextArg(args, "ca", 64));
  ASSIGN_OR_RETURN(const std::string date, TextArg(args, "date", 10));
  ASSIGN_OR_RETURN(const auto reference, OptionalTextArg(args, "reference", 512));
  ASSIGN_OR_RETURN(const auto party_doc, Lift(tx.GetDocument("party", party.value)));
  if (!party_doc) {
    return Fail(Failure::Refused(Check::kUnknownParty, "Party " + party.value + " is unknown"));
  }
  ASSIGN_OR_RETURN(const auto ca_doc, Lift(tx.GetDocument("cooperative_approach", ca_key)));
  if (!ca_doc) {
    return Fail(Failure::Refused(Check::kUnknownCooperativeApproach,
                                 "cooperative approach '" + ca_key + "' is not recorded"));
  }
  const Json ca = Json::parse(ca_doc->body, nullptr, false);
  bool participates = false;
  if (ca.is_object() && ca.contains("parties") && ca["parties"].is_array()) {
    for (const Json& p : ca["parties"]) participates = participates || p == party.value;
  }
  if (!participates) {
    return Fail(Failure::Refused(Check::kFieldInvalid, party.value +
                                                           " is not a participating Party of "
                                                           "cooperative approach '" +
                                                           ca_key + "'"));
  }
  if (!DaysFromIsoDate(date)) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "field 'date' '" + date + "' is not a date YYYY-MM-DD"));
  }
  if (date > ctx.time.substr(0, 10)) {
    return Fail(Failure::Refused(Check::kFieldInvalid, "the date of submission " + date +
                                                           " is after today (" +
                                                           ctx.time.substr(0, 10) + ")"));
  }
  ASSIGN_OR_RETURN(const auto existing, LoadInitialReport(tx, party, ca_key));
  Json body = existing.value_or(Json{{"party", party.value},
                                     {"ca_key", ca_key},
                                     {"first_date", date},
                                     {"submissions", 0}});
  body["date"] = date;
  if (date < body.value("first_date", date)) body["first_date"] = date;
  body["reference"] = reference.value_or("");
  body["submissions"] = body.value("submissions", 0) + 1;
  body["updated"] = body["submissions"].get<int>() > 1;  // An updated initial report (para 19).
  RETURN_IF_ERROR(Lift(tx.PutDocument(kKind, Key(party, ca_key), DumpJson(body), ctx.sequence)));
  return body;
}

}  // namespace

void AddInitialReportCommands(HandlerTable& table) {
  table.emplace("report.initial.submit", Submit);
}

CommandResult<std::optional<Json>> LoadInitialReport(Transaction& tx, const PartyCode& party,
                                                     const std::string& ca_key) {
  ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument(kKind, Key(party, ca_key))));
  if (!doc) return std::optional<Json>();
  Json body = Json::parse(doc->body, nullptr, false);
  if (!body.is_object()) return std::optional<Json>();
  return std::optional<Json>(std::move(body));
}

}  // namespace registry::service
