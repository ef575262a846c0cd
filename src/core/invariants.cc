#include "core/invariants.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace registry {
namespace {

std::string BlockLabel(const Block& b) {
  return "block " + std::to_string(b.id.value) + " [" + FormatSerialRange(b.range) + "]";
}

// Checks that `ranges` (sorted by first) exactly tile `whole`.
bool Tiles(const SerialRange& whole, const std::vector<SerialRange>& ranges) {
  int64_t next = whole.first;
  for (const SerialRange& r : ranges) {
    if (r.first != next || r.last < r.first) return false;
    next = r.last + 1;
  }
  return next == whole.last + 1;
}

}  // namespace

std::vector<std::string> CheckLedgerInvariants(const std::vector<IssuanceLot>& lots,
                                               const std::vector<Block>& blocks,
                                               const std::vector<Account>& accounts) {
  std::vector<std::string> problems;
  std::unordered_map<int64_t, const IssuanceLot*> lot_by_id;
  for (const IssuanceLot& lot : lots) lot_by_id[lot.id.value] = &lot;
  std::unordered_map<int64_t, const Account*> account_by_id;
  for (const Account& a : accounts) account_by_id[a.id.value] = &a;
  std::unordered_map<int64_t, const Block*> block_by_id;
  for (const Block& b : blocks) block_by_id[b.id.value] = &b;

  std::map<int64_t, std::vector<SerialRange>> live_by_lot;
  std::unordered_map<int64_t, std::vector<const Block*>> children;
  for (const Block& b : blocks) {
    const auto lot = lot_by_id.find(b.lot.value);
    const auto account = account_by_id.find(b.account.value);
    if (lot == lot_by_id.end() || account == account_by_id.end()) {
      problems.push_back(BlockLabel(b) + " names an unknown lot or account");  // Invariant 6.
      continue;
    }
    if (!lot->second->range.Contains(b.range) || !b.range.IsValid()) {
      problems.push_back(BlockLabel(b) + " lies outside its lot");
    }
    if (!b.closed) live_by_lot[b.lot.value].push_back(b.range);
    if (b.closed && IsTerminal(account->second->type)) {
      problems.push_back(BlockLabel(b) + " left a " +
                         std::string(ToString(account->second->type)) + " account");  // 4.
    }
    if (b.parent) children[b.parent->value].push_back(&b);
  }
  for (const IssuanceLot& lot : lots) {  // Invariants 1 and 2.
    auto& ranges = live_by_lot[lot.id.value];
    std::sort(ranges.begin(), ranges.end());
    if (!Tiles(lot.range, ranges)) {
      int64_t held = 0;
      for (const SerialRange& r : ranges) held += r.Count().tonnes;
      problems.push_back("lot " + std::to_string(lot.id.value) + " issued " +
                         std::to_string(lot.range.Count().tonnes) + " but its live blocks hold " +
                         std::to_string(held) + " or overlap");
    }
  }
  for (const Block& b : blocks) {  // Invariants 3 and 5.
    const auto it = children.find(b.id.value);
    if (!b.closed) {
      if (it != children.end()) problems.push_back(BlockLabel(b) + " is live but has children");
      continue;
    }
    if (it == children.end()) {
      problems.push_back(BlockLabel(b) + " is closed without children");
      continue;
    }
    std::vector<SerialRange> ranges;
    for (const Block* child : it->second) {
      ranges.push_back(child->range);
      if (child->created != *b.closed || child->lot != b.lot) {
        problems.push_back(BlockLabel(*child) + " does not match its parent " + BlockLabel(b));
      }
      if (b.first_transferred && !child->first_transferred) {
        problems.push_back(BlockLabel(*child) + " lost its parent's first transfer");
      }
    }
    std::sort(ranges.begin(), ranges.end());
    if (!Tiles(b.range, ranges)) {
      problems.push_back("children of " + BlockLabel(b) + " do not partition it");
    }
  }
  return problems;
}

}  // namespace registry
