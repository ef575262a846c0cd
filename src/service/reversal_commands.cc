// Reversals of removals: project.reversal and the remediation a cancellation records (see
// reversal.h). The reversals live in the project's document, as its JC decisions and issuances
// do: {id, date, quantity, cause, recorded, remediated, remediations [{sequence, quantity,
// from}]}.
#include <string>

#include "core/ids.h"
#include "core/utc_time.h"
#include "service/article6_hooks.h"
#include "service/reversal.h"

namespace registry::service {
namespace {

constexpr size_t kCauseBytesMax = 1024;
// A reversal is an event of the project's monitoring, a few in its life; the bound keeps the
// project's document (read by every page of it) small.
constexpr size_t kReversalsPerProjectMax = 1000;

Unexpected<Failure> Refuse(Check check, std::string message) {
  return Fail(Failure::Refused(check, std::move(message)));
}

bool IsRemovals(const std::string& mitigation_type) {
  return mitigation_type == "Removals" || mitigation_type == "Emission reductions and removals";
}

int64_t Int(const Json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

CommandResult<Json> LoadProjectDocument(Transaction& tx, const std::string& ref) {
  ASSIGN_OR_RETURN(const auto project, LoadJson(tx, kProjectKind, ref));
  if (!project) return Refuse(Check::kUnknownProject, "project " + ref + " is unknown");
  return *project;
}

// Tonnes issued for `ref` in the registries hosted here (every side's lots).
CommandResult<int64_t> IssuedFor(Transaction& tx, const ProjectRef& ref) {
  ASSIGN_OR_RETURN(const auto lots, Lift(tx.ListLots()));
  int64_t issued = 0;
  for (const IssuanceLot& lot : lots) {
    if (lot.project == ref) issued += lot.range.Count().tonnes;
  }
  return issued;
}

// project.reversal {project, date, quantity, cause}: removals of `project` credited before were
// released on `date` (a fire, logging, a flood). The reversals of a project never exceed what was
// issued for it here [I]: a reversal of removals that were never credited has nothing to
// remediate in this registry.
CommandResult<Json> RecordReversal(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string ref_text, TextArg(args, "project", 64));
  const auto ref = ParseActivityRef(ref_text);
  if (!ref) {
    return Refuse(Check::kFieldInvalid, "field 'project' '" + ref_text + "' is not like KH005");
  }
  ASSIGN_OR_RETURN(const std::string date, TextArg(args, "date", 10));  // Form: values.cc.
  ASSIGN_OR_RETURN(const int64_t quantity, IntArg(args, "quantity"));
  ASSIGN_OR_RETURN(const std::string cause, TextArg(args, "cause", kCauseBytesMax));
  if (quantity <= 0) {
    return Refuse(Check::kFieldInvalid, "field 'quantity' must be a positive number of tonnes");
  }
  ASSIGN_OR_RETURN(Json project, LoadProjectDocument(tx, ref->value));
  const std::string mitigation_type = MitigationTypeOfProject(project);
  if (!IsRemovals(mitigation_type)) {
    return Refuse(Check::kProjectNotRemovals,
                  "project " + ref->value + " is of mitigation type " + mitigation_type +
                      ": only removals (Removals, Emission reductions and removals) reverse");
  }
  const std::string registered = project.value("registration_date", std::string());
  if (!registered.empty() && date < registered) {
    return Refuse(Check::kFieldInvalid, "the reversal of " + date + " is before " + ref->value +
                                            "'s registration on " + registered);
  }
  const std::string today = ctx.time.substr(0, 10);
  if (date > today) {
    return Refuse(Check::kFieldInvalid,
                  "the reversal of " + date + " is after today (" + today + ")");
  }
  Json& reversals = project["reversals"];
  if (!reversals.is_array()) reversals = Json::array();
  if (reversals.size() >= kReversalsPerProjectMax) {
    return Refuse(Check::kTooManyItems, "project " + ref->value + " already has " +
                                            std::to_string(kReversalsPerProjectMax) + " reversals");
  }
  int64_t reversed = 0;
  for (const Json& r : reversals) reversed += Int(r, "quantity");
  ASSIGN_OR_RETURN(const int64_t issued, IssuedFor(tx, *ref));
  if (reversed + quantity > issued) {
    return Refuse(Check::kReversalExceedsIssued,
                  "a reversal of " + std::to_string(quantity) + " t would bring " + ref->value +
                      "'s reversals to " + std::to_string(reversed + quantity) + " t, above the " +
                      std::to_string(issued) + " t issued for it here");
  }
  const Json reversal = {{"id", static_cast<int64_t>(reversals.size()) + 1},
                         {"date", date},
                         {"quantity", quantity},
                         {"cause", cause},
                         {"recorded", ctx.sequence.value},
                         {"remediated", 0},
                         {"remediations", Json::array()}};
  reversals.push_back(reversal);
  RETURN_IF_ERROR(PutJson(tx, kProjectKind, ref->value, project, ctx));
  Json out = reversal;
  out["project"] = ref->value;
  out["outstanding"] = quantity;
  return out;
}

}  // namespace

CommandResult<std::optional<Remediation>> RemediationOf(Transaction& tx, const Json& args) {
  ASSIGN_OR_RETURN(const auto text, OptionalTextArg(args, "reversal", 80));
  if (!text) return std::optional<Remediation>();
  const size_t slash = text->find('/');
  const auto ref =
      slash == std::string::npos ? std::nullopt : ParseActivityRef(text->substr(0, slash));
  int64_t id = 0;
  bool digits = slash != std::string::npos && slash + 1 < text->size() && text->size() - slash <= 7;
  for (size_t i = slash + 1; digits && i < text->size(); ++i) {
    digits = (*text)[i] >= '0' && (*text)[i] <= '9';
    if (digits) id = id * 10 + ((*text)[i] - '0');
  }
  if (!ref || !digits || id <= 0) {
    return Refuse(Check::kFieldInvalid,
                  "field 'reversal' '" + *text + "' is not a project's reversal like KH005/1");
  }
  const std::string purpose = args.value("purpose", std::string());
  if (purpose != "other") {
    return Refuse(Check::kFieldInvalid,
                  "a cancellation remediating reversal " + *text +
                      " has purpose 'other' (the AEF's \"Other cancellations\"), not '" + purpose +
                      "'");
  }
  ASSIGN_OR_RETURN(const Json project, LoadProjectDocument(tx, ref->value));
  for (const Json& r : project.value("reversals", Json::array())) {
    if (Int(r, "id") != id) continue;
    const int64_t outstanding = Int(r, "quantity") - Int(r, "remediated");
    if (outstanding <= 0) {
      return Refuse(Check::kReversalOverRemediated, "reversal " + *text + " is remediated");
    }
    return std::optional<Remediation>(Remediation{ref->value, id, outstanding});
  }
  return Refuse(Check::kFieldInvalid,
                "project " + ref->value + " has no reversal " + std::to_string(id));
}

CommandResult<Json> RecordRemediation(Transaction& tx, const Remediation& remediation,
                                      int64_t moved, int64_t from_account, const Context& ctx) {
  const std::string name = remediation.project + "/" + std::to_string(remediation.reversal);
  if (moved > remediation.outstanding) {
    return Refuse(Check::kReversalOverRemediated,
                  "the cancellation of " + std::to_string(moved) + " t is more than the " +
                      std::to_string(remediation.outstanding) +
                      " t left to remediate of reversal " + name + "; cancel at most that");
  }
  Json out = {{"reversal", name}, {"outstanding", remediation.outstanding - moved}};
  if (ctx.dry_run) return out;
  ASSIGN_OR_RETURN(Json project, LoadProjectDocument(tx, remediation.project));
  for (Json& r : project["reversals"]) {
    if (Int(r, "id") != remediation.reversal) continue;
    r["remediated"] = Int(r, "remediated") + moved;
    r["remediations"].push_back(
        Json{{"sequence", ctx.sequence.value}, {"quantity", moved}, {"from", from_account}});
  }
  RETURN_IF_ERROR(PutJson(tx, kProjectKind, remediation.project, project, ctx));
  return out;
}

void AddReversalCommands(HandlerTable& table) { table.emplace("project.reversal", RecordReversal); }

}  // namespace registry::service
