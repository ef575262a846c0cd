#include "service/adjustments.h"

#include <map>
#include <sstream>

#include "core/ledger.h"
#include "core/limits.h"
#include "service/block_walk.h"
#include "service/inconsistency.h"
#include "service/json_text.h"
#include "service/ledger_write.h"

namespace registry::service {
namespace {

std::string NdcKey(const PartyCode& party, int32_t first_year) {
  return party.value + ":" + std::to_string(first_year);
}

Json PeriodJson(const NdcPeriod& p) {
  Json inventory = Json::object();
  for (const auto& [year, emissions] : p.inventory) inventory[std::to_string(year)] = emissions;
  return Json{{"party", p.party.value},
              {"first_year", p.first_year},
              {"last_year", p.last_year},
              {"method", std::string(ToString(p.method))},
              {"metric", p.metric == NdcMetric::kGhg ? "GHG" : "Non-GHG"},
              {"fiscal_year", p.fiscal_year},
              {"finalized", p.finalized},
              {"inventory", inventory}};
}

NdcPeriod PeriodFromJson(const Json& j) {
  NdcPeriod p;
  p.party = PartyCode{j.at("party").get<std::string>()};
  p.first_year = j.at("first_year").get<int32_t>();
  p.last_year = j.at("last_year").get<int32_t>();
  p.method = ParseCaMethod(j.at("method").get<std::string>()).value_or(CaMethod::kTrajectory);
  p.metric = j.at("metric").get<std::string>() == "GHG" ? NdcMetric::kGhg : NdcMetric::kNonGhg;
  p.fiscal_year = j.at("fiscal_year").get<bool>();
  p.finalized = j.at("finalized").get<bool>();
  for (const auto& [year, emissions] : j.at("inventory").items()) {
    p.inventory[std::stoi(year)] = emissions.get<int64_t>();
  }
  return p;
}

CommandResult<NdcPeriod> RequirePeriod(Transaction& tx, const Json& args) {
  ASSIGN_OR_RETURN(const PartyCode party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(const int64_t first_year, IntArg(args, "first_year"));
  ASSIGN_OR_RETURN(const auto period, LoadNdcPeriod(tx, party, static_cast<int32_t>(first_year)));
  if (!period) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "Party " + party.value + " has no NDC period starting in " +
                                     std::to_string(first_year) + "; run ndc.configure first"));
  }
  return *period;
}

CommandResult<Json> Configure(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const PartyCode party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(const int64_t first_year, IntArg(args, "first_year"));
  ASSIGN_OR_RETURN(const int64_t last_year, IntArg(args, "last_year"));
  ASSIGN_OR_RETURN(const std::string method_text, TextArg(args, "method", 32));
  ASSIGN_OR_RETURN(const auto metric_text, OptionalTextArg(args, "metric", 16));
  ASSIGN_OR_RETURN(const bool fiscal_year, BoolArg(args, "fiscal_year", false));
  ASSIGN_OR_RETURN(const auto party_doc, Lift(tx.GetDocument("party", party.value)));
  if (!party_doc) {
    return Fail(Failure::Refused(Check::kUnknownParty, "Party " + party.value + " is unknown"));
  }
  const auto method = ParseCaMethod(method_text);
  if (!method) {
    return Fail(Failure::Refused(Check::kFieldInvalid, "method '" + method_text +
                                                           "' is not trajectory, averaging or "
                                                           "multi_year"));
  }
  if (metric_text && *metric_text != "GHG" && *metric_text != "Non-GHG") {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "metric '" + *metric_text + "' is not GHG or Non-GHG"));
  }
  NdcPeriod period;
  period.party = party;
  period.first_year = static_cast<int32_t>(first_year);
  period.last_year = static_cast<int32_t>(last_year);
  period.method = *method;
  period.metric = metric_text.value_or("GHG") == "GHG" ? NdcMetric::kGhg : NdcMetric::kNonGhg;
  period.fiscal_year = fiscal_year;
  if (auto valid = ComputeAdjustments(period, {}); !valid) return Fail(valid.error());
  ASSIGN_OR_RETURN(const auto existing, LoadNdcPeriod(tx, party, period.first_year));
  if (existing) {
    if (existing->method != period.method || existing->last_year != period.last_year ||
        existing->metric != period.metric) {
      return Fail(Failure::Refused(Check::kCaMethodFixed,
                                   "the NDC period " + NdcKey(party, period.first_year) +
                                       " already uses the " +
                                       std::string(ToString(existing->method)) +
                                       " method; it is fixed for the period"));
    }
    period = *existing;
    period.fiscal_year = fiscal_year;
  }
  const Json body = PeriodJson(period);
  RETURN_IF_ERROR(tx.PutDocument("ndc", NdcKey(party, period.first_year), DumpJson(body),
                                 ctx.sequence));
  return body;
}

