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
#include "report/aef_labels.h"
#include "report/xlsx_reader.h"
#include "service/confidentiality.h"
#include "service/inconsistency.h"
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

// `corrections`: the Party's inconsistencies found in the previous year's AEF and corrected
// (service::CorrectionsForAef); each note goes into the Additional explanatory information of
// the rows of the affected projects' authorizations (4/CMA.6 paras 39-44) [I].
void AddAuthorizations(AefTable& table, AefTable& entities, const std::vector<Json>& versions,
                       Transaction& tx, int32_t year, const std::vector<Json>& corrections) {
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
    for (const Json& c : corrections) {
      for (const Json& p : c.at("projects")) {
        if (p.get<std::string>() == a.value("project", "")) info += "; " + c.value("note", "");
      }
    }
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

namespace {

// Per lot, the cells every row of its units repeats (read once, not per row).
struct LotCells {
  std::map<int64_t, std::string> ca_ids, ft_definitions, authorization_ids;
  // The host's Step 2a date of lots first transferred at "Authorization" (AuthorizationDateOf).
  std::map<int64_t, std::string> authorized_on;
  std::map<int64_t, MetricCells> metrics;
};

LotCells LotCellsOf(Transaction& tx, const Snapshot& s, const PartyCode& party) {
  LotCells out;
  std::map<std::string, MetricCells> project_metrics;  // Element (l), once per project.
  for (const auto& [id, lot] : s.lots) {
    out.ca_ids[id] = lot.cooperative_approach.empty() ? kNa : lot.cooperative_approach.value;
    if (!lot.itmo) continue;
    auto known = project_metrics.find(lot.project.value);
    if (known == project_metrics.end()) {
      known =
          project_metrics.emplace(lot.project.value, MetricCellsOf(tx, lot.project.value)).first;
    }
    out.metrics[id] = known->second;
    out.ft_definitions[id] = FirstTransferDefinitionOf(tx, lot);
    if (out.ft_definitions[id] == "Authorization") {
      out.authorized_on[id] = AuthorizationDateOf(tx, lot);
    }
    // Each Party reports its own authorization of the units (both authorize: R-AUTH-07); the
    // first transferring Party's is the fallback.
    std::string own = lot.authorization_id.empty() ? kNa : lot.authorization_id;
    auto doc = tx.GetDocument("authorization", party.value + ":" + lot.project.value);
    if (doc && doc->has_value()) {
      const Json body = Json::parse((*doc)->body, nullptr, false);
      if (body.is_object() && !body.value("authorization_id", "").empty()) {
        own = body.value("authorization_id", "");
      }
    }
    out.authorization_ids[id] = own;
  }
  return out;
}

// Hands a row to a sink, a failure of the sink becoming the command's error.
CommandResult<bool> Put(AefRowSink& sink, const std::vector<std::string>& cells) {
  const Status<std::string> put = sink.Row(cells);
  if (!put.ok()) return Fail(Failure::Of(Error{ErrorCode::kInternal, put.error()}));
  return true;
}

CommandResult<bool> Begin(AefRowSink& sink, const AefTable& header) {
  const Status<std::string> begun = sink.BeginTable(header);
  if (!begun.ok()) return Fail(Failure::Of(Error{ErrorCode::kInternal, begun.error()}));
  return true;
}

CommandResult<bool> PutTable(AefRowSink& sink, const AefTable& table) {
  RETURN_IF_ERROR(Begin(sink, TableHeader(table)));
  for (const auto& row : table.rows) RETURN_IF_ERROR(Put(sink, row));
  return true;
}

// Table 3, a row at a time as the block walk finds the year's actions; `reported_lots` gets the
// lots of the rows (R-REP-04).
CommandResult<bool> StreamActions(Transaction& tx, const AefRequest& request, const Snapshot& s,
                                  const LotCells& cells, AefRowSink& sink,
                                  std::set<int64_t>& reported_lots) {
  service::EntryTimes times(tx);
  return service::WalkBlocks(
      tx, request.block_page, [&](const Block& b, const Block* parent) -> CommandResult<bool> {
        if (b.created <= s.year_start || b.created > s.year_end) return true;
        const IssuanceLot& lot = s.lots.at(b.lot.value);
        if (!lot.itmo) return true;
        const std::vector<ActionRow> rows =
            ActionsOf(b, parent, s, request.party, cells.ft_definitions.at(lot.id.value));
        if (rows.empty()) return true;
        ASSIGN_OR_RETURN(const std::string time, times.Of(b.created));
        for (const ActionRow& row : rows) {
          // An "Authorization" first transfer is dated at the host's Step 2a (4/CMA.6 para 15).
          const auto authorized = cells.authorized_on.find(lot.id.value);
          const bool at_authorization = row.type == "First transfer" &&
                                        row.subtype == "Authorization" &&
                                        authorized != cells.authorized_on.end() &&
                                        !authorized->second.empty();
          RETURN_IF_ERROR(Put(sink, ActionCells(row, b, lot,
                                                at_authorization ? authorized->second : time,
                                                cells.ca_ids.at(lot.id.value),
                                                cells.authorization_ids.at(lot.id.value),
                                                cells.metrics.at(lot.id.value))));
          reported_lots.insert(lot.id.value);
        }
        return true;
      });
}

// Table 4: each of the Party's holding accounts' ITMO blocks at the end of the year, a page of
// blocks at a time.
CommandResult<bool> StreamHoldings(Transaction& tx, const AefRequest& request, const Snapshot& s,
                                   const LotCells& cells, AefRowSink& sink) {
  const size_t page = std::max<size_t>(1, request.block_page);
  for (const auto& [id, account] : s.accounts) {
    if (PartyOf(account.registry) != request.party.value || IsTerminal(account.type)) continue;
    for (int64_t after = 0;;) {
      ASSIGN_OR_RETURN(const auto held, Lift(tx.HoldingPage(account.id, s.year_end, after, page)));
      for (const Block& b : held) {
        const IssuanceLot& lot = s.lots.at(b.lot.value);
        if (!lot.itmo) continue;
        const MetricCells& metric = cells.metrics.at(lot.id.value);
        RETURN_IF_ERROR(
            Put(sink, {cells.ca_ids.at(lot.id.value), cells.authorization_ids.at(lot.id.value),
                       lot.first_transferring_party.value, lot.registry.value,
                       Identifier(lot, b.range.first), Identifier(lot, b.range.last), "JCM",
                       std::to_string(b.range.first), std::to_string(b.range.last), metric.metric,
                       metric.gwp, metric.non_ghg, std::to_string(b.range.Count().tonnes), kNa,
                       lot.mitigation_type, std::to_string(lot.vintage.year)}));
      }
      if (held.size() < page) break;
      after = held.back().range.first;
    }
  }
  return true;
}

// Between the builder and its sinks: counts each claim's cells (on the values, as ClaimRows
// does), hands the values on to `values` and the view (redacted unless `disclose`, as
// RedactConfidential does) to `view`.
class ConfidentialView final : public AefRowSink {
 public:
  ConfidentialView(std::vector<ConfidentialClaim> claims, bool disclose, AefRowSink& view,
                   AefRowSink* values)
      : claims_(std::move(claims)),
        cells_(claims_.size(), 0),
        disclose_(disclose),
        view_(view),
        values_(values) {}

  Status<std::string> BeginTable(const AefTable& header) override {
    ++table_;
    REGISTRY_ASSERT(table_ < kAefTables.size());
    rules_.clear();
    std::optional<size_t> key;
    for (size_t c = 0; c < header.columns.size(); ++c) {
      if (header.columns[c] == kAefTables[table_].row_key) key = c;
    }
    for (size_t i = 0; i < claims_.size(); ++i) {
      if (claims_[i].table != header.name) continue;
      for (size_t c = 0; c < header.columns.size(); ++c) {
        if (header.columns[c] == claims_[i].column) rules_.push_back(Rule{i, c, key});
      }
    }
    if (values_ != nullptr) RETURN_IF_ERROR(values_->BeginTable(header));
    return view_.BeginTable(header);
  }

  Status<std::string> Row(const std::vector<std::string>& cells) override {
    ++summary_.rows[table_];
    hide_.clear();
    for (const Rule& rule : rules_) {  // Every cell to hide is found on the values first.
      const std::string& row_key = claims_[rule.claim].row;
      if (row_key.empty() ||
          (rule.key && *rule.key < cells.size() && cells[*rule.key] == row_key)) {
        ++cells_[rule.claim];
        hide_.push_back(rule.column);
      }
    }
    if (values_ != nullptr) RETURN_IF_ERROR(values_->Row(cells));
    if (disclose_ || hide_.empty()) return view_.Row(cells);
    redacted_ = cells;
    for (const size_t c : hide_) {
      if (c >= redacted_.size() || redacted_[c] == kConfidentialText) continue;
      redacted_[c] = std::string(kConfidentialText);
      ++summary_.cells_hidden;
    }
    return view_.Row(redacted_);
  }

  Status<std::string> Finish(const std::vector<ListedClaim>& /*listed*/) override {
    std::vector<ListedClaim> listed;
    for (size_t i = 0; i < claims_.size(); ++i)
      listed.push_back(ListedClaim{claims_[i], cells_[i]});
    if (values_ != nullptr) RETURN_IF_ERROR(values_->Finish(listed));
    return view_.Finish(disclose_ ? listed : std::vector<ListedClaim>{});
  }

  AefSummary Summary() const {
    AefSummary summary = summary_;
    summary.claims = claims_.size();
    return summary;
  }

 private:
  struct Rule {
    size_t claim;               // Index in claims_.
    size_t column;              // The claimed column.
    std::optional<size_t> key;  // The table's row key column.
  };

  std::vector<ConfidentialClaim> claims_;
  std::vector<size_t> cells_;  // Per claim: the cells it covers.
  bool disclose_;
  AefRowSink& view_;
  AefRowSink* values_;
  size_t table_ = SIZE_MAX;  // The table in hand (SIZE_MAX + 1 wraps to 0 at the first).
  std::vector<Rule> rules_;  // The claims on the table in hand.
  std::vector<size_t> hide_;
  std::vector<std::string> redacted_;
  AefSummary summary_;
};

// Collects the rows into a workbook (BuildAef).
class WorkbookSink final : public AefRowSink {
 public:
  Status<std::string> BeginTable(const AefTable& header) override {
    ++table_;
    REGISTRY_ASSERT(table_ < workbook_.tables.size());
    workbook_.tables[table_] = header;
    return {};
  }

  Status<std::string> Row(const std::vector<std::string>& cells) override {
    workbook_.tables[table_].rows.push_back(cells);
    return {};
  }

  Status<std::string> Finish(const std::vector<ListedClaim>& listed) override {
    for (const ListedClaim& l : listed) workbook_.confidential.push_back(l.claim);
    return {};
  }

  AefWorkbook Take() { return std::move(workbook_); }

 private:
  AefWorkbook workbook_;
  size_t table_ = SIZE_MAX;
};

CommandResult<std::vector<ConfidentialClaim>> ClaimsOf(Transaction& tx, const PartyCode& party) {
  ASSIGN_OR_RETURN(const auto claims, service::LoadConfidentialClaims(tx, party));
  std::vector<ConfidentialClaim> out;
  for (const Json& c : claims) {
    out.push_back(ConfidentialClaim{c.value("table", ""), c.value("column", ""), c.value("row", ""),
                                    c.value("basis", "")});
  }
  return out;
}

}  // namespace

service::CommandResult<AefSummary> StreamAef(Store& store, const AefRequest& request,
                                             AefRowSink& view, AefRowSink* values) {
  if (request.year < kFirstItmoVintage || request.year > kVintageMax) {
    return Fail(Failure::Refused(
        Check::kFieldInvalid,
        "reported year " + std::to_string(request.year) + " is not in [2021, 2100]"));
  }
  ASSIGN_OR_RETURN(auto tx, Lift(store.BeginRead()));
  ASSIGN_OR_RETURN(const Snapshot s, LoadSnapshot(*tx, request.year));
  // R-REP-07: the Party's confidentiality claims, known before the first row is handed over.
  ASSIGN_OR_RETURN(auto claims, ClaimsOf(*tx, request.party));
  ConfidentialView sink(std::move(claims), request.disclose_confidential, view, values);
  AefWorkbook small = EmptyAefWorkbook();  // Tables 1, 2 and 5: a few rows per authorization.
  AddSubmission(small.tables[kSubmission], request, *tx);
  ASSIGN_OR_RETURN(const auto versions, AuthorizationVersions(*tx, request.party));
  ASSIGN_OR_RETURN(const auto corrections,
                   service::CorrectionsForAef(*tx, request.party, request.year));
  AddAuthorizations(small.tables[kAuthorizations], small.tables[kEntities], versions, *tx,
                    request.year, corrections);
  const LotCells cells = LotCellsOf(*tx, s, request.party);
  RETURN_IF_ERROR(PutTable(sink, small.tables[kSubmission]));
  RETURN_IF_ERROR(PutTable(sink, small.tables[kAuthorizations]));
  RETURN_IF_ERROR(Begin(sink, small.tables[kActions]));
  std::set<int64_t> reported_lots;
  RETURN_IF_ERROR(StreamActions(*tx, request, s, cells, sink, reported_lots));
  if (request.require_initial_report) {
    RETURN_IF_ERROR(RequireInitialReports(*tx, request, s, reported_lots));
  }
  RETURN_IF_ERROR(Begin(sink, small.tables[kHoldings]));
  RETURN_IF_ERROR(StreamHoldings(*tx, request, s, cells, sink));
  RETURN_IF_ERROR(PutTable(sink, small.tables[kEntities]));
  const Status<std::string> finished = sink.Finish({});  // The view lists what it counted.
  if (!finished.ok()) return Fail(Failure::Of(Error{ErrorCode::kInternal, finished.error()}));
  return sink.Summary();
}

service::CommandResult<AefWorkbook> BuildAef(Store& store, const AefRequest& request) {
  WorkbookSink sink;
  RETURN_IF_ERROR(StreamAef(store, request, sink));
  return sink.Take();
}

namespace {

// The index of `label` in `columns`; an unknown label is a programming error.
size_t Column(const std::vector<std::string>& columns, std::string_view label) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == label) return i;
  }
  REGISTRY_ASSERT(false && "unknown AEF column");
  return 0;
}

