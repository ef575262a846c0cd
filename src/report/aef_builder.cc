#include "report/aef_builder.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "core/aef_actions.h"
#include "core/authorization.h"
#include "core/csv.h"
#include "core/itmo_id.h"
#include "report/xlsx_reader.h"
#include "service/confidentiality.h"
#include "service/initial_report.h"

namespace registry::report {
namespace {

using service::CommandResult;
using service::Failure;
using service::Json;
using service::Lift;

constexpr const char* kNa = "NA";

// What BuildAef keeps in memory: lots and accounts (they grow with issuances and account
// openings, not with movements). Blocks and journal times are not kept: BuildAef reads them a
// page at a time, so its memory does not grow with the history of movements
// (AefRequest::block_page).
struct Snapshot {
  std::map<int64_t, IssuanceLot> lots;
  std::map<int64_t, Account> accounts;
  Sequence year_start;                      // Last sequence before the year.
  Sequence year_end;                        // Last sequence of the year.
};

std::string PartyOf(const RegistryCode& registry) { return PartyOfRegistry(registry).value; }

std::string Identifier(const IssuanceLot& lot, int64_t serial) {
  if (lot.cooperative_approach.empty()) return std::to_string(serial);
  return FormatItmoId(ItmoId{lot.cooperative_approach, lot.registry, lot.first_transferring_party,
                             serial, lot.vintage});
}

CommandResult<Snapshot> LoadSnapshot(Transaction& tx, int32_t year) {
  Snapshot s;
  ASSIGN_OR_RETURN(const auto lots, Lift(tx.ListLots()));
  for (const IssuanceLot& l : lots) s.lots[l.id.value] = l;
  ASSIGN_OR_RETURN(const auto accounts, Lift(tx.ListAccounts()));
  for (const Account& a : accounts) s.accounts[a.id.value] = a;
  ASSIGN_OR_RETURN(s.year_start,
                   Lift(tx.SequenceAtTime(std::to_string(year - 1) + "-12-31T23:59:59Z")));
  ASSIGN_OR_RETURN(s.year_end, Lift(tx.SequenceAtTime(std::to_string(year) + "-12-31T23:59:59Z")));
  return s;
}

// The Party's authorization documents: every version, oldest first.
CommandResult<std::vector<Json>> AuthorizationVersions(Transaction& tx, const PartyCode& party) {
  std::vector<Json> out;
  ASSIGN_OR_RETURN(const auto docs, Lift(tx.ListDocuments("authorization", party.value + ":",
                                                          SIZE_MAX >> 1)));
  for (const Document& doc : docs) {
    if (doc.key.rfind(party.value + ":", 0) != 0) break;
    ASSIGN_OR_RETURN(const auto history, Lift(tx.DocumentHistory("authorization", doc.key)));
    for (const Document& version : history) {
      Json body = Json::parse(version.body, nullptr, false);
      if (body.is_object()) out.push_back(std::move(body));
    }
  }
  return out;
}

std::string CaIdOf(Transaction& tx, const std::string& ca_key) {
  if (ca_key.empty()) return kNa;
  auto doc = tx.GetDocument("cooperative_approach", ca_key);
  if (!doc || !doc->has_value()) return ParseCaId(ca_key) ? ca_key : kNa;
  const Json body = Json::parse((*doc)->body, nullptr, false);
  const std::string id = body.is_object() ? body.value("ca_id", std::string()) : std::string();
  return id.empty() ? kNa : id;
}

std::string FirstTransferDefinitionOf(Transaction& tx, const IssuanceLot& lot) {
  auto doc = tx.GetDocument("authorization", lot.first_transferring_party.value + ":" +
                                                 lot.project.value);
  if (!doc || !doc->has_value()) return "";
  const Json body = Json::parse((*doc)->body, nullptr, false);
  return body.is_object() ? body.value("first_transfer_definition", std::string()) : "";
}

// The date the host authorized the lot's mitigation outcomes: its Step 2a, the first version of
// its authorization of the project (later versions are changes and Step 2b). A first transfer
// defined as "Authorization" happened then (4/CMA.6 para 15), and the AEF dates it there; the
// action is reported with the units, once they exist. "" when there is no authorization.
std::string AuthorizationDateOf(Transaction& tx, const IssuanceLot& lot) {
  auto history = tx.DocumentHistory("authorization",
                                    lot.first_transferring_party.value + ":" + lot.project.value);
  if (!history || history->empty()) return "";
  const Json first = Json::parse(history->front().body, nullptr, false);
  return first.is_object() ? first.value("date", std::string()) : "";
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : "; ") + item;
  return out;
}

// A document's body as JSON; null when it is missing or unreadable.
Json DocumentJson(Transaction& tx, const std::string& kind, const std::string& key) {
  if (key.empty()) return Json();
  auto doc = tx.GetDocument(kind, key);
  if (!doc || !doc->has_value()) return Json();
  Json body = Json::parse((*doc)->body, nullptr, false);
  return body.is_object() ? body : Json();
}

// A Party's Step 1 of an approach (elements (a)-(n) of 4/CMA.6 para 5); null when not on file.
Json Step1Of(Transaction& tx, const std::string& ca_key, const std::string& party) {
  const Json ca = DocumentJson(tx, "cooperative_approach", ca_key);
  if (!ca.is_object() || !ca.contains("step1") || !ca["step1"].contains(party)) return Json();
  return ca["step1"][party];
}

// The Metric, Applicable GWP value(s) and Applicable non-GHG metric cells of a project's units:
// element (l) of the host's (the first transferring Party's) Step 1 of the project's approach.
// When it is not on file the cells are left empty (not reported; "NA" would say "not
// applicable", which is not known) and `note` says why, for "Additional explanatory
// information". The metric is spelled as in the nomenclature of 17 Feb 2026 (GHG, non-GHG).
struct MetricCells {
  std::string metric, gwp, non_ghg, note;
};

MetricCells MetricCellsOf(Transaction& tx, const std::string& project_ref) {
  const Json project = DocumentJson(tx, "project", project_ref);
  const std::string host = project.is_object() ? project.value("host_party", "") : "";
  const std::string ca_key = project.is_object() ? project.value("ca_key", "") : "";
  const Json step1 = Step1Of(tx, ca_key, host);
  const std::string metric = step1.is_object() ? step1.value("l_metric", "") : "";
  if (metric.empty()) {
    return MetricCells{"", "", "",
                       "Metric and Applicable GWP value(s) not reported: no Step 1 of " +
                           (host.empty() ? std::string("the host") : host) + " for approach " +
                           (ca_key.empty() ? std::string("(none)") : ca_key) +
                           " with element (l) is on file (4/CMA.6 para 5(l))"};
  }
  if (metric == "Non-GHG") return MetricCells{"non-GHG", kNa, "", ""};
  const std::string gwp = step1.value("l_gwp_values", "");
  return MetricCells{"GHG", gwp, kNa,
                     gwp.empty() ? "Applicable GWP value(s) not given in element (l) of " + host +
                                       "'s Step 1 for approach " + ca_key
                                 : ""};
}

// "OIMP authorized by the Party": the other international mitigation purpose the authorization
// covers, in the words of 2/CMA.3 annex para 1(f), followed by the purpose the Party names
// (e.g. "International mitigation purposes: CORSIA"); NA when the purposes have no OIMP.
std::string OimpText(const Json& a) {
  const auto purposes = ParsePurposes(a.value("purposes", ""));
  if (!purposes || !purposes->oimp) return kNa;
  const std::string label = purposes->oimp_label == "IMP" ? "International mitigation purposes"
                            : purposes->oimp_label == "OP"
                                ? "Other purposes"
                                : "Other international mitigation purposes";
  const std::string named = a.value("oimp_purpose", "");
  return named.empty() ? label : label + ": " + named;
}

// "Authorization terms and conditions" (and Table 5 "Change and revocation conditions"): the
// authorization's change terms in words, those of the Party's Step 1 (element (g), its text) and
// those of this authorization of the project (Step 2a), and its revocation when revoked.
std::string TermsText(const Json& a, const Json& step1) {
  const Json t = a.value("change_terms", Json::object());
  auto may = [&t](const char* term) { return t.value(term, false) ? "may" : "may not"; };
  std::string text = std::string("The authorized quantity ") + may("increase") + " be raised and " +
                     may("decrease") + " be lowered; the authorization " + may("revocation") +
                     " be revoked. Changes do not apply to ITMOs already first transferred" +
                     (t.value("false_information_exception", false)
                          ? ", except where the authorization rested on deliberately false "
                            "information."
                          : ".");
  if (a.value("revoked", false)) text += " Revoked from " + a.value("date", "") + ".";
  const std::string step1_terms = step1.is_object() ? step1.value("g_change_terms", "") : "";
  if (!step1_terms.empty()) text = "Step 1 (element (g)): " + step1_terms + " " + text;
  return text;
}

void AddSubmission(AefTable& table, const AefRequest& request, Transaction& tx) {
  std::string first = kNa, last = kNa;
  auto docs = tx.ListDocuments("ndc", request.party.value + ":", 100);
  if (docs) {
    for (const Document& doc : *docs) {
      const Json body = Json::parse(doc.body, nullptr, false);
      if (!body.is_object() || body.value("party", "") != request.party.value) continue;
      const int32_t f = body.value("first_year", 0), l = body.value("last_year", 0);
      if (f <= request.year && request.year <= l) {
        first = std::to_string(f);
        last = std::to_string(l);
      }
    }
  }
  const std::string date = request.submission_date.empty()
                               ? std::to_string(request.year) + "-12-31"
                               : request.submission_date;
  table.rows.push_back({request.party.value, request.version, std::to_string(request.year),
                        AefDate(date), "", "", first, last, ""});
}

void AddAuthorizations(AefTable& table, AefTable& entities, const std::vector<Json>& versions,
                       Transaction& tx, int32_t year) {
  const std::string year_end = std::to_string(year) + "-12-31";
  std::set<std::string> entity_rows;
  for (const Json& a : versions) {
    const std::string date = a.value("date", "");
    if (date.empty() || date > year_end) continue;
    int64_t quantity = 0;
    int32_t from = 0, to = 0;
    if (a.contains("authorized") && a["authorized"].is_object()) {
      for (const auto& [vintage, q] : a["authorized"].items()) {
        quantity += q.get<int64_t>();
        const int32_t v = std::stoi(vintage);
        from = from == 0 ? v : std::min(from, v);
        to = std::max(to, v);
      }
    }
    std::vector<std::string> parties, entity_ids;
    for (const Json& p : a.value("acquiring_parties", Json::array())) parties.push_back(p.get<std::string>());
    for (const Json& e : a.value("entities", Json::array())) entity_ids.push_back(std::to_string(e.get<int64_t>()));
    const std::string purposes = a.value("purposes", "");
    const auto parsed = ParsePurposes(purposes);
    const bool oimp = parsed && parsed->oimp;
    std::string sector, activity;
    const Json project = DocumentJson(tx, "project", a.value("project", ""));
    if (project.is_object()) {
      sector = project.value("sector", "");
      activity = project.value("activity_type", "");
    }
    const std::string terms_text =
        TermsText(a, Step1Of(tx, a.value("ca_key", ""), a.value("party", "")));
    const MetricCells metric = MetricCellsOf(tx, a.value("project", ""));
    std::string info = "project " + a.value("project", "");
    if (!metric.note.empty()) info += "; " + metric.note;
    const std::string ca_id = CaIdOf(tx, a.value("ca_key", ""));
    table.rows.push_back(
        {a.value("authorization_id", ""), AefDate(date), ca_id,
         std::to_string(a.value("version", 1)), std::to_string(quantity), metric.metric, metric.gwp,
         metric.non_ghg, sector.empty() ? kNa : sector, activity.empty() ? kNa : activity, purposes,
         parties.empty() ? "" : Join(parties), Join(entity_ids), OimpText(a),
         from == 0 ? kNa : std::to_string(from) + " - " + std::to_string(to), terms_text, "",
         oimp ? a.value("first_transfer_definition", "") : kNa, info});
    for (const std::string& id : entity_ids) {
      auto entity = tx.GetDocument("entity", std::string(10 - std::min<size_t>(10, id.size()), '0') + id);
      if (!entity || !entity->has_value()) continue;
      const Json e = Json::parse((*entity)->body, nullptr, false);
      if (!e.is_object()) continue;
      const std::string key = a.value("authorization_id", "") + "/" + id;
      if (!entity_rows.insert(key).second) continue;  // One row per entity per authorization.
      entities.rows.push_back({AefDate(date), e.value("name", ""), e.value("country", ""),
                               e.value("identification", ""), ca_id, "",
                               terms_text, "authorization " + a.value("authorization_id", "")});
    }
  }
}

struct ActionRow {
  std::string type, subtype, transferring = kNa, acquiring = kNa, purpose = kNa, using_party = kNa;
  int32_t use_year = 0;
};

std::vector<std::string> ActionCells(const ActionRow& a, const Block& b, const IssuanceLot& lot,
                                     const std::string& time, const std::string& ca_id,
                                     const std::string& authorization_id, const MetricCells& m) {
  return {AefDate(time),
          a.type,
          a.subtype.empty() ? kNa : a.subtype,
          ca_id,
          authorization_id,
          lot.first_transferring_party.value,
          lot.registry.value,
          Identifier(lot, b.range.first),
          Identifier(lot, b.range.last),
          "JCM",
          std::to_string(b.range.first),
          std::to_string(b.range.last),
          m.metric,
          m.gwp,
          m.non_ghg,
          std::to_string(b.range.Count().tonnes),
          kNa,
          lot.mitigation_type,
          std::to_string(lot.vintage.year),
          a.transferring,
          a.acquiring,
          a.purpose,
          a.using_party,
          kNa,
          a.use_year == 0 ? kNa : std::to_string(a.use_year),
          "",
          m.note};
}

// The event of one block's creation in the terms of the one AEF mapping (core/aef_actions.h);
// nullopt when it is no AEF event (a kept piece, a domestic transfer). `parent` is b's parent
// (null for an issued block).
std::optional<AefEvent> EventOf(const Block& b, const Block* parent, const Snapshot& s,
                                const std::string& ft_definition) {
  const IssuanceLot& lot = s.lots.at(b.lot.value);
  const Account& account = s.accounts.at(b.account.value);
  AefEvent event;
  if (parent == nullptr) {
    event.movement = AefMovement::kIssuance;
    event.first_transfer = b.first_transferred;
    // Issued straight into another Party's registry (a JC decision's Japanese share): the host's
    // first transfer to that Party and that Party's acquisition, in one (decision 11).
    event.issued_abroad = PartyOf(account.registry) != lot.first_transferring_party.value;
    event.definition =
        ParseFirstTransferDefinition(ft_definition).value_or(FirstTransferDefinition::kNone);
    return event;
  }
  const Account& from = s.accounts.at(parent->account.value);
  if (from.id == account.id) return std::nullopt;  // A kept piece: nothing happened to it.
  event.first_transfer = b.first_transferred && !parent->first_transferred;
  if (from.registry != account.registry) {
    event.movement = AefMovement::kInternationalTransfer;
  } else if (account.type == AccountType::kRetirement) {
    event.movement = AefMovement::kRetirement;
  } else if (account.type == AccountType::kCancellation) {
    event.movement = AefMovement::kCancellation;
    event.purpose = b.cancellation_purpose.value_or(CancellationPurpose::kOther);
  } else {
    return std::nullopt;  // A domestic transfer is not an AEF action (R-JCM-13).
  }
  return event;
}

// The actions of one block's creation that `party` reports.
std::vector<ActionRow> ActionsOf(const Block& b, const Block* parent, const Snapshot& s,
                                 const PartyCode& party, const std::string& ft_definition) {
  std::vector<ActionRow> out;
  const std::optional<AefEvent> event = EventOf(b, parent, s, ft_definition);
  if (!event) return out;
  const IssuanceLot& lot = s.lots.at(b.lot.value);
  const std::string here = PartyOf(s.accounts.at(b.account.value).registry);
  const std::string there = parent == nullptr
                                ? lot.first_transferring_party.value
                                : PartyOf(s.accounts.at(parent->account.value).registry);
  for (const AefActionKind& kind : AefActionKindsOf(*event)) {
    const std::string reporter = kind.reporter == AefReporter::kFirstTransferringParty
                                     ? lot.first_transferring_party.value
                                 : kind.reporter == AefReporter::kTransferringParty ? there
                                                                                    : here;
    if (reporter != party.value) continue;
    ActionRow row{std::string(kind.type), std::string(kind.subtype)};
    if (kind.type == "Acquisition") row.transferring = there;
    if (kind.type == "Transfer" || kind.subtype == "First transfer to another Party") {
      row.acquiring = here;
    }
    if (event->movement == AefMovement::kRetirement ||
        event->movement == AefMovement::kCancellation) {
      row.using_party = here;
    }
    if (kind.type == "Use") row.use_year = b.use_year;
    if (kind.type == "Cancellation" && b.cancellation_purpose == CancellationPurpose::kOimp) {
      row.purpose = lot.purposes;
    }
    out.push_back(row);
  }
  return out;
}

// R-REP-04 (4/CMA.6 paras 26-27): the initial report for an approach comes before or together
// with the first AEF reporting ITMOs of that approach. Refuses when an approach of the reported
// actions has no initial report of the Party on file, or only one dated after the submission.
CommandResult<bool> RequireInitialReports(Transaction& tx, const AefRequest& request,
                                          const Snapshot& s, const std::set<int64_t>& lots) {
  const std::string submitted = request.submission_date.empty()
                                    ? std::to_string(request.year) + "-12-31"
                                    : request.submission_date.substr(0, 10);
  std::map<std::string, std::string> approaches;  // ca key -> CA id (or the lot's, when keyless)
  std::map<std::string, std::string> project_ca;  // project ref -> ca key
  for (const int64_t id : lots) {
    const IssuanceLot& lot = s.lots.at(id);
    auto known = project_ca.find(lot.project.value);
    if (known == project_ca.end()) {
      std::string key;
      ASSIGN_OR_RETURN(const auto project, Lift(tx.GetDocument("project", lot.project.value)));
      if (project) {
        const Json body = Json::parse(project->body, nullptr, false);
        if (body.is_object()) key = body.value("ca_key", "");
      }
      if (key.empty()) key = lot.cooperative_approach.value;
      known = project_ca.emplace(lot.project.value, key).first;
    }
    approaches.emplace(known->second, lot.cooperative_approach.empty() ? std::string(kNa)
                                                                       : lot.cooperative_approach.value);
  }
  for (const auto& [key, ca_id] : approaches) {
    const std::string named = "cooperative approach " + (key.empty() ? std::string("(none)") : key) +
                              " (CA ID " + ca_id + ")";
    ASSIGN_OR_RETURN(const auto on_file, service::LoadInitialReport(tx, request.party, key));
    if (!on_file) {
      return Fail(Failure::Refused(
          Check::kInitialReportNotOnFile,
          "the AEF of " + request.party.value + " for " + std::to_string(request.year) +
              " would report ITMO actions of " + named + ", but no initial report of " +
              request.party.value + " for it is on file; record it first with "
              "report.initial.submit {\"party\": \"" + request.party.value + "\", \"ca\": \"" + key +
              "\", \"date\": \"YYYY-MM-DD\"} (4/CMA.6 paras 26-27)"));
    }
    const std::string first = on_file->value("first_date", "");
    if (first > submitted) {
      return Fail(Failure::Refused(
          Check::kInitialReportNotOnFile,
          "the initial report of " + request.party.value + " for " + named + " was submitted on " +
              first + ", after this AEF's date of submission " + submitted +
              "; it must come before or together with the AEF (4/CMA.6 paras 26-27)"));
    }
  }
  return true;
}

}  // namespace

