#include "service/registry.h"

#include <ctime>
#include <deque>
#include <string_view>
#include <unordered_map>

#include "core/limits.h"
#include "service/fields.h"
#include "service/json_text.h"
#include "service/proposal.h"
#include "service/values.h"

namespace registry::service {

std::string SystemClock::Now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Registry::Registry(Store& store, journal::SigningKey key, Clock& clock)
    : store_(store), clock_(clock), key_(key) {}

CommandResult<Json> ApplyCommand(Transaction& tx, const std::string& command, const Json& args,
                                 const Context& ctx) {
  const auto& table = Handlers();
  const auto it = table.find(command);
  if (it == table.end()) {
    return Fail(Failure::Refused(Check::kUnknownCommand, "unknown command '" + command + "'"));
  }
  if (!args.is_object()) {
    return Fail(Failure::Refused(Check::kMalformedRequest, "arguments must be a JSON object"));
  }
  return it->second(tx, args, ctx);
}

// The journal entries a batch has applied so far. Nothing in a command reads the journal, so
// the entries wait here until the end of the batch, when the last one is sealed and they are
// written together just before COMMIT.
struct Registry::Batch {
  std::optional<JournalEntry> last;   // The journal head before the batch (nullopt: empty).
  std::deque<JournalEntry> entries;   // Appended in order; a deque keeps their addresses.
  // Idempotency keys of `entries`, so a key repeated within the batch is seen as a replay.
  std::unordered_map<std::string_view, const JournalEntry*> by_key;