const std::string& At(const std::vector<std::string>& row, size_t column) {
  static const std::string kEmpty;
  return column < row.size() ? row[column] : kEmpty;
}

int64_t Number(const std::string& text) {
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return -1;
  }
}

// A span of units of one registry (an index into the registries seen), from row `row` of its
// table: 24 bytes, so that a million holdings take 24 MB rather than their rows' 1 GB.
struct Span {
  uint32_t registry;
  uint32_t row;
  int64_t first, last;
};

// A set of 128-bit fingerprints of texts, open addressing in one array (16 bytes a slot, at
// most 3/4 full): item 3 asks whether an identifier was seen before, over every holdings row.
class FingerprintSet {
 public:
  // Adds the fingerprint of `text`; false when it was there already.
  bool Insert(std::string_view text) {
    // Two unrelated 64-bit hashes: libstdc++'s (Murmur) and FNV-1a, mixed (splitmix64's
    // finalizer). The low bit is set so that no fingerprint is the empty slot {0, 0}.
    const uint64_t high = std::hash<std::string_view>{}(text);
    uint64_t low = 14695981039346656037ULL;
    for (const char c : text) low = (low ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    low = Mix(low) | 1;
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    return Place(Slot{high, low});
  }

 private:
  struct Slot {
    uint64_t high = 0, low = 0;
  };

  static uint64_t Mix(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }

  bool Place(Slot slot) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = static_cast<size_t>(slot.low) & mask;; i = (i + 1) & mask) {
      if (slots_[i].low == 0) {
        slots_[i] = slot;
        ++size_;
        return true;
      }
      if (slots_[i].high == slot.high && slots_[i].low == slot.low) return false;
    }
  }

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    size_ = 0;
    for (const Slot& slot : old) {
      if (slot.low != 0) Place(slot);
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

ConsistencyResult MakeResult(int item, std::string name, std::vector<std::string> problems) {
  return ConsistencyResult{item, std::move(name),
                           problems.empty() ? "Checked, no inconsistencies identified"
                                            : "Checked, inconsistencies identified",
                           std::move(problems)};
}

}  // namespace

