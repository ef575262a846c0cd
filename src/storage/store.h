// The storage interface: everything the service reads and writes, in domain types, never SQL.
// Two engines implement it: sqlite/ (the embedded default) and postgres/.
//
// Contract for every engine:
//   - Atomicity: a Transaction that is not committed rolls back when destroyed.
//   - Isolation: a Transaction sees a consistent snapshot and writes serialize (SQLite:
//     BEGIN IMMEDIATE; PostgreSQL: SERIALIZABLE or row locks + the journal head lock).
//   - Durability: Commit() returns only once the data is durable (SQLite: WAL, synchronous=FULL).
//   - Savepoints nest inside a transaction, so the writer can batch many commands in one commit
//     and roll back one command without the others (group commit).
//   - Errors are values: Error{code, message}; kConflict means "retry the whole command".
//
// Low-volume reference data (Parties, registries, entities, projects, authorizations, users,
// proposals, ...) are stored as versioned JSON documents keyed by (kind, key); the ledger's hot
// path (accounts, lots, blocks, reservations, journal) has typed tables.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace registry {

enum class ErrorCode {
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kConflict,
  kUnavailable,
  kCorruption,
  kInternal,
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <class T>
using StoreResult = Result<T, Error>;
using StoreStatus = Status<Error>;

using Hash = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

using PublicKeyBytes = std::array<uint8_t, 32>;

// The registry's Ed25519 signature over a committed batch (ARCHITECTURE decision 4, revised):
// carried by the batch's last entry, it covers the entries first..that entry and signs the
// range with the last entry's hash, which the chain binds to every entry before it
// (journal/chain.h, SealMessage). Written in the batch's own transaction, so no entry is ever
// durable without the seal that covers it.
struct Seal {
  Sequence first;  // The batch's first entry; the entry carrying the seal is its last.
  // The key that signed. nullopt: a signature written before seals (schema 5 and older: one per
  // entry, over the bare hash), which is a seal of its own entry alone by the key then in force.
  std::optional<PublicKeyBytes> key;
  Signature signature{};
};

// One journal entry (ARCHITECTURE decision 4). hash = SHA-256 over the canonical encoding of
// every other field but the seal (journal/chain.h). Only the last entry of each committed batch
// carries a seal.
struct JournalEntry {
  Sequence sequence;
  std::string time;             // ISO 8601 UTC, e.g. "2026-01-30T09:00:00Z".
  std::string actor;
  std::string idempotency_key;  // May be empty.
  std::string command;          // e.g. "transfer".
  std::string payload;          // Canonical JSON of the command's arguments.
  std::string result;           // Canonical JSON of the answer given.
  Hash prev_hash{};
  Hash hash{};
  std::optional<Seal> seal;
};

// A versioned JSON document of reference data. version starts at 1 and grows by one per write.
struct Document {
  std::string kind;  // e.g. "party", "registry", "entity", "project", "authorization"
  std::string key;   // e.g. "JPN", "JPN01", "TH014"
  int64_t version = 0;
  std::string body;  // Canonical JSON.
  Sequence updated;  // Journal sequence of the last write.
};

// Serials of an account held by a pending four-eyes proposal (service/proposal.h). The
// reservations of one account never overlap: InsertReservation refuses one that would.
struct Reservation {
  AccountId account;
  SerialRange range;
  int64_t proposal = 0;
};

// The error both engines give for a reservation that is not there (kNotFound).
inline Error ReservationMissingError(AccountId account, int64_t first, int64_t proposal) {
  return Error{ErrorCode::kNotFound, "proposal " + std::to_string(proposal) +
                                         " reserves no serials of account " +
                                         std::to_string(account.value) + " from " +
                                         std::to_string(first)};
}

// Filter for the live blocks of one account. Unset fields match everything.
struct BlockFilter {
  std::optional<ProjectRef> project;
  std::optional<Vintage> vintage;
  std::optional<IssuanceId> lot;
};

// The kinds of documents that decide who a token is: a write of one of them moves the access
// generation (Transaction::AccessGeneration).
inline bool IsAccessKind(std::string_view kind) { return kind == "user" || kind == "token"; }

class Transaction {
 public:
  virtual ~Transaction() = default;

