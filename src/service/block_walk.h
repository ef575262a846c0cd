// Every block of the ledger in id order, each with its parent, a page at a time, for what reads
// the block history (the AEF, the annual transactions summary, the corresponding adjustments).
// Memory is bounded by the page, not by the history: a parent is found in the page in hand or
// the one before (a command's children follow the block they split, so the parent is usually
// near) or else read from the store on its own. EntryTimes gives the time of each block's
// creation the same way.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <unordered_map>
#include <vector>

#include "service/command.h"
#include "storage/store.h"

namespace registry::service {

inline constexpr size_t kBlockPageDefault = 20000;

// Calls `visit(block, parent)` for every block in id order; `parent` is null for an issued block.
// `visit` returns CommandResult<bool>; a failure stops the walk and is returned.
template <typename Visit>
CommandResult<bool> WalkBlocks(Transaction& tx, size_t page_size, Visit&& visit) {
  page_size = page_size == 0 ? 1 : page_size;
  std::vector<Block> previous, page;
  std::unordered_map<int64_t, const Block*> recent;
  BlockId after{0};
  for (;;) {
    ASSIGN_OR_RETURN(page, Lift(tx.ListBlocks(after, page_size)));
    if (page.empty()) return true;
    after = page.back().id;
    recent.clear();
    for (const Block& b : previous) recent.emplace(b.id.value, &b);
    for (const Block& b : page) recent.emplace(b.id.value, &b);
    for (const Block& b : page) {
      std::optional<Block> read_parent;
      const Block* parent = nullptr;
      if (b.parent) {
        if (const auto it = recent.find(b.parent->value); it != recent.end()) {
          parent = it->second;
        } else {
          ASSIGN_OR_RETURN(read_parent, Lift(tx.GetBlock(*b.parent)));
          if (!read_parent) {
            return Fail(Failure::Of(
                Error{ErrorCode::kInternal, "block " + std::to_string(b.id.value) +
                                                " names parent " +
                                                std::to_string(b.parent->value) +
                                                ", which does not exist"}));
          }
          parent = &*read_parent;
        }
      }
      RETURN_IF_ERROR(visit(b, parent));
    }
    previous.swap(page);
  }
}

// The journal time of entries asked for in ascending order (as WalkBlocks gives blocks' creation
// sequences), read a page of entries at a time from the first one asked.
class EntryTimes {
 public:
  // `page` entries are read at a time (tests use tiny pages to move the window often).
  explicit EntryTimes(Transaction& tx, size_t page = 5000) : tx_(tx), page_(page == 0 ? 1 : page) {}

  CommandResult<std::string> Of(Sequence sequence) {
    if (!InWindow(sequence)) {
      ASSIGN_OR_RETURN(const auto entries,
                       Lift(tx_.ReadEntries(Sequence{sequence.value - 1}, page_)));
      window_.clear();
      for (const JournalEntry& e : entries) window_.emplace_back(e.sequence.value, e.time);
    }
    const auto it = std::lower_bound(
        window_.begin(), window_.end(), sequence.value,
        [](const std::pair<int64_t, std::string>& e, int64_t s) { return e.first < s; });
    if (it == window_.end() || it->first != sequence.value) {
      return Fail(Failure::Of(Error{ErrorCode::kInternal,
                                    "a block names journal entry " +
                                        std::to_string(sequence.value) +
                                        ", which does not exist"}));
    }
    return it->second;
  }

 private:
  bool InWindow(Sequence sequence) const {
    return !window_.empty() && window_.front().first <= sequence.value &&
           sequence.value <= window_.back().first;
  }

  Transaction& tx_;
  const size_t page_;
  std::vector<std::pair<int64_t, std::string>> window_;  // (sequence, time), ascending.
};

}  // namespace registry::service
