// Article 6.2 commands (issue 3): the cooperative approach and each Party's Step 1 authorization,
// JCM projects and their state machine, Step 2a (a Party's authorization of a project's ITMOs),
// changes, Step 2b with the JCM issuance, the international transfer between two registries
// hosted here, and the movement hook for retirements and cancellations. Reference data live in
// versioned documents (see article6_hooks.h for the kinds and keys); the rules are in
// core/authorization.h.
//
// Step 2b (DOMAIN Q4, decided here): Step 2b is a new VERSION of the Party's project
// authorization, not a separate Authorization ID. Each JCM issuance of ITMO vintages writes
// version v+1 that keeps every Step 2a field and records the actual quantity issued per vintage,
// the crediting (monitoring) period and the JC decision. The lots carry that version. So the AEF
// Table 2 has one row per version under one Party-assigned ID, and "authorized minus issued" is
// always read from the current version. An issuance above what is left is refused; a change
// (authorization.change, allowed by the change terms) may raise it first.
#include <algorithm>
#include <cctype>
#include <set>

#include "core/aef_actions.h"
#include "core/approach.h"
#include "core/authorization.h"
#include "core/jcm_data.h"
#include "core/limits.h"
#include "core/nomenclature.h"
#include "core/project_cycle.h"
#include "service/adjustments.h"
#include "service/article6_hooks.h"
#include "service/json_text.h"

namespace registry::service {

std::string AuthorizationKey(const PartyCode& party, const ProjectRef& project) {
  return party.value + ":" + project.value;
}

namespace {

Unexpected<Failure> Refuse(Check check, std::string message) {
  return Fail(Failure::Refused(check, std::move(message)));
}

// A rule's verdict as a command result.
CommandResult<bool> Rule(const Status<Refusal>& status) {
  if (!status) return Fail(Failure::Of(status.error()));
  return true;
}

CommandResult<std::string> DateArg(const Json& args, const char* name) {
  ASSIGN_OR_RETURN(const std::string text, TextArg(args, name, 10));
  if (!DaysFromIsoDate(text)) {
    return Refuse(Check::kFieldInvalid, std::string("field '") + name + "' '" + text +
                                            "' is not an ISO date YYYY-MM-DD");
  }
  return text;
}

CommandResult<std::optional<std::string>> OptionalDateArg(const Json& args, const char* name) {
  ASSIGN_OR_RETURN(const auto text, OptionalTextArg(args, name, 10));
  if (text && !DaysFromIsoDate(*text)) {
    return Refuse(Check::kFieldInvalid, std::string("field '") + name + "' '" + *text +
                                            "' is not an ISO date YYYY-MM-DD");
  }
  return text;
}

CommandResult<std::vector<std::string>> TextListArg(const Json& args, const char* name,
                                                    bool required) {
  std::vector<std::string> out;
  const auto it = args.find(name);
  if (it == args.end() || it->is_null()) {
    if (required) return Refuse(Check::kFieldMissing, std::string("field '") + name + "' is required");
    return out;
  }
  if (!it->is_array() || it->size() > kRangesPerRequestMax) {
    return Refuse(Check::kFieldInvalid, std::string("field '") + name + "' must be a short list");
  }
  for (const Json& item : *it) {
    if (!item.is_string() || item.get<std::string>().empty() || item.get<std::string>().size() > 256) {
      return Refuse(Check::kFieldInvalid,
                    std::string("field '") + name + "' items must be non-empty strings");
    }
    out.push_back(item.get<std::string>());
  }
  if (required && out.empty()) {
    return Refuse(Check::kFieldMissing, std::string("field '") + name + "' must not be empty");
  }
  return out;
}

// A JCM project or another approach's activity (project.add decides which it may be).
CommandResult<ProjectRef> ProjectArg(const Json& args, const char* name) {
  ASSIGN_OR_RETURN(const std::string text, TextArg(args, name, 32));
  const auto ref = ParseActivityRef(text);
  if (!ref) {
    return Refuse(Check::kFieldInvalid, "project '" + text +
                                            "' is not an activity reference like TH014 (a JCM "
                                            "project) or BKK-EBUS-1 (another approach's)");
  }
  return *ref;
}

// Refuses a value absent from a loaded nomenclature list (or a list not loaded).
CommandResult<bool> CheckNomenclature(Transaction& tx, const char* list, const std::string& value) {
  ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, kNomenclatureKind, list));
  if (!doc) {
    return Refuse(Check::kFieldInvalid, std::string("the nomenclature list '") + list +
                                            "' is not loaded; run nomenclature.set first");
  }
  for (const Json& v : doc->at("values")) {
    if (v.get<std::string>() == value) return true;
  }
  return Refuse(Check::kFieldInvalid, "'" + value + "' is not in the AEF nomenclature list '" +
                                          list + "'");
}

// ---- nomenclature.set {list, values[]} ---------------------------------------------------------

CommandResult<Json> SetNomenclature(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string list, TextArg(args, "list", 64));
  if (!IsNomenclatureList(list)) {
    return Refuse(Check::kFieldInvalid,
                  "list '" + list + "' is not sectors, activity_types or underlying_registries");
  }
  ASSIGN_OR_RETURN(const std::vector<std::string> values, TextListArg(args, "values", true));
  std::set<std::string> seen(values.begin(), values.end());
  if (seen.size() != values.size()) {
    return Refuse(Check::kFieldInvalid, "list '" + list + "' holds a value twice");
  }
  const Json body = {{"list", list}, {"values", values}};
  RETURN_IF_ERROR(PutJson(tx, kNomenclatureKind, list, body, ctx));
  return body;
}

// ---- Cooperative approach and Step 1 ----------------------------------------------------------

CommandResult<Json> LoadCa(Transaction& tx, const std::string& key) {
  ASSIGN_OR_RETURN(const auto ca, LoadJson(tx, kCaKind, key));
  if (!ca) return Refuse(Check::kUnknownCooperativeApproach, "cooperative approach '" + key + "' is unknown");
  return *ca;
}

// ---- The documents read as the typed values of core/approach.h -----------------------------
// The rules take these; the documents stay the stored form (and the API's).

// An approach's document. `jcm` absent: a JCM approach (every approach written before the field
// was one).
CooperativeApproach CaFromJson(const Json& j) {
  CooperativeApproach ca;
  ca.key = j.value("key", std::string());
  ca.ca_id = j.value("ca_id", std::string());
  const Json parties = j.value("parties", Json::array());
  for (const Json& p : parties) ca.parties.push_back(PartyCode{p.get<std::string>()});
  ca.jcm = j.value("jcm", true);
  const Json step1s = j.value("step1", Json::object());  // Named: items() must not outlive it.
  for (const auto& [party, body] : step1s.items()) {
    Step1 step1;
    step1.version = body.value("version", int64_t{1});
    step1.valid_to = body.value("c_valid_to", std::string());
    step1.final_issuance_date = body.value("c_final_issuance_date", std::string());
    step1.final_use_or_cancel_date = body.value("c_final_use_or_cancel_date", std::string());
    step1.itmo_registry = body.value("i_party_itmo_registry_id", std::string());
    ca.step1.emplace(party, std::move(step1));
  }
  return ca;
}

// A project's document (its allocation null when none is recorded).
Project ProjectFromJson(const Json& j) {
  Project p;
  p.ref = ProjectRef{j.value("ref", std::string())};
  p.host = PartyCode{j.value("host_party", std::string())};
  p.state = j.value("state", std::string());
  p.ca_key = j.value("ca_key", std::string());
  const Json allocation = j.value("allocation", Json());
  if (allocation.is_object()) {
    for (const auto& [party, percent] : allocation.items())
      p.allocation[party] = percent.get<int64_t>();
  }
  return p;
}

// The field `allocation` as percents per side: an object of integers; nullopt when absent.
CommandResult<std::optional<std::map<std::string, int64_t>>> AllocationArg(const Json& args) {
  const auto it = args.find("allocation");
  if (it == args.end() || it->is_null()) return std::optional<std::map<std::string, int64_t>>();
  if (!it->is_object()) {
    return Refuse(
        Check::kFieldMissing,
        "field 'allocation' must give the percent of both sides, e.g. {\"MNG\":20,\"JPN\":80}");
  }
  std::map<std::string, int64_t> out;
  for (const auto& [party, percent] : it->items()) {
    if (!IsInt64(percent)) {
      return Refuse(Check::kAllocationMismatch, "allocation percents are integers in [0, 100]");
    }
    out[party] = percent.get<int64_t>();
  }
  return std::optional<std::map<std::string, int64_t>>(std::move(out));
}

CommandResult<bool> CheckCaId(const std::string& text) {
  if (!ParseCaId(text)) {
    return Refuse(Check::kFieldInvalid, "cooperative approach id '" + text + "' is not CA + 4 digits");
  }
  return true;
}

// ca.define {key, parties[], ca_id?, jcm?}: `jcm` false for an approach other than the JCM
// (any set of Parties, activities that are not JCM projects, no Joint Committee).
CommandResult<Json> DefineCa(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string key, TextArg(args, "key", 64));
  ASSIGN_OR_RETURN(const std::vector<std::string> parties, TextListArg(args, "parties", true));
  ASSIGN_OR_RETURN(const auto ca_id, OptionalTextArg(args, "ca_id", 16));
  ASSIGN_OR_RETURN(const bool is_jcm, BoolArg(args, "jcm", true));
  if (ca_id) RETURN_IF_ERROR(CheckCaId(*ca_id));
  for (const std::string& p : parties) {
    ASSIGN_OR_RETURN(const auto party, Lift(tx.GetDocument("party", p)));
    if (!party) return Refuse(Check::kUnknownParty, "Party '" + p + "' is unknown");
  }
  CooperativeApproach approach;
  approach.key = key;
  approach.jcm = is_jcm;
  for (const std::string& p : parties) approach.parties.push_back(PartyCode{p});
  RETURN_IF_ERROR(Rule(CheckNewApproach(approach)));
  ASSIGN_OR_RETURN(const auto existing, LoadJson(tx, kCaKind, key));
  if (existing) return Refuse(Check::kAlreadyExists, "cooperative approach '" + key + "' exists");
  Json body = {{"key", key},
               {"ca_id", ca_id.value_or("")},
               {"parties", parties},
               {"first_transfer_definition", ""},
               {"step1", Json::object()}};
  // Only when not the JCM, so that approaches recorded before the field read and replay unchanged.
  if (!is_jcm) body["jcm"] = false;
  RETURN_IF_ERROR(PutJson(tx, kCaKind, key, body, ctx));
  return body;
}

