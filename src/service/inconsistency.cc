// Inconsistencies and the hold on their units; see inconsistency.h.
#include "service/inconsistency.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/limits.h"
#include "core/serial_range.h"
#include "service/json_text.h"
#include "service/ledger_write.h"

namespace registry::service {
namespace {

constexpr const char* kKind = "inconsistency";

Unexpected<Failure> Refuse(Check check, std::string message) {
  return Fail(Failure::Refused(check, std::move(message)));
}

// Documents are listed in key order: the id zero-padded keeps them in the order recorded.
std::string KeyOf(int64_t id) {
  std::string digits = std::to_string(id);
  return std::string(digits.size() < 12 ? 12 - digits.size() : 0, '0') + digits;
}

struct Unit {
  RegistryCode registry;
  SerialRange range;
};

std::string UnitText(const Unit& u) { return u.registry.value + ":" + FormatSerialRange(u.range); }

// "MNG01:1-10" items of `units`; refuses anything else and ranges of one registry that overlap.
CommandResult<std::vector<Unit>> UnitsArg(const Json& args) {
  const auto it = args.find("units");
  if (it == args.end() || it->is_null() || (it->is_array() && it->empty())) {
    return Refuse(Check::kFieldMissing,
                  "field 'units' is missing: list the affected ITMOs as \"REGISTRY:first-last\"");
  }
  if (!it->is_array()) {
    return Refuse(Check::kFieldInvalid, "field 'units' must be a list like [\"MNG01:1-10\"]");
  }
  if (it->size() > kRangesPerRequestMax) {
    return Refuse(Check::kTooManyItems,
                  "at most " + std::to_string(kRangesPerRequestMax) + " ranges of units");
  }
  std::vector<Unit> units;
  for (const Json& item : *it) {
    const std::string text = item.is_string() ? item.get<std::string>() : item.dump();
    const size_t colon = text.find(':');
    const auto registry =
        colon == std::string::npos ? std::nullopt : ParseRegistryCode(text.substr(0, colon));
    const auto range =
        colon == std::string::npos ? std::nullopt : ParseSerialRange(text.substr(colon + 1));
    if (!item.is_string() || !registry || !range) {
      return Refuse(Check::kFieldInvalid,
                    "unit range '" + text.substr(0, 64) +
                        "' is not REGISTRY:first-last like \"MNG01:1-10\" (1 <= first <= last)");
    }
    for (const Unit& u : units) {
      if (u.registry == *registry && u.range.Overlaps(*range)) {
        return Refuse(Check::kFieldInvalid,
                      "unit ranges " + UnitText(u) + " and " + text + " overlap");
      }
    }
    units.push_back(Unit{*registry, *range});
  }
  return units;
}

std::vector<Unit> UnitsOf(const Json& body) {
  std::vector<Unit> out;
  for (const Json& text : body.value("units", Json::array())) {
    const std::string t = text.get<std::string>();
    const size_t colon = t.find(':');
    out.push_back(
        Unit{*ParseRegistryCode(t.substr(0, colon)), *ParseSerialRange(t.substr(colon + 1))});
  }
  return out;
}

// Every inconsistency document, in the order recorded (a registry has a handful).
CommandResult<std::vector<Json>> AllInconsistencies(Transaction& tx) {
  std::vector<Json> out;
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(const auto docs, Lift(tx.ListDocuments(kKind, after, kPageSizeMax)));
    for (const Document& d : docs) out.push_back(Json::parse(d.body));
    if (docs.size() < kPageSizeMax) return out;
    after = docs.back().key;
  }
}

// `range` less the parts of it in `taken` (any order, any overlaps).
std::vector<SerialRange> Subtract(const SerialRange& range, std::vector<SerialRange> taken) {
  std::sort(taken.begin(), taken.end(),
            [](const SerialRange& a, const SerialRange& b) { return a.first < b.first; });
  std::vector<SerialRange> out;
  int64_t next = range.first;
  for (const SerialRange& t : taken) {
    if (t.last < next || t.first > range.last) continue;
    if (t.first > next) out.push_back(SerialRange{next, t.first - 1});
    next = std::max(next, t.last + 1);
    if (next > range.last) return out;
  }
  if (next <= range.last) out.push_back(SerialRange{next, range.last});
  return out;
}

// Sets the hold flag of the live units of `unit` in holding accounts to `hold` (WriteHold).
// Returns the blocks changed and the tonnes of `unit` in holding
// accounts (changed or already as asked).
CommandResult<std::pair<Json, int64_t>> SetHeld(Transaction& tx,
                                                const std::vector<Account>& accounts,
                                                const Unit& unit, bool hold, const Context& ctx) {
  Json changed = Json::array();
  int64_t tonnes = 0;
  std::map<int64_t, RegistryCode> lot_registry;
  for (const Account& account : accounts) {
    if (IsTerminal(account.type)) continue;
    ASSIGN_OR_RETURN(const auto found,
                     Lift(tx.LiveBlocksOverlapping(account.id, unit.registry, unit.range)));
    std::vector<SelectedPart> parts;
    for (const Block& block : found) {
      auto known = lot_registry.find(block.lot.value);
      if (known == lot_registry.end()) {
        ASSIGN_OR_RETURN(const auto lot, Lift(tx.GetLot(block.lot)));
        known = lot_registry.emplace(block.lot.value, lot ? lot->registry : RegistryCode{}).first;
      }
      // Serials are numbered per issuing registry: an account may hold two lots' equal numbers.
      if (known->second != unit.registry) continue;
      const SerialRange overlap{std::max(block.range.first, unit.range.first),
                                std::min(block.range.last, unit.range.last)};
      if (overlap.first > overlap.last) continue;
      tonnes += overlap.Count().tonnes;
      if (block.held_inconsistent == hold) continue;
      parts.push_back(SelectedPart{block, overlap});
    }
    ASSIGN_OR_RETURN(const Json written, WriteHold(tx, parts, account.id, hold, ctx));
    for (const Json& b : written) changed.push_back(b);
  }
  return std::pair{changed, tonnes};
}

// inconsistency.record {party, year, status, units, description, reference?}
CommandResult<Json> Record(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const PartyCode party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(const int64_t year, IntArg(args, "year"));
  ASSIGN_OR_RETURN(const std::string status, TextArg(args, "status", 128));
  ASSIGN_OR_RETURN(const std::string description, TextArg(args, "description", 4096));
  ASSIGN_OR_RETURN(const auto reference, OptionalTextArg(args, "reference", 512));
  ASSIGN_OR_RETURN(const std::vector<Unit> units, UnitsArg(args));
  ASSIGN_OR_RETURN(const auto party_doc, Lift(tx.GetDocument("party", party.value)));
  if (!party_doc) return Refuse(Check::kUnknownParty, "Party " + party.value + " is unknown");
  if (year < kFirstItmoVintage || year > kVintageMax) {
    return Refuse(Check::kFieldInvalid, "field 'year' " + std::to_string(year) +
                                            " is no AEF's reported year (2021-2100)");
  }
  if (ctx.time.substr(0, 4) <= std::to_string(year)) {
    return Refuse(Check::kFieldInvalid, "the AEF of " + std::to_string(year) +
                                            " is submitted after the year; no inconsistency can "
                                            "have been found in it on " +
                                            ctx.time.substr(0, 10));
  }
  const auto& statuses = InconsistencyStatuses();
  if (std::find(statuses.begin(), statuses.end(), status) == statuses.end()) {
    std::string listed;
    for (const std::string& s : statuses) listed += (listed.empty() ? "'" : ", '") + s + "'";
    return Refuse(
        Check::kFieldInvalid,
        "status '" + status.substr(0, 128) +
            "' is not one that identifies an inconsistency (4/CMA.6 paras 29, 34-37): " + listed);
  }
  ASSIGN_OR_RETURN(const auto accounts, Lift(tx.ListAccounts()));
  Json held = Json::array();
  Json texts = Json::array();
  std::set<std::string> projects;
  int64_t tonnes = 0;
  for (const Unit& unit : units) {
    ASSIGN_OR_RETURN(const auto set, SetHeld(tx, accounts, unit, true, ctx));
    if (set.second == 0) {
      return Refuse(Check::kSerialRangeNotHeld,
                    "no unit of " + UnitText(unit) +
                        " is in a holding account here (not issued, or already used or "
                        "cancelled): nothing to hold");
    }
    for (const Json& b : set.first) {
      held.push_back(b);
      ASSIGN_OR_RETURN(const auto lot, Lift(tx.GetLot(IssuanceId{b.at("lot").get<int64_t>()})));
      if (lot) projects.insert(lot->project.value);
    }
    tonnes += set.second;
    texts.push_back(UnitText(unit));
  }
  Json body = {{"id", ctx.sequence.value},
               {"party", party.value},
               {"year", year},
               {"status", status},
               {"description", description},
               {"reference", reference.value_or("")},
               {"units", texts},
               {"projects", Json(std::vector<std::string>(projects.begin(), projects.end()))},
               {"recorded", ctx.time},
               {"held_tonnes", tonnes},
               {"corrected", nullptr}};
  RETURN_IF_ERROR(PutJson(tx, kKind, KeyOf(ctx.sequence.value), body, ctx));
  body["blocks"] = held;
  return body;
}

// inconsistency.correct {party, id, explanation}
CommandResult<Json> Correct(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const PartyCode party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(const int64_t id, IntArg(args, "id"));
  ASSIGN_OR_RETURN(const std::string explanation, TextArg(args, "explanation", 4096));
  ASSIGN_OR_RETURN(auto found, LoadJson(tx, kKind, KeyOf(id)));
  if (!found || found->value("party", "") != party.value) {
    return Refuse(Check::kNotFound, "Party " + party.value + " has no inconsistency " +
                                        std::to_string(id) + " (inconsistency.record)");
  }
  Json body = *found;
  if (!body.at("corrected").is_null()) {
    return Refuse(Check::kAlreadyExists, "inconsistency " + std::to_string(id) +
                                             " was corrected on " +
                                             body["corrected"].value("date", "") + " already");
  }
  if (explanation.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Refuse(Check::kFieldInvalid, "field 'explanation' is blank: say what was corrected");
  }
  // Units another open inconsistency holds stay held.
  ASSIGN_OR_RETURN(const auto all, AllInconsistencies(tx));
  std::map<std::string, std::vector<SerialRange>> still_held;
  for (const Json& other : all) {
    if (other.at("id").get<int64_t>() == id || !other.at("corrected").is_null()) continue;
    for (const Unit& u : UnitsOf(other)) still_held[u.registry.value].push_back(u.range);
  }
  ASSIGN_OR_RETURN(const auto accounts, Lift(tx.ListAccounts()));
  Json released = Json::array();
  for (const Unit& unit : UnitsOf(body)) {
    for (const SerialRange& part : Subtract(unit.range, still_held[unit.registry.value])) {
      ASSIGN_OR_RETURN(const auto set,
                       SetHeld(tx, accounts, Unit{unit.registry, part}, false, ctx));
      for (const Json& b : set.first) released.push_back(b);
    }
  }
  body["corrected"] = {{"date", ctx.time.substr(0, 10)}, {"explanation", explanation}};
  RETURN_IF_ERROR(PutJson(tx, kKind, KeyOf(id), body, ctx));
  body["released"] = released;
  return body;
}

}  // namespace