service::CommandResult<AefWorkbook> BuildAef(Store& store, const AefRequest& request) {
  if (request.year < kFirstItmoVintage || request.year > kVintageMax) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "reported year " + std::to_string(request.year) +
                                     " is not in [2021, 2100]"));
  }
  ASSIGN_OR_RETURN(auto tx, Lift(store.BeginRead()));
  ASSIGN_OR_RETURN(const Snapshot s, LoadSnapshot(*tx, request.year));
  AefWorkbook wb = EmptyAefWorkbook();
  AddSubmission(wb.tables[kSubmission], request, *tx);
  ASSIGN_OR_RETURN(const auto versions, AuthorizationVersions(*tx, request.party));
  AddAuthorizations(wb.tables[kAuthorizations], wb.tables[kEntities], versions, *tx, request.year);
  std::map<int64_t, std::string> ca_ids, ft_definitions, authorization_ids, authorized_on;
  std::map<int64_t, MetricCells> metrics;
  std::map<std::string, MetricCells> project_metrics;  // Element (l), once per project.
  for (const auto& [id, lot] : s.lots) {
    ca_ids[id] = lot.cooperative_approach.empty() ? kNa : lot.cooperative_approach.value;
    if (!lot.itmo) continue;
    auto known = project_metrics.find(lot.project.value);
    if (known == project_metrics.end()) {
      known =
          project_metrics.emplace(lot.project.value, MetricCellsOf(*tx, lot.project.value)).first;
    }
    metrics[id] = known->second;
    ft_definitions[id] = FirstTransferDefinitionOf(*tx, lot);
    if (ft_definitions[id] == "Authorization") authorized_on[id] = AuthorizationDateOf(*tx, lot);
    // Each Party reports its own authorization of the units (both authorize: R-AUTH-07); the
    // first transferring Party's is the fallback.
    std::string own = lot.authorization_id.empty() ? kNa : lot.authorization_id;
    auto doc = tx->GetDocument("authorization", request.party.value + ":" + lot.project.value);
    if (doc && doc->has_value()) {
      const Json body = Json::parse((*doc)->body, nullptr, false);
      if (body.is_object() && !body.value("authorization_id", "").empty()) {
        own = body.value("authorization_id", "");
      }
    }
    authorization_ids[id] = own;
  }
  std::set<int64_t> reported_lots;
  service::EntryTimes times(*tx);
  RETURN_IF_ERROR(service::WalkBlocks(
      *tx, request.block_page, [&](const Block& b, const Block* parent) -> CommandResult<bool> {
        if (b.created <= s.year_start || b.created > s.year_end) return true;
        const IssuanceLot& lot = s.lots.at(b.lot.value);
        if (!lot.itmo) return true;
        const std::vector<ActionRow> rows =
            ActionsOf(b, parent, s, request.party, ft_definitions[lot.id.value]);
        if (rows.empty()) return true;
        ASSIGN_OR_RETURN(const std::string time, times.Of(b.created));
        for (const ActionRow& row : rows) {
          const bool at_authorization = row.type == "First transfer" &&
                                        row.subtype == "Authorization" &&
                                        !authorized_on[lot.id.value].empty();
          wb.tables[kActions].rows.push_back(ActionCells(
              row, b, lot, at_authorization ? authorized_on[lot.id.value] : time,
              ca_ids[lot.id.value], authorization_ids[lot.id.value], metrics[lot.id.value]));
          reported_lots.insert(lot.id.value);
        }
        return true;
      }));
  RETURN_IF_ERROR(RequireInitialReports(*tx, request, s, reported_lots));
  for (const auto& [id, account] : s.accounts) {
    if (PartyOf(account.registry) != request.party.value || IsTerminal(account.type)) continue;
    // The account's holding at the end of the year, a page of blocks at a time.
    const size_t page = std::max<size_t>(1, request.block_page);
    for (int64_t after = 0;;) {
      ASSIGN_OR_RETURN(const auto held, Lift(tx->HoldingPage(account.id, s.year_end, after, page)));
      for (const Block& b : held) {
        const IssuanceLot& lot = s.lots.at(b.lot.value);
        if (!lot.itmo) continue;
        wb.tables[kHoldings].rows.push_back(
            {ca_ids[lot.id.value], authorization_ids[lot.id.value],
             lot.first_transferring_party.value, lot.registry.value, Identifier(lot, b.range.first),
             Identifier(lot, b.range.last), "JCM", std::to_string(b.range.first),
             std::to_string(b.range.last), metrics[lot.id.value].metric, metrics[lot.id.value].gwp,
             metrics[lot.id.value].non_ghg, std::to_string(b.range.Count().tonnes), kNa,
             lot.mitigation_type, std::to_string(lot.vintage.year)});
      }
      if (held.size() < page) break;
      after = held.back().range.first;
    }
  }
  // R-REP-07: the Party's confidentiality claims; the public view hides what they cover.
  ASSIGN_OR_RETURN(const auto claims, service::LoadConfidentialClaims(*tx, request.party));
  for (const Json& c : claims) {
    wb.confidential.push_back(ConfidentialClaim{c.value("table", ""), c.value("column", ""),
                                                c.value("row", ""), c.value("basis", "")});
  }
  if (!request.disclose_confidential) RedactConfidential(wb);
  return wb;
}