// ca.assign_id {key, ca_id}: the CARP assigned the id (4/CMA.6 para 5(a) "where available").
CommandResult<Json> AssignCaId(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string key, TextArg(args, "key", 64));
  ASSIGN_OR_RETURN(const std::string ca_id, TextArg(args, "ca_id", 16));
  RETURN_IF_ERROR(CheckCaId(ca_id));
  ASSIGN_OR_RETURN(Json ca, LoadCa(tx, key));
  if (!ca["ca_id"].get<std::string>().empty()) {
    return Refuse(Check::kAlreadyExists, "cooperative approach '" + key + "' already has id " +
                                             ca["ca_id"].get<std::string>());
  }
  ca["ca_id"] = ca_id;
  RETURN_IF_ERROR(PutJson(tx, kCaKind, key, ca, ctx));
  return ca;
}

// ca.authorize {key, party, date, elements...}: one Party's Step 1 authorization, with every
// element (a)-(n) of 4/CMA.6 para 5 as a structured field. A new one replaces the Party's
// previous Step 1 in a new version of the approach's document (history kept by the store).
// The OIMP first-transfer definition `party` has fixed for approach `ca`: per participating Party,
// not once for the approach (4/CMA.6 para 15), set by its Step 1 or its first Step 2a that gives
// one. An approach written before kept one definition for all: it stands for every Party that has
// not given its own. kNone while there is none.
FirstTransferDefinition PartyDefinition(const Json& ca, const std::string& party) {
  const auto per_party = ca.find("first_transfer_definitions");
  if (per_party != ca.end() && per_party->contains(party)) {
    return ParseFirstTransferDefinition((*per_party)[party].get<std::string>())
        .value_or(FirstTransferDefinition::kNone);
  }
  return ParseFirstTransferDefinition(ca.value("first_transfer_definition", std::string()))
      .value_or(FirstTransferDefinition::kNone);
}

void SetPartyDefinition(Json& ca, const std::string& party, FirstTransferDefinition definition) {
  if (definition == FirstTransferDefinition::kNone) return;
  ca["first_transfer_definitions"][party] = std::string(ToString(definition));
}

CommandResult<Json> AuthorizeCa(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string key, TextArg(args, "key", 64));
  ASSIGN_OR_RETURN(const PartyCode party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(Json ca, LoadCa(tx, key));
  if (!CaFromJson(ca).IsParty(party)) {
    return Refuse(Check::kNotAuthorized, party.value + " is not a Party of approach " + key);
  }
  // (c) dates
  ASSIGN_OR_RETURN(const std::string date, DateArg(args, "date"));
  ASSIGN_OR_RETURN(const std::string valid_from, DateArg(args, "valid_from"));
  ASSIGN_OR_RETURN(const auto valid_to, OptionalDateArg(args, "valid_to"));
  ASSIGN_OR_RETURN(const auto final_issuance, OptionalDateArg(args, "final_issuance_date"));
  ASSIGN_OR_RETURN(const auto final_use, OptionalDateArg(args, "final_use_or_cancel_date"));
  // (e) uses, (d) first transfer
  ASSIGN_OR_RETURN(const std::string purposes_text, TextArg(args, "purposes", 32));
  const auto purposes = ParsePurposes(purposes_text);
  if (!purposes) return Refuse(Check::kFieldInvalid, "purposes '" + purposes_text + "' is not an AEF value");
  ASSIGN_OR_RETURN(const auto ft_text, OptionalTextArg(args, "first_transfer_definition", 64));
  const auto ft = ParseFirstTransferDefinition(ft_text.value_or(""));
  if (!ft) return Refuse(Check::kFieldInvalid, "first transfer definition '" + *ft_text + "' is unknown");
  if (purposes->oimp && *ft == FirstTransferDefinition::kNone) {
    return Refuse(Check::kOimpWithoutFirstTransferDefinition,
                  party.value + "'s Step 1 covers OIMP without a first-transfer definition");
  }
  const FirstTransferDefinition fixed = PartyDefinition(ca, party.value);
  if (*ft != FirstTransferDefinition::kNone && fixed != FirstTransferDefinition::kNone &&
      *ft != fixed) {
    return Refuse(Check::kConflictingFirstTransferDefinition,
                  party.value + " already defines the first transfer under approach " + key +
                      " as '" + std::string(ToString(fixed)) + "' (4/CMA.6 para 15)");
  }
  // A Step 1 already given is replaced only by a new version that names the one it replaces and
  // says why; what it authorized stays in the document's history, and the Party's first-transfer
  // definition and ITMO registry are fixed (item 4 of issue 27: never a silent overwrite).
  ASSIGN_OR_RETURN(const auto replaces, OptionalIntArg(args, "replaces_version"));
  ASSIGN_OR_RETURN(const auto reason, OptionalTextArg(args, "reason", 1024));
  // (f), (g), (h)
  ASSIGN_OR_RETURN(const auto refs, TextListArg(args, "regulatory_refs", true));
  ASSIGN_OR_RETURN(const std::string change_terms, TextArg(args, "change_terms", 4096));
  ASSIGN_OR_RETURN(const auto quantity, OptionalIntArg(args, "authorized_quantity"));
  if (quantity && *quantity <= 0) return Refuse(Check::kQuantityNotPositive, "authorized_quantity must be positive");
  // (i), (j)
  ASSIGN_OR_RETURN(const RegistryCode itmo_registry, RegistryArg(args, "party_itmo_registry_id"));
  if (PartyOfRegistry(itmo_registry) != party) {
    return Refuse(Check::kFieldInvalid, "registry " + itmo_registry.value + " is not " + party.value + "'s");
  }
  // Element (j): "where applicable"; an approach may have no underlying registry.
  ASSIGN_OR_RETURN(const auto underlying, TextListArg(args, "underlying_registry_ids", false));
  for (const std::string& u : underlying) RETURN_IF_ERROR(CheckNomenclature(tx, "underlying_registries", u));
  // (k) vintages
  ASSIGN_OR_RETURN(const int64_t vintage_from, IntArg(args, "vintage_from"));
  ASSIGN_OR_RETURN(const auto vintage_to, OptionalIntArg(args, "vintage_to"));
  if (vintage_from < kFirstItmoVintage) {
    return Refuse(Check::kItmoVintageBefore2021, "vintage_from " + std::to_string(vintage_from) +
                                                     ": mitigation before 2021 cannot be an ITMO");
  }
  if (vintage_to && (*vintage_to < vintage_from || *vintage_to > kVintageMax)) {
    return Refuse(Check::kFieldInvalid, "vintage_to must be in [vintage_from, 2100]");
  }
  // (l) metric
  ASSIGN_OR_RETURN(const std::string metric, TextArg(args, "metric", 16));
  if (metric != "GHG" && metric != "Non-GHG") return Refuse(Check::kFieldInvalid, "metric is GHG or Non-GHG");
  ASSIGN_OR_RETURN(const std::string gwp, TextArg(args, "gwp_values", 128));
  ASSIGN_OR_RETURN(const auto gases, TextListArg(args, "gases", true));
  // (m), (n)
  ASSIGN_OR_RETURN(const auto sectors, TextListArg(args, "sectors", false));
  for (const std::string& s : sectors) RETURN_IF_ERROR(CheckNomenclature(tx, "sectors", s));
  ASSIGN_OR_RETURN(const auto activities, TextListArg(args, "activity_types", false));
  for (const std::string& a : activities) RETURN_IF_ERROR(CheckNomenclature(tx, "activity_types", a));
  const Json step1 = {{"a_ca_id", ca["ca_id"]},
                      {"b_parties", ca["parties"]},
                      {"c_date", date},
                      {"c_valid_from", valid_from},
                      {"c_valid_to", valid_to.value_or("")},
                      {"c_final_issuance_date", final_issuance.value_or("")},
                      {"c_final_use_or_cancel_date", final_use.value_or("")},
                      {"d_first_transfer_definition", std::string(ToString(*ft))},
                      {"e_purposes", ToString(*purposes)},
                      {"f_regulatory_refs", refs},
                      {"g_change_terms", change_terms},
                      {"h_authorized_quantity", quantity ? Json(*quantity) : Json(nullptr)},
                      {"i_party_itmo_registry_id", itmo_registry.value},
                      {"j_underlying_registry_ids", underlying},
                      {"k_vintage_from", vintage_from},
                      {"k_vintage_to", vintage_to ? Json(*vintage_to) : Json(nullptr)},
                      {"l_metric", metric},
                      {"l_gwp_values", gwp},
                      {"l_gases", gases},
                      {"m_sectors", sectors},
                      {"n_activity_types", activities}};
  ASSIGN_OR_RETURN(const int64_t version,
                   Lift(NextStep1Version(CaFromJson(ca), party, replaces, reason.has_value(),
                                         itmo_registry.value)));
  ca["step1"][party.value] = step1;
  ca["step1"][party.value]["version"] = version;
  if (reason) ca["step1"][party.value]["reason"] = *reason;
  SetPartyDefinition(ca, party.value, *ft);
  RETURN_IF_ERROR(PutJson(tx, kCaKind, key, ca, ctx));
  return ca;
}

// ---- Projects -----------------------------------------------------------------------------------

