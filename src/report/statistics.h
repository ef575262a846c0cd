// Public statistics as the Japan JCM registry publishes them (DOMAIN R-JP-07): (i) information
// on entity holding accounts, (ii) the amount of JCM credits recorded in each type of account,
// (iii) the annual transactions summary of JCM credits (tCO2). All derived from the blocks: a
// block's creation is a transaction, classified by where its parent was and where it is.
#pragma once

#include <string>

#include "service/command.h"

namespace registry::report {

// {"years": [{"year", "registry", "issuance", "transfer", "international_transfer",
//   "acquisition", "retirement", "cancellation"}...]}: tonnes per kind, per calendar year (UTC)
// and registry.
service::CommandResult<service::Json> AnnualTransactionsSummary(Store& store);
// {"accounts": [{id, registry, name, status, holder: {name, country}}]} for entity holding accounts.
service::CommandResult<service::Json> EntityHoldingAccounts(Store& store);
// CSV of a {"years": [...]} or {"accounts": [...]} object: header from the first row's keys.
std::string RowsCsv(const service::Json& rows);

}  // namespace registry::report
