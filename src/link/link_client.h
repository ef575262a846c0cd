// The registry link's sending side (ARCHITECTURE decision 12; docs/link.md): the outbox, which
// sends every open transfer's message to its peer and journals the signed answer, retrying with
// backoff for as long as it takes; and reconciliation with a peer. Its rules are core/link.h,
// its messages and commands service/link.h.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "core/link.h"
#include "service/link.h"
#include "service/registry.h"

namespace registry::link {

// POSTs a signed message to `peer` and returns its signed answer, checked: from the registry
// the message was sent to, signed by the peer's key. An error names what went wrong (the peer
// unreachable, an HTTP error with its check, a bad answer).
Result<service::LinkMessage, std::string> Exchange(const service::Peer& peer,
                                                   const service::LinkMessage& message,
                                                   std::chrono::milliseconds timeout);

struct OutboxOptions {
  std::chrono::milliseconds poll{200};  // How often the outbox looks for work.
  // A transfer still unanswered this long after it was proposed is asked to terminate.
  std::chrono::seconds terminate_after{600};
  std::chrono::milliseconds retry_min{200};    // Backoff after a failed exchange, doubling ...
  std::chrono::milliseconds retry_max{30000};  // ... up to this.
  std::chrono::milliseconds exchange_timeout{5000};
};

// Runs a command the way the process runs its writes (the HTTP server's writer in `serve`).
using Submit = std::function<service::Response(service::Request)>;

class Outbox {
 public:
  Outbox(Store& store, journal::SigningKey key, Submit submit, OutboxOptions options);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  void Start();
  void Stop();
  // One pass over the open transfers: each that is due is asked to terminate when its time is
  // up, sent, and its answer journaled. Returns how many transfers it ended.
  int RunOnce();

 private:
  struct Retry {
    std::chrono::steady_clock::time_point next{};
    std::chrono::milliseconds delay{0};
  };
  void Run();
  void Failed(const std::string& transaction, const std::string& why);

  Store& store_;
  const journal::SigningKey key_;
  Submit submit_;
  const OutboxOptions options_;
  std::map<std::string, Retry> retry_;  // By transaction; the outbox thread's only.
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// Compares this installation's view of the transfers with `peer_id` against the peer's own,
// asked for by a signed reconcile message. Changes nothing on either side. Refused with
// kNotFound for a peer not configured, kLinkPeerUnreachable when the peer gives no good answer,
// kStorageUnavailable when this registry cannot be read.
Result<Reconciliation, Refusal> ReconcileWithPeer(Store& store, const journal::SigningKey& key,
                                                  const std::string& peer_id);

}  // namespace registry::link