namespace {

int Column(const AefTable& table, std::string_view label) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (table.columns[i] == label) return static_cast<int>(i);
  }
  REGISTRY_ASSERT(false && "unknown AEF column");
  return 0;
}

const std::string& Cell(const AefTable& t, const std::vector<std::string>& row,
                        std::string_view label) {
  static const std::string kEmpty;
  const size_t c = static_cast<size_t>(Column(t, label));
  return c < row.size() ? row[c] : kEmpty;
}

int64_t Number(const std::string& text) {
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return -1;
  }
}

struct Span {
  std::string registry;
  int64_t first, last;
  size_t row;
};

// Appends a problem for each pair of overlapping spans in one registry.
void Overlaps(std::vector<Span> spans, const std::string& what, std::vector<std::string>& out) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return std::tie(a.registry, a.first) < std::tie(b.registry, b.first);
  });
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].registry == spans[i - 1].registry && spans[i].first <= spans[i - 1].last) {
      out.push_back(what + " rows " + std::to_string(spans[i - 1].row + 2) + " and " +
                    std::to_string(spans[i].row + 2) + " overlap in " + spans[i].registry);
    }
  }
}

ConsistencyResult MakeResult(int item, std::string name, std::vector<std::string> problems) {
  return ConsistencyResult{item, std::move(name),
                           problems.empty() ? "Checked, no inconsistencies identified"
                                            : "Checked, inconsistencies identified",
                           std::move(problems)};
}

}  // namespace

