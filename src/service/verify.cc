#include "service/verify.h"

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/invariants.h"
#include "service/json_text.h"
#include "service/registry.h"

namespace registry::service {
namespace {

constexpr size_t kPage = 5000;

std::string Short(const journal::PublicKey& key) { return journal::ToHex(key).substr(0, 16) + "..."; }

// Pass 1: the rotations, in journal order (a malformed key.rotate entry is skipped here and
// reported by pass 2). The key that signs entry 1 is the old key of the first rotation, or,
// without rotations, the key the verifier trusts.
bool ReadRotations(Transaction& tx, std::vector<journal::Rotation>& rotations,
                   VerifyReport& report) {
  Sequence after{0};
  for (;;) {
    auto page = tx.ReadEntries(after, kPage);
    if (!page) {
      report.problems.push_back("cannot read the journal: " + page.error().message);
      return false;
    }
    for (const JournalEntry& e : *page) {
      after = e.sequence;
      if (e.command != journal::kRotateCommand) continue;
      if (auto r = journal::ParseRotation(e)) rotations.push_back(*r);
    }
    if (page->size() < kPage) return true;
  }
}

// What the checker threads find in one page of entries: whether each entry's content matches
// its hash, and whether each seal in the page is a good signature by the key in force at its
// entry (starting from `in_force` and following the rotations in the page as CheckChain does).
struct PageChecks {
  std::vector<char> hash_valid;
  std::vector<char> seal_valid;  // Meaningful only for the entries that carry a seal.
};

// The threads a page is checked on: every core (hashing and the seals' Ed25519 checks are
// independent per entry), at most kCheckersMax.
size_t CheckerThreads() {
  constexpr size_t kCheckersMax = 16;
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kCheckersMax);
}

// Checks `page` on threads of its own (a seal's signature check costs ~45-75 us, an entry's
// hash ~1 us), so that the caller's thread can read the next page meanwhile. Join() before
// reading the results; the page must stay in place until then.
class PageChecker {
 public:
  PageChecker(const std::vector<JournalEntry>& page, journal::PublicKey in_force)
      : page_(page), keys_(page.size()) {
    for (size_t i = 0; i < page.size(); ++i) {
      keys_[i] = in_force;
      if (page[i].command != journal::kRotateCommand) continue;
      if (const auto rotation = journal::ParseRotation(page[i])) in_force = rotation->new_key;
    }
    checks_.hash_valid.assign(page.size(), 0);
    checks_.seal_valid.assign(page.size(), 0);
    const size_t threads = std::min(CheckerThreads(), std::max<size_t>(page.size(), 1));
    for (size_t t = 0; t < threads; ++t) {
      const size_t begin = page.size() * t / threads;
      const size_t end = page.size() * (t + 1) / threads;
      threads_.emplace_back([this, begin, end] { Check(begin, end); });
    }
  }
  PageChecker(const PageChecker&) = delete;
  PageChecker& operator=(const PageChecker&) = delete;
  ~PageChecker() { Join(); }

  const PageChecks& Join() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
    return checks_;
  }

 private:
  void Check(size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const JournalEntry& e = page_[i];
      checks_.hash_valid[i] = journal::EntryHash(e) == e.hash ? 1 : 0;
      if (e.seal.has_value()) checks_.seal_valid[i] = journal::VerifySeal(keys_[i], e) ? 1 : 0;
    }
  }

  const std::vector<JournalEntry>& page_;
  std::vector<journal::PublicKey> keys_;
  PageChecks checks_;
  std::vector<std::thread> threads_;
};

// Checks, walking the journal in order, that the seals cover every entry exactly once: each
// seal starts right after the one before ends (no entry left between, none covered twice), a
// key.rotate is the last entry of its seal (sealed by the old key; what follows by the new
// one), and the journal's last entry carries a seal (no unsealed entry is ever committed, so a
// tail without one is a batch cut short or a seal deleted).
class SealCoverage {
 public:
  void See(const JournalEntry& e, VerifyReport& report) {
    if (!e.seal.has_value()) {
      if (e.command == journal::kRotateCommand && rotation_ == 0) rotation_ = e.sequence.value;
      return;
    }
    const int64_t first = e.seal->first.value;
    const int64_t last = e.sequence.value;
    const std::string range = std::to_string(first) + "-" + std::to_string(last);
    const std::string at = "journal entry " + std::to_string(last);
    if (first < 1 || first > last) {
      report.problems.push_back(at + ": its seal names the range " + range +
                                ", which does not end at it");
    } else if (first < open_from_) {
      report.problems.push_back(
          at + ": its seal covers entries " + range + ", overlapping the seal that ends at entry " +
          std::to_string(open_from_ - 1) + " (a seal moved or its range changed)");
    } else if (first > open_from_) {
      report.problems.push_back(Uncovered(open_from_, first - 1) + " (before the seal of " + range +
                                ": a seal deleted or its range changed)");
    }
    if (rotation_ != 0 && rotation_ >= first && rotation_ < last) {
      report.problems.push_back("journal entry " + std::to_string(rotation_) +
                                ": key.rotate inside the seal of entries " + range +
                                "; a rotation is sealed alone by the old key");
    }
    rotation_ = 0;
    open_from_ = std::max(open_from_, last + 1);
  }

