// What is due; see due.h. The rules (dates, statuses, order) are core/deadlines.h; this reads the
// documents and the blocks into them.
#include "service/due.h"

#include <map>
#include <set>

#include "core/authorization.h"
#include "core/deadlines.h"
#include "core/limits.h"
#include "core/utc_time.h"
#include "service/article6_hooks.h"
#include "service/block_walk.h"
#include "service/initial_report.h"
#include "service/json_text.h"

namespace registry::service {
namespace {

constexpr const char* kAefSubmissionKind = "aef_submission";
constexpr const char* kNotificationKind = "notification";

Unexpected<Failure> Refuse(Check check, std::string message) {
  return Fail(Failure::Refused(check, std::move(message)));
}

// A date of submission or notification: a calendar date, not after the command's own day.
CommandResult<std::string> PastDateArg(const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string date, TextArg(args, "date", 10));
  if (!ParseCalendarDate(date)) {
    return Refuse(Check::kFieldInvalid, "field 'date' '" + date + "' is not a date YYYY-MM-DD");
  }
  const std::string today = ctx.time.substr(0, 10);
  if (date > today) {
    return Refuse(Check::kFieldInvalid, "field 'date' " + date + " is after today (" + today + ")");
  }
  return date;
}

CommandResult<bool> RequireParty(Transaction& tx, const PartyCode& party) {
  ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument("party", party.value)));
  if (!doc) return Refuse(Check::kUnknownParty, "Party " + party.value + " is unknown");
  return true;
}

// report.aef.submit {party, year, date, reference?}
CommandResult<Json> SubmitAef(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const PartyCode party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(const int64_t year, IntArg(args, "year"));
  ASSIGN_OR_RETURN(const std::string date, PastDateArg(args, ctx));
  ASSIGN_OR_RETURN(const auto reference, OptionalTextArg(args, "reference", 512));
  RETURN_IF_ERROR(RequireParty(tx, party));
  if (date < std::to_string(year + 1) + "-01-01") {
    return Refuse(Check::kFieldInvalid, "the AEF of " + std::to_string(year) +
                                            " reports the whole year: it cannot be submitted on " +
                                            date + ", before the year is over");
  }
  const std::string key = party.value + ":" + std::to_string(year);
  ASSIGN_OR_RETURN(const auto before, Lift(tx.GetDocument(kAefSubmissionKind, key)));
  Json body = {{"party", party.value},
               {"year", year},
               {"date", date},
               {"due", AefDueDate(static_cast<int32_t>(year))},
               {"reference", reference.value_or("")},
               {"submissions", before ? Json::parse(before->body).value("submissions", 0) + 1 : 1}};
  body["late"] = date > body["due"].get<std::string>();
  RETURN_IF_ERROR(PutJson(tx, kAefSubmissionKind, key, body, ctx));
  return body;
}

// notification.record {party, sequence, date, reference?}
CommandResult<Json> RecordNotification(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const PartyCode party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(const int64_t sequence, IntArg(args, "sequence"));
  ASSIGN_OR_RETURN(const std::string date, PastDateArg(args, ctx));
  ASSIGN_OR_RETURN(const auto reference, OptionalTextArg(args, "reference", 512));
  RETURN_IF_ERROR(RequireParty(tx, party));
  if (sequence < 1 || sequence >= ctx.sequence.value) {
    return Refuse(Check::kFieldInvalid, "field 'sequence' " + std::to_string(sequence) +
                                            " is no journal entry before this one");
  }
  ASSIGN_OR_RETURN(const auto entries, Lift(tx.ReadEntries(Sequence{sequence - 1}, 1)));
  if (entries.empty() || entries[0].sequence.value != sequence) {
    return Refuse(Check::kFieldInvalid,
                  "journal entry " + std::to_string(sequence) + " is not in this journal");
  }
  if (entries[0].command != "cancel" && entries[0].command != "retire") {
    return Refuse(Check::kFieldInvalid,
                  "journal entry " + std::to_string(sequence) + " is a " + entries[0].command +
                      ", not a use or cancellation: no OIMP first transfer to notify");
  }
  const std::string key = party.value + ":" + std::to_string(sequence);
  ASSIGN_OR_RETURN(const auto before, Lift(tx.GetDocument(kNotificationKind, key)));
  if (before) {
    return Refuse(Check::kAlreadyExists, party.value + "'s notification of journal entry " +
                                             std::to_string(sequence) + " is recorded already");
  }
  const Json body = {{"party", party.value},
                     {"sequence", sequence},
                     {"date", date},
                     {"reference", reference.value_or("")}};
  RETURN_IF_ERROR(PutJson(tx, kNotificationKind, key, body, ctx));
  return body;
}