CommandResult<Json> LoadProject(Transaction& tx, const ProjectRef& ref) {
  ASSIGN_OR_RETURN(const auto project, LoadJson(tx, kProjectKind, ref.value));
  if (!project) return Refuse(Check::kUnknownProject, "project " + ref.value + " is unknown");
  return *project;
}

// project.add {ref, host_party, title, methodology, methodology_version, sector, activity_type,
// participants[], allocation {PARTY: percent}, ca_key?, state?, registration_date?, jc_decision?,
// mitigation_type?}. Under an approach other than the JCM (ca.define jcm false) the activity has
// the reference that approach gives it, no allocation and no JC decision, and is recorded as
// registered: its approval is that approach's act, outside this registry.
CommandResult<Json> AddProject(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const ProjectRef ref, ProjectArg(args, "ref"));
  ASSIGN_OR_RETURN(const PartyCode host, PartyArg(args, "host_party"));
  ASSIGN_OR_RETURN(const std::string title, TextArg(args, "title", 512));
  ASSIGN_OR_RETURN(const std::string methodology, TextArg(args, "methodology", 256));
  ASSIGN_OR_RETURN(const auto version, OptionalTextArg(args, "methodology_version", 32));
  // Sector and activity type (AEF elements (m), (n)) and the allocation may be unknown for a
  // project imported from the public lists; Step 2a and issuance then refuse until they are set.
  ASSIGN_OR_RETURN(const auto sector_opt, OptionalTextArg(args, "sector", 128));
  ASSIGN_OR_RETURN(const auto activity_opt, OptionalTextArg(args, "activity_type", 128));
  const std::string sector = sector_opt.value_or("");
  const std::string activity = activity_opt.value_or("");
  ASSIGN_OR_RETURN(const auto participants, TextListArg(args, "participants", false));
  ASSIGN_OR_RETURN(const auto ca_key, OptionalTextArg(args, "ca_key", 64));
  ASSIGN_OR_RETURN(const auto state_text, OptionalTextArg(args, "state", 32));
  ASSIGN_OR_RETURN(const auto registration_date, OptionalDateArg(args, "registration_date"));
  ASSIGN_OR_RETURN(const auto jc_decision, OptionalTextArg(args, "jc_decision", 128));
  ASSIGN_OR_RETURN(const auto mitigation_type, OptionalTextArg(args, "mitigation_type", 64));
  if (mitigation_type && !IsMitigationType(*mitigation_type)) {
    return Refuse(Check::kFieldInvalid, "mitigation_type '" + *mitigation_type +
                                            "' is not Emission reductions, Removals or Emission "
                                            "reductions and removals");
  }
  if (!sector.empty()) RETURN_IF_ERROR(CheckNomenclature(tx, "sectors", sector));
  if (!activity.empty()) RETURN_IF_ERROR(CheckNomenclature(tx, "activity_types", activity));
  ASSIGN_OR_RETURN(const auto host_doc, Lift(tx.GetDocument("party", host.value)));
  if (!host_doc) return Refuse(Check::kUnknownParty, "Party " + host.value + " is unknown");
  ASSIGN_OR_RETURN(const auto allocation, AllocationArg(args));
  std::optional<CooperativeApproach> ca;
  if (ca_key) {
    ASSIGN_OR_RETURN(const Json ca_doc, LoadCa(tx, *ca_key));
    ca = CaFromJson(ca_doc);
    if (!ca->IsParty(host)) {
      return Refuse(Check::kNotAuthorized,
                    "host " + host.value + " is not a Party of approach " + *ca_key);
    }
  }
  const bool jcm = !ca || ca->jcm;  // A project in no approach yet is a JCM one (the import).
  Project project;
  project.ref = ref;
  project.host = host;
  project.state = state_text.value_or(jcm ? "validation" : "registered");
  project.ca_key = ca_key.value_or("");
  project.allocation = allocation.value_or(std::map<std::string, int64_t>());
  if (jcm) {
    RETURN_IF_ERROR(Rule(CheckJcmProject(project, allocation.has_value())));
  } else {
    RETURN_IF_ERROR(
        Rule(CheckActivity(project, *ca, allocation.has_value(), jc_decision.has_value())));
  }
  const std::string& state = project.state;
  if (!IsProjectState(state)) {
    return Refuse(Check::kFieldInvalid, "project state '" + state + "' is unknown");
  }
  if (jcm && state == "registered" && !registration_date) {
    return Refuse(Check::kFieldMissing, "a registered project needs its registration_date");
  }
  ASSIGN_OR_RETURN(const auto existing, LoadJson(tx, kProjectKind, ref.value));
  if (existing) return Refuse(Check::kAlreadyExists, "project " + ref.value + " exists");
  Json decisions = Json::array();
  if (jc_decision) decisions.push_back(Json{{"id", *jc_decision}, {"date", registration_date.value_or("")}, {"to", state}});
  Json body = {{"ref", ref.value},
               {"host_party", host.value},
               {"title", title},
               {"methodology", methodology},
               {"methodology_version", version.value_or("")},
               {"sector", sector},
               {"activity_type", activity},
               {"participants", participants},
               {"allocation", allocation ? Json(*allocation) : Json(nullptr)},
               {"ca_key", ca_key.value_or("")},
               {"state", state},
               {"registration_date", registration_date.value_or("")},
               {"decisions", decisions}};
  // Only when given, so that projects recorded before the field read and replay unchanged.
  if (mitigation_type) body["mitigation_type"] = *mitigation_type;
  RETURN_IF_ERROR(PutJson(tx, kProjectKind, ref.value, body, ctx));
  return body;
}

// Refuses an activity of an approach other than the JCM, which cannot `what`.
CommandResult<bool> RequireJcmProject(Transaction& tx, const Json& project,
                                      const std::string& what) {
  const std::string ca_key = project.value("ca_key", std::string());
  if (ca_key.empty()) return true;
  ASSIGN_OR_RETURN(const Json ca, LoadCa(tx, ca_key));
  if (CaFromJson(ca).jcm) return true;
  return Refuse(Check::kFieldInvalid, "project " + project["ref"].get<std::string>() +
                                          " is an activity of approach " + ca_key +
                                          ", not of the JCM: it cannot " + what);
}

// Moves a project's document to state `to` (R-JCM-04, checked before) by JC decision `decision`
// (or none, for a cycle record that is no JC decision) of `date`: the registration date at
// registration, and the move in the project's list of decisions; returns that entry.
Json& MoveProject(Json& project, const std::string& to, const std::string& decision,
                  const std::string& date) {
  const std::string from = project["state"].get<std::string>();
  project["state"] = to;
  if (to == "registered") project["registration_date"] = date;
  project["decisions"].push_back(
      Json{{"id", decision}, {"date", date}, {"from", from}, {"to", to}});
  return project["decisions"].back();
}

// project.transition {ref, to, jc_decision, date}
CommandResult<Json> TransitionProject(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const ProjectRef ref, ProjectArg(args, "ref"));
  ASSIGN_OR_RETURN(const std::string to, TextArg(args, "to", 32));
  ASSIGN_OR_RETURN(const std::string decision, TextArg(args, "jc_decision", 128));
  ASSIGN_OR_RETURN(const std::string date, DateArg(args, "date"));
  ASSIGN_OR_RETURN(Json project, LoadProject(tx, ref));
  RETURN_IF_ERROR(RequireJcmProject(tx, project, "go through the JCM's project cycle"));
  RETURN_IF_ERROR(Rule(CheckTransition(ProjectFromJson(project), to)));
  MoveProject(project, to, decision, date);
  RETURN_IF_ERROR(PutJson(tx, kProjectKind, ref.value, project, ctx));
  return project;
}

// ---- The project cycle's records (issue 31 item 2) --------------------------------------------

// A period given as two date fields, both or neither (values.cc checked them as dates in order).
CommandResult<std::optional<CyclePeriod>> PeriodArg(const Json& args, const char* start_name,
                                                    const char* end_name) {
  ASSIGN_OR_RETURN(const auto start, OptionalDateArg(args, start_name));
  ASSIGN_OR_RETURN(const auto end, OptionalDateArg(args, end_name));
  if (!start && !end) return std::optional<CyclePeriod>();
  if (!start || !end) {
    return Refuse(Check::kFieldMissing,
                  std::string("a period needs both '") + start_name + "' and '" + end_name + "'");
  }
  return std::optional<CyclePeriod>(CyclePeriod{*start, *end});
}

// The field `document`: {sha256, url}, nothing else (CheckDocumentRef judges the values).
CommandResult<DocumentRef> DocumentArg(const Json& args) {
  const auto it = args.find("document");
  if (it == args.end() || it->is_null()) {
    return Refuse(Check::kFieldMissing,
                  "field 'document' is required: {\"sha256\": the document's SHA-256 in hex, "
                  "\"url\": where it is published, https}");
  }
  if (!it->is_object()) {
    return Refuse(Check::kFieldInvalid, "field 'document' must be an object {sha256, url}");
  }
  for (const auto& [name, value] : it->items()) {
    if (name != "sha256" && name != "url") {
      return Refuse(Check::kUnknownField,
                    "field 'document' takes sha256 and url, not '" + name + "'");
    }
  }
  ASSIGN_OR_RETURN(const std::string sha256, TextArg(*it, "sha256", 256));
  ASSIGN_OR_RETURN(const std::string url, TextArg(*it, "url", 4 * kDocumentUrlMax));
  std::string lower = sha256;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return DocumentRef{lower, url};
}

Json PeriodJson(const CyclePeriod& p) { return Json{{"start", p.start}, {"end", p.end}}; }

Json CycleStateJson(const CycleState& cycle) {
  Json periods = Json::array();
  for (const MonitoringPeriod& p : cycle.periods) {
    Json j = PeriodJson(p.period);
    j["state"] = std::string(NameOf(p.state));
    if (!p.tpe.empty()) j["tpe"] = p.tpe;
    periods.push_back(std::move(j));
  }
  return Json{{"records", cycle.records},
              {"last_date", cycle.last_date},
              {"validated", cycle.validated},
              {"periods", std::move(periods)},
              {"last_period_end", cycle.last_period_end},
              {"crediting_end", cycle.crediting_end}};
}

