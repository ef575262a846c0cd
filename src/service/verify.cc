#include "service/verify.h"

#include "core/invariants.h"
#include "service/registry.h"

namespace registry::service {
namespace {

constexpr size_t kPage = 5000;

void CheckChain(Transaction& tx, const journal::PublicKey& key, VerifyReport& report) {
  Hash prev{};
  Sequence after{0};
  for (;;) {
    auto page = tx.ReadEntries(after, kPage);
    if (!page) {
      report.problems.push_back("cannot read the journal: " + page.error().message);
      return;
    }
    for (const JournalEntry& e : *page) {
      const std::string at = "journal entry " + std::to_string(e.sequence.value);
      if (e.sequence.value != after.value + 1) {
        report.problems.push_back(at + ": sequence gap after " + std::to_string(after.value));
      }
      if (e.prev_hash != prev) report.problems.push_back(at + ": prev_hash does not chain");
      if (journal::EntryHash(e) != e.hash) {
        report.problems.push_back(at + ": content does not match its hash (tampered)");
      }
      if (!journal::VerifySignature(key, e.hash, e.signature)) {
        report.problems.push_back(at + ": signature invalid");
      }
      prev = e.hash;
      after = e.sequence;
      ++report.entries;
      if (report.problems.size() > 100) return;
    }
    if (page->size() < kPage) return;
  }
}

void Replay(Store& store, const StoreFactory& scratch, VerifyReport& report) {
  auto fresh = scratch();
  if (!fresh) {
    report.problems.push_back("cannot create the replay store: " + fresh.error().message);
    return;
  }
  auto read = store.BeginRead();
  if (!read) {
    report.problems.push_back("cannot read: " + read.error().message);
    return;
  }
  Sequence after{0};
  for (;;) {
    auto page = (*read)->ReadEntries(after, kPage);
    if (!page) return;
    auto tx = (*fresh)->Begin();
    if (!tx) return;
    for (const JournalEntry& e : *page) {
      after = e.sequence;
      const Json args = Json::parse(e.payload, nullptr, false);
      const Context ctx{e.sequence, e.time, e.actor};
      auto result = ApplyCommand(**tx, e.command, args, ctx);
      const std::string at = "journal entry " + std::to_string(e.sequence.value);
      if (!result) {
        report.problems.push_back(at + " (" + e.command + ") does not replay: " +
                                  result.error().Message());
        return;
      }
      if (result->dump() != e.result) {
        report.problems.push_back(at + " (" + e.command + ") replays to a different answer");
        return;
      }
      if (auto s = (*tx)->AppendEntry(e); !s) return;
    }
    if (auto s = (*tx)->Commit(); !s) return;
    if (page->size() < kPage) break;
  }
  auto stored = store.ProjectionDigest();
  auto replayed = (*fresh)->ProjectionDigest();
  if (!stored || !replayed) {
    report.problems.push_back("cannot digest the projection");
    return;
  }
  if (*stored != *replayed) {
    report.problems.push_back("the stored state differs from the replay of the journal:\n stored:\n" +
                              *stored + " replayed:\n" + *replayed);
  }
}

void CheckInvariants(Transaction& tx, VerifyReport& report) {
  auto lots = tx.ListLots();
  auto accounts = tx.ListAccounts();
  if (!lots || !accounts) {
    report.problems.push_back("cannot read lots or accounts");
    return;
  }
  std::vector<Block> blocks;
  BlockId after{0};
  for (;;) {
    auto page = tx.ListBlocks(after, 100000);
    if (!page) {
      report.problems.push_back("cannot read blocks: " + page.error().message);
      return;
    }
    if (page->empty()) break;
    after = page->back().id;
    blocks.insert(blocks.end(), page->begin(), page->end());
  }
  report.blocks = static_cast<int64_t>(blocks.size());
  for (std::string& p : CheckLedgerInvariants(*lots, blocks, *accounts)) {
    report.problems.push_back("invariant: " + std::move(p));
  }
}

}  // namespace

VerifyReport Verify(Store& store, const journal::PublicKey& key, const StoreFactory& scratch) {
  VerifyReport report;
  {
    auto tx = store.BeginRead();
    if (!tx) {
      report.problems.push_back("cannot open the database: " + tx.error().message);
      return report;
    }
    CheckChain(**tx, key, report);
    CheckInvariants(**tx, report);
  }
  if (report.ok()) Replay(store, scratch, report);
  return report;
}

}  // namespace registry::service
