#include "core/ledger.h"

#include <algorithm>
#include <set>

#include "core/limits.h"

namespace registry {
namespace {

Refusal Refuse(Check check, std::string message) { return Refusal{check, std::move(message)}; }

std::string AccountLabel(const Account& account) {
  return "account " + std::to_string(account.id.value);
}

Status<Refusal> CheckUsable(const Account& account) {
  if (account.status == AccountStatus::kClosed) {
    return Fail(Refuse(Check::kAccountClosed, AccountLabel(account) + " is closed"));
  }
  if (account.status == AccountStatus::kBlocked) {
    return Fail(Refuse(Check::kAccountBlocked, AccountLabel(account) + " is blocked"));
  }
  return {};
}

bool DestinationFits(MovementKind kind, AccountType type) {
  switch (kind) {
    case MovementKind::kTransfer:
      return type == AccountType::kGovernmentHolding || type == AccountType::kEntityHolding;
    case MovementKind::kRetirement:
      return type == AccountType::kRetirement;
    case MovementKind::kCancellation:
      return type == AccountType::kCancellation;
  }
  return false;
}

std::string_view KindName(MovementKind kind) {
  switch (kind) {
    case MovementKind::kTransfer:
      return "a transfer needs a holding account";
    case MovementKind::kRetirement:
      return "a retirement needs a retirement account";
    case MovementKind::kCancellation:
      return "a cancellation needs a cancellation account";
  }
  return "";
}

}  // namespace

Result<IssuanceRanges, Refusal> DecideIssuance(const Account& account,
                                               const std::vector<IssuanceLine>& lines,
                                               int64_t next_serial) {
  REGISTRY_ASSERT(next_serial >= 1);
  if (auto usable = CheckUsable(account); !usable) return Fail(usable.error());
  if (IsTerminal(account.type)) {
    return Fail(Refuse(Check::kWrongDestinationType,
                       "issuance goes to a holding account, " + AccountLabel(account) + " is a " +
                           std::string(ToString(account.type)) + " account"));
  }
  if (lines.empty()) return Fail(Refuse(Check::kFieldMissing, "an issuance needs a vintage"));
  if (lines.size() > kVintagesPerIssuanceMax) {
    return Fail(Refuse(Check::kTooManyItems, "at most " +
                                                 std::to_string(kVintagesPerIssuanceMax) +
                                                 " vintages per issuance"));
  }
  IssuanceRanges out;
  int64_t serial = next_serial;
  for (const IssuanceLine& line : lines) {
    if (line.vintage.year < kVintageMin || line.vintage.year > kVintageMax) {
      return Fail(Refuse(Check::kVintageOutOfRange,
                         "vintage " + std::to_string(line.vintage.year) + " is not in [" +
                             std::to_string(kVintageMin) + ", " + std::to_string(kVintageMax) +
                             "]"));
    }
    if (line.quantity.tonnes <= 0) {
      return Fail(Refuse(Check::kQuantityNotPositive,
                         "quantity " + std::to_string(line.quantity.tonnes) +
                             " for vintage " + std::to_string(line.vintage.year) +
                             " is not positive"));
    }
    if (line.quantity.tonnes > kIssuanceQuantityMax) {
      return Fail(Refuse(Check::kQuantityTooLarge,
                         "quantity " + std::to_string(line.quantity.tonnes) + " exceeds " +
                             std::to_string(kIssuanceQuantityMax)));
    }
    const int64_t last = serial + line.quantity.tonnes - 1;
    if (last > kSerialMax) {
      return Fail(Refuse(Check::kQuantityTooLarge, "the registry's serial numbers are exhausted"));
    }
    out.ranges.push_back(SerialRange{serial, last});
    serial = last + 1;
  }
  out.next_serial = serial;
  return out;
}

Status<Refusal> CheckMovementAccounts(MovementKind kind, const Account& from, const Account& to) {
  if (IsTerminal(from.type)) {
    return Fail(Refuse(Check::kTerminalAccountCannotSend,
                       AccountLabel(from) + " is a " + std::string(ToString(from.type)) +
                           " account: nothing leaves it"));
  }
  if (auto usable = CheckUsable(from); !usable) return usable;
  if (from.id == to.id) {
    return Fail(Refuse(Check::kSameAccount,
                       "source and destination are both " + AccountLabel(from)));
  }
  if (auto usable = CheckUsable(to); !usable) return usable;
  if (from.registry != to.registry) {
    return Fail(Refuse(Check::kCrossRegistryTransfer,
                       AccountLabel(from) + " is in " + from.registry.value + ", " +
                           AccountLabel(to) + " is in " + to.registry.value));
  }
  if (!DestinationFits(kind, to.type)) {
    return Fail(Refuse(Check::kWrongDestinationType,
                       std::string(KindName(kind)) + "; " + AccountLabel(to) + " is a " +
                           std::string(ToString(to.type)) + " account"));
  }
  return {};
}

Result<std::vector<SelectedPart>, Refusal> SelectRanges(const std::vector<SerialRange>& ranges,
                                                        const std::vector<Block>& candidates) {
  if (ranges.empty()) return Fail(Refuse(Check::kFieldMissing, "no serial range given"));
  if (ranges.size() > kRangesPerRequestMax) {
    return Fail(Refuse(Check::kTooManyItems,
                       "at most " + std::to_string(kRangesPerRequestMax) + " ranges"));
  }
  std::vector<SerialRange> sorted = ranges;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (!sorted[i].IsValid()) {
      return Fail(Refuse(Check::kSerialRangeInvalid,
                         "serial range " + FormatSerialRange(sorted[i]) + " is invalid"));
    }
    if (i > 0 && sorted[i - 1].Overlaps(sorted[i])) {
      return Fail(Refuse(Check::kSerialRangeInvalid,
                         "serial ranges " + FormatSerialRange(sorted[i - 1]) + " and " +
                             FormatSerialRange(sorted[i]) + " overlap"));
    }
  }
  std::vector<Block> blocks = candidates;
  std::sort(blocks.begin(), blocks.end(),
            [](const Block& a, const Block& b) { return a.range.first < b.range.first; });
  std::vector<SelectedPart> parts;
  for (const SerialRange& range : sorted) {
    int64_t covered_to = range.first - 1;  // Serials [range.first, covered_to] are found.
    for (const Block& block : blocks) {
      const auto part = Intersect(block.range, range);
      if (!part) continue;
      if (part->first != covered_to + 1) break;  // A gap: a serial the source does not hold.
      covered_to = part->last;
      // A block may meet two requested ranges: merge into one part per block only when adjacent.
      parts.push_back(SelectedPart{block, *part});
    }
    if (covered_to != range.last) {
      return Fail(Refuse(Check::kSerialRangeNotHeld,
                         "serial " + std::to_string(covered_to + 1) + " of range " +
                             FormatSerialRange(range) + " is not held by the source account"));
    }
  }
  if (parts.size() > kBlocksPerMovementMax) {
    return Fail(Refuse(Check::kTooManyItems, "the ranges touch more than " +
                                                 std::to_string(kBlocksPerMovementMax) +
                                                 " blocks"));
  }
  // One block met by two ranges would be split twice; refuse rather than merge silently.
  std::set<int64_t> seen;
  for (const SelectedPart& part : parts) {
    if (!seen.insert(part.block.id.value).second) {
      return Fail(Refuse(Check::kSerialRangeInvalid,
                         "two ranges fall in one block (" + FormatSerialRange(part.block.range) +
                             "); give them as separate requests"));
    }
  }
  return parts;
}