std::vector<ConsistencyResult> PreConsistencyChecks(const AefWorkbook& ours,
                                                    const AefWorkbook* partner,
                                                    int32_t ndc_first_year,
                                                    int32_t ndc_last_year) {
  const AefTable& auths = ours.tables[kAuthorizations];
  const AefTable& actions = ours.tables[kActions];
  const AefTable& holdings = ours.tables[kHoldings];
  std::vector<ConsistencyResult> out;
  std::map<std::string, std::pair<int32_t, int32_t>> timeframe;  // Authorization ID -> vintages
  for (const auto& row : auths.rows) {
    const std::string& frame = Cell(auths, row, "Authorized timeframe");
    const std::string& id = Cell(auths, row, "Authorization ID");
    if (frame.size() == 11) {
      timeframe[id] = {static_cast<int32_t>(Number(frame.substr(0, 4))),
                       static_cast<int32_t>(Number(frame.substr(7, 4)))};
    } else {
      timeframe.emplace(id, std::pair<int32_t, int32_t>{0, 0});
    }
  }
  std::vector<std::string> p1, p5, p6, p7;
  std::vector<Span> used;
  for (size_t i = 0; i < actions.rows.size(); ++i) {
    const auto& row = actions.rows[i];
    const std::string at = "Actions row " + std::to_string(i + 2);
    const std::string& id = Cell(actions, row, "Authorization ID");
    if (!timeframe.count(id)) p1.push_back(at + ": authorization '" + id + "' is not in Table 2");
    const int64_t vintage = Number(Cell(actions, row, "Vintage"));
    if (vintage < kFirstItmoVintage) p5.push_back(at + ": vintage " + std::to_string(vintage) + " < 2021");
    const auto frame = timeframe.find(id);
    if (frame != timeframe.end() && frame->second.first != 0 &&
        (vintage < frame->second.first || vintage > frame->second.second)) {
      p5.push_back(at + ": vintage " + std::to_string(vintage) + " outside the authorized " +
                   std::to_string(frame->second.first) + "-" + std::to_string(frame->second.second));
    }
    const std::string& type = Cell(actions, row, "Action type");
    if (type == "Use" || type == "Cancellation" || type == "Voluntary Cancellation") {
      used.push_back(Span{Cell(actions, row, "Party ITMO registry ID"),
                          Number(Cell(actions, row, "First unit ID")),
                          Number(Cell(actions, row, "Last unit ID")), i});
    }
    if (type == "Use") {
      const int64_t year =
          Number(Cell(actions, row, "Calendar year for which the ITMOs are used towards the Party's NDC"));
      if (ndc_first_year == 0) continue;
      if (year < ndc_first_year || year > ndc_last_year || vintage < ndc_first_year ||
          vintage > ndc_last_year) {
        p7.push_back(at + ": use in " + std::to_string(year) + " of vintage " +
                     std::to_string(vintage) + " is not within one NDC period " +
                     std::to_string(ndc_first_year) + "-" + std::to_string(ndc_last_year));
      }
    }
  }
  Overlaps(used, "Use/Cancellation", p6);
  out.push_back(MakeResult(1, "every action has its authorization in Table 2", p1));
  if (partner == nullptr) {
    out.push_back(ConsistencyResult{2, "partner first transfers equal our acquisitions",
                                    "Null, information for check not available", {}});
  } else {
    // Sum per (CA, first ID, last ID) of the partner's first transfers to us and our acquisitions.
    std::map<std::string, int64_t> theirs, mine;
    const std::string us = ours.tables[kSubmission].rows.empty() ? "" : ours.tables[kSubmission].rows[0][0];
    const AefTable& pa = partner->tables[kActions];
    for (const auto& row : pa.rows) {
      if (Cell(pa, row, "Action type") != "First transfer" || Cell(pa, row, "Acquiring participating Party ID") != us) continue;
      theirs[Cell(pa, row, "Cooperative approach ID") + " " + Cell(pa, row, "First ID") + " " +
             Cell(pa, row, "Last ID")] += Number(Cell(pa, row, "Quantity (t CO2 eq)"));
    }
    const std::string them = partner->tables[kSubmission].rows.empty() ? "" : partner->tables[kSubmission].rows[0][0];
    for (const auto& row : actions.rows) {
      if (Cell(actions, row, "Action type") != "Acquisition" || Cell(actions, row, "Transferring participating Party ID") != them) continue;
      mine[Cell(actions, row, "Cooperative approach ID") + " " + Cell(actions, row, "First ID") + " " +
           Cell(actions, row, "Last ID")] += Number(Cell(actions, row, "Quantity (t CO2 eq)"));
    }
    std::vector<std::string> p2;
    for (const auto& [block, q] : theirs) {
      if (mine[block] != q) p2.push_back(block + ": first transferred " + std::to_string(q) + ", acquired " + std::to_string(mine[block]));
    }
    for (const auto& [block, q] : mine) {
      if (!theirs.count(block)) p2.push_back(block + ": acquired " + std::to_string(q) + ", never first transferred");
    }
    out.push_back(MakeResult(2, "partner first transfers equal our acquisitions", p2));
  }
  std::vector<std::string> p3, p4;
  std::set<std::string> ids;
  std::vector<Span> held;
  for (size_t i = 0; i < holdings.rows.size(); ++i) {
    const auto& row = holdings.rows[i];
    for (const char* label : {"First ID", "Last ID"}) {
      const std::string key = Cell(holdings, row, "Party ITMO registry ID") + "/" + Cell(holdings, row, label);
      if (!ids.insert(key).second) {
        p3.push_back("Holdings row " + std::to_string(i + 2) + ": " + Cell(holdings, row, label) + " appears twice");
      }
    }
    held.push_back(Span{Cell(holdings, row, "Party ITMO registry ID"), Number(Cell(holdings, row, "First unit ID")),
                        Number(Cell(holdings, row, "Last unit ID")), i});
    if (Number(Cell(holdings, row, "Vintage")) < kFirstItmoVintage) {
      p5.push_back("Holdings row " + std::to_string(i + 2) + ": vintage before 2021");
    }
  }
  Overlaps(held, "Holdings", p4);
  out.push_back(MakeResult(3, "no ITMO identifier in two holdings rows", p3));
  out.push_back(MakeResult(4, "no overlapping blocks within one Party ITMO registry", p4));
  out.push_back(MakeResult(5, "vintages from 2021 and within the authorized vintages", p5));
  out.push_back(MakeResult(6, "no use or cancellation of units already used or cancelled", p6));
  if (ndc_first_year == 0) {
    out.push_back(ConsistencyResult{7, "use year in the same NDC period as the vintage",
                                    "Null, information for check not available", {}});
  } else {
    out.push_back(MakeResult(7, "use year in the same NDC period as the vintage", p7));
  }
  return out;
}

