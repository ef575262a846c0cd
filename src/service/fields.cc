#include "service/fields.h"

#include <algorithm>
#include <array>
#include <vector>

namespace registry::service {
namespace {

struct CommandSpec {
  std::string_view command;
  std::vector<std::string_view> fields;
};

constexpr std::string_view kMove[] = {"from", "to", "quantity", "ranges", "project", "vintage"};

// One row per command of Handlers() (FieldsTest checks that each has one). The movement
// commands share kMove, plus the destination's details.
const std::array kSpecs = {
    CommandSpec{"party.add", {"code", "name"}},
    CommandSpec{"registry.add", {"code", "party", "name"}},
    CommandSpec{"entity.add", {"name", "country", "identification"}},
    CommandSpec{"account.open", {"registry", "type", "name", "holder"}},
    CommandSpec{"account.set_status", {"account", "status"}},
    CommandSpec{"issue",
                {"account", "vintages", "project", "jc_decision", "monitoring_start",
                 "monitoring_end", "sector", "activity_type"}},
    CommandSpec{"transfer", {}},                     // kMove
    CommandSpec{"transfer.international", {}},       // kMove
    CommandSpec{"retire", {"use_year"}},             // kMove +
    CommandSpec{"cancel", {"purpose", "reversal"}},  // kMove +
    CommandSpec{"block.hold", {"account", "ranges", "hold"}},
    // The registry link (service/link.h).
    CommandSpec{"peer.set", {"id", "url", "public_key", "registries"}},
    CommandSpec{"link.transfer",
                {"from", "registry", "account", "quantity", "ranges", "project", "vintage"}},
    CommandSpec{"link.cancel", {"transaction"}},
    CommandSpec{"link.complete", {"transaction", "answer"}},
    CommandSpec{"link.release", {"transaction", "answer"}},
    CommandSpec{"link.receive", {"message"}},
    CommandSpec{"proposal.create", {"command", "args", "expires_at", "quantity_rule"}},
    CommandSpec{"proposal.approve", {"id"}},
    CommandSpec{"proposal.reject", {"id", "reason"}},
    CommandSpec{"proposal.expire", {"id"}},
    CommandSpec{"user.add", {"role", "scope", "token_hash", "name"}},
    CommandSpec{"user.deactivate", {"name", "reason"}},
    CommandSpec{"user.activate", {"name"}},
    CommandSpec{"user.token", {"name", "token_hash"}},
    CommandSpec{"nomenclature.set", {"list", "values"}},
    CommandSpec{"ca.define", {"key", "parties", "ca_id", "jcm"}},
    CommandSpec{"ca.assign_id", {"key", "ca_id"}},
    CommandSpec{"ca.authorize",
                {"key",
                 "party",
                 "date",
                 "valid_from",
                 "valid_to",
                 "vintage_from",
                 "vintage_to",
                 "authorized_quantity",
                 "purposes",
                 "first_transfer_definition",
                 "metric",
                 "gases",
                 "gwp_values",
                 "sectors",
                 "activity_types",
                 "party_itmo_registry_id",
                 "underlying_registry_ids",
                 "regulatory_refs",
                 "change_terms",
                 "final_issuance_date",
                 "final_use_or_cancel_date",
                 "replaces_version",
                 "reason"}},
    CommandSpec{"project.add",
                {"ref", "title", "host_party", "methodology", "methodology_version", "participants",
                 "registration_date", "sector", "activity_type", "state", "jc_decision", "ca_key",
                 "allocation", "mitigation_type"}},
    CommandSpec{"project.transition", {"ref", "to", "date", "jc_decision"}},
    CommandSpec{"project.allocation_form", {"project", "accounts", "reason"}},
    CommandSpec{"project.reversal", {"project", "date", "quantity", "cause"}},
    CommandSpec{"project.record",
                {"ref", "kind", "date", "document", "tpe", "report_ref", "jc_decision", "withdraws",
                 "monitoring_start", "monitoring_end", "crediting_start", "crediting_end", "note"}},
    CommandSpec{"authorization.add",
                {"party", "project", "authorization_id", "date", "vintages", "purposes",
                 "acquiring_parties", "entities", "first_transfer_definition", "change_terms",
                 "oimp_purpose"}},
    CommandSpec{"authorization.change",
                {"party", "project", "effective_date", "reason", "vintages", "revoke",
                 "false_information_exception"}},
    CommandSpec{"issue.jcm",
                {"project", "account", "total", "shares", "vintages", "decision_date",
                 "jc_decision", "monitoring_start", "monitoring_end"}},
    CommandSpec{"issue.itmo",
                {"project", "account", "reference", "date", "vintages", "monitoring_start",
                 "monitoring_end"}},
    CommandSpec{"ndc.configure",
                {"party", "method", "first_year", "last_year", "fiscal_year", "metric"}},
    CommandSpec{"ndc.inventory", {"party", "first_year", "year", "emissions"}},
    CommandSpec{"ndc.finalize", {"party", "first_year"}},
    CommandSpec{"report.initial.submit", {"party", "ca", "date", "reference"}},
    CommandSpec{"report.aef.submit", {"party", "year", "date", "reference"}},
    CommandSpec{"notification.record", {"party", "sequence", "date", "reference"}},
    CommandSpec{"inconsistency.record",
                {"party", "year", "status", "units", "description", "reference"}},
    CommandSpec{"inconsistency.correct", {"party", "id", "explanation"}},
    CommandSpec{"report.confidential.set", {"party", "table", "column", "row", "basis"}},
    CommandSpec{"report.confidential.clear", {"party", "table", "column", "row"}},
};

constexpr std::string_view kVintageItem[] = {"vintage", "quantity"};
constexpr std::string_view kChangeTerms[] = {"decrease", "increase", "revocation",
                                             "false_information_exception"};

bool IsMove(std::string_view command) {
  return command == "transfer" || command == "transfer.international" || command == "retire" ||
         command == "cancel";
}

std::string Join(const std::vector<std::string_view>& names) {
  std::string out;
  for (const std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

template <typename Names>
std::optional<std::string> Unknown(const Json& object, const Names& names) {
  for (const auto& [key, value] : object.items()) {
    static_cast<void>(value);
    if (std::find(std::begin(names), std::end(names), key) == std::end(names)) return key;
  }
  return std::nullopt;
}

Failure UnknownFieldFailure(const std::string& where, const std::string& field,
                const std::vector<std::string_view>& names) {
  return Failure::Refused(Check::kUnknownField, where + " takes no field '" + field +
                                                    "' (its fields: " + Join(names) + ")");
}

}  // namespace

std::vector<std::string_view> CommandFields(std::string_view command) {
  std::vector<std::string_view> out;
  if (IsMove(command)) out.assign(std::begin(kMove), std::end(kMove));
  for (const CommandSpec& spec : kSpecs) {
    if (spec.command == command) out.insert(out.end(), spec.fields.begin(), spec.fields.end());
  }
  return out;
}

std::optional<Failure> CheckFields(const std::string& command, const Json& args) {
  const std::vector<std::string_view> fields = CommandFields(command);
  if (fields.empty() || !args.is_object()) return std::nullopt;
  if (const auto field = Unknown(args, fields)) return UnknownFieldFailure(command, *field, fields);
  if (const auto vintages = args.find("vintages");
      vintages != args.end() && vintages->is_array()) {
    const std::vector<std::string_view> item(std::begin(kVintageItem), std::end(kVintageItem));
    for (const Json& v : *vintages) {
      if (!v.is_object()) continue;
      if (const auto field = Unknown(v, item)) {
        return UnknownFieldFailure(command + ": each item of 'vintages'", *field, item);
      }
    }
  }
  if (command == "authorization.add") {
    const auto terms = args.find("change_terms");
    if (terms != args.end() && terms->is_object()) {
      if (const auto field = Unknown(*terms, kChangeTerms)) {
        return UnknownFieldFailure("authorization.add: 'change_terms'", *field,
                       {std::begin(kChangeTerms), std::end(kChangeTerms)});
      }
    }
  }
  if (command == "proposal.create") {
    const auto proposed = args.find("command");
    const auto inner = args.find("args");
    if (proposed != args.end() && proposed->is_string() && inner != args.end()) {
      if (auto failure = CheckFields(proposed->get<std::string>(), *inner)) {
        failure->refusal->message = "the proposed " + failure->refusal->message;
        return failure;
      }
    }
  }
  return std::nullopt;
}

}  // namespace registry::service
