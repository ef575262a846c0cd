// Public statistics as the Japan JCM registry publishes them (DOMAIN R-JP-07): (i) information
// on entity holding accounts, (ii) the amount of JCM credits recorded in each type of account,
// (iii) the annual transactions summary of JCM credits (tCO2). All derived from the blocks: a
// block's creation is a transaction, classified by where its parent was and where it is.
#pragma once

#include <string>

#include "service/block_walk.h"
#include "service/command.h"

namespace registry::report {

// {"years": [{"year", "registry", "issuance", "transfer", "international_transfer",
//   "acquisition", "retirement", "cancellation"}...]}: tonnes per kind, per calendar year (UTC)
// and registry. Reads the blocks and the journal a page at a time (`block_page` blocks), so its
// memory does not grow with the history.
service::CommandResult<service::Json> AnnualTransactionsSummary(
    Store& store, size_t block_page = service::kBlockPageDefault);
// {"accounts": [{id, registry, name, status, holder: {name, country}}]} for entity holding accounts.
service::CommandResult<service::Json> EntityHoldingAccounts(Store& store);
// CSV of a {"years": [...]} or {"accounts": [...]} object: header from the first row's keys.
std::string RowsCsv(const service::Json& rows);

}  // namespace registry::report
