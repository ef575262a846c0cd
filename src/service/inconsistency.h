// Inconsistencies the UNFCCC secretariat (the Article 6 database's consistency check, 4/CMA.6
// paras 29-33) or an Article 6 technical expert review (paras 34-37) identified in a Party's AEF,
// as the Party's registry records them (4/CMA.6 paras 39-44; DOMAIN.md §5.7 R-CC-01..04).
//
// Commands (journaled; the Party's focal point or an administrator records what the secretariat
// notified: the secretariat is not a user of this registry [I]):
//   inconsistency.record  {party, year, status, units, description, reference?}
//       `year` is the reported year of the AEF the inconsistency was found in; `status` is the
//       exact string of R-CC-01 or R-CC-03 that identifies an inconsistency; `units` lists the
//       affected ITMOs as "REGISTRY:first-last" (the serials of the ITMO identifiers, in the
//       registry that issued them, e.g. "MNG01:1-10"). The units of each range still in a
//       holding account are held (Block::held_inconsistent, the mechanism of block.hold): until
//       the inconsistency is corrected they are neither first transferred (the issue's "held
//       from further first transfer") nor used towards an NDC (R-CC-04, para 40 "not to use")
//       [I]. Units already used or cancelled stay as they are.
//   inconsistency.correct {party, id, explanation}
//       the correction and its explanation: the units are released (those no other open
//       inconsistency holds), and the AEF of the year after `year` (the next AEF) reports the
//       correction in the "Additional explanatory information" of the Authorizations rows of the
//       affected units' projects [I].
// A first transfer or use of a held unit is refused with JCM-524 (inconsistency_unresolved),
// naming the inconsistency.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/ledger.h"
#include "service/command.h"

namespace registry::service {

void AddInconsistencyCommands(HandlerTable& table);

// The exact status strings an inconsistency may be recorded with (R-CC-01, R-CC-03).
const std::vector<std::string>& InconsistencyStatuses();

// The open inconsistency that holds serial range `moved` of lot registry `registry`, if any:
// its id and the AEF (party, year) it was found in, as a message fragment.
CommandResult<std::optional<std::string>> OpenInconsistencyHolding(Transaction& tx,
                                                                   const RegistryCode& registry,
                                                                   const SerialRange& moved);

// The corrected inconsistencies of `party` whose correction belongs in the AEF of `year` (those
// found in the AEF of year - 1), each as {"id", "projects", "note"}: the note is the text the
// AEF carries.
CommandResult<std::vector<Json>> CorrectionsForAef(Transaction& tx, const PartyCode& party,
                                                   int32_t year);

}  // namespace registry::service