// Every document of a kind, a page at a time.
template <typename Visit>
CommandResult<bool> EachDocument(Transaction& tx, const char* kind, Visit&& visit) {
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(const auto docs, Lift(tx.ListDocuments(kind, after, kPageSizeMax)));
    for (const Document& d : docs) {
      const Json body = Json::parse(d.body, nullptr, false);
      if (body.is_object()) visit(d.key, body);
    }
    if (docs.size() < kPageSizeMax) return true;
    after = docs.back().key;
  }
}

std::string DoneDate(Transaction& tx, const char* kind, const std::string& key) {
  auto doc = tx.GetDocument(kind, key);
  if (!doc || !*doc) return "";
  return Json::parse((*doc)->body, nullptr, false).value("date", std::string());
}

// The last year of `party`'s NDC period holding `vintage`: its ndc.configure periods, else the
// first NDC period 2021-2030 [I].
int32_t NdcLastYear(const std::map<std::string, std::vector<std::pair<int32_t, int32_t>>>& ndc,
                    const std::string& party, int32_t vintage) {
  if (const auto it = ndc.find(party); it != ndc.end()) {
    for (const auto& [first, last] : it->second) {
      if (vintage >= first && vintage <= last) return last;
    }
  }
  return vintage <= 2030 ? 2030 : 2030 + ((vintage - 2031) / 5 + 1) * 5;
}

}  // namespace

void AddDueCommands(HandlerTable& table) {
  table.emplace("report.aef.submit", SubmitAef);
  table.emplace("notification.record", RecordNotification);
}