Result<AefWorkbook, std::string> ReadAefCsv(const std::array<std::string, 5>& csv_texts) {
  AefWorkbook wb = EmptyAefWorkbook();
  for (size_t i = 0; i < 5; ++i) {
    auto rows = ParseCsv(csv_texts[i]);
    if (!rows) return Fail(wb.tables[i].name + ": " + rows.error());
    if (rows->empty() || (*rows)[0] != wb.tables[i].columns) {
      return Fail(wb.tables[i].name + ": the header is not the AEF's");
    }
    wb.tables[i].rows.assign(rows->begin() + 1, rows->end());
  }
  return wb;
}

namespace {

// "Action date", "Date of submission", ...: the columns whose cells are dates.
bool IsDateColumn(const std::string& label) {
  return label == "Action date" || label.rfind("Date of ", 0) == 0;
}

// A spreadsheet date serial of the 1900 date system (day 1 = 1 January 1900, with the fictitious
// 29 February 1900 as day 60) as dd/mm/yyyy; the text itself when it is not one.
std::string SerialDate(const std::string& text) {
  int64_t serial = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), serial);
  if (ec != std::errc() || p != text.data() + text.size() || serial < 61 || serial > 2958465) {
    return text;
  }
  // Days since 1970-01-01, then civil from days (H. Hinnant's algorithm).
  const int64_t z = serial - 25569 + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d/%02d/%04d", static_cast<int>(d), static_cast<int>(m),
                static_cast<int>(y));
  return buf;
}

}  // namespace

