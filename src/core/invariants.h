// The ledger invariants of core/model.h, checked over a whole snapshot: after load, by
// `jcmreg verify`, and by the randomized tests after every step.
#pragma once

#include <string>
#include <vector>

#include "core/model.h"

namespace registry {

// Returns one message per violation (empty when the snapshot is consistent):
//   1. the live blocks of each lot partition its range (issued = held + retired + cancelled);
//   2. no serial is in two live blocks of one registry;
//   3. the children of each closed block partition its range, were created when it was closed,
//      and belong to the same lot;
//   4. no block in a retirement or cancellation account is ever closed;
//   5. first_transferred never goes from true to false from parent to child;
//   6. every block belongs to a known lot and a known account.
std::vector<std::string> CheckLedgerInvariants(const std::vector<IssuanceLot>& lots,
                                               const std::vector<Block>& blocks,
                                               const std::vector<Account>& accounts);

}  // namespace registry