struct ConsistencyChecker::State {
  const AefWorkbook* partner = nullptr;
  std::optional<std::pair<int32_t, int32_t>> ndc;  // Given, or read from the Submission row.
  size_t table = SIZE_MAX;                         // The table in hand.
  std::map<std::string, size_t, std::less<>> column_index;  // Its labels.
  size_t row = 0;                                           // Rows of it seen.
  std::string us;                                           // Our Party (Submission, column 1).
  std::string them;                                         // The partner's.
  std::map<std::string, std::pair<int32_t, int32_t>> timeframe;  // Authorization ID -> vintages
  std::vector<std::string> p1, p3, p5, p7;
  std::vector<std::string> registries;  // Span::registry indexes these.
  std::map<std::string, uint32_t, std::less<>> registry_index;
  std::vector<Span> used, held;
  FingerprintSet ids;
  std::map<std::string, int64_t> acquired;  // Item 2: (CA, first ID, last ID) -> quantity.
  std::vector<ConsistencyResult> results;

  uint32_t RegistryIndex(const std::string& registry) {
    auto it = registry_index.find(registry);
    if (it == registry_index.end()) {
      it = registry_index.emplace(registry, static_cast<uint32_t>(registries.size())).first;
      registries.push_back(registry);
    }
    return it->second;
  }