  const JournalEntry* Head() const {
    if (!entries.empty()) return &entries.back();
    return last.has_value() ? &*last : nullptr;
  }
};

Response Registry::ApplyOne(Transaction& tx, const Request& request, const std::string& now,
                            Batch& batch) {
  Response response;
  if (request.idempotency_key.size() > kIdempotencyKeyBytesMax) {
    response.failure = Failure::Refused(Check::kFieldInvalid, "the idempotency key is too long");
    return response;
  }
  // A new proposal by quantity journals the rule that resolves it (service/proposal.h).
  const std::optional<Json> ruled = WithQuantityRule(request.command, request.args);
  const Json& args = ruled ? *ruled : request.args;
  std::string payload = DumpJson(args);
  if (!request.idempotency_key.empty()) {
    std::optional<JournalEntry> stored;
    const JournalEntry* earlier = nullptr;
    if (const auto it = batch.by_key.find(request.idempotency_key); it != batch.by_key.end()) {
      earlier = it->second;
    } else {
      auto read = tx.EntryByIdempotencyKey(request.idempotency_key);
      if (!read) {
        response.failure = Failure::Of(read.error());
        return response;
      }
      stored = std::move(read).value();
      if (stored.has_value()) earlier = &*stored;
    }
    if (earlier != nullptr) {
      if (earlier->command != request.command || earlier->payload != payload ||
          earlier->actor != request.actor) {
        response.failure = Failure::Refused(
            Check::kIdempotencyKeyReused,
            "idempotency key '" + request.idempotency_key + "' was used for entry " +
                std::to_string(earlier->sequence.value) + " with a different request");
        return response;
      }
      response.result = Json::parse(earlier->result);
      response.sequence = earlier->sequence;
      response.replayed = true;
      return response;
    }
  }
  // A field no command takes is refused, on live requests only (service/fields.h); after the
  // idempotency check, so the retry of a request journaled before the check still gets its
  // first answer.
  if (auto unknown = CheckFields(request.command, request.args)) {
    response.failure = std::move(unknown);
    return response;
  }
  // So are dates that are no calendar date, ranges out of order and values outside the
  // nomenclature (service/values.h), on live requests only for the same reason.
  if (auto invalid = CheckValues(tx, request.command, args, now)) {
    response.failure = std::move(invalid);
    return response;
  }
  const JournalEntry* head = batch.Head();
  const Sequence sequence{head != nullptr ? head->sequence.value + 1 : 1};
  const Context ctx{sequence, now, request.actor};
  auto result = ApplyCommand(tx, request.command, args, ctx);
  if (!result) {
    response.failure = std::move(result).error();
    return response;
  }
  JournalEntry& entry = batch.entries.emplace_back();
  entry.sequence = sequence;
  entry.time = now;
  entry.actor = request.actor;
  entry.idempotency_key = request.idempotency_key;
  entry.command = request.command;
  entry.payload = std::move(payload);
  if (head != nullptr) entry.prev_hash = head->hash;
  entry.result = DumpJson(*result);
  entry.hash = journal::EntryHash(entry);
  if (!entry.idempotency_key.empty()) batch.by_key.emplace(entry.idempotency_key, &entry);
  response.result = std::move(result).value();
  response.sequence = entry.sequence;
  return response;
}

Response Registry::Execute(const Request& request) {
  auto responses = ExecuteBatch({request});
  return std::move(responses.front());
}

std::vector<Response> Registry::ExecuteBatch(const std::vector<Request>& requests) {
  // First without a savepoint per command (they cost ~13 us each on SQLite: every page a command
  // touches is copied into the statement journal). A command that is refused or replayed
  // without having written anything leaves nothing to undo. If one wrote before it was
  // refused, the whole transaction is rolled back, nothing of it is answered, and the batch
  // runs again from the start with a savepoint per command.
  bool needs_savepoints = false;
  std::vector<Response> responses = RunBatch(requests, false, needs_savepoints);
  if (needs_savepoints) responses = RunBatch(requests, true, needs_savepoints);
  return responses;
}

std::vector<Response> Registry::RunBatch(const std::vector<Request>& requests, bool savepoints,
                                         bool& needs_savepoints) {
  std::vector<Response> responses(requests.size());
  auto fail_all = [&](const Error& error) {
    for (Response& r : responses) {
      r = Response{};
      r.failure = Failure::Of(error);
    }
    return responses;
  };
  auto tx = store_.Begin();
  if (!tx) return fail_all(tx.error());
  // An engine that does not count its writes always runs with savepoints.
  if (!(*tx)->ChangeCount().has_value()) savepoints = true;
  const std::string now = clock_.Now();  // After Begin: entry times follow the writers' order.
  Batch batch;
  {
    auto last = (*tx)->LastEntry();  // Read once per batch, under the writer's lock.
    if (!last) return fail_all(last.error());
    batch.last = std::move(last).value();
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    if (savepoints) {
      if (auto s = (*tx)->Savepoint(); !s) return fail_all(s.error());
    }
    const std::optional<int64_t> before =
        savepoints ? std::nullopt : (*tx)->ChangeCount();  // Only read when it decides.
    responses[i] = ApplyOne(**tx, requests[i], now, batch);
    const bool keep = responses[i].ok() && !responses[i].replayed;
    if (savepoints) {
      // A refused or replayed command leaves nothing behind; roll back whatever it wrote.
      auto s = keep ? (*tx)->ReleaseSavepoint() : (*tx)->RollbackToSavepoint();
      if (!s) return fail_all(s.error());
    } else if (!keep && (*tx)->ChangeCount() != before) {
      needs_savepoints = true;  // `tx` rolls back as it goes out of scope.
      return responses;
    }
  }
  if (!batch.entries.empty()) {
    // One seal for the batch, in its transaction: the entries and their seal commit together.
    JournalEntry& last = batch.entries.back();
    last.seal = journal::MakeSeal(key_, batch.entries.front().sequence, last);
  }
  for (const JournalEntry& entry : batch.entries) {
    if (auto s = (*tx)->AppendEntry(entry); !s) return fail_all(s.error());
  }
  if (auto s = (*tx)->Commit(); !s) return fail_all(s.error());
  // Only now: the witness must never be ahead of the durable journal.
  if (witness_ != nullptr && !batch.entries.empty()) {
    const JournalEntry& head = batch.entries.back();
    witness_->Seal(journal::Head{head.sequence.value, head.hash}, head.time);
  }
  return responses;
}

}  // namespace registry::service