  // ---- Documents.
  virtual StoreResult<std::optional<Document>> GetDocument(const std::string& kind,
                                                           const std::string& key) = 0;
  // Writes a new version of (kind, key): the stored version + 1 (1 if absent).
  virtual StoreResult<int64_t> PutDocument(const std::string& kind, const std::string& key,
                                           const std::string& body, Sequence updated) = 0;
  // Returns the documents of one kind ordered by key, at most `limit`, keys > `after`.
  virtual StoreResult<std::vector<Document>> ListDocuments(const std::string& kind,
                                                           const std::string& after,
                                                           size_t limit) = 0;
  // Returns every stored version of (kind, key), oldest first.
  virtual StoreResult<std::vector<Document>> DocumentHistory(const std::string& kind,
                                                             const std::string& key) = 0;
  // A number that grows with every write of a document of an access kind (IsAccessKind: users
  // and tokens), whichever process makes it: while it is unchanged, so is everything that
  // authenticates a token (service::AccessCache). The write and its increment commit together.
  virtual StoreResult<int64_t> AccessGeneration() = 0;

  // ---- Accounts.
  virtual StoreResult<std::optional<Account>> GetAccount(AccountId id) = 0;
  // Inserts an account; its id is assigned by the store (the next integer) and returned.
  virtual StoreResult<AccountId> InsertAccount(const Account& account) = 0;
  virtual StoreStatus SetAccountStatus(AccountId id, AccountStatus status) = 0;
  virtual StoreResult<std::vector<Account>> ListAccounts() = 0;

  // ---- Serial numbers: the next free serial of a registry (1 for a new registry).
  virtual StoreResult<int64_t> NextSerial(const RegistryCode& registry) = 0;
  virtual StoreStatus SetNextSerial(const RegistryCode& registry, int64_t next) = 0;

  // ---- Lots and blocks.
  virtual StoreResult<IssuanceId> InsertLot(const IssuanceLot& lot) = 0;
  virtual StoreResult<std::optional<IssuanceLot>> GetLot(IssuanceId id) = 0;
  // Every lot by id (reports, verify: their number grows with issuances, not with movements).
  virtual StoreResult<std::vector<IssuanceLot>> ListLots() = 0;
  // Lots with id > after, ascending, at most limit (a page of the public list).
  virtual StoreResult<std::vector<IssuanceLot>> ListLotsAfter(IssuanceId after, size_t limit) = 0;
  virtual StoreResult<BlockId> InsertBlock(const Block& block) = 0;
  // Closes a live block at `sequence`; kFailedPrecondition if it is closed already.
  virtual StoreStatus CloseBlock(BlockId id, Sequence sequence) = 0;
  virtual StoreResult<std::optional<Block>> GetBlock(BlockId id) = 0;
  // Live blocks of an account matching the filter, ascending by first serial, at most `limit`.
  virtual StoreResult<std::vector<Block>> LiveBlocks(AccountId account, const BlockFilter& filter,
                                                     size_t limit) = 0;
  // Live blocks of an account overlapping [range] of the account's registry.
  virtual StoreResult<std::vector<Block>> LiveBlocksOverlapping(AccountId account,
                                                                const RegistryCode& registry,
                                                                const SerialRange& range) = 0;
  // One page of an account's holding: its blocks live now (`at` unset) or live at `at` (created
  // <= at and not closed or closed > at), with first serial > `after_first`, ascending by first
  // serial, at most `limit`. Both walk indexes in serial order from `after_first`: the live
  // blocks', and at `at` those merged with the closed blocks' (migration 3).
  virtual StoreResult<std::vector<Block>> HoldingPage(AccountId account, std::optional<Sequence> at,
                                                      int64_t after_first, size_t limit) = 0;
  // The number of blocks and tonnes of that holding (summed by the engine).
  virtual StoreResult<std::pair<int64_t, int64_t>> HoldingTotal(AccountId account,
                                                                std::optional<Sequence> at) = 0;
  // Every block, live or closed, whose range holds `serial` in `registry`, oldest first.
  virtual StoreResult<std::vector<Block>> BlocksHoldingSerial(const RegistryCode& registry,
                                                              int64_t serial) = 0;
  // Tonnes in live blocks per account, accounts without any left out, ascending by account (the
  // public totals: computed by the engine, so memory grows with accounts, not blocks).
  virtual StoreResult<std::vector<std::pair<AccountId, int64_t>>> LiveTonnesByAccount() = 0;
  // Every block ordered by id (for verify and reports). Bounded by the caller via `after`/`limit`.
  virtual StoreResult<std::vector<Block>> ListBlocks(BlockId after, size_t limit) = 0;

