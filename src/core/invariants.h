// The ledger invariants of core/model.h, checked over a whole snapshot: after load, by
// `jcmreg verify`, and by the randomized tests after every step.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
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

// The same six invariants over blocks streamed in ascending id order, in memory bounded by the
// live blocks, one command's new blocks and a small cache of recent blocks, whatever the length
// of the history (verify of a registry with millions of closed blocks). It finds a violation
// whenever CheckLedgerInvariants would, but does not say which: on failure the caller runs
// CheckLedgerInvariants over the whole snapshot for the messages.
//
// It relies on how blocks are written: a block's children are created by the command that
// closes it, so they carry `created` = the parent's `closed`, and blocks created by one command
// have consecutive ids. The children of each command are checked against their parents (looked
// up through `parent`, or in the recent cache) when the stream passes the command; a closed block
// without children shows as more closed blocks than parents with children.
class LedgerInvariantStream {
 public:
  using BlockLookup = std::function<std::optional<Block>(BlockId)>;

  LedgerInvariantStream(const std::vector<IssuanceLot>& lots, const std::vector<Account>& accounts,
                        BlockLookup parent);
  // More lots (the constructor's and these are all the stream knows; each must come before its
  // blocks), so a caller can read the lots a page at a time.
  void AddLots(const std::vector<IssuanceLot>& lots);
  // Blocks must come in ascending id order.
  void Add(const Block& block);
  // True when every invariant holds over the blocks added.
  bool Finish();
  int64_t blocks() const { return blocks_; }

 private:
  struct Child {
    SerialRange range;
    IssuanceId lot;
    bool first_transferred = false;
  };
  void FinishGroup();
  std::optional<Block> Parent(BlockId id);

  BlockLookup lookup_;
  std::unordered_map<int64_t, SerialRange> lots_;  // Each lot's range: all the stream needs.
  std::unordered_map<int64_t, AccountType> accounts_;
  std::unordered_map<int64_t, std::vector<SerialRange>> live_by_lot_;
  std::map<int64_t, std::vector<Child>> group_;  // Parent id -> children created at group_seq_.
  int64_t group_seq_ = 0;
  std::vector<Block> recent_;  // Direct-mapped by id: most parents were written shortly before.
  int64_t last_id_ = 0;
  int64_t blocks_ = 0;
  int64_t closed_ = 0;
  int64_t parents_with_children_ = 0;
  bool ok_ = true;
};

}  // namespace registry