CommandResult<Json> Inventory(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(NdcPeriod period, RequirePeriod(tx, args));
  ASSIGN_OR_RETURN(const int64_t year, IntArg(args, "year"));
  ASSIGN_OR_RETURN(const int64_t emissions, IntArg(args, "emissions"));
  if (period.finalized) {
    return Fail(Failure::Refused(Check::kNdcPeriodFinalized,
                                 "the NDC period " + NdcKey(period.party, period.first_year) +
                                     " is final"));
  }
  if (year < period.first_year || year > period.last_year) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "year " + std::to_string(year) + " is outside the NDC period"));
  }
  if (emissions < -kIssuanceQuantityMax * 1000 || emissions > kIssuanceQuantityMax * 1000) {
    return Fail(Failure::Refused(Check::kFieldInvalid, "emissions figure out of range"));
  }
  period.inventory[static_cast<int32_t>(year)] = emissions;
  const Json body = PeriodJson(period);
  RETURN_IF_ERROR(tx.PutDocument("ndc", NdcKey(period.party, period.first_year), DumpJson(body),
                                 ctx.sequence));
  return body;
}

CommandResult<Json> Finalize(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(NdcPeriod period, RequirePeriod(tx, args));
  if (period.finalized) {
    return Fail(Failure::Refused(Check::kNdcPeriodFinalized,
                                 "the NDC period " + NdcKey(period.party, period.first_year) +
                                     " is already final"));
  }
  period.finalized = true;
  const Json body = PeriodJson(period);
  RETURN_IF_ERROR(tx.PutDocument("ndc", NdcKey(period.party, period.first_year), DumpJson(body),
                                 ctx.sequence));
  return body;
}

// Closes each selected block and writes it again in the same account with the hold flag set or
// cleared on the selected sub-range (blocks are immutable).
CommandResult<Json> Hold(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const int64_t account_id, IntArg(args, "account"));
  ASSIGN_OR_RETURN(const std::vector<SerialRange> ranges, RangesArg(args, "ranges"));
  ASSIGN_OR_RETURN(const bool hold, BoolArg(args, "hold", true));
  ASSIGN_OR_RETURN(const Account account, LoadAccount(tx, AccountId{account_id}));
  if (IsTerminal(account.type)) {
    return Fail(Failure::Refused(Check::kTerminalAccountCannotSend,
                                 "credits in a " + std::string(ToString(account.type)) +
                                     " account were already used or cancelled"));
  }
  std::vector<Block> candidates;
  for (const SerialRange& range : ranges) {
    if (!range.IsValid()) break;
    ASSIGN_OR_RETURN(auto found, Lift(tx.LiveBlocksOverlapping(account.id, account.registry, range)));
    for (Block& b : found) {
      bool seen = false;
      for (const Block& c : candidates) seen = seen || c.id == b.id;
      if (!seen) candidates.push_back(std::move(b));
    }
  }
  ASSIGN_OR_RETURN(const auto parts, Lift(SelectRanges(ranges, candidates)));
  ASSIGN_OR_RETURN(const Json changed, WriteHold(tx, parts, account.id, hold, ctx));
  return Json{{"account", account.id.value}, {"hold", hold}, {"blocks", changed}};
}

}  // namespace

void AddAdjustmentCommands(HandlerTable& table) {
  table.emplace("ndc.configure", Configure);
  table.emplace("ndc.inventory", Inventory);
  table.emplace("ndc.finalize", Finalize);
  table.emplace("block.hold", Hold);
}

CommandResult<std::optional<NdcPeriod>> LoadNdcPeriod(Transaction& tx, const PartyCode& party,
                                                      int32_t first_year) {
  ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument("ndc", NdcKey(party, first_year))));
  if (!doc) return std::optional<NdcPeriod>();
  return std::optional<NdcPeriod>(PeriodFromJson(Json::parse(doc->body)));
}

CommandResult<std::vector<NdcPeriod>> LoadNdcPeriods(Transaction& tx, const PartyCode& party) {
  ASSIGN_OR_RETURN(const auto docs, Lift(tx.ListDocuments("ndc", party.value + ":", kPageSizeMax)));
  std::vector<NdcPeriod> periods;
  for (const Document& doc : docs) {
    if (doc.key.rfind(party.value + ":", 0) != 0) break;
    periods.push_back(PeriodFromJson(Json::parse(doc.body)));
  }
  return periods;
}