  // The index of `label` in the table in hand (looked up per row: a map, not a scan).
  size_t C(std::string_view label) const {
    const auto it = column_index.find(label);
    REGISTRY_ASSERT(it != column_index.end() && "unknown AEF column");
    return it->second;
  }
  void Submission(const std::vector<std::string>& cells);
  void Authorization(const std::vector<std::string>& cells);
  void Action(const std::vector<std::string>& cells);
  void Holding(const std::vector<std::string>& cells);
  std::vector<std::string> Overlaps(std::vector<Span> spans, const std::string& what) const;
  ConsistencyResult PartnerCheck() const;
};

void ConsistencyChecker::State::Submission(const std::vector<std::string>& cells) {
  if (row != 0) return;
  us = At(cells, 0);
  if (!ndc) ndc = std::pair{std::atoi(At(cells, 6).c_str()), std::atoi(At(cells, 7).c_str())};
}

void ConsistencyChecker::State::Authorization(const std::vector<std::string>& cells) {
  const std::string& frame = At(cells, C("Authorized timeframe"));
  const std::string& id = At(cells, C("Authorization ID"));
  if (frame.size() == 11) {
    timeframe[id] = {static_cast<int32_t>(Number(frame.substr(0, 4))),
                     static_cast<int32_t>(Number(frame.substr(7, 4)))};
  } else {
    timeframe.emplace(id, std::pair<int32_t, int32_t>{0, 0});
  }
}

