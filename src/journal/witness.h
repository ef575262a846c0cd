// The journal head, anchored outside the database (issue 33, item 4).
//
// The journal proves that nothing in it was changed, but not that nothing was cut off: a
// truncated or rolled-back copy of the database (an older backup put back) is a valid journal of
// its own and verifies under today's public key. What anchors the head is a record kept elsewhere
// of a (sequence, hash) the journal once reached: the head an operator published (`jcmreg head`,
// printed as SEQ:HASHHEX, e.g. in a report) or the witness file `jcmreg serve --witness FILE`
// appends to after every commit. `verify` given such heads fails when the journal is shorter than
// one of them (truncated, rolled back) or has another hash at its sequence (rewritten, forked);
// a journal that went on past them passes (it grew).
//
// The witness file is text, one line per seal (a committed batch), appended in commit order:
//
//   SEQ:HASHHEX TIME\n        e.g. 42:9f86d0...0a08 2026-12-03T10:00:00Z
//
// SEQ is the batch's last journal sequence, HASHHEX that entry's hash (64 lowercase hex), TIME
// when it was sealed (a batch's entries' time; `serve` also seals the head it starts on). A line
// is written only after its batch is durable, so the file is never ahead of the database it
// witnesses: after any crash the database's head is at or past the file's last line.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/store.h"

namespace registry::journal {

// A journal head: the sequence of an entry and its hash. {0, all zero} is the empty journal.
struct Head {
  int64_t sequence = 0;
  Hash hash{};
  bool operator==(const Head&) const = default;
};

// "SEQ:HASHHEX".
std::string FormatHead(const Head& head);
// Parses "SEQ:HASHHEX" strictly (a decimal sequence >= 0, 64 hex digits; sequence 0 only with
// the zero hash); nullopt on anything else.
std::optional<Head> ParseHead(std::string_view text);

// Reads the journal head of `store` ({0, zero} when the journal is empty).
StoreResult<Head> ReadHead(Store& store);

// Reads every head a witness file holds, in file order. Fails naming the file and line when a
// line is not "SEQ:HASHHEX[ TIME]", except a last line without its newline (a write cut by a
// crash), which is left out.
Result<std::vector<Head>, std::string> ReadWitness(const std::string& path);

// Why `store` must not take new entries under the witness's last head, or "" when it may: its
// journal is shorter than that head (a truncated or rolled-back copy) or has another entry there.
// A writer started on such a copy would fork the journal the witness saw.
std::string CheckAgainstWitness(Store& store, const Head& witnessed);

// Appends the journal's heads to a witness file (see the top of this file).
//
// Durability: each Seal write()s its line at once (O_APPEND), so a crash of the process loses
// nothing; fdatasync runs when `sync_interval` has passed since the last one (and on Sync and
// destruction), so a power failure loses at most the lines of the last interval: the file then
// lags the database, which `verify` allows (the journal grew past it). An interval of zero syncs
// every line (one more fdatasync per committed batch; docs/operations.md has the cost).
// A failed write or sync is reported once on stderr (and counted); the writer goes on, since the
// batch is already committed, and the next Seal tries again.
//
// Thread safety: one thread at a time (the registry's writer).
class Witness {
 public:
  static constexpr std::chrono::milliseconds kDefaultSyncInterval{1000};

  // Opens `path` for appending, creating it (mode 0644) if missing, and reads its last head (only
  // the file's tail is read: `verify --witness` reads the whole file). A torn last line (no
  // newline: a write cut by a crash) is cut off first. Fails when the file cannot be opened or
  // its last complete line is not a head.
  static Result<std::unique_ptr<Witness>, std::string> Open(
      const std::string& path, std::chrono::milliseconds sync_interval = kDefaultSyncInterval);
  ~Witness();
  Witness(const Witness&) = delete;
  Witness& operator=(const Witness&) = delete;

  // Appends "SEQ:HASHHEX TIME\n" for a batch whose COMMIT returned (durable).
  void Seal(const Head& head, const std::string& time);
  // fdatasyncs what Seal wrote since the last sync; false (after the stderr report) on failure.
  bool Sync();

  // The last head this file holds (read at Open, then sealed); nullopt when it is empty.
  const std::optional<Head>& last() const { return last_; }
  const std::string& path() const { return path_; }
  uint64_t failures() const { return failures_; }

 private:
  Witness(std::string path, int fd, std::chrono::milliseconds sync_interval,
          std::optional<Head> last);
  void Report(const std::string& what);

  const std::string path_;
  const int fd_;
  const std::chrono::milliseconds sync_interval_;
  std::optional<Head> last_;
  std::chrono::steady_clock::time_point last_sync_;
  bool unsynced_ = false;
  bool failing_ = false;  // Reported once until a write and sync succeed again.
  uint64_t failures_ = 0;
};

}  // namespace registry::journal