CycleState CycleStateFromJson(const Json& j) {
  CycleState cycle;
  cycle.records = j.value("records", int64_t{0});
  cycle.last_date = j.value("last_date", std::string());
  cycle.validated = j.value("validated", false);
  cycle.crediting_end = j.value("crediting_end", std::string());
  cycle.last_period_end = j.value("last_period_end", std::string());
  for (const Json& p : j.value("periods", Json::array())) {
    MonitoringPeriod period;
    period.period = CyclePeriod{p.value("start", std::string()), p.value("end", std::string())};
    period.state =
        ParsePeriodState(p.value("state", std::string())).value_or(PeriodState::kReported);
    period.tpe = p.value("tpe", std::string());
    cycle.periods.push_back(std::move(period));
  }
  return cycle;
}

// project.record {ref, kind, date, document {sha256, url}, tpe?, report_ref?, jc_decision?,
// withdraws?, monitoring_start?, monitoring_end?, crediting_start?, crediting_end?, note?}: one
// record of a JCM project's cycle (core/project_cycle.h), appended as the next version of the
// document project_cycle/<ref> (one version per record: a record costs the same whatever came
// before it, and the document's history is the cycle). The version carries what the rules need
// of the cycle so far (`cycle`), so the next record reads one version. A record that moves the
// project (registration request, registration, withdrawal of the project or of its registration
// request) moves the project's document as project.transition does, its entry in the project's
// decisions naming the record.
CommandResult<Json> RecordProjectCycle(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const ProjectRef ref, ProjectArg(args, "ref"));
  ASSIGN_OR_RETURN(const std::string kind_text, TextArg(args, "kind", 64));
  const auto kind = ParseRecordKind(kind_text);
  if (!kind) {
    return Refuse(
        Check::kFieldInvalid,
        "kind '" + kind_text + "' is not a record of the JCM project cycle: " + KindNames());
  }
  CycleRecord record;
  record.kind = *kind;
  ASSIGN_OR_RETURN(record.date, DateArg(args, "date"));
  ASSIGN_OR_RETURN(record.document, DocumentArg(args));
  ASSIGN_OR_RETURN(const auto tpe, OptionalTextArg(args, "tpe", 256));
  ASSIGN_OR_RETURN(const auto report_ref, OptionalTextArg(args, "report_ref", 128));
  ASSIGN_OR_RETURN(const auto jc_decision, OptionalTextArg(args, "jc_decision", 128));
  ASSIGN_OR_RETURN(const auto withdraws, OptionalTextArg(args, "withdraws", 32));
  ASSIGN_OR_RETURN(const auto note, OptionalTextArg(args, "note", 2048));
  ASSIGN_OR_RETURN(record.monitoring, PeriodArg(args, "monitoring_start", "monitoring_end"));
  ASSIGN_OR_RETURN(record.crediting, PeriodArg(args, "crediting_start", "crediting_end"));
  record.tpe = tpe.value_or("");
  record.report_ref = report_ref.value_or("");
  record.jc_decision = jc_decision.value_or("");
  record.note = note.value_or("");
  if (withdraws) {
    record.withdraws = ParseWithdrawn(*withdraws);
    if (!record.withdraws) {
      return Refuse(Check::kFieldInvalid, "withdraws '" + *withdraws +
                                              "' is not project, registration_request or "
                                              "issuance_request");
    }
  }
  ASSIGN_OR_RETURN(Json project, LoadProject(tx, ref));
  RETURN_IF_ERROR(RequireJcmProject(tx, project, "have records of the JCM's project cycle"));
  ASSIGN_OR_RETURN(const auto before, LoadJson(tx, kProjectCycleKind, ref.value));
  const CycleState cycle =
      before ? CycleStateFromJson(before->value("cycle", Json::object())) : CycleState{};
  ASSIGN_OR_RETURN(const CycleStep step, Lift(ApplyRecord(ProjectFromJson(project), cycle, record,
                                                          ctx.time.substr(0, 10))));
  Json body = {{"project", ref.value},
               {"number", step.next.records},
               {"kind", std::string(NameOf(record.kind))},
               {"form", std::string(FormOf(record.kind))},
               {"date", record.date},
               {"document", {{"sha256", record.document.sha256}, {"url", record.document.url}}},
               {"recorded", ctx.time}};
  if (!record.tpe.empty()) body["tpe"] = record.tpe;
  if (!record.report_ref.empty()) body["report_ref"] = record.report_ref;
  if (!record.jc_decision.empty()) body["jc_decision"] = record.jc_decision;
  if (record.withdraws) body["withdraws"] = std::string(NameOf(*record.withdraws));
  if (record.monitoring) body["monitoring_period"] = PeriodJson(*record.monitoring);
  if (record.crediting) body["crediting_period"] = PeriodJson(*record.crediting);
  if (!record.note.empty()) body["note"] = record.note;
  if (step.to) {
    const std::string from = project["state"].get<std::string>();
    Json& entry = MoveProject(project, *step.to, record.jc_decision, record.date);
    entry["record"] = step.next.records;
    body["project_state"] = {{"from", from}, {"to", *step.to}};
    RETURN_IF_ERROR(PutJson(tx, kProjectKind, ref.value, project, ctx));
  }
  body["cycle"] = CycleStateJson(step.next);
  RETURN_IF_ERROR(PutJson(tx, kProjectCycleKind, ref.value, body, ctx));
  return body;
}

// ---- Authorizations (Step 2a and changes) -------------------------------------------------------

CommandResult<std::map<int32_t, int64_t>> VintageQuantities(const Json& args, const char* name) {
  const auto it = args.find(name);
  std::map<int32_t, int64_t> out;
  if (it == args.end() || !it->is_array() || it->empty() || it->size() > kVintagesPerIssuanceMax) {
    return Refuse(Check::kFieldMissing, std::string("field '") + name +
                                            "' must list [{vintage, quantity}, ...]");
  }
  for (const Json& item : *it) {
    if (!item.is_object()) return Refuse(Check::kFieldInvalid, "each vintage is {vintage, quantity}");
    ASSIGN_OR_RETURN(const int64_t vintage, IntArg(item, "vintage"));
    ASSIGN_OR_RETURN(const int64_t quantity, IntArg(item, "quantity"));
    if (vintage < kVintageMin || vintage > kVintageMax) {
      return Refuse(Check::kVintageOutOfRange, "vintage " + std::to_string(vintage) + " is out of range");
    }
    if (quantity < 0 || quantity > kIssuanceQuantityMax) {
      return Refuse(Check::kQuantityNotPositive, "vintage " + std::to_string(vintage) +
                                                     " quantity must be in [0, issuance maximum]");
    }
    if (!out.emplace(static_cast<int32_t>(vintage), quantity).second) {
      return Refuse(Check::kFieldInvalid, "vintage " + std::to_string(vintage) + " is listed twice");
    }
  }
  return out;
}

Json VintageMapJson(const std::map<int32_t, int64_t>& m) {
  Json out = Json::object();
  for (const auto& [year, q] : m) out[std::to_string(year)] = q;
  return out;
}

CommandResult<std::map<int32_t, int64_t>> VintageMapFromJson(const Json& j) {
  std::map<int32_t, int64_t> out;
  for (const auto& [year, q] : j.items()) out[static_cast<int32_t>(std::stoi(year))] = q.get<int64_t>();
  return out;
}

