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

namespace {
constexpr size_t kRecentBlocks = 1 << 16;
}  // namespace

LedgerInvariantStream::LedgerInvariantStream(const std::vector<IssuanceLot>& lots,
                                             const std::vector<Account>& accounts,
                                             BlockLookup parent)
    : lookup_(std::move(parent)), recent_(kRecentBlocks) {
  AddLots(lots);
  for (const Account& a : accounts) accounts_[a.id.value] = a.type;
}

void LedgerInvariantStream::AddLots(const std::vector<IssuanceLot>& lots) {
  for (const IssuanceLot& lot : lots) lots_[lot.id.value] = lot.range;
}

std::optional<Block> LedgerInvariantStream::Parent(BlockId id) {
  const Block& cached = recent_[static_cast<size_t>(id.value) % kRecentBlocks];
  if (cached.id == id) return cached;
  return lookup_(id);
}

void LedgerInvariantStream::Add(const Block& b) {
  ++blocks_;
  // Ids ascend, and blocks created by later commands come later (invariant 3 relies on it).
  if (b.id.value <= last_id_ || b.created.value < group_seq_) ok_ = false;
  last_id_ = b.id.value;
  if (b.created.value != group_seq_) {
    FinishGroup();
    group_seq_ = b.created.value;
  }
  const auto lot = lots_.find(b.lot.value);
  const auto account = accounts_.find(b.account.value);
  if (lot == lots_.end() || account == accounts_.end()) {  // Invariant 6.
    ok_ = false;
    return;
  }
  if (!lot->second.Contains(b.range) || !b.range.IsValid()) ok_ = false;
  if (b.closed) {
    ++closed_;
    if (IsTerminal(account->second)) ok_ = false;  // Invariant 4.
  } else {
    live_by_lot_[b.lot.value].push_back(b.range);
  }
  if (b.parent) group_[b.parent->value].push_back(Child{b.range, b.lot, b.first_transferred});
  recent_[static_cast<size_t>(b.id.value) % kRecentBlocks] = b;
}

void LedgerInvariantStream::FinishGroup() {  // Invariants 3 and 5 for one command's children.
  for (auto& [parent_id, children] : group_) {
    const std::optional<Block> parent = Parent(BlockId{parent_id});
    if (!parent || !parent->closed || parent->closed->value != group_seq_) {
      ok_ = false;  // Unknown parent, live parent, or children made at another time.
      continue;
    }
    ++parents_with_children_;
    std::vector<SerialRange> ranges;
    for (const Child& c : children) {
      ranges.push_back(c.range);
      if (c.lot != parent->lot || (parent->first_transferred && !c.first_transferred)) ok_ = false;
    }
    std::sort(ranges.begin(), ranges.end());
    if (!Tiles(parent->range, ranges)) ok_ = false;
  }
  group_.clear();
}

bool LedgerInvariantStream::Finish() {
  FinishGroup();
  // Every closed block has children: as many parents with children as closed blocks (a parent
  // counted twice, its children made by two commands, was caught above).
  if (parents_with_children_ != closed_) ok_ = false;
  for (const auto& [id, range] : lots_) {  // Invariants 1 and 2.
    auto& ranges = live_by_lot_[id];
    std::sort(ranges.begin(), ranges.end());
    if (!Tiles(range, ranges)) ok_ = false;
  }
  return ok_;
}

}  // namespace registry