CommandResult<Json> DueJson(Store& store, const std::string& today,
                            const std::optional<std::string>& party, bool include_done) {
  ASSIGN_OR_RETURN(auto tx, Lift(store.BeginRead()));
  std::vector<DueItem> items;
  auto add = [&](DueItem item) {
    if (party && item.party != *party) return;
    item.status = StatusOn(item.due, today, item.done);
    if (item.status == DueStatus::kDone && !include_done) return;
    items.push_back(std::move(item));
  };
  // The Parties whose registries are hosted here.
  std::set<std::string> hosted;
  RETURN_IF_ERROR(EachDocument(*tx, "registry", [&](const std::string&, const Json& body) {
    hosted.insert(body.value("party", std::string()));
  }));
  // The AEF every year from a Party's first Step 1, and the initial report of each approach
  // before the first AEF.
  std::map<std::string, int32_t> first_year;
  std::vector<std::pair<std::string, std::string>> initial;  // (party, approach) with a Step 1.
  std::map<std::string, std::string> step1_date;             // "PARTY:ca" -> its first date.
  // Each Party's first Step 1 of each approach: the earliest date over the document's versions
  // (a later version replaces the terms, not the date the Party first authorized).
  std::vector<std::string> ca_keys;
  RETURN_IF_ERROR(EachDocument(
      *tx, kCaKind, [&](const std::string& key, const Json&) { ca_keys.push_back(key); }));
  for (const std::string& key : ca_keys) {
    ASSIGN_OR_RETURN(const auto versions, Lift(tx->DocumentHistory(kCaKind, key)));
    for (const Document& version : versions) {
      const Json ca = Json::parse(version.body, nullptr, false);
      if (!ca.is_object()) continue;
      const Json steps = ca.value("step1", Json::object());
      for (const auto& [p, step1] : steps.items()) {
        const std::string date = step1.value("c_date", std::string());
        if (date.size() < 4) continue;
        std::string& first = step1_date[p + ":" + key];
        if (first.empty()) initial.emplace_back(p, key);
        if (first.empty() || date < first) first = date;
      }
    }
  }
  for (const auto& [p, key] : initial) {
    const int32_t year = std::stoi(step1_date[p + ":" + key].substr(0, 4));
    auto [it, fresh] = first_year.emplace(p, year);
    if (!fresh) it->second = std::min(it->second, year);
  }
  for (const auto& [p, year] : first_year) {
    for (const int32_t y : AefYears(year, today)) {
      DueItem item;
      item.kind = DueKind::kAef;
      item.party = p;
      item.due = AefDueDate(y);
      item.what = p + "'s AEF of " + std::to_string(y) + " (report.aef.submit records it)";
      item.done = DoneDate(*tx, kAefSubmissionKind, p + ":" + std::to_string(y));
      add(std::move(item));
    }
  }
  for (const auto& [p, ca_key] : initial) {
    ASSIGN_OR_RETURN(const auto report, LoadInitialReport(*tx, PartyCode{p}, ca_key));
    DueItem item;
    item.kind = DueKind::kInitialReport;
    item.party = p;
    const std::string& date = step1_date[p + ":" + ca_key];
    item.due = AefDueDate(std::stoi(date.substr(0, 4)));
    item.what = p + "'s initial report covering approach " + ca_key + " (authorized " + date +
                "), before or with its first AEF (report.initial.submit records it)";
    item.done = report ? report->value("first_date", std::string()) : std::string();
    add(std::move(item));
  }
  // The host's authorization of each project (its OIMP first-transfer definition), the NDC
  // periods, the accounts.
  std::map<std::string, FirstTransferDefinition> definition;  // "PARTY:REF".
  RETURN_IF_ERROR(EachDocument(*tx, kAuthorizationKind, [&](const std::string& key, const Json& a) {
    definition[key] = ParseFirstTransferDefinition(a.value("first_transfer_definition", ""))
                          .value_or(FirstTransferDefinition::kNone);
  }));
  std::map<std::string, std::vector<std::pair<int32_t, int32_t>>> ndc;
  RETURN_IF_ERROR(EachDocument(*tx, "ndc", [&](const std::string&, const Json& n) {
    ndc[n.value("party", std::string())].emplace_back(n.value("first_year", 0),
                                                      n.value("last_year", 0));
  }));
  ASSIGN_OR_RETURN(const auto accounts, Lift(tx->ListAccounts()));
  std::map<int64_t, Account> account_of;
  for (const Account& a : accounts) account_of.emplace(a.id.value, a);
  // The blocks: OIMP first transfers at cancellation in another Party's registry (para 13), and
  // OIMP units not yet first transferred (para 14), per host, project and vintage.
  std::map<int64_t, std::optional<IssuanceLot>> lots;
  std::map<std::tuple<std::string, std::string, int32_t>, int64_t> unfirst;
  EntryTimes times(*tx);
  std::vector<std::pair<Block, IssuanceLot>> notified;
  RETURN_IF_ERROR(WalkBlocks(
      *tx, kBlockPageDefault, [&](const Block& b, const Block* parent) -> CommandResult<bool> {
        auto lot_it = lots.find(b.lot.value);
        if (lot_it == lots.end()) {
          ASSIGN_OR_RETURN(auto lot, Lift(tx->GetLot(b.lot)));
          if (lot && !lot->itmo) lot.reset();  // Only ITMO lots matter here.
          lot_it = lots.emplace(b.lot.value, std::move(lot)).first;
        }
        if (!lot_it->second) return true;
        const IssuanceLot& lot = *lot_it->second;
        const std::string host = lot.first_transferring_party.value;
        const auto purposes = ParsePurposes(lot.purposes);
        if (!purposes || !purposes->oimp) return true;
        const auto def = definition.find(host + ":" + lot.project.value);
        if (def == definition.end() || def->second != FirstTransferDefinition::kUseOrCancellation) {
          return true;
        }
        const Account& account = account_of.at(b.account.value);
        if (b.first_transferred && parent != nullptr && !parent->first_transferred &&
            b.cancellation_purpose == CancellationPurpose::kOimp &&
            PartyOfRegistry(account.registry).value != host) {
          notified.emplace_back(b, lot);
        }
        if (!b.closed && !b.first_transferred && !IsTerminal(account.type)) {
          unfirst[{host, lot.project.value, lot.vintage.year}] += b.range.Count().tonnes;
        }
        return true;
      }));
  for (const auto& [b, lot] : notified) {
    ASSIGN_OR_RETURN(const std::string time, times.Of(b.created));
    DueItem item;
    item.kind = DueKind::kOimpNotification;
    item.party = lot.first_transferring_party.value;
    item.due = time.substr(0, 10);  // Para 13 sets no date: at once [I].
    const std::string seq = std::to_string(b.created.value);
    item.what = item.party + " to be notified of the OIMP first transfer of " +
                std::to_string(b.range.Count().tonnes) + " t of " + lot.project.value + " " +
                std::to_string(lot.vintage.year) + " (serials " + std::to_string(b.range.first) +
                "-" + std::to_string(b.range.last) + " of " + lot.registry.value +
                ") cancelled in " + account_of.at(b.account.value).registry.value + " on " +
                item.due + ", journal entry " + seq + " (notification.record records it)";
    item.done = DoneDate(*tx, kNotificationKind, item.party + ":" + seq);
    add(std::move(item));
  }
  for (const auto& [k, tonnes] : unfirst) {
    const auto& [host, project, vintage] = k;
    DueItem item;
    item.kind = DueKind::kOimpFirstTransfer;
    item.party = host;
    const int32_t last = NdcLastYear(ndc, host, vintage);
    item.due = OimpFirstTransferDeadline(last);
    item.what = std::to_string(tonnes) + " t of " + project + " " + std::to_string(vintage) +
                " authorized by " + host +
                " for OIMP and not yet first transferred (use or cancellation): the first "
                "transfer is to be recorded by " +
                item.due + " (NDC period ending " + std::to_string(last) + ")";
    add(std::move(item));
  }
  // The shares of JC decisions notified to a side hosted here and not issued by it.
  std::map<std::string, Json> decisions;  // "REF:DECISION" -> a side's record.
  std::map<std::string, std::set<std::string>> issued;
  RETURN_IF_ERROR(EachDocument(*tx, kIssuanceDecisionKind, [&](const std::string&, const Json& d) {
    if (!d.contains("shares") || !d.contains("jc_decision")) return;
    const std::string key =
        d.value("project", std::string()) + ":" + d.value("jc_decision", std::string());
    decisions.emplace(key, d);
    issued[key].insert(d.value("side", std::string()));
  }));
  for (const auto& [key, d] : decisions) {
    for (const auto& [side, share] : d["shares"].items()) {
      if (issued[key].count(side) > 0 || hosted.count(side) == 0 || share.get<int64_t>() <= 0) {
        continue;
      }
      DueItem item;
      item.kind = DueKind::kJcShareNotIssued;
      item.party = side;
      item.what = side + "'s share of " + std::to_string(share.get<int64_t>()) + " t of " +
                  d.value("project", std::string()) + " under JC decision '" +
                  d.value("jc_decision", std::string()) + "' (" + d.value("date", std::string()) +
                  "), notified and not issued (issue.jcm against the same decision)";
      add(std::move(item));
    }
  }
  SortDue(items);
  Json rows = Json::array();
  for (const DueItem& i : items) {
    Json row = {{"kind", std::string(ToString(i.kind))},
                {"party", i.party},
                {"due", i.due},
                {"status", std::string(ToString(i.status))},
                {"what", i.what},
                {"rule", std::string(RuleOf(i.kind))}};
    if (!i.done.empty()) row["done"] = i.done;
    rows.push_back(row);
  }
  return Json{{"today", today}, {"due", rows}};
}

}  // namespace registry::service