void ConsistencyChecker::State::Action(const std::vector<std::string>& cells) {
  const auto cell = [&](std::string_view label) -> const std::string& {
    return At(cells, C(label));
  };
  // Made only for a problem: a million rows without one should not build a million texts.
  const auto at = [this] { return "Actions row " + std::to_string(row + 2); };
  const std::string& id = cell("Authorization ID");
  const auto frame = timeframe.find(id);
  if (frame == timeframe.end())
    p1.push_back(at() + ": authorization '" + id + "' is not in Table 2");
  const int64_t vintage = Number(cell("Vintage"));
  if (vintage < kFirstItmoVintage)
    p5.push_back(at() + ": vintage " + std::to_string(vintage) + " < 2021");
  if (frame != timeframe.end() && frame->second.first != 0 &&
      (vintage < frame->second.first || vintage > frame->second.second)) {
    p5.push_back(at() + ": vintage " + std::to_string(vintage) + " outside the authorized " +
                 std::to_string(frame->second.first) + "-" + std::to_string(frame->second.second));
  }
  const std::string& type = cell("Action type");
  if (type == "Use" || type == "Cancellation" || type == "Voluntary Cancellation") {
    used.push_back(Span{RegistryIndex(cell("Party ITMO registry ID")), static_cast<uint32_t>(row),
                        Number(cell("First unit ID")), Number(cell("Last unit ID"))});
  }
  const auto [ndc_first, ndc_last] = ndc.value_or(std::pair<int32_t, int32_t>{0, 0});
  if (type == "Use" && ndc_first != 0) {
    const int64_t year =
        Number(cell("Calendar year for which the ITMOs are used towards the Party's NDC"));
    if (year < ndc_first || year > ndc_last || vintage < ndc_first || vintage > ndc_last) {
      p7.push_back(at() + ": use in " + std::to_string(year) + " of vintage " +
                   std::to_string(vintage) + " is not within one NDC period " +
                   std::to_string(ndc_first) + "-" + std::to_string(ndc_last));
    }
  }
  if (partner == nullptr || type != "Acquisition") return;
  if (cell("Transferring participating Party ID") != them) return;
  acquired[cell("Cooperative approach ID") + " " + cell("First ID") + " " + cell("Last ID")] +=
      Number(cell("Quantity (t CO2 eq)"));
}