// authorization.add {party, project, authorization_id, date, purposes, first_transfer_definition?,
// vintages[{vintage, quantity}], entities[], acquiring_parties[], change_terms{...}}: Step 2a.
CommandResult<Json> AddAuthorization(Transaction& tx, const Json& args, const Context& ctx) {
  Authorization a;
  ASSIGN_OR_RETURN(a.party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(a.project, ProjectArg(args, "project"));
  ASSIGN_OR_RETURN(a.authorization_id, TextArg(args, "authorization_id", 128));
  ASSIGN_OR_RETURN(a.date, DateArg(args, "date"));
  a.effective_date = a.date;
  ASSIGN_OR_RETURN(const std::string purposes_text, TextArg(args, "purposes", 32));
  const auto purposes = ParsePurposes(purposes_text);
  if (!purposes) {
    return Refuse(Check::kFieldInvalid, "purposes '" + purposes_text +
                                            "' is not NDC, OIMP, IMP, OP, NDC and OIMP, NDC and IMP or NDC and OP");
  }
  a.purposes = *purposes;
  ASSIGN_OR_RETURN(const auto ft_text, OptionalTextArg(args, "first_transfer_definition", 64));
  const auto ft = ParseFirstTransferDefinition(ft_text.value_or(""));
  if (!ft) return Refuse(Check::kFieldInvalid, "first transfer definition '" + *ft_text + "' is unknown");
  a.first_transfer = *ft;
  ASSIGN_OR_RETURN(const auto oimp_purpose, OptionalTextArg(args, "oimp_purpose", 256));
  if (oimp_purpose && !oimp_purpose->empty() && !a.purposes.oimp) {
    return Refuse(Check::kFieldInvalid, "oimp_purpose '" + *oimp_purpose +
                                            "' given, but purposes '" + purposes_text +
                                            "' cover no OIMP");
  }
  a.oimp_purpose = oimp_purpose.value_or("");
  ASSIGN_OR_RETURN(a.authorized, VintageQuantities(args, "vintages"));
  ASSIGN_OR_RETURN(const auto parties, TextListArg(args, "acquiring_parties", false));
  for (const std::string& p : parties) {
    const auto code = ParsePartyCode(p);
    if (!code) return Refuse(Check::kFieldInvalid, "acquiring party '" + p + "' is not alpha-3");
    a.acquiring_parties.push_back(*code);
  }
  const auto entities = args.find("entities");
  if (entities != args.end() && entities->is_array()) {
    for (const Json& e : *entities) {
      if (!IsInt64(e)) return Refuse(Check::kFieldInvalid, "entities are entity ids");
      ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument("entity", EntityKey(EntityId{e.get<int64_t>()}))));
      if (!doc) return Refuse(Check::kUnknownEntity, "entity " + std::to_string(e.get<int64_t>()) + " is unknown");
      a.entities.push_back(e.get<int64_t>());
    }
  }
  const auto terms = args.find("change_terms");
  if (terms != args.end() && terms->is_object()) {
    ASSIGN_OR_RETURN(a.terms.increase, BoolArg(*terms, "increase", false));
    ASSIGN_OR_RETURN(a.terms.decrease, BoolArg(*terms, "decrease", true));
    ASSIGN_OR_RETURN(a.terms.revocation, BoolArg(*terms, "revocation", true));
    ASSIGN_OR_RETURN(a.terms.false_information_exception, BoolArg(*terms, "false_information_exception", false));
  }
  ASSIGN_OR_RETURN(const Json project, LoadProject(tx, a.project));
  RETURN_IF_ERROR(Rule(CheckStep2aState(ProjectFromJson(project))));
  if (project["sector"].get<std::string>().empty() || project["activity_type"].get<std::string>().empty()) {
    return Refuse(Check::kFieldMissing, "project " + a.project.value +
                                            " has no AEF sector or activity type (elements (m), (n))");
  }
  a.ca_key = project["ca_key"].get<std::string>();
  if (a.ca_key.empty()) {
    return Refuse(Check::kUnknownCooperativeApproach,
                  "project " + a.project.value + " names no cooperative approach");
  }
  ASSIGN_OR_RETURN(Json ca, LoadCa(tx, a.ca_key));
  // The host and the other sides of the project: in the JCM its credit allocation and Japan;
  // under another approach, the approach's Parties.
  if (!IsSideOf(ProjectFromJson(project), CaFromJson(ca), a.party)) {
    return Refuse(Check::kNotAuthorized,
                  a.party.value + " is not a side of project " + a.project.value);
  }
  if (!ca["step1"].contains(a.party.value)) {
    return Refuse(Check::kNotAuthorized, a.party.value + " has not authorized approach " + a.ca_key +
                                             " (Step 1) yet");
  }
  const FirstTransferDefinition ca_ft = PartyDefinition(ca, a.party.value);
  RETURN_IF_ERROR(Rule(CheckAuthorization(a, ca_ft)));
  ASSIGN_OR_RETURN(const auto existing, LoadAuthorization(tx, a.party, a.project));
  if (existing) {
    return Refuse(Check::kAlreadyExists, a.party.value + " has authorized " + a.project.value +
                                             " already; change it with authorization.change");
  }
  if (a.first_transfer != FirstTransferDefinition::kNone &&
      ca_ft == FirstTransferDefinition::kNone) {
    SetPartyDefinition(ca, a.party.value, a.first_transfer);
    RETURN_IF_ERROR(PutJson(tx, kCaKind, a.ca_key, ca, ctx));
  }
  Json body = AuthorizationToJson(a);
  body["step"] = "2a";
  RETURN_IF_ERROR(PutJson(tx, kAuthorizationKind, AuthorizationKey(a.party, a.project), body, ctx));
  return body;
}

// authorization.change {party, project, effective_date, reason, vintages?, revoke?,
// false_information_exception?}: a new version. It never rewrites blocks: what it changes is
// what may still be issued, and whether blocks not yet first transferred may be; blocks already
// first transferred are reached only by the false-information exception, when the terms state it.
CommandResult<Json> ChangeAuthorization(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const PartyCode party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(const ProjectRef project, ProjectArg(args, "project"));
  ASSIGN_OR_RETURN(const std::string effective, DateArg(args, "effective_date"));
  ASSIGN_OR_RETURN(const std::string reason, TextArg(args, "reason", 1024));
  ASSIGN_OR_RETURN(const bool revoke, BoolArg(args, "revoke", false));
  ASSIGN_OR_RETURN(const bool exception, BoolArg(args, "false_information_exception", false));
  ASSIGN_OR_RETURN(const auto current, LoadAuthorization(tx, party, project));
  if (!current) {
    return Refuse(Check::kUnknownAuthorization, party.value + " has no authorization of " + project.value);
  }
  Authorization next = *current;
  next.version = current->version + 1;
  next.effective_date = effective;
  next.date = effective;
  next.revoked = revoke;
  next.exception_applied = exception;
  if (args.contains("vintages")) {
    ASSIGN_OR_RETURN(next.authorized, VintageQuantities(args, "vintages"));
  }
  if (!revoke && !args.contains("vintages")) {
    return Refuse(Check::kFieldMissing, "a change gives new 'vintages' quantities or 'revoke'");
  }
  RETURN_IF_ERROR(Rule(CheckChange(*current, next)));
  // Versions follow one another in time: a change cannot take effect before the version it
  // changes, or the history the AEF reports (a row per version) would run backwards [I].
  if (effective < current->date) {
    return Refuse(Check::kFieldInvalid, "effective_date " + effective + " is before version " +
                                            std::to_string(current->version) + " of " + party.value + "'s authorization of " +
                                            project.value + " (" + current->date + ")");
  }
  if (!revoke) RETURN_IF_ERROR(Rule(CheckAuthorization(next, next.first_transfer)));
  Json body = AuthorizationToJson(next);
  body["step"] = revoke ? "revocation" : "change";
  body["reason"] = reason;
  RETURN_IF_ERROR(PutJson(tx, kAuthorizationKind, AuthorizationKey(party, project), body, ctx));
  return body;
}

// ---- The Credit Allocation Form -----------------------------------------------------------------

// Reads a form document's rows, with what the rules need of each account as it is now.
CommandResult<AllocationForm> AllocationFormFromJson(Transaction& tx, const Json& body) {
  AllocationForm form;
  form.version = body.value("version", int64_t{1});
  for (const Json& row : body.value("accounts", Json::array())) {
    AllocationRow r;
    r.side = PartyCode{row.at("side").get<std::string>()};
    r.account = row.at("account").get<int64_t>();
    r.percent = row.at("percent").get<int64_t>();
    ASSIGN_OR_RETURN(const Account account, LoadAccount(tx, AccountId{r.account}));
    r.account_party = PartyOfRegistry(account.registry);
    r.account_type = account.type;
    r.account_status = account.status;
    r.holder = account.holder.value;
    form.rows.push_back(r);
  }
  return form;
}

// The project's Credit Allocation Form in force (its latest version), or nullopt.
CommandResult<std::optional<AllocationForm>> LoadAllocationForm(Transaction& tx,
                                                                const ProjectRef& ref) {
  ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, kAllocationFormKind, ref.value));
  if (!doc) return std::optional<AllocationForm>();
  ASSIGN_OR_RETURN(AllocationForm form, AllocationFormFromJson(tx, *doc));
  return std::optional<AllocationForm>(std::move(form));
}

// project.allocation_form {project, accounts [{side, account, percent}], reason?}: the Credit
// Allocation Form of a JCM project (R-JCM-08): each project participant's and each government's
// account, per side, with its percent of every JC decision's total. A new form is a new version
// of the document (`allocation_form/<ref>`) and needs a reason; issuances after it follow it.
CommandResult<Json> SetAllocationForm(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const ProjectRef ref, ProjectArg(args, "project"));
  ASSIGN_OR_RETURN(const auto reason, OptionalTextArg(args, "reason", 512));
  const auto rows = args.find("accounts");
  if (rows == args.end() || !rows->is_array() || rows->empty()) {
    return Refuse(Check::kFieldMissing,
                  "field 'accounts' must list the form's accounts, e.g. [{\"side\":\"MNG\","
                  "\"account\":5,\"percent\":10}, ...]");
  }
  if (rows->size() > 64) {
    return Refuse(Check::kTooManyItems, "a Credit Allocation Form has at most 64 accounts");
  }
  ASSIGN_OR_RETURN(const Json project_doc, LoadProject(tx, ref));
  RETURN_IF_ERROR(RequireJcmProject(tx, project_doc, "have a Credit Allocation Form"));
  const Project project = ProjectFromJson(project_doc);
  Json accounts = Json::array();
  for (const Json& row : *rows) {
    if (!row.is_object()) {
      return Refuse(Check::kFieldInvalid, "each item of 'accounts' is {side, account, percent}");
    }
    for (const auto& [name, value] : row.items()) {
      if (name != "side" && name != "account" && name != "percent") {
        return Refuse(Check::kUnknownField,
                      "an item of 'accounts' takes side, account and "
                      "percent, not '" +
                          name + "'");
      }
    }
    ASSIGN_OR_RETURN(const PartyCode side, PartyArg(row, "side"));
    ASSIGN_OR_RETURN(const int64_t account, IntArg(row, "account"));
    ASSIGN_OR_RETURN(const int64_t percent, IntArg(row, "percent"));
    accounts.push_back(Json{{"side", side.value}, {"account", account}, {"percent", percent}});
  }
  Json body = {{"project", ref.value}, {"accounts", accounts}};
  ASSIGN_OR_RETURN(const AllocationForm form, AllocationFormFromJson(tx, body));
  RETURN_IF_ERROR(Rule(CheckAllocationForm(project, form)));
  ASSIGN_OR_RETURN(const auto before, LoadJson(tx, kAllocationFormKind, ref.value));
  int64_t version = 1;
  if (before) {
    if (!reason) {
      return Refuse(Check::kFieldMissing, "project " + ref.value +
                                              " has a Credit Allocation Form (version " +
                                              std::to_string(before->value("version", int64_t{1})) +
                                              "): a new version needs a 'reason'");
    }
    version = before->value("version", int64_t{1}) + 1;
  }
  body["version"] = version;
  body["recorded"] = ctx.time;
  if (reason) body["reason"] = *reason;
  RETURN_IF_ERROR(PutJson(tx, kAllocationFormKind, ref.value, body, ctx));
  return body;
}

