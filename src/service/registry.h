// The registry service: executes commands against a Store, one transaction per batch, and
// appends one journal entry per applied command in the same transaction (ARCHITECTURE
// decisions 4 and 8). A batch's entries are written together before its COMMIT, the last one
// carrying the batch's seal: one Ed25519 signature per batch, never an unsealed entry durable.
//
// Thread safety: a Registry is used by one writer thread at a time (the CLI, or the HTTP
// server's writer); reads go through Store::BeginRead from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "journal/chain.h"
#include "journal/witness.h"
#include "service/command.h"

namespace registry::service {

// The source of time. Production uses the system clock; tests use a fixed or stepped clock.
class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current time as ISO 8601 UTC with seconds, e.g. "2026-01-30T09:00:00Z".
  virtual std::string Now() = 0;
};

class SystemClock final : public Clock {
 public:
  std::string Now() override;
};

// A clock that returns a set time; tests and the demo move it explicitly.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::string now) : now_(std::move(now)) {}
  std::string Now() override { return now_; }
  void Set(std::string now) { now_ = std::move(now); }

 private:
  std::string now_;
};

struct Request {
  std::string command;
  Json args;
  std::string actor;
  std::string idempotency_key;
};

struct Response {
  std::optional<Failure> failure;  // Set when the command did not apply.
  Json result;                     // The answer when it applied (or was applied before).
  Sequence sequence;               // Its journal sequence.
  bool replayed = false;           // True when the idempotency key matched an earlier command.
  bool ok() const { return !failure.has_value(); }
};

class Registry {
 public:
  // `key` seals the committed batches. `clock` must outlive the Registry.
  Registry(Store& store, journal::SigningKey key, Clock& clock);

  // Executes one command in its own transaction.
  Response Execute(const Request& request);

  // Executes the commands in order in one transaction (group commit). A refused command leaves
  // nothing behind and the others apply; if the commit fails, every response fails.
  std::vector<Response> ExecuteBatch(const std::vector<Request>& requests);

  Store& store() { return store_; }

  // After the COMMIT of every batch that appended entries, its new journal head is sealed into
  // `witness` (journal/witness.h), on the writing thread; nullptr (the default) seals nothing.
  // `witness` must outlive the Registry, or be unset first.
  void SetWitness(journal::Witness* witness) { witness_ = witness; }

 private:
  struct Batch;  // The journal entries of a batch, written at its end (registry.cc).

  // Applies one command; when it applies, adds its journal entry to `batch`.
  Response ApplyOne(Transaction& tx, const Request& request, const std::string& now,
                    Batch& batch);

  // One attempt at a batch in one transaction, with or without a savepoint per command.
  // Without, it stops and sets `needs_savepoints` when a refused command had written rows.
  std::vector<Response> RunBatch(const std::vector<Request>& requests, bool savepoints,
                                 bool& needs_savepoints);

  Store& store_;
  Clock& clock_;
  const journal::SigningKey key_;
  journal::Witness* witness_ = nullptr;
};

// Applies a journaled command without journaling it (used by replay). Exposed for verify.
CommandResult<Json> ApplyCommand(Transaction& tx, const std::string& command, const Json& args,
                                 const Context& ctx);

}  // namespace registry::service
