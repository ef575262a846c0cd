// Pure ledger decisions: issuance and movements (transfer, retirement, cancellation). Each
// function is a function of its arguments only; it returns the records to write or a Refusal.
// The service loads the inputs, calls the decision, writes what it returns and commits.
#pragma once

#include <optional>
#include <vector>

#include "core/checks.h"
#include "core/model.h"
#include "core/result.h"

namespace registry {

// ---- Issuance ---------------------------------------------------------------------------------

struct IssuanceLine {
  Vintage vintage;
  Quantity quantity;
};

// Decides the serial ranges of an issuance into `account`: one lot per line, allocated from
// `next_serial` upwards in the order given. Refuses: account not open or blocked, account not a
// holding account, no lines, a quantity not positive or above kIssuanceQuantityMax, a vintage out
// of [kVintageMin, kVintageMax], or serial exhaustion.
struct IssuanceRanges {
  std::vector<SerialRange> ranges;  // One per line, in order.
  int64_t next_serial = 0;          // The registry's next free serial afterwards.
};
Result<IssuanceRanges, Refusal> DecideIssuance(const Account& account,
                                               const std::vector<IssuanceLine>& lines,
                                               int64_t next_serial);

// ---- Movements --------------------------------------------------------------------------------

enum class MovementKind { kTransfer, kRetirement, kCancellation };

// Checks the two accounts of a movement: source open and not terminal, destination open, not the
// same account, the same registry, and a destination type that fits the kind (transfer: a
// holding account; retirement: a retirement account; cancellation: a cancellation account).
Status<Refusal> CheckMovementAccounts(MovementKind kind, const Account& from, const Account& to);

// One part of a block chosen for a movement.
struct SelectedPart {
  Block block;          // A live block of the source account.
  SerialRange moved;    // The sub-range that moves; block.range.Contains(moved).
};

// Selects explicit serial ranges. `candidates` are the live blocks of the source account that
// overlap any of the ranges (any order). Refuses an invalid range, overlapping ranges, or a serial
// not held by the source (kSerialRangeNotHeld).
Result<std::vector<SelectedPart>, Refusal> SelectRanges(const std::vector<SerialRange>& ranges,
                                                        const std::vector<Block>& candidates);

// Selects `quantity` tonnes from `candidates` (the source's live blocks matching the filter) in
// ascending serial order. The last block is split so that the holder keeps its first sub-range
// and the mover takes the last (R-ID-03). Refuses a quantity that is not positive or above the
// total of the candidates (kQuantityAboveHolding).
Result<std::vector<SelectedPart>, Refusal> SelectQuantity(Quantity quantity,
                                                          std::vector<Block> candidates);

// What the movement does to each selected part's credits at their destination.
struct Destination {
  AccountId account;
  int32_t use_year = 0;
  std::optional<CancellationPurpose> cancellation_purpose;
};

// A new block to insert. `parent` is the block it comes from.
struct NewBlock {
  BlockId parent;
  IssuanceId lot;
  SerialRange range;
  AccountId account;
  bool first_transferred = false;
  int32_t use_year = 0;
  std::optional<CancellationPurpose> cancellation_purpose;
  bool held_inconsistent = false;
};

struct Movement {
  std::vector<BlockId> closed;
  std::vector<NewBlock> created;
  Quantity moved;
};

// Splits every selected part: closes its block and creates the kept pieces (same account, same
// attributes) and the moved piece at `to`. first_transferred[i], when set, marks the moved piece
// of part i first transferred (it never unmarks: invariant 5). Requires parts from distinct blocks.
Movement BuildMovement(const std::vector<SelectedPart>& parts, const Destination& to,
                       const std::vector<bool>& first_transferred);

}  // namespace registry