  // ---- Reservations: one row per range a pending proposal holds, so that checking a movement
  // against them costs O(log n) whatever the number of pending proposals.
  // Inserts a reservation; kFailedPrecondition if it overlaps one of the same account (checked
  // here for every engine, which then writes the row).
  StoreStatus InsertReservation(const Reservation& r) {
    auto overlapping = ReservationsOverlapping(r.account, r.range, 1);
    if (!overlapping) return Fail(overlapping.error());
    if (!overlapping->empty()) {
      return Fail(Error{ErrorCode::kFailedPrecondition,
                        "serials " + std::to_string(r.range.first) + "-" +
                            std::to_string(r.range.last) + " of account " +
                            std::to_string(r.account.value) + " overlap those reserved by proposal " +
                            std::to_string(overlapping->front().proposal)});
    }
    return InsertReservationRow(r);
  }
  // Deletes the reservation of `account` that starts at `first` and belongs to `proposal`;
  // kNotFound if there is none.
  virtual StoreStatus DeleteReservation(AccountId account, int64_t first, int64_t proposal) = 0;
  // Reservations of `account` overlapping `range`, ascending by first serial, at most `limit`.
  virtual StoreResult<std::vector<Reservation>> ReservationsOverlapping(AccountId account,
                                                                        const SerialRange& range,
                                                                        size_t limit) = 0;
  // Whether at least `count` distinct proposals hold serials of `account`. Every proposal holds
  // at least one row, so while the account has fewer rows than `count` the answer is no from
  // one count along the primary key; the distinct proposals (a temporary table) are counted only
  // beyond that (it was a third of a proposal's creation, docs/benchmarks.md).
  virtual StoreResult<bool> ReservingProposalsReach(AccountId account, int64_t count) = 0;

  // ---- Journal.
  virtual StoreResult<std::optional<JournalEntry>> LastEntry() = 0;
  virtual StoreStatus AppendEntry(const JournalEntry& entry) = 0;
  virtual StoreResult<std::optional<JournalEntry>> EntryByIdempotencyKey(
      const std::string& key) = 0;
  // Entries with sequence > after, ascending, at most limit.
  virtual StoreResult<std::vector<JournalEntry>> ReadEntries(Sequence after, size_t limit) = 0;
  // The last sequence whose time is <= `time` (ISO 8601 compare), or 0.
  virtual StoreResult<Sequence> SequenceAtTime(const std::string& time) = 0;

  // ---- Savepoints and commit.
  virtual StoreStatus Savepoint() = 0;
  virtual StoreStatus ReleaseSavepoint() = 0;
  virtual StoreStatus RollbackToSavepoint() = 0;
  virtual StoreStatus Commit() = 0;

  // Rows written so far by this transaction's connection (counting writes later rolled back),
  // or nullopt when the engine does not count them. With a count, the registry runs a batch
  // without a savepoint per command and falls back to savepoints only when a refused command
  // had written something (service/registry.cc).
  virtual std::optional<int64_t> ChangeCount() { return std::nullopt; }

 protected:
  // Writes the row of a reservation InsertReservation has found free.
  virtual StoreStatus InsertReservationRow(const Reservation& reservation) = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  // Begins a write transaction (exclusive of other writers until it ends).
  virtual StoreResult<std::unique_ptr<Transaction>> Begin() = 0;
  // Begins a read-only transaction on a consistent snapshot; safe from any thread, concurrent
  // with the writer. Its write methods fail with kFailedPrecondition.
  virtual StoreResult<std::unique_ptr<Transaction>> BeginRead() = 0;
  // Returns a digest of every projection table (everything but the journal), in a canonical
  // order, and a per-table row count, used by verify to compare a replay with the stored state.
  virtual StoreResult<std::string> ProjectionDigest() = 0;
};

}  // namespace registry
