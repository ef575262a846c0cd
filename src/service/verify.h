// Verification of a registry database (ARCHITECTURE decision 4):
//   1. the journal: sequences 1..n without gap, each prev_hash equal to the previous hash, each
//      hash recomputed, each signature valid under the registry's public key;
//   2. a replay of every entry into a fresh projection that must give the same answers and the
//      same projection tables as the stored ones;
//   3. the ledger invariants (core/invariants.h) on the stored state.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "journal/chain.h"
#include "storage/store.h"

namespace registry::service {

struct VerifyReport {
  int64_t entries = 0;
  int64_t blocks = 0;
  std::vector<std::string> problems;  // Empty when everything holds.
  bool ok() const { return problems.empty(); }
};

using StoreFactory = std::function<StoreResult<std::unique_ptr<Store>>()>;

// Verifies `store`. `scratch` makes the empty store the replay writes into.
VerifyReport Verify(Store& store, const journal::PublicKey& key, const StoreFactory& scratch);

}  // namespace registry::service