  // After the journal's last entry `last`.
  void End(int64_t last, VerifyReport& report) const {
    if (open_from_ > last) return;
    report.problems.push_back(Uncovered(open_from_, last) +
                              ": the journal's last entry must carry a seal (a batch cut short, "
                              "or its seal deleted)");
  }

 private:
  static std::string Uncovered(int64_t from, int64_t to) {
    return "journal entry " + std::to_string(from) + ": entries " + std::to_string(from) + "-" +
           std::to_string(to) + " are covered by no seal";
  }

  int64_t open_from_ = 1;  // The first entry no seal covers yet.
  int64_t rotation_ = 0;   // A key.rotate in the open range, not yet sealed (0: none).
};

// The expected heads, sorted by sequence, checked as CheckChain walks the journal.
class ExpectedHeads {
 public:
  explicit ExpectedHeads(std::vector<journal::Head> heads) : heads_(std::move(heads)) {
    std::sort(heads_.begin(), heads_.end(), [](const journal::Head& a, const journal::Head& b) {
      return a.sequence < b.sequence;
    });
    while (next_ < heads_.size() && heads_[next_].sequence == 0) ++next_;  // The empty journal.
  }

  // Checks `e` against every expected head at its sequence.
  void See(const JournalEntry& e, VerifyReport& report) {
    while (next_ < heads_.size() && heads_[next_].sequence <= e.sequence.value) {
      const journal::Head& head = heads_[next_++];
      if (head.sequence == e.sequence.value && head.hash != e.hash) {
        report.problems.push_back(
            "journal entry " + std::to_string(e.sequence.value) + ": its hash " +
            journal::ToHex(e.hash).substr(0, 16) + "... is not the expected head's " +
            journal::ToHex(head.hash).substr(0, 16) + "... (" + journal::FormatHead(head) +
            "): the journal was rewritten or forked after that head");
      }
    }
  }

  // After the last entry `end`: an expected head beyond it means entries are missing.
  void End(int64_t end, VerifyReport& report) const {
    if (next_ >= heads_.size()) return;
    const journal::Head& furthest = heads_.back();
    report.problems.push_back(
        "the journal ends at entry " + std::to_string(end) + " but the expected head is entry " +
        std::to_string(furthest.sequence) + " (" + journal::FormatHead(furthest) +
        "): a truncated or rolled-back copy (" + std::to_string(heads_.size() - next_) +
        " expected head(s) beyond its end)");
  }

 private:
  std::vector<journal::Head> heads_;
  size_t next_ = 0;
};

// Reports a seal that is not a good signature by the key in force at its entry (naming the
// retired key that made it, if one did), or that names another key than the one that made it.
void CheckSeal(const JournalEntry& e, bool valid, const journal::PublicKey& in_force,
               const std::vector<std::pair<journal::PublicKey, int64_t>>& retired,
               VerifyReport& report) {
  const std::string at = "journal entry " + std::to_string(e.sequence.value);
  const std::string range =
      std::to_string(e.seal->first.value) + "-" + std::to_string(e.sequence.value);
  if (!valid) {
    std::string problem = at + ": the seal of entries " + range +
                          " is invalid (no signature by the key in force " + Short(in_force) +
                          " over that range and this entry's hash)";
    for (const auto& [old, rotated_at] : retired) {
      if (journal::VerifySeal(old, e)) {
        problem = at + ": sealed by the retired key " + Short(old) + " (retired by entry " +
                  std::to_string(rotated_at) + "), not by the key in force " + Short(in_force);
        break;
      }
    }
    report.problems.push_back(problem);
    return;
  }
  if (e.seal->key.has_value() && *e.seal->key != in_force) {
    report.problems.push_back(at + ": the seal of entries " + range + " names the key " +
                              Short(*e.seal->key) + " but was made by the key in force " +
                              Short(in_force));
  }
}

