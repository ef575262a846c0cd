// What is due (issue 31 item 4): the deadlines of Article 6.2 and the JCM that the registry's
// documents and ledger determine, and the two records that discharge them.
//
// Commands (journaled; focal point):
//   report.aef.submit {party, year, date, reference?}
//     The Party submitted its AEF of `year` on `date` (not after the command's own date, not
//     before 1 January of year + 1). Document ("aef_submission", "<PARTY>:<year>"); a further
//     submission (a corrected AEF) is a new version.
//   notification.record {party, sequence, date, reference?}
//     `party`, the first transferring Party, was notified on `date` of the OIMP first transfer
//     recorded by journal entry `sequence` (4/CMA.6 para 13). Document ("notification",
//     "<PARTY>:<sequence>").
//
// Read (jcmreg due, GET /v1/due): DueJson, computed from the documents and the blocks in one read
// transaction; it changes nothing.
#pragma once

#include <optional>
#include <string>

#include "service/command.h"

namespace registry::service {

void AddDueCommands(HandlerTable& table);

// Everything due on `today` (ISO date), for `party` only when given: {"today", "due": [{kind,
// party, due, status, what, rule, done?}, ...]}, overdue first, then due, then done (only with
// `include_done`), each by date (core/deadlines.h SortDue).
CommandResult<Json> DueJson(Store& store, const std::string& today,
                            const std::optional<std::string>& party, bool include_done);

}  // namespace registry::service
