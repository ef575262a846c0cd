#include "service/queries.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/itmo_id.h"
#include "core/jcm_data.h"
#include "core/limits.h"
#include "journal/chain.h"
#include "service/article6_hooks.h"
#include "service/ledger_write.h"

namespace registry::service {
namespace {

CommandResult<std::unique_ptr<Transaction>> Read(Store& store) { return Lift(store.BeginRead()); }

// "2025-12-31" -> "2025-12-31T23:59:59Z"; a full time is kept.
std::string EndOf(const std::string& time) {
  return time.size() == 10 ? time + "T23:59:59Z" : time;
}

// Whether `text` is a calendar date "2025-12-31" or a UTC time "2025-12-31T09:00:00Z".
bool IsDateOrTime(const std::string& text) {
  if (!DaysFromIsoDate(text.substr(0, 10))) return false;
  if (text.size() == 10) return true;
  if (text.size() != 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z') {
    return false;
  }
  auto two = [&text](size_t at, int max) {
    return std::isdigit(static_cast<unsigned char>(text[at])) &&
           std::isdigit(static_cast<unsigned char>(text[at + 1])) &&
           (text[at] - '0') * 10 + (text[at + 1] - '0') <= max;
  };
  return two(11, 23) && two(14, 59) && two(17, 59);
}

}  // namespace

CommandResult<Json> Holdings(Store& store, AccountId account_id, std::optional<Sequence> as_of,
                             std::optional<std::string> as_of_time, int64_t after_first,
                             size_t limit) {
  limit = std::clamp<size_t>(limit, 1, kPageSizeMax);
  ASSIGN_OR_RETURN(auto tx, Read(store));
  ASSIGN_OR_RETURN(const Account account, LoadAccount(*tx, account_id));
  if (as_of && as_of->value > 0) {
    ASSIGN_OR_RETURN(const auto last, Lift(tx->LastEntry()));
    const int64_t head = last ? last->sequence.value : 0;
    if (as_of->value > head) {
      return Fail(Failure::Refused(Check::kFieldInvalid,
                                   "as_of_sequence " + std::to_string(as_of->value) +
                                       " is after the journal's last entry " +
                                       std::to_string(head)));
    }
  }
  if (as_of && as_of->value < 0) {
    return Fail(Failure::Refused(Check::kFieldInvalid, "as_of_sequence must be >= 0"));
  }
  if (as_of_time) {
    if (!IsDateOrTime(*as_of_time)) {
      return Fail(Failure::Refused(Check::kFieldInvalid,
                                   "as_of '" + *as_of_time +
                                       "' is not a date like 2026-12-31 or a UTC time like "
                                       "2026-12-31T09:00:00Z"));
    }
    ASSIGN_OR_RETURN(as_of, Lift(tx->SequenceAtTime(EndOf(*as_of_time))));
  }
  ASSIGN_OR_RETURN(const auto blocks, Lift(tx->HoldingPage(account.id, as_of, after_first, limit)));
  ASSIGN_OR_RETURN(const auto total, Lift(tx->HoldingTotal(account.id, as_of)));
  Json rows = Json::array();
  std::map<int64_t, IssuanceLot> lots;
  for (const Block& b : blocks) {
    if (!lots.count(b.lot.value)) {
      ASSIGN_OR_RETURN(const auto lot, Lift(tx->GetLot(b.lot)));
      if (lot) lots[b.lot.value] = *lot;
    }
    const IssuanceLot& lot = lots[b.lot.value];
    Json row = BlockJson(b);
    row["project"] = lot.project.value;
    row["vintage"] = lot.vintage.year;
    row["itmo"] = lot.itmo;
    row["cooperative_approach"] = lot.cooperative_approach.value;
    // The JCM serials and the ITMO identifiers of the same units, side by side (R-ID-05).
    if (lot.itmo && !lot.cooperative_approach.empty()) {
      row["itmo_first"] =
          FormatItmoId(ItmoId{lot.cooperative_approach, lot.registry, lot.first_transferring_party,
                              b.range.first, lot.vintage});
      row["itmo_last"] =
          FormatItmoId(ItmoId{lot.cooperative_approach, lot.registry, lot.first_transferring_party,
                              b.range.last, lot.vintage});
    }
    rows.push_back(row);
  }
  Json out = {{"account", AccountJson(account)},
              {"total", total.second},
              {"block_count", total.first},
              {"blocks", rows}};
  if (blocks.size() == limit) out["next_after"] = blocks.back().range.first;
  if (as_of) out["as_of_sequence"] = as_of->value;
  return out;
}

CommandResult<Json> Trace(Store& store, const RegistryCode& registry, int64_t serial) {
  ASSIGN_OR_RETURN(auto tx, Read(store));
  ASSIGN_OR_RETURN(const std::vector<Block> blocks, Lift(tx->BlocksHoldingSerial(registry, serial)));
  if (blocks.empty()) {
    return Fail(Failure::Refused(Check::kUnknownSerial, "no block of " + registry.value +
                                                            " ever held serial " +
                                                            std::to_string(serial)));
  }
  ASSIGN_OR_RETURN(const auto lot, Lift(tx->GetLot(blocks.front().lot)));
  // Each block names the registry of its account and the times of the journal entries that
  // created and closed it, so that a reader sees where the serial went (an international transfer
  // is a block in another registry) and when, without the journal (which is not public).
  std::map<int64_t, std::string> times;
  auto time_of = [&tx, &times](int64_t sequence) -> StoreResult<std::string> {
    if (const auto it = times.find(sequence); it != times.end()) return it->second;
    auto entries = tx->ReadEntries(Sequence{sequence - 1}, 1);
    if (!entries) return Fail(entries.error());
    const std::string time = entries->empty() ? "" : entries->front().time;
    times.emplace(sequence, time);
    return time;
  };
  Json lineage = Json::array();
  for (const Block& b : blocks) {
    Json block = BlockJson(b);
    ASSIGN_OR_RETURN(const auto account, Lift(tx->GetAccount(b.account)));
    if (account) block["registry"] = account->registry.value;
    ASSIGN_OR_RETURN(block["created_time"], Lift(time_of(b.created.value)));
    if (b.closed) {
      ASSIGN_OR_RETURN(block["closed_time"], Lift(time_of(b.closed->value)));
    }
    lineage.push_back(std::move(block));
  }
  Json out = {{"registry", registry.value}, {"serial", serial}, {"lineage", lineage}};
  if (lot) {
    out["lot"] = LotJson(*lot);
    if (lot->itmo && !lot->cooperative_approach.empty()) {
      out["itmo_id"] = FormatItmoId(ItmoId{lot->cooperative_approach, lot->registry,
                                           lot->first_transferring_party, serial, lot->vintage});
    }
  }
  return out;
}

CommandResult<Json> JournalPage(Store& store, Sequence after, size_t limit) {
  ASSIGN_OR_RETURN(auto tx, Read(store));
  ASSIGN_OR_RETURN(const auto entries,
                   Lift(tx->ReadEntries(after, std::min(limit, kPageSizeMax))));
  Json rows = Json::array();
  for (const JournalEntry& e : entries) {
    // Only the last entry of each committed batch carries a seal; the others show null.
    Json seal = nullptr;
    if (e.seal.has_value()) {
      seal = Json{{"first", e.seal->first.value},
                  {"last", e.sequence.value},
                  {"key", e.seal->key ? Json(journal::ToHex(*e.seal->key)) : Json(nullptr)},
                  {"signature", journal::ToHex(e.seal->signature)}};
    }
    rows.push_back(Json{{"sequence", e.sequence.value},
                        {"time", e.time},
                        {"actor", e.actor},
                        {"idempotency_key", e.idempotency_key},
                        {"command", e.command},
                        {"payload", Json::parse(e.payload, nullptr, false)},
                        {"result", Json::parse(e.result, nullptr, false)},
                        {"prev_hash", journal::ToHex(e.prev_hash)},
                        {"hash", journal::ToHex(e.hash)},
                        {"seal", std::move(seal)}});
  }
  return Json{{"entries", rows}};
}

CommandResult<Json> ListAccountsJson(Store& store) {
  ASSIGN_OR_RETURN(auto tx, Read(store));
  ASSIGN_OR_RETURN(const auto accounts, Lift(tx->ListAccounts()));
  Json rows = Json::array();
  for (const Account& a : accounts) rows.push_back(AccountJson(a));
  return Json{{"accounts", rows}};
}

std::string ListKeyOf(std::string_view kind) {
  // Spelled by hand: kind + "s" made "partys", "entitys" and "cooperative_approachs".
  static constexpr std::pair<std::string_view, std::string_view> kKeys[] = {
      {"party", "parties"},
      {"registry", "registries"},
      {"entity", "entities"},
      {"project", "projects"},
      {"authorization", "authorizations"},
      {"cooperative_approach", "cooperative_approaches"},
      {"jc_decision", "jc_decisions"},
      {"methodology", "methodologies"},
      {"issuance_decision", "issuance_decisions"},
      {"annual_summary", "annual_summaries"},
      {"proposal", "proposals"},
      {"confidentiality", "confidentiality_claims"},
      {"initial_report", "initial_reports"},
      {"ndc", "ndcs"},
      {"nomenclature", "nomenclature_lists"},
  };
  for (const auto& [k, key] : kKeys) {
    if (k == kind) return std::string(key);
  }
  return "documents";
}

CommandResult<Json> ListDocumentsJson(Store& store, const std::string& kind) {
  ASSIGN_OR_RETURN(auto tx, Read(store));
  ASSIGN_OR_RETURN(const auto docs, Lift(tx->ListDocuments(kind, "", SIZE_MAX >> 1)));
  Json rows = Json::array();
  for (const Document& d : docs) {
    Json body = Json::parse(d.body, nullptr, false);
    body["_version"] = d.version;
    rows.push_back(body);
  }
  return Json{{ListKeyOf(kind), rows}};
}

CommandResult<Json> ProjectRecordsJson(Store& store, const std::string& ref) {
  ASSIGN_OR_RETURN(auto tx, Read(store));
  ASSIGN_OR_RETURN(const auto project, Lift(tx->GetDocument(kProjectKind, ref)));
  if (!project) {
    return Fail(Failure::Refused(Check::kUnknownProject, "project " + ref + " is unknown"));
  }
  ASSIGN_OR_RETURN(const auto history, Lift(tx->DocumentHistory(kProjectCycleKind, ref)));
  // Where each monitoring period stands: the state its latest record leaves it in (the records
  // were accepted by core::ApplyRecord in this order, so this needs no rule of its own).
  static const std::map<std::string, std::string> kStateAfter = {
      {"monitoring_report", "reported"},
      {"verification_report", "verified"},
      {"issuance_request", "requested"},
      {"jc_decision", "decided"},
      {"withdrawal", "verified"}};  // Of an issuance request: the only withdrawal with a period.
  Json records = Json::array();
  Json periods = Json::array();
  for (const Document& d : history) {
    Json body = Json::parse(d.body);
    body.erase("cycle");
    body["sequence"] = d.updated.value;
    const std::string kind = body.value("kind", std::string());
    if (body.contains("monitoring_period") && kStateAfter.count(kind) > 0) {
      const Json& named = body["monitoring_period"];
      if (kind == "monitoring_report") {
        periods.push_back({{"start", named["start"]}, {"end", named["end"]}});
      }
      for (Json& p : periods) {
        if (p["start"] != named["start"] || p["end"] != named["end"]) continue;
        p["state"] = kStateAfter.at(kind);
        if (kind == "verification_report") p["tpe"] = body["tpe"];
        if (kind == "jc_decision") p["jc_decision"] = body["jc_decision"];
      }
    }
    records.push_back(std::move(body));
  }
  const Json p = Json::parse(project->body);
  return Json{{"project", ref},
              {"state", p.value("state", std::string())},
              {"records", std::move(records)},
              {"monitoring_periods", std::move(periods)}};
}

CommandResult<Json> LotsPage(Store& store, IssuanceId after, size_t limit) {
  limit = std::clamp<size_t>(limit, 1, kPageSizeMax);
  ASSIGN_OR_RETURN(auto tx, Read(store));
  ASSIGN_OR_RETURN(const auto lots, Lift(tx->ListLotsAfter(after, limit)));
  Json rows = Json::array();
  for (const IssuanceLot& l : lots) rows.push_back(LotJson(l));
  Json out = {{"lots", rows}};
  if (lots.size() == limit) out["next_after"] = lots.back().id.value;
  return out;
}

CommandResult<Json> TotalsByAccountType(Store& store) {
  ASSIGN_OR_RETURN(auto tx, Read(store));
  ASSIGN_OR_RETURN(const auto accounts, Lift(tx->ListAccounts()));
  ASSIGN_OR_RETURN(const auto held, Lift(tx->LiveTonnesByAccount()));
  std::map<int64_t, int64_t> tonnes;
  for (const auto& [account, t] : held) tonnes[account.value] = t;
  std::map<std::string, std::map<std::string, int64_t>> totals;
  for (const Account& a : accounts) {
    const auto it = tonnes.find(a.id.value);
    totals[a.registry.value][std::string(ToString(a.type))] += it == tonnes.end() ? 0 : it->second;
  }
  Json out = Json::object();
  for (const auto& [registry, by_type] : totals) out[registry] = by_type;
  return Json{{"totals", out}};
}

}  // namespace registry::service