// Pass 2: the chain, each entry's hash, each seal under the key in force at its entry, and the
// seals' coverage. The chain of keys must end at `trusted`.
void CheckChain(Transaction& tx, const journal::PublicKey& trusted, ExpectedHeads& expected,
                VerifyReport& report, const std::function<void(int64_t)>& progress) {
  std::vector<journal::Rotation> rotations;
  if (!ReadRotations(tx, rotations, report)) return;
  journal::PublicKey in_force = rotations.empty() ? trusted : rotations.front().old_key;
  std::vector<std::pair<journal::PublicKey, int64_t>> retired;  // key, the rotation retiring it
  Hash prev{};
  Sequence after{0};
  SealCoverage coverage;
  // Page k is checked by the checker threads while this one reads page k + 1; then this one
  // walks page k in order (sequences, the chain, the seals' coverage, the rotations: what sets
  // the key in force for page k + 1).
  auto page = tx.ReadEntries(after, kPage);
  while (page) {
    std::vector<JournalEntry> entries = std::move(page).value();
    if (entries.empty()) break;
    PageChecker checker(entries, in_force);
    if (entries.size() == kPage) {
      page = tx.ReadEntries(entries.back().sequence, kPage);
    } else {
      page = std::vector<JournalEntry>();
    }
    const PageChecks& checks = checker.Join();
    for (size_t i = 0; i < entries.size(); ++i) {
      const JournalEntry& e = entries[i];
      const std::string at = "journal entry " + std::to_string(e.sequence.value);
      if (e.sequence.value != after.value + 1) {
        report.problems.push_back(at + ": sequence gap after " + std::to_string(after.value));
      }
      if (e.prev_hash != prev) report.problems.push_back(at + ": prev_hash does not chain");
      if (checks.hash_valid[i] == 0) {
        report.problems.push_back(at + ": content does not match its hash (tampered)");
      }
      if (e.seal.has_value()) CheckSeal(e, checks.seal_valid[i] != 0, in_force, retired, report);
      coverage.See(e, report);
      if (e.command == journal::kRotateCommand) {
        const auto rotation = journal::ParseRotation(e);
        if (!rotation) {
          report.problems.push_back(at + ": malformed key.rotate entry");
        } else {
          if (rotation->old_key != in_force) {
            report.problems.push_back(at + ": key.rotate names the old key " +
                                      Short(rotation->old_key) + " but the key in force is " +
                                      Short(in_force));
          }
          bool reused = rotation->new_key == in_force;
          for (const auto& r : retired) reused = reused || r.first == rotation->new_key;
          if (reused) {
            report.problems.push_back(at + ": key.rotate brings back a retired key " +
                                      Short(rotation->new_key));
          }
          retired.emplace_back(in_force, e.sequence.value);
          in_force = rotation->new_key;
        }
      }
      expected.See(e, report);
      prev = e.hash;
      after = e.sequence;
      ++report.entries;
      if (report.problems.size() > 100) return;
    }
    if (progress) progress(report.entries);
  }
  if (!page) {
    report.problems.push_back("cannot read the journal: " + page.error().message);
    return;
  }
  coverage.End(after.value, report);
  expected.End(after.value, report);
  if (!rotations.empty() && in_force != trusted) {
    std::string problem = "the trusted public key " + Short(trusted) +
                          " is not the journal's key in force " + Short(in_force);
    for (const auto& [old, rotated_at] : retired) {
      if (old == trusted) {
        problem = "the trusted public key " + Short(trusted) + " was retired by journal entry " +
                  std::to_string(rotated_at) + "; the key in force is " + Short(in_force) +
                  " (use the current .pub file)";
      }
    }
    report.problems.push_back(problem);
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
      const std::string at = "journal entry " + std::to_string(e.sequence.value);
      if (e.command == journal::kRotateCommand) {
        // Not a registry command: its only effect is the signing_key document.
        const auto rotation = journal::ParseRotation(e);
        if (!rotation) {
          report.problems.push_back(at + " (key.rotate) does not replay: malformed");
          return;
        }
        auto answer = journal::ApplyRotation(**tx, *rotation);
        if (!answer || *answer != e.result) {
          report.problems.push_back(at + " (key.rotate) replays to a different answer");
          return;
        }
        if (auto s = (*tx)->AppendEntry(e); !s) return;
        continue;
      }
      const Json args = Json::parse(e.payload, nullptr, false);
      const Context ctx{e.sequence, e.time, e.actor};
      auto result = ApplyCommand(**tx, e.command, args, ctx);
      if (!result) {
        report.problems.push_back(at + " (" + e.command + ") does not replay: " +
                                  result.error().Message());
        return;
      }
      if (DumpJson(*result) != e.result) {
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

// Pages through every block of `tx` in id order.
template <typename Visit>
bool ForEachBlock(Transaction& tx, VerifyReport& report, const Visit& visit) {
  BlockId after{0};
  for (;;) {
    auto page = tx.ListBlocks(after, 10000);
    if (!page) {
      report.problems.push_back("cannot read blocks: " + page.error().message);
      return false;
    }
    if (page->empty()) return true;
    after = page->back().id;
    for (const Block& b : *page) visit(b);
  }
}

// The ledger invariants. A healthy ledger is checked as a stream (memory bounded by the live
// blocks, however long the history); only when the stream finds a violation are all blocks
// loaded, to name each problem.
void CheckInvariants(Transaction& tx, VerifyReport& report) {
  auto accounts = tx.ListAccounts();
  if (!accounts) {
    report.problems.push_back("cannot read accounts: " + accounts.error().message);
    return;
  }
  LedgerInvariantStream stream({}, *accounts, [&tx](BlockId id) -> std::optional<Block> {
    auto block = tx.GetBlock(id);
    return block ? *block : std::nullopt;
  });
  // The stream keeps each lot's range; the lots are read a page at a time, and whole again only
  // to name a violation.
  std::map<std::string, std::string> host_of;  // Project reference -> host Party, as read.
  for (IssuanceId after{0};;) {
    auto page = tx.ListLotsAfter(after, kPage);
    if (!page) {
      report.problems.push_back("cannot read lots: " + page.error().message);
      return;
    }
    if (page->empty()) break;
    after = page->back().id;
    stream.AddLots(*page);
    // ARCHITECTURE decision 11: an ITMO's first transferring Party is its project's host. A
    // registry written before the rule (issue 27) holds ITMO lots of the issuing side: named
    // here, so that such a database is refused clearly rather than by a replay difference.
    for (const IssuanceLot& lot : *page) {
      if (!lot.itmo) continue;
      auto found = host_of.find(lot.project.value);
      if (found == host_of.end()) {
        auto doc = tx.GetDocument("project", lot.project.value);
        std::string host;
        if (doc && doc->has_value()) {
          const Json body = Json::parse((*doc)->body, nullptr, false);
          if (body.is_object()) host = body.value("host_party", "");
        }
        found = host_of.emplace(lot.project.value, host).first;
      }
      if (!found->second.empty() && found->second != lot.first_transferring_party.value) {
        report.problems.push_back(
            "ITMO lot " + std::to_string(lot.id.value) + " of " + lot.project.value + " names " +
            lot.first_transferring_party.value +
            " as its first transferring Party, not the project's host " + found->second +
            ": written under the rule before ARCHITECTURE decision 11 (docs/article6.md, "
            "\"Registries written before decision 11\")");
      }
    }
  }
  if (!ForEachBlock(tx, report, [&](const Block& b) { stream.Add(b); })) return;
  report.blocks = stream.blocks();
  if (stream.Finish()) return;
  auto lots = tx.ListLots();
  if (!lots) {
    report.problems.push_back("cannot read lots: " + lots.error().message);
    return;
  }
  std::vector<Block> blocks;
  if (!ForEachBlock(tx, report, [&](const Block& b) { blocks.push_back(b); })) return;
  std::vector<std::string> problems = CheckLedgerInvariants(*lots, blocks, *accounts);
  for (std::string& p : problems) report.problems.push_back("invariant: " + std::move(p));
}

}  // namespace

VerifyReport Verify(Store& store, const journal::PublicKey& key, const StoreFactory& scratch,
                    const VerifyOptions& options) {
  // The chain (hashes, seals) and the replay are independent reads of the journal: they run on
  // threads of their own. The replay's findings count only when the chain holds: a journal that
  // does not chain is reported as such.
  VerifyReport replayed;
  std::thread replay([&] { Replay(store, scratch, replayed); });
  VerifyReport report;
  {
    auto tx = store.BeginRead();
    if (!tx) {
      report.problems.push_back("cannot open the database: " + tx.error().message);
    } else {
      ExpectedHeads expected(options.expected_heads);
      CheckChain(**tx, key, expected, report, options.progress);
      CheckInvariants(**tx, report);
    }
  }
  replay.join();
  if (report.ok()) {
    for (std::string& p : replayed.problems) report.problems.push_back(std::move(p));
  }
  return report;
}

}  // namespace registry::service