CommandResult<bool> CheckNotFinalized(Transaction& tx, const PartyCode& party, int32_t year) {
  ASSIGN_OR_RETURN(const std::vector<NdcPeriod> periods, LoadNdcPeriods(tx, party));
  for (const NdcPeriod& period : periods) {
    if (period.finalized && year >= period.first_year && year <= period.last_year) {
      return Fail(Failure::Refused(Check::kNdcPeriodFinalized,
                                   "year " + std::to_string(year) + " is in " + party.value +
                                       "'s NDC period " + std::to_string(period.first_year) + "-" +
                                       std::to_string(period.last_year) +
                                       ", whose adjustments are final"));
    }
  }
  return true;
}

CommandResult<bool> CheckAdjustmentRules(Transaction& tx, const MoveRequest& request,
                                         const std::vector<SelectedPart>& parts,
                                         const std::vector<bool>& first_transferred) {
  const bool use = request.kind == MovementKind::kRetirement;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Block& block = parts[i].block;
    const bool first_now =
        i < first_transferred.size() && first_transferred[i] && !block.first_transferred;
    if (block.held_inconsistent && (use || first_now)) {
      // Held by a recorded inconsistency (service/inconsistency.h): no first transfer, no use.
      ASSIGN_OR_RETURN(const auto lot, Lift(tx.GetLot(block.lot)));
      if (lot) {
        ASSIGN_OR_RETURN(const auto holding,
                         OpenInconsistencyHolding(tx, lot->registry, parts[i].moved));
        if (holding) {
          return Fail(Failure::Refused(
              Check::kInconsistencyUnresolved,
              "units " + lot->registry.value + ":" + FormatSerialRange(parts[i].moved) +
                  " are held by " + *holding + " until it is corrected: they cannot be " +
                  (use ? "used towards an NDC" : "first transferred") + " (4/CMA.6 para 40)"));
        }
      }
    }
    if (use && block.held_inconsistent) {
      return Fail(Failure::Refused(Check::kBlockHeldInconsistent,
                                   "serials " + FormatSerialRange(parts[i].moved) +
                                       " are held as inconsistent (4/CMA.6 para 40)"));
    }
    if (!use && !first_now) continue;
    ASSIGN_OR_RETURN(const auto lot, Lift(tx.GetLot(block.lot)));
    if (!lot || !lot->itmo) continue;
    if (use) {
      RETURN_IF_ERROR(CheckNotFinalized(tx, PartyOfRegistry(request.to.registry),
                                        request.destination.use_year));
    }
    if (first_now) {
      RETURN_IF_ERROR(CheckNotFinalized(tx, lot->first_transferring_party, lot->vintage.year));
    }
  }
  return true;
}

CommandResult<std::vector<ItmoFlow>> FlowsOf(Transaction& tx, const PartyCode& party) {
  ASSIGN_OR_RETURN(const auto lots, Lift(tx.ListLots()));
  ASSIGN_OR_RETURN(const auto accounts, Lift(tx.ListAccounts()));
  std::map<int64_t, const IssuanceLot*> lot_by_id;
  for (const IssuanceLot& lot : lots) lot_by_id[lot.id.value] = &lot;
  std::map<int64_t, const Account*> account_by_id;
  for (const Account& a : accounts) account_by_id[a.id.value] = &a;
  std::vector<ItmoFlow> flows;
  RETURN_IF_ERROR(WalkBlocks(
      tx, kBlockPageDefault, [&](const Block& b, const Block* parent) -> CommandResult<bool> {
        const IssuanceLot* lot = lot_by_id[b.lot.value];
        const Account* account = account_by_id[b.account.value];
        if (lot == nullptr || account == nullptr || !lot->itmo) return true;
        const bool parent_ft = parent != nullptr && parent->first_transferred;
        if (b.first_transferred && !parent_ft && lot->first_transferring_party == party) {
          const bool oimp = lot->purposes.find("NDC") == std::string::npos ||
                            account->type == AccountType::kCancellation;
          flows.push_back(ItmoFlow{oimp ? ItmoFlow::Kind::kOimpFirstTransfer
                                        : ItmoFlow::Kind::kFirstTransfer,
                                   lot->vintage, 0, b.range.Count()});
        }
        if (account->type == AccountType::kRetirement &&
            PartyOfRegistry(account->registry) == party) {
          flows.push_back(
              ItmoFlow{ItmoFlow::Kind::kUse, lot->vintage, b.use_year, b.range.Count()});
        }
        return true;
      }));
  return flows;
}