void ConsistencyChecker::State::Holding(const std::vector<std::string>& cells) {
  const std::string& registry = At(cells, C("Party ITMO registry ID"));
  const std::string& first_id = At(cells, C("First ID"));
  for (const char* label : {"First ID", "Last ID"}) {
    const std::string& id = At(cells, C(label));
    // A block of one unit names it as both its first and its last ID: one row, not two.
    if (label != std::string_view("First ID") && id == first_id) continue;
    if (!ids.Insert(registry + "/" + id)) {
      p3.push_back("Holdings row " + std::to_string(row + 2) + ": " + id + " appears twice");
    }
  }
  held.push_back(Span{RegistryIndex(registry), static_cast<uint32_t>(row),
                      Number(At(cells, C("First unit ID"))), Number(At(cells, C("Last unit ID")))});
  if (Number(At(cells, C("Vintage"))) < kFirstItmoVintage) {
    p5.push_back("Holdings row " + std::to_string(row + 2) + ": vintage before 2021");
  }
}

// A problem for each pair of overlapping spans in one registry, in the order of (registry, first
// unit).
std::vector<std::string> ConsistencyChecker::State::Overlaps(std::vector<Span> spans,
                                                             const std::string& what) const {
  std::sort(spans.begin(), spans.end(), [this](const Span& a, const Span& b) {
    const std::string& ra = registries[a.registry];
    const std::string& rb = registries[b.registry];
    return std::tie(ra, a.first, a.row) < std::tie(rb, b.first, b.row);
  });
  std::vector<std::string> out;
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].registry == spans[i - 1].registry && spans[i].first <= spans[i - 1].last) {
      out.push_back(what + " rows " + std::to_string(spans[i - 1].row + 2) + " and " +
                    std::to_string(spans[i].row + 2) + " overlap in " +
                    registries[spans[i].registry]);
    }
  }
  return out;
}