// ---- Issuance of ITMO vintages: issue.jcm and issue.itmo, with Step 2b -------------------------

// Issues `request` into `account`: the rules are core's PlanIssuance (the same for every
// approach); here the documents are read for it and what it decides is written: the Step 2b
// versions, one lot (block) per calendar-year vintage, and the issuance_decision document.
//
// With a Credit Allocation Form (`form`, issue.jcm only) the side's share is distributed over the
// side's accounts of the form (core DistributeShare), each account receiving its own lots; without
// one, `account` receives the whole share.
CommandResult<Json> IssueDecision(Transaction& tx, IssuanceRequest request, const Account& account,
                                  const Json& project_doc, Json record, const Context& ctx,
                                  const AllocationForm* form = nullptr) {
  const Project project = ProjectFromJson(project_doc);
  const ProjectRef& ref = project.ref;
  request.side = PartyOfRegistry(account.registry);
  request.holder = account.holder.value;
  std::map<int64_t, Account> receiving;  // With a form: the side's accounts, by id.
  if (form != nullptr) {
    for (const AllocationRow& row : form->rows) {
      if (row.side != request.side) continue;
      ASSIGN_OR_RETURN(const Account a, LoadAccount(tx, AccountId{row.account}));
      receiving.emplace(row.account, a);
      if (row.account != account.id.value) request.other_holders.push_back(a.holder.value);
    }
  }
  // One document per decision and side (kind issuance_decision, key PROJECT:SIDE:DECISION), not
  // a list in the project's document, which grew with every issuance and was written whole each
  // time. Registries written before keep their list: it is read too.
  const std::string decision_key = ref.value + ":" + request.side.value + ":" + request.id;
  ASSIGN_OR_RETURN(std::optional<Json> issued_before,
                   LoadJson(tx, kIssuanceDecisionKind, decision_key));
  for (const Json& earlier : project_doc.value("issuances", Json::array())) {
    if (earlier.value("jc_decision", "") == request.id &&
        earlier.value("side", "") == request.side.value) {
      issued_before = earlier;
    }
  }
  if (issued_before)
    request.issued_before = std::max<int64_t>(1, issued_before->value("sequence", 1));
  std::optional<CooperativeApproach> ca;
  if (!project.ca_key.empty()) {
    ASSIGN_OR_RETURN(const Json ca_doc, LoadCa(tx, project.ca_key));
    ca = CaFromJson(ca_doc);
  }
  ASSIGN_OR_RETURN(std::optional<Authorization> host, LoadAuthorization(tx, project.host, ref));
  ASSIGN_OR_RETURN(std::optional<Authorization> own, LoadAuthorization(tx, request.side, ref));
  ASSIGN_OR_RETURN(const IssuancePlan plan,
                   Lift(PlanIssuance(request, project, ca ? &*ca : nullptr, host, own)));
  if (plan.any_itmo) {  // Step 2b: the new versions confirming the actual quantity and period.
    for (const std::optional<Authorization>* a : {&host, &own}) {
      if (!a->has_value()) continue;
      Json body = AuthorizationToJson(**a);
      body["step"] = "2b";
      body[request.jcm ? "jc_decision" : "issuance_reference"] = request.id;
      body["issued_to"] = request.side.value;
      body["crediting_period"] = Json{{"start", request.monitoring_start.value_or("")},
                                      {"end", request.monitoring_end.value_or("")}};
      RETURN_IF_ERROR(
          PutJson(tx, kAuthorizationKind, AuthorizationKey((*a)->party, ref), body, ctx));
    }
  }
  // Per receiving account (in the form's order), its lines, lots and first-transfer marks.
  struct Part {
    Account account;
    std::vector<IssuanceLine> lines;
    std::vector<IssuanceLot> lots;
    std::vector<bool> first_transferred;
  };
  std::vector<Part> parts;
  std::map<int32_t, int64_t> planned;
  for (const IssuedLot& issued : plan.lots) planned[issued.vintage] = issued.quantity;
  std::vector<AllocatedQuantity> distribution;
  if (form != nullptr) {
    distribution = DistributeShare(*form, request.side, planned);
  } else {
    for (const IssuedLot& issued : plan.lots)
      distribution.push_back(AllocatedQuantity{account.id.value, issued.vintage, issued.quantity});
  }
  for (const AllocatedQuantity& share : distribution) {
    const auto same = [&](const Part& p) { return p.account.id.value == share.account; };
    auto part = std::find_if(parts.begin(), parts.end(), same);
    if (part == parts.end()) {
      parts.push_back(Part{form != nullptr ? receiving.at(share.account) : account, {}, {}, {}});
      part = parts.end() - 1;
    }
    const IssuedLot& issued =
        *std::find_if(plan.lots.begin(), plan.lots.end(),
                      [&](const IssuedLot& l) { return l.vintage == share.vintage; });
    part->lines.push_back(IssuanceLine{Vintage{issued.vintage}, Quantity{share.quantity}});
    IssuanceLot lot;
    lot.registry = account.registry;
    lot.project = ref;
    lot.vintage = Vintage{issued.vintage};
    lot.first_transferring_party = project.host;
    lot.sector = project_doc["sector"].get<std::string>();
    lot.activity_type = project_doc["activity_type"].get<std::string>();
    lot.mitigation_type = MitigationTypeOfProject(project_doc);
    lot.jc_decision = request.id;  // The issuance decision, whoever took it.
    lot.monitoring_start = request.monitoring_start.value_or("");
    lot.monitoring_end = request.monitoring_end.value_or("");
    if (issued.itmo) {
      lot.itmo = true;
      lot.cooperative_approach = CaId{ca->ca_id};
      lot.authorization_id = host->authorization_id;
      lot.authorization_version = host->version;
      lot.purposes = ToString(host->purposes);
    }
    part->first_transferred.push_back(issued.first_transferred);
    part->lots.push_back(lot);
  }
  Json result = {{"account", account.id.value}, {"lots", Json::array()}};
  for (const Part& part : parts) {
    ASSIGN_OR_RETURN(Json written, WriteIssuance(tx, part.account, part.lines, part.lots, ctx,
                                                 part.first_transferred));
    for (size_t i = 0; i < part.lots.size(); ++i) {
      Json item = written["lots"][i];
      // Only with a form, so that the answers journaled before forms replay unchanged.
      if (form != nullptr) item["account"] = part.account.id.value;
      item["first_transferred"] = bool(part.first_transferred[i]);
      item["first_transfer_definition"] =
          part.lots[i].itmo ? std::string(ToString(host->first_transfer)) : std::string();
      result["lots"].push_back(std::move(item));
    }
  }
  if (form != nullptr) {
    result["allocation_form_version"] = form->version;
    Json allocated = Json::array();
    for (const AllocatedQuantity& a : distribution) {
      allocated.push_back(
          Json{{"account", a.account}, {"vintage", a.vintage}, {"quantity", a.quantity}});
    }
    result["allocation"] = allocated;
    record["allocation_form_version"] = form->version;
    record["allocation"] = allocated;
  }
  result["first_transferring_party"] = project.host.value;
  if (plan.international) result["acquiring_party"] = request.side.value;
  record["project"] = ref.value;
  record[request.jcm ? "jc_decision" : "reference"] = request.id;
  record["date"] = request.date;
  record["side"] = request.side.value;
  record["sequence"] = ctx.sequence.value;
  RETURN_IF_ERROR(PutJson(tx, kIssuanceDecisionKind, decision_key, record, ctx));
  result["project"] = ref.value;
  result["side"] = request.side.value;
  return result;
}

// issue.jcm {account, project, jc_decision, decision_date, monitoring_start, monitoring_end,
// total, shares {PARTY: n, ...}, vintages [{vintage, quantity}]}: this registry issues its own
// side's share of a JC decision.
CommandResult<Json> IssueJcm(Transaction& tx, const Json& args, const Context& ctx) {
  IssuanceRequest request;
  ASSIGN_OR_RETURN(const int64_t account_id, IntArg(args, "account"));
  ASSIGN_OR_RETURN(const ProjectRef ref, ProjectArg(args, "project"));
  ASSIGN_OR_RETURN(request.id, TextArg(args, "jc_decision", 128));
  ASSIGN_OR_RETURN(request.date, DateArg(args, "decision_date"));
  ASSIGN_OR_RETURN(request.monitoring_start, OptionalDateArg(args, "monitoring_start"));
  ASSIGN_OR_RETURN(request.monitoring_end, OptionalDateArg(args, "monitoring_end"));
  ASSIGN_OR_RETURN(const int64_t total, IntArg(args, "total"));
  ASSIGN_OR_RETURN(request.vintages, VintageQuantities(args, "vintages"));
  ASSIGN_OR_RETURN(const Account account, LoadAccount(tx, AccountId{account_id}));
  ASSIGN_OR_RETURN(const Json project_doc, LoadProject(tx, ref));
  RETURN_IF_ERROR(
      RequireJcmProject(tx, project_doc, "be issued on a JC decision (issue.itmo issues it)"));
  const Project project = ProjectFromJson(project_doc);
  if (project.state != "registered") {
    return Refuse(Check::kProjectStateTransition,
                  "project " + ref.value + " is " + project.state + ", not registered");
  }
  if (project.allocation.empty()) {
    return Refuse(
        Check::kAllocationMismatch,
        "project " + ref.value + " has no credit allocation (Credit Allocation Form) recorded");
  }
  const auto shares_it = args.find("shares");
  if (shares_it == args.end() || !shares_it->is_object() || shares_it->size() != 2) {
    return Refuse(Check::kFieldMissing, "field 'shares' must give both sides' notified amounts");
  }
  std::map<std::string, int64_t> shares;
  for (const auto& [party, share] : shares_it->items()) {
    if (!IsInt64(share)) {
      return Refuse(Check::kAllocationMismatch, "share of '" + party + "' is not a whole number");
    }
    shares[party] = share.get<int64_t>();
  }
  int64_t vintage_total = 0;
  for (const auto& [year, q] : request.vintages) vintage_total += q;
  const PartyCode side = PartyOfRegistry(account.registry);
  RETURN_IF_ERROR(Rule(CheckJcmShares(project, total, shares, side, vintage_total)));
  // The other side may have issued this decision already: the same decision, notified once.
  JcDecision decision;
  decision.id = request.id;
  decision.date = request.date;
  decision.total = total;
  decision.shares = shares;
  for (const auto& [party, share] : shares) {
    if (party == side.value) continue;
    ASSIGN_OR_RETURN(const auto other, LoadJson(tx, kIssuanceDecisionKind,
                                                ref.value + ":" + party + ":" + request.id));
    if (!other || !other->contains("total")) continue;
    JcDecision recorded;
    recorded.id = request.id;
    recorded.date = other->value("date", std::string());
    recorded.total = other->value("total", int64_t{0});
    const Json recorded_shares = other->value("shares", Json::object());
    for (const auto& [p, n] : recorded_shares.items()) recorded.shares[p] = n.get<int64_t>();
    RETURN_IF_ERROR(Rule(CheckSameDecision(recorded, decision)));
  }
  // The Credit Allocation Form, when the project has one: the share goes to the side's accounts.
  ASSIGN_OR_RETURN(const std::optional<AllocationForm> form, LoadAllocationForm(tx, ref));
  if (form) {
    std::string listed;
    bool named = false;
    for (const AllocationRow& row : form->rows) {
      if (row.side != side) continue;
      named = named || row.account == account_id;
      listed += (listed.empty() ? "" : ", ") + std::to_string(row.account);
    }
    if (!named) {
      return Refuse(Check::kAllocationMismatch,
                    "account " + std::to_string(account_id) + " is not one of " + side.value +
                        "'s accounts in the Credit Allocation Form of " + ref.value + " (version " +
                        std::to_string(form->version) + ": " +
                        (listed.empty() ? std::string("none") : listed) + ")");
    }
  }
  return IssueDecision(tx, std::move(request), account, project_doc,
                       Json{{"total", total}, {"shares", *shares_it}}, ctx,
                       form ? &*form : nullptr);
}