const std::vector<std::string>& InconsistencyStatuses() {
  static const std::vector<std::string> kStatuses = {
      // R-CC-01 (para 29), the Article 6 database's automated check.
      "Checked, inconsistencies identified",
      // R-CC-03 (paras 34-35 and 37), the Article 6 technical expert review.
      "Inconsistencies identified",
      "Review finalized and inconsistencies identified",
      "Review finalized and significant inconsistencies identified",
      "Review finalized and persistent inconsistencies identified",
      "Review finalized and significant inconsistencies and persistent inconsistencies identified",
      "Review finalized and consistencies identified that are both significant and persistent",
  };
  return kStatuses;
}

void AddInconsistencyCommands(HandlerTable& table) {
  table.emplace("inconsistency.record", Record);
  table.emplace("inconsistency.correct", Correct);
}

CommandResult<std::optional<std::string>> OpenInconsistencyHolding(Transaction& tx,
                                                                   const RegistryCode& registry,
                                                                   const SerialRange& moved) {
  ASSIGN_OR_RETURN(const auto all, AllInconsistencies(tx));
  for (const Json& i : all) {
    if (!i.at("corrected").is_null()) continue;
    for (const Unit& u : UnitsOf(i)) {
      if (u.registry == registry && u.range.Overlaps(moved)) {
        return std::optional<std::string>(
            "inconsistency " + std::to_string(i.at("id").get<int64_t>()) + " (" +
            i.value("status", "") + ", " + i.value("party", "") + "'s AEF of " +
            std::to_string(i.at("year").get<int64_t>()) + ")");
      }
    }
  }
  return std::optional<std::string>();
}

CommandResult<std::vector<Json>> CorrectionsForAef(Transaction& tx, const PartyCode& party,
                                                   int32_t year) {
  ASSIGN_OR_RETURN(const auto all, AllInconsistencies(tx));
  std::vector<Json> out;
  for (const Json& i : all) {
    if (i.value("party", "") != party.value || i.at("corrected").is_null() ||
        i.at("year").get<int64_t>() != year - 1) {
      continue;
    }
    std::string units;
    for (const Json& u : i.at("units")) units += (units.empty() ? "" : ", ") + u.get<std::string>();
    const std::string note = "Inconsistency " + std::to_string(i.at("id").get<int64_t>()) +
                             " in the AEF of " + std::to_string(year - 1) + " (\"" +
                             i.value("status", "") + "\"; units " + units + ") corrected on " +
                             i["corrected"].value("date", "") + ": " +
                             i["corrected"].value("explanation", "");
    out.push_back(Json{{"id", i.at("id")}, {"projects", i.at("projects")}, {"note", note}});
  }
  return out;
}

}  // namespace registry::service
