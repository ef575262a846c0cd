// The initial report on file (2/CMA.3 annex paras 18-19; 4/CMA.6 paras 26-27; DOMAIN R-REP-01,
// R-REP-02, R-REP-04): the registry records that a Party submitted its initial report (or an
// updated initial report) covering a cooperative approach, so that the AEF of that Party can be
// refused while ITMO actions of an approach have no initial report on file.
//
// Command (journaled):
//   report.initial.submit {party, ca, date, reference?}
//     party: a participating Party of the approach; ca: the approach's key (as in ca.define);
//     date: the date of submission (YYYY-MM-DD, not after the command's own date);
//     reference: optional text (a document symbol, a URL).
//   A further submission for the same Party and approach is an updated initial report: a new
//   version of the document; the first date of submission is kept.
//
// Document: ("initial_report", "<PARTY>:<ca key>") {party, ca_key, date, first_date, reference,
// submissions}.
#pragma once

#include <optional>
#include <string>

#include "service/command.h"

namespace registry::service {

void AddInitialReportCommands(HandlerTable& table);

// The initial report of `party` for approach `ca_key` on file, or nullopt.
CommandResult<std::optional<Json>> LoadInitialReport(Transaction& tx, const PartyCode& party,
                                                     const std::string& ca_key);

}  // namespace registry::service