Result<AefWorkbook, std::string> ReadAefXlsx(const std::string& path) {
  AefWorkbook wb = EmptyAefWorkbook();
  // Only the five tables' sheets are read, and no cell far beyond the widest table's last
  // column (one just beyond it gets the message below, naming the table's width).
  std::vector<std::string> names;
  int64_t widest = 0;
  for (const AefTable& table : wb.tables) {
    names.push_back(table.name);
    widest = std::max(widest, static_cast<int64_t>(table.columns.size()));
  }
  XlsxLimits limits;
  limits.columns_max = widest + kAefExtraColumnsRead;
  auto sheets = ReadXlsxSheets(path, names, limits);
  if (!sheets) {  // Every message names the file (the zip layer's already does).
    const std::string& error = sheets.error();
    return Fail(error.rfind(path, 0) == 0 ? error : path + ": " + error);
  }
  for (AefTable& table : wb.tables) {
    XlsxSheet* sheet = nullptr;
    for (XlsxSheet& s : *sheets) {
      if (s.name == table.name) sheet = &s;
    }
    if (sheet == nullptr) return Fail(path + ": the sheet '" + table.name + "' is missing");
    if (sheet->rows.empty() || sheet->rows[0] != table.columns) {
      std::string got;
      if (!sheet->rows.empty()) {
        for (size_t c = 0; c < std::max(sheet->rows[0].size(), table.columns.size()); ++c) {
          const std::string cell = c < sheet->rows[0].size() ? sheet->rows[0][c] : "";
          if (c >= table.columns.size() || cell != table.columns[c]) {
            got = " (column " + std::to_string(c + 1) + " is '" + cell + "', expected '" +
                  (c < table.columns.size() ? table.columns[c] : std::string()) + "')";
            break;
          }
        }
      }
      return Fail(path + ": sheet '" + table.name + "': row 1 is not the AEF's header" + got);
    }
    for (size_t r = 1; r < sheet->rows.size(); ++r) {
      std::vector<std::string> row = std::move(sheet->rows[r]);  // The sheet is not read again.
      if (row.empty()) continue;
      if (row.size() > table.columns.size()) {
        return Fail(path + ": sheet '" + table.name + "' row " + std::to_string(r + 1) +
                    " has a value beyond the last column (" + std::to_string(row.size()) + " > " +
                    std::to_string(table.columns.size()) + ")");
      }
      row.resize(table.columns.size());
      for (size_t c = 0; c < row.size(); ++c) {
        if (IsDateColumn(table.columns[c])) row[c] = SerialDate(row[c]);
      }
      table.rows.push_back(std::move(row));
    }
  }
  return wb;
}

}  // namespace registry::report