// Item 2: the sum per (CA, first ID, last ID) of the partner's first transfers to us against our
// acquisitions from the partner.
ConsistencyResult ConsistencyChecker::State::PartnerCheck() const {
  constexpr const char* kName = "partner first transfers equal our acquisitions";
  if (partner == nullptr) {
    return ConsistencyResult{2, kName, "Null, information for check not available", {}};
  }
  std::map<std::string, int64_t> theirs;
  const AefTable& pa = partner->tables[kActions];
  const size_t type = Column(pa.columns, "Action type");
  const size_t acquiring = Column(pa.columns, "Acquiring participating Party ID");
  for (const auto& cells : pa.rows) {
    if (At(cells, type) != "First transfer" || At(cells, acquiring) != us) continue;
    theirs[At(cells, Column(pa.columns, "Cooperative approach ID")) + " " +
           At(cells, Column(pa.columns, "First ID")) + " " +
           At(cells, Column(pa.columns, "Last ID"))] +=
        Number(At(cells, Column(pa.columns, "Quantity (t CO2 eq)")));
  }
  std::vector<std::string> problems;
  for (const auto& [block, q] : theirs) {
    const auto mine = acquired.find(block);
    const int64_t got = mine == acquired.end() ? 0 : mine->second;
    if (got != q) {
      problems.push_back(block + ": first transferred " + std::to_string(q) + ", acquired " +
                         std::to_string(got));
    }
  }
  for (const auto& [block, q] : acquired) {
    if (!theirs.count(block)) {
      problems.push_back(block + ": acquired " + std::to_string(q) + ", never first transferred");
    }
  }
  return MakeResult(2, kName, problems);
}

ConsistencyChecker::ConsistencyChecker(const AefWorkbook* partner,
                                       std::optional<std::pair<int32_t, int32_t>> ndc_period)
    : state_(std::make_unique<State>()) {
  state_->partner = partner;
  if (partner != nullptr && !partner->tables[kSubmission].rows.empty()) {
    state_->them = At(partner->tables[kSubmission].rows[0], 0);
  }
  state_->ndc = ndc_period;
}

ConsistencyChecker::~ConsistencyChecker() = default;

Status<std::string> ConsistencyChecker::BeginTable(const AefTable& header) {
  ++state_->table;
  state_->column_index.clear();
  for (size_t c = 0; c < header.columns.size(); ++c)
    state_->column_index.emplace(header.columns[c], c);
  state_->row = 0;
  return {};
}

Status<std::string> ConsistencyChecker::Row(const std::vector<std::string>& cells) {
  State& s = *state_;
  switch (s.table) {
    case kSubmission:
      s.Submission(cells);
      break;
    case kAuthorizations:
      s.Authorization(cells);
      break;
    case kActions:
      s.Action(cells);
      break;
    case kHoldings:
      s.Holding(cells);
      break;
    default:
      break;
  }
  ++s.row;
  return {};
}

Status<std::string> ConsistencyChecker::Finish(const std::vector<ListedClaim>& /*listed*/) {
  State& s = *state_;
  const auto [ndc_first, ndc_last] = s.ndc.value_or(std::pair<int32_t, int32_t>{0, 0});
  auto& out = s.results;
  out.push_back(MakeResult(1, "every action has its authorization in Table 2", std::move(s.p1)));
  out.push_back(s.PartnerCheck());
  out.push_back(MakeResult(3, "no ITMO identifier in two holdings rows", std::move(s.p3)));
  out.push_back(MakeResult(4, "no overlapping blocks within one Party ITMO registry",
                           s.Overlaps(std::move(s.held), "Holdings")));
  out.push_back(
      MakeResult(5, "vintages from 2021 and within the authorized vintages", std::move(s.p5)));
  out.push_back(MakeResult(6, "no use or cancellation of units already used or cancelled",
                           s.Overlaps(std::move(s.used), "Use/Cancellation")));
  if (ndc_first == 0) {
    out.push_back(ConsistencyResult{7, "use year in the same NDC period as the vintage",
                                    "Null, information for check not available", {}});
  } else {
    out.push_back(MakeResult(7, "use year in the same NDC period as the vintage", std::move(s.p7)));
  }
  return {};
}

std::vector<ConsistencyResult> ConsistencyChecker::Results() const { return state_->results; }

std::vector<ConsistencyResult> PreConsistencyChecks(const AefWorkbook& ours,
                                                    const AefWorkbook* partner,
                                                    int32_t ndc_first_year, int32_t ndc_last_year) {
  ConsistencyChecker checker(partner, std::pair{ndc_first_year, ndc_last_year});
  const Status<std::string> fed = StreamWorkbook(ours, checker);
  REGISTRY_ASSERT(fed.ok());  // The checker has no failure of its own.
  return checker.Results();
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