// issue.itmo {account, project, reference, date, monitoring_start?, monitoring_end?,
// vintages [{vintage, quantity}]}: an activity of an approach other than the JCM (item 7 of
// issue 27). Its host's registry issues the mitigation outcomes into one of its own accounts, on
// the approach's own issuance `reference`: no Joint Committee, no allocation between sides. They
// are ITMOs under the host's authorization and first transferred as its definition says; for
// NDC use that is the international transfer to the acquiring Party (transfer.international).
CommandResult<Json> IssueItmo(Transaction& tx, const Json& args, const Context& ctx) {
  IssuanceRequest request;
  request.jcm = false;
  ASSIGN_OR_RETURN(const int64_t account_id, IntArg(args, "account"));
  ASSIGN_OR_RETURN(const ProjectRef ref, ProjectArg(args, "project"));
  ASSIGN_OR_RETURN(request.id, TextArg(args, "reference", 128));
  ASSIGN_OR_RETURN(request.date, DateArg(args, "date"));
  ASSIGN_OR_RETURN(request.monitoring_start, OptionalDateArg(args, "monitoring_start"));
  ASSIGN_OR_RETURN(request.monitoring_end, OptionalDateArg(args, "monitoring_end"));
  ASSIGN_OR_RETURN(request.vintages, VintageQuantities(args, "vintages"));
  ASSIGN_OR_RETURN(const Account account, LoadAccount(tx, AccountId{account_id}));
  ASSIGN_OR_RETURN(const Json project_doc, LoadProject(tx, ref));
  const Project project = ProjectFromJson(project_doc);
  if (project.ca_key.empty()) {
    return Refuse(Check::kNotAuthorized, "project " + ref.value +
                                             " belongs to no cooperative approach: JCM credits "
                                             "are issued on a JC decision (issue.jcm)");
  }
  ASSIGN_OR_RETURN(const Json ca, LoadCa(tx, project.ca_key));
  if (CaFromJson(ca).jcm) {
    return Refuse(Check::kFieldInvalid,
                  "project " + ref.value +
                      " is a JCM project: its credits are issued on a JC decision (issue.jcm)");
  }
  if (project.state != "registered") {
    return Refuse(Check::kProjectStateTransition, "activity " + ref.value + " is " + project.state);
  }
  if (PartyOfRegistry(account.registry) != project.host) {
    return Refuse(Check::kNotAuthorized,
                  "account " + std::to_string(account_id) + " is in " + account.registry.value +
                      ": the host " + project.host.value +
                      "'s registry issues the mitigation outcomes of " + ref.value +
                      "; another Party acquires them by international transfer");
  }
  return IssueDecision(tx, std::move(request), account, project_doc, Json::object(), ctx);
}

// ---- transfer.international ---------------------------------------------------------------------

}  // namespace

// The Article 6 checks of an international transfer's parts to `acquiring` (shared by
// transfer.international and the registry link's link.transfer): each part an ITMO whose first
// transferring Party authorized the transfer, by an authorized entity where it is the first
// transfer, and no first transfer in a finalized NDC period.
CommandResult<InternationalParts> CheckInternationalParts(Transaction& tx,
                                                          const MoveRequest& request,
                                                          const std::vector<SelectedPart>& parts,
                                                          const PartyCode& acquiring) {
  InternationalParts out;
  out.first.assign(parts.size(), true);
  Json& details = out.details;
  std::vector<bool>& first = out.first;
  for (const SelectedPart& part : parts) {
    ASSIGN_OR_RETURN(const auto lot, Lift(tx.GetLot(part.block.lot)));
    REGISTRY_ASSERT(lot.has_value());
    if (!lot->itmo) {
      return Refuse(Check::kNotAuthorized, "lot " + std::to_string(lot->id.value) + " (" + lot->project.value +
                                               " vintage " + std::to_string(lot->vintage.year) +
                                               ") is not an authorized ITMO: it cannot be transferred internationally");
    }
    ASSIGN_OR_RETURN(const auto authorization,
                     LoadAuthorization(tx, lot->first_transferring_party, lot->project));
    if (!authorization) {
      return Refuse(Check::kNotAuthorized, lot->first_transferring_party.value + " has no authorization of " +
                                               lot->project.value);
    }
    // Units authorized for OIMP only cross registries without being first transferred by it.
    const bool oimp_only = IsOimpOnly(*authorization);
    RETURN_IF_ERROR(Rule(oimp_only ? CheckOimpInternationalTransfer(*authorization, acquiring,
                                                                    part.block.first_transferred)
                                   : CheckInternationalTransfer(*authorization, acquiring,
                                                                part.block.first_transferred)));
    first[&part - parts.data()] = !oimp_only;
    const bool first_transfer = !oimp_only && !part.block.first_transferred;
    if (first_transfer) {
      RETURN_IF_ERROR(
          Rule(CheckEntity(*authorization, request.from.holder.value, "first transfer its ITMOs")));
    }
    details.push_back(Json{{"lot", lot->id.value},
                           {"first", part.moved.first},
                           {"last", part.moved.last},
                           {"quantity", part.moved.Count().tonnes},
                           {"first_transfer", first_transfer}});
  }
  // A first transfer in a finalized NDC period of the transferring Party is refused (para 12).
  RETURN_IF_ERROR(CheckAdjustmentRules(tx, request, parts, first));
  return out;
}

namespace {

// transfer.international {from, to, quantity | ranges, project?, vintage?}: from one registry
// hosted here to another (e.g. MNG01 -> JPN01). The blocks keep their lot, so the ITMO
// identifiers (CA, originating registry, first transferring Party, serials, vintage) do not change.
CommandResult<Json> TransferInternational(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const MoveRequest request, ParseMoveRequest(tx, args, MovementKind::kTransfer));
  if (request.from.status != AccountStatus::kOpen) {
    return Refuse(Check::kAccountBlocked,
                  "account " + std::to_string(request.from.id.value) + " is not open");
  }
  if (request.to.status != AccountStatus::kOpen) {
    return Refuse(Check::kAccountBlocked,
                  "account " + std::to_string(request.to.id.value) + " is not open");
  }
  if (IsTerminal(request.from.type)) {
    return Refuse(Check::kTerminalAccountCannotSend,
                  "nothing leaves a retirement or cancellation account");
  }
  if (IsTerminal(request.to.type)) {
    return Refuse(Check::kWrongDestinationType,
                  "an international transfer goes to a holding account");
  }
  const PartyCode transferring = PartyOfRegistry(request.from.registry);
  const PartyCode acquiring = PartyOfRegistry(request.to.registry);
  if (transferring == acquiring) {
    return Refuse(Check::kFieldInvalid,
                  "an international transfer goes to another Party's registry; use transfer");
  }
  ASSIGN_OR_RETURN(const std::vector<SelectedPart> parts, SelectParts(tx, request));
  ASSIGN_OR_RETURN(const InternationalParts checked,
                   CheckInternationalParts(tx, request, parts, acquiring));
  const Json& details = checked.details;
  const std::vector<bool>& first = checked.first;
  ASSIGN_OR_RETURN(Json result, WriteMovement(tx, request, parts, first, ctx));
  result["transferring_party"] = transferring.value;
  result["acquiring_party"] = acquiring.value;
  result["parts"] = details;
  return result;
}

}  // namespace

// ---- Authorization documents --------------------------------------------------------------------