// ITMOs `party` acquired from another Party's registry, per vintage (they do not enter the
// acquiring Party's balance until used; reported for completeness, 2/CMA.3 para 20(a)).
CommandResult<std::map<int32_t, int64_t>> AcquisitionsOf(Transaction& tx, const PartyCode& party) {
  ASSIGN_OR_RETURN(const auto lots, Lift(tx.ListLots()));
  ASSIGN_OR_RETURN(const auto accounts, Lift(tx.ListAccounts()));
  std::map<int64_t, const IssuanceLot*> lot_by_id;
  for (const IssuanceLot& lot : lots) lot_by_id[lot.id.value] = &lot;
  std::map<int64_t, RegistryCode> registry_of;
  for (const Account& a : accounts) registry_of[a.id.value] = a.registry;
  std::map<int32_t, int64_t> acquired;
  RETURN_IF_ERROR(WalkBlocks(
      tx, kBlockPageDefault, [&](const Block& b, const Block* parent) -> CommandResult<bool> {
        const IssuanceLot* lot = lot_by_id[b.lot.value];
        if (lot == nullptr || !lot->itmo) return true;
        const RegistryCode& to = registry_of[b.account.value];
        if (PartyOfRegistry(to) != party) return true;
        // Moved in from another registry, or issued straight into this Party's registry as the
        // host's first transfer to it (ARCHITECTURE decision 11).
        const bool moved_in = parent != nullptr && registry_of[parent->account.value] != to;
        const bool issued_in =
            parent == nullptr && b.first_transferred && lot->first_transferring_party != party;
        if (moved_in || issued_in) acquired[lot->vintage.year] += b.range.Count().tonnes;
        return true;
      }));
  return acquired;
}

CommandResult<Json> AdjustmentsReportJson(Store& store, const PartyCode& party,
                                          int32_t first_year) {
  ASSIGN_OR_RETURN(auto tx, Lift(store.BeginRead()));
  ASSIGN_OR_RETURN(const auto period, LoadNdcPeriod(*tx, party, first_year));
  if (!period) {
    return Fail(Failure::Refused(Check::kNotFound, "Party " + party.value +
                                                       " has no NDC period starting in " +
                                                       std::to_string(first_year)));
  }
  ASSIGN_OR_RETURN(const auto flows, FlowsOf(*tx, party));
  ASSIGN_OR_RETURN(const AdjustmentReport report, Lift(ComputeAdjustments(*period, flows)));
  ASSIGN_OR_RETURN(const auto acquired, AcquisitionsOf(*tx, party));
  Json years = Json::array();
  for (const AdjustmentYear& y : report.years) {
    Json row = {{"year", y.year},
                {"first_transferred_23c", y.first_transferred},
                {"oimp_first_transferred_23d", y.oimp_first_transferred},
                {"used_23e", y.used},
                {"net_23f", y.net},
                {"adjustment_23g", y.adjustment},
                {"cumulative_23h", y.cumulative_net}};
    const auto acquisition = acquired.find(y.year);
    row["acquired_of_this_vintage"] = acquisition == acquired.end() ? 0 : acquisition->second;
    if (period->fiscal_year) row["fiscal_year"] = "FY" + std::to_string(y.year);
    if (period->method == CaMethod::kAveraging) {
      row["average"] = std::to_string(y.average_numerator) + "/" +
                       std::to_string(y.average_denominator);
    }
    if (y.inventory) row["inventory"] = *y.inventory;
    if (y.emissions_balance) row["emissions_balance_23k"] = *y.emissions_balance;
    years.push_back(row);
  }
  Json out = {{"period", PeriodJson(*period)},
              {"years", years},
              {"period_adjustment", report.period_adjustment},
              {"flows_outside_period", report.flows_outside_period},
              {"counting", "first transfers in the vintage year, uses in the year of use "
                           "(2/CMA.3 annex para 8)"},
              {"rounding", "averaging: cumulative / elapsed years, rounded half away from zero"}};
  if (period->fiscal_year) {
    out["fiscal_year_mapping"] =
        "calendar year Y of use counts towards fiscal year FY Y (1 April Y - 31 March Y+1)";
  }
  return out;
}

std::string AdjustmentsCsv(const Json& report) {
  std::ostringstream out;
  out << "year,first_transferred_23c,oimp_first_transferred_23d,used_23e,net_23f,"
         "adjustment_23g,cumulative_23h,inventory,emissions_balance_23k\n";
  for (const Json& y : report.at("years")) {
    out << y.at("year").get<int64_t>() << "," << y.at("first_transferred_23c").get<int64_t>() << ","
        << y.at("oimp_first_transferred_23d").get<int64_t>() << "," << y.at("used_23e").get<int64_t>()
        << "," << y.at("net_23f").get<int64_t>() << "," << y.at("adjustment_23g").get<int64_t>()
        << "," << y.at("cumulative_23h").get<int64_t>() << ","
        << (y.contains("inventory") ? std::to_string(y.at("inventory").get<int64_t>()) : "") << ","
        << (y.contains("emissions_balance_23k")
                ? std::to_string(y.at("emissions_balance_23k").get<int64_t>())
                : "")
        << "\n";
  }
  return out.str();
}

}  // namespace registry::service
