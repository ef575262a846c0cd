// Corresponding adjustments from the ledger (2/CMA.3 annex paras 7-12; R-CA-01..08, R-CC-04).
//
// Commands (journaled):
//   ndc.configure  {party, first_year, last_year, method, metric?, fiscal_year?}
//                  one method per Party and NDC period, fixed once chosen (para 7): a second
//                  configure with another method is refused (JCM-519 ca_method_fixed);
//   ndc.inventory  {party, first_year, year, emissions}: the inventory figure the Party enters;
//   ndc.finalize   {party, first_year}: the period's additions and subtractions become final
//                  (para 12); afterwards anything that would change them is refused (JCM-518);
//   block.hold     {account, ranges, hold: true|false}: flag credits inconsistent (4/CMA.6 para
//                  40) or clear the flag; held credits cannot be used towards an NDC (JCM-517).
//
// The flows are derived from the blocks, never kept separately, so the figures always equal the
// sum of the journal's actions:
//   - a first transfer is a block marked first transferred whose parent was not (or that was
//     issued first transferred), of an ITMO lot; it counts for the lot's first transferring Party
//     in the lot's vintage year; it counts under 23(d) when the lot is authorized for OIMP only or
//     the block sits in a cancellation account (an OIMP use or cancellation), else under 23(c);
//   - a use is a block of an ITMO lot in a retirement account; it counts for the Party of the
//     account's registry in the block's year of use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/adjustments.h"
#include "service/command.h"
#include "service/ledger_write.h"

namespace registry::service {

void AddAdjustmentCommands(HandlerTable& table);

// Loads the NDC period of `party` that starts in `first_year`; nullopt when not configured.
CommandResult<std::optional<NdcPeriod>> LoadNdcPeriod(Transaction& tx, const PartyCode& party,
                                                      int32_t first_year);

// Every NDC period `party` has configured, by first year.
CommandResult<std::vector<NdcPeriod>> LoadNdcPeriods(Transaction& tx, const PartyCode& party);

// Refuses (JCM-518) when `year` falls in a finalized NDC period of `party`.
CommandResult<bool> CheckNotFinalized(Transaction& tx, const PartyCode& party, int32_t year);

// The movement rules of this module, called by every movement once its parts are chosen:
// refuses (JCM-524) a first transfer or a retirement of units an open inconsistency holds
// (service/inconsistency.h), (JCM-517) a retirement of credits otherwise held as inconsistent
// (block.hold), and (JCM-518) a retirement in a finalized NDC period of the using Party or a
// first transfer in a finalized NDC period of the first transferring Party. first_transferred[i]
// tells whether part i becomes first transferred.
CommandResult<bool> CheckAdjustmentRules(Transaction& tx, const MoveRequest& request,
                                         const std::vector<SelectedPart>& parts,
                                         const std::vector<bool>& first_transferred);

// The ITMO flows of `party`, derived from the blocks.
CommandResult<std::vector<ItmoFlow>> FlowsOf(Transaction& tx, const PartyCode& party);

// The adjustments report of `party` for the NDC period starting in `first_year`, as JSON.
CommandResult<Json> AdjustmentsReportJson(Store& store, const PartyCode& party,
                                          int32_t first_year);

// The same as CSV: one row per year with the BTR row labels.
std::string AdjustmentsCsv(const Json& report);

}  // namespace registry::service
