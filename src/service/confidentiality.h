// Confidentiality claims on the AEF (DOMAIN R-REP-07; 4/CMA.6 para 24: information not marked
// confidential is published on the CARP; 6/CMA.4 decision para 6: a claim gives its basis).
//
// Commands (journaled):
//   report.confidential.set   {party, table, column, row?, basis}
//   report.confidential.clear {party, table, column, row?}
//     party: a registered Party (the reporting Party whose AEF carries the claim);
//     table: the exact sheet name of one of the five AEF tables (Submission, Authorizations,
//            Actions, Holdings, Authorized entities);
//     column: the exact column label of that table (4/CMA.6 annex II, DOMAIN.md §5);
//     row: optional, the value of the table's row key column (Authorizations: Authorization ID,
//          Actions and Holdings: First ID, Authorized entities: Name); absent = every row; not
//          allowed for Submission (one row);
//     basis: the non-empty reason the information is confidential (set only).
//   A set on an existing (table, column, row) replaces its basis; a clear of a claim that does
//   not exist is refused. Any other field is refused, so a misspelt "row" cannot widen a clear.
//
// Document: ("confidentiality", "<PARTY>") {party, claims: [{table, column, row, basis, set_at,
// set_by}]}, one version per change. Not a public document kind.
#pragma once

#include <string>
#include <vector>

#include "service/command.h"

namespace registry::service {

void AddConfidentialityCommands(HandlerTable& table);

// The Party's claims on file (the "claims" array of its document), oldest first; empty when none.
CommandResult<std::vector<Json>> LoadConfidentialClaims(Transaction& tx, const PartyCode& party);

}  // namespace registry::service