Result<std::vector<SelectedPart>, Refusal> SelectQuantity(Quantity quantity,
                                                          std::vector<Block> candidates) {
  if (quantity.tonnes <= 0) {
    return Fail(Refuse(Check::kQuantityNotPositive,
                       "quantity " + std::to_string(quantity.tonnes) + " is not positive"));
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Block& a, const Block& b) { return a.range.first < b.range.first; });
  std::vector<SelectedPart> parts;
  int64_t need = quantity.tonnes;
  for (const Block& block : candidates) {
    if (need == 0) break;
    if (parts.size() == kBlocksPerMovementMax) {
      return Fail(Refuse(Check::kTooManyItems, "the quantity spans more than " +
                                                   std::to_string(kBlocksPerMovementMax) +
                                                   " blocks; move it in parts"));
    }
    const int64_t count = block.range.Count().tonnes;
    const int64_t take = std::min(need, count);
    // The holder keeps the first sub-range; the mover takes the last (R-ID-03).
    parts.push_back(SelectedPart{block, SerialRange{block.range.last - take + 1, block.range.last}});
    need -= take;
  }
  if (need > 0) {
    return Fail(Refuse(Check::kQuantityAboveHolding,
                       "holding " + std::to_string(quantity.tonnes - need) + " < requested " +
                           std::to_string(quantity.tonnes)));
  }
  return parts;
}

Movement BuildMovement(const std::vector<SelectedPart>& parts, const Destination& to,
                       const std::vector<bool>& first_transferred) {
  REGISTRY_ASSERT(first_transferred.empty() || first_transferred.size() == parts.size());
  Movement movement;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Block& block = parts[i].block;
    const SerialRange& moved = parts[i].moved;
    REGISTRY_ASSERT(block.range.Contains(moved));
    REGISTRY_ASSERT(!block.closed.has_value());
    movement.closed.push_back(block.id);
    NewBlock kept{block.id,          block.lot,      block.range, block.account,
                  block.first_transferred, block.use_year, block.cancellation_purpose,
                  block.held_inconsistent};
    if (moved.first > block.range.first) {
      kept.range = SerialRange{block.range.first, moved.first - 1};
      movement.created.push_back(kept);
    }
    NewBlock moving = kept;
    moving.range = moved;
    moving.account = to.account;
    moving.use_year = to.use_year;
    moving.cancellation_purpose = to.cancellation_purpose;
    if (!first_transferred.empty() && first_transferred[i]) moving.first_transferred = true;
    movement.created.push_back(moving);
    if (moved.last < block.range.last) {
      kept.range = SerialRange{moved.last + 1, block.range.last};
      movement.created.push_back(kept);
    }
    movement.moved.tonnes += moved.Count().tonnes;
  }
  return movement;
}

}  // namespace registry