Json AuthorizationToJson(const Authorization& a) {
  Json parties = Json::array();
  for (const PartyCode& p : a.acquiring_parties) parties.push_back(p.value);
  Json out{
      {"party", a.party.value},
      {"authorization_id", a.authorization_id},
      {"version", a.version},
      {"project", a.project.value},
      {"ca_key", a.ca_key},
      {"date", a.date},
      {"effective_date", a.effective_date},
      {"purposes", ToString(a.purposes)},
      {"first_transfer_definition", std::string(ToString(a.first_transfer))},
      {"authorized", VintageMapJson(a.authorized)},
      {"issued", VintageMapJson(a.issued)},
      {"entities", a.entities},
      {"acquiring_parties", parties},
      {"change_terms", Json{{"increase", a.terms.increase},
                            {"decrease", a.terms.decrease},
                            {"revocation", a.terms.revocation},
                            {"false_information_exception", a.terms.false_information_exception}}},
      {"revoked", a.revoked},
      {"exception_applied", a.exception_applied}};
  // Only when named, so that documents written before the field read and replay unchanged.
  if (!a.oimp_purpose.empty()) out["oimp_purpose"] = a.oimp_purpose;
  return out;
}

CommandResult<Authorization> AuthorizationFromJson(const Json& j) {
  Authorization a;
  a.party = PartyCode{j.at("party").get<std::string>()};
  a.authorization_id = j.at("authorization_id").get<std::string>();
  a.version = j.at("version").get<int32_t>();
  a.project = ProjectRef{j.at("project").get<std::string>()};
  a.ca_key = j.at("ca_key").get<std::string>();
  a.date = j.at("date").get<std::string>();
  a.effective_date = j.at("effective_date").get<std::string>();
  const auto purposes = ParsePurposes(j.at("purposes").get<std::string>());
  const auto ft = ParseFirstTransferDefinition(j.at("first_transfer_definition").get<std::string>());
  REGISTRY_ASSERT(purposes.has_value() && ft.has_value());  // Written by AuthorizationToJson.
  a.purposes = *purposes;
  a.first_transfer = *ft;
  ASSIGN_OR_RETURN(a.authorized, VintageMapFromJson(j.at("authorized")));
  ASSIGN_OR_RETURN(a.issued, VintageMapFromJson(j.at("issued")));
  a.entities = j.at("entities").get<std::vector<int64_t>>();
  for (const Json& p : j.at("acquiring_parties")) a.acquiring_parties.push_back(PartyCode{p.get<std::string>()});
  const Json& t = j.at("change_terms");
  a.terms.increase = t.at("increase").get<bool>();
  a.terms.decrease = t.at("decrease").get<bool>();
  a.terms.revocation = t.at("revocation").get<bool>();
  a.terms.false_information_exception = t.at("false_information_exception").get<bool>();
  a.revoked = j.at("revoked").get<bool>();
  a.exception_applied = j.at("exception_applied").get<bool>();
  a.oimp_purpose = j.value("oimp_purpose", std::string());
  return a;
}

CommandResult<std::optional<Authorization>> LoadAuthorization(Transaction& tx,
                                                              const PartyCode& party,
                                                              const ProjectRef& project) {
  ASSIGN_OR_RETURN(const auto body, LoadJson(tx, kAuthorizationKind, AuthorizationKey(party, project)));
  if (!body) return std::optional<Authorization>();
  ASSIGN_OR_RETURN(Authorization a, AuthorizationFromJson(*body));
  return std::optional<Authorization>(std::move(a));
}

CommandResult<Article6Parts> Article6MovementHook(Transaction& tx, const MoveRequest& request,
                                                  const std::vector<SelectedPart>& parts, const Context& ctx) {
  Article6Parts out;
  out.first_transferred.assign(parts.size(), false);
  std::vector<bool>& first = out.first_transferred;
  if (request.kind == MovementKind::kTransfer) return out;
  const PartyCode using_party = PartyOfRegistry(request.to.registry);
  std::optional<std::vector<std::pair<int32_t, int32_t>>> ndc_periods;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Block& block = parts[i].block;
    ASSIGN_OR_RETURN(const auto lot, Lift(tx.GetLot(block.lot)));
    REGISTRY_ASSERT(lot.has_value());
    // Non-ITMO JCM credits (pre-2021 vintages, or issued without an authorization) are retired
    // and cancelled as JCM credits: there is no Article 6 authorization to check for them. A
    // post-2020 one was never authorized: it may be cancelled (voluntary), never used towards an
    // NDC, where only ITMOs count from 2021 (2/CMA.3 annex para 1(e)).
    if (!lot->itmo) {
      if (request.kind == MovementKind::kRetirement && lot->vintage.year >= kFirstItmoVintage) {
        return Refuse(Check::kNotAuthorized,
                      "lot " + std::to_string(lot->id.value) + " (" + lot->project.value +
                          " vintage " + std::to_string(lot->vintage.year) +
                          ") holds JCM credits of 2021 or later that no Party authorized: they "
                          "may be cancelled, not used towards an NDC");
      }
      out.details.push_back(Json{{"lot", lot->id.value}, {"itmo", false}, {"first_transfer", false}});
      continue;
    }
    ASSIGN_OR_RETURN(const auto first_auth, LoadAuthorization(tx, lot->first_transferring_party, lot->project));
    if (!first_auth) {
      return Refuse(Check::kNotAuthorized, "ITMO lot " + std::to_string(lot->id.value) +
                                               " has no authorization of its first transferring Party");
    }
    // Element (c): the first transferring Party's final date for use or cancellation, for what
    // it still holds. Units already first transferred (acquired by another Party) are beyond
    // its changes (4/CMA.6 paras 7-8): the acquirer uses them on the terms they left under.
    if (!first_auth->ca_key.empty() && !block.first_transferred) {
      ASSIGN_OR_RETURN(const Json ca, LoadCa(tx, first_auth->ca_key));
      const std::string party = lot->first_transferring_party.value;
      const std::string limit = FinalUseOrCancelDate(CaFromJson(ca), lot->first_transferring_party);
      const std::string today = ctx.time.substr(0, 10);
      if (!limit.empty() && today > limit) {
        return Refuse(Check::kAuthorizationExpired,
                      "ITMO lot " + std::to_string(lot->id.value) + " cannot be " +
                          (request.kind == MovementKind::kRetirement ? "retired" : "cancelled") + " on " + today +
                          ": " + party + "'s final date for use or cancellation is " + limit + " (element (c))");
      }
    }
    if (request.kind == MovementKind::kRetirement) {
      ASSIGN_OR_RETURN(const auto own, LoadAuthorization(tx, using_party, lot->project));
      Use use;
      use.using_party = using_party;
      use.first_transferring_party = lot->first_transferring_party;
      use.first_transferred = block.first_transferred;
      use.vintage = lot->vintage.year;
      use.use_year = request.destination.use_year;
      // Japan's Act art. 57-11 (R-AUTH-07) holds for Japan's registries.
      use.needs_own_authorization = using_party.value == "JPN";
      if (!ndc_periods) {  // Once per movement.
        ASSIGN_OR_RETURN(const auto periods, LoadNdcPeriods(tx, using_party));
        ndc_periods.emplace();
        for (const NdcPeriod& p : periods) ndc_periods->emplace_back(p.first_year, p.last_year);
      }
      use.ndc_periods = *ndc_periods;
      RETURN_IF_ERROR(Rule(CheckUse(use, &*first_auth, own ? &*own : nullptr)));
      // An entity uses under an authorization that names it, when it names any (4/CMA.6 para 3).
      RETURN_IF_ERROR(Rule(CheckEntity(EntityActsUnder(*first_auth, own ? &*own : nullptr),
                                       request.from.holder.value, "use its ITMOs")));
      out.details.push_back(Json{{"lot", lot->id.value}, {"itmo", true}, {"first_transfer", false}});
      continue;
    }
    const bool omge = request.destination.cancellation_purpose == CancellationPurpose::kOmge;
    const bool oimp = request.destination.cancellation_purpose == CancellationPurpose::kOimp;
    if (oimp && !first_auth->purposes.oimp) {
      return Refuse(Check::kPurposeNotAuthorized, "ITMO lot " + std::to_string(lot->id.value) +
                                                      " is not authorized for OIMP");
    }
    first[i] = CancellationIsFirstTransfer(*first_auth, omge, block.first_transferred) && (omge || oimp);
    if (first[i]) {
      RETURN_IF_ERROR(Rule(CheckMayMove(*first_auth, false, "first transfer by cancellation")));
      RETURN_IF_ERROR(
          Rule(CheckEntity(*first_auth, request.from.holder.value, "first transfer its ITMOs")));
    } else if (oimp) {
      // A cancellation for OIMP is the entity's use for that purpose, under an authorization.
      ASSIGN_OR_RETURN(const auto own, LoadAuthorization(tx, using_party, lot->project));
      RETURN_IF_ERROR(Rule(CheckEntity(EntityActsUnder(*first_auth, own ? &*own : nullptr),
                                       request.from.holder.value, "cancel its ITMOs for OIMP")));
    }
    out.details.push_back(Json{{"lot", lot->id.value}, {"itmo", true}, {"first_transfer", bool(first[i])}});
  }
  return out;
}

std::string MitigationTypeOfProject(const Json& project) {
  const std::string named = project.value("mitigation_type", std::string());
  if (!named.empty()) return named;
  return std::string(DefaultMitigationType(project.value("activity_type", std::string())));
}

void AddArticle6Commands(HandlerTable& table) {
  table.emplace("nomenclature.set", SetNomenclature);
  table.emplace("ca.define", DefineCa);
  table.emplace("ca.authorize", AuthorizeCa);
  table.emplace("ca.assign_id", AssignCaId);
  table.emplace("project.add", AddProject);
  table.emplace("project.transition", TransitionProject);
  table.emplace("project.allocation_form", SetAllocationForm);
  table.emplace("project.record", RecordProjectCycle);
  table.emplace("authorization.add", AddAuthorization);
  table.emplace("authorization.change", ChangeAuthorization);
  table.emplace("issue.jcm", IssueJcm);
  table.emplace("issue.itmo", IssueItmo);
  table.emplace("transfer.international", TransferInternational);
}

}  // namespace registry::service
