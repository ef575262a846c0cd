// Verification of a registry database (ARCHITECTURE decision 4):
//   1. the journal: sequences 1..n without gap, each prev_hash equal to the previous hash, each
//      hash recomputed, each seal (one per committed batch, journal/chain.h) valid under the key
//      in force at it, and the seals covering every entry exactly once up to the last;
//   2. a replay of every entry into a fresh projection that must give the same answers and the
//      same projection tables as the stored ones;
//   3. the ledger invariants (core/invariants.h) on the stored state;
//   4. when given, the expected heads (journal/witness.h): heads the journal reached once, from a
//      published report or a witness file. The journal must hold each one's sequence with that
//      hash; a shorter journal is a truncated or rolled-back copy, another hash a fork.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "journal/chain.h"
#include "journal/witness.h"
#include "storage/store.h"

namespace registry::service {

struct VerifyReport {
  int64_t entries = 0;
  int64_t blocks = 0;
  std::vector<std::string> problems;  // Empty when everything holds.
  bool ok() const { return problems.empty(); }
};

using StoreFactory = std::function<StoreResult<std::unique_ptr<Store>>()>;

struct VerifyOptions {
  // Heads the journal must hold (any order; repeats allowed): each one's sequence must be in the
  // journal with that hash. A journal that goes on past them passes.
  std::vector<journal::Head> expected_heads;
  // Called on the caller's thread after each page of journal entries whose chain and signatures
  // are checked, with the number checked so far (a progress line; none in the HTTP server).
  std::function<void(int64_t entries_checked)> progress;
};

// Verifies `store`. `scratch` makes the empty store the replay writes into.
VerifyReport Verify(Store& store, const journal::PublicKey& key, const StoreFactory& scratch,
                    const VerifyOptions& options = {});

}  // namespace registry::service
