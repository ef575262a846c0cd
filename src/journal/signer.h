// Signs the journal entries of a batch on a second core while the writer goes on (issue 8).
//
// An Ed25519 signature costs about a quarter of the writer's time per command. Within a batch
// nothing reads a signature before the batch's entries are written, just before COMMIT, so the
// writer queues each entry's hash here and goes on with the next command; one helper thread signs
// them in order. An idle helper is woken only once kJobsPerWake hashes wait: waking it for each
// one cost the writer ~11% of its time in a four-eyes transfer (futex calls and the interrupt to
// the other core; docs/benchmarks.md). At the end of the batch Finish signs, on the writer's own
// thread, whatever the helper has not taken yet, then waits for the one it is signing. The
// signatures are the same bytes the writer would have made (Ed25519 is deterministic); only the
// thread differs.
//
// Thread safety: Add and Finish are called by one thread at a time (the registry's writer).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "journal/chain.h"

namespace registry::journal {

class BatchSigner {
 public:
  // Uses a helper thread only when the machine has more than one core; the thread starts with
  // the first Add.
  explicit BatchSigner(const SigningKey& key);
  ~BatchSigner();
  BatchSigner(const BatchSigner&) = delete;
  BatchSigner& operator=(const BatchSigner&) = delete;

  // Queues `hash`; its signature is written to `*out`, which must stay valid, and must not be
  // read, until Finish returns.
  void Add(const Hash& hash, Signature* out);
  // Returns once every signature queued so far has been written.
  void Finish();

 private:
  struct Job {
    Hash hash;
    Signature* out;
  };
  void Run();

  // The queue length at which Add wakes an idle helper.
  static constexpr size_t kJobsPerWake = 4;

  const SigningKey key_;
  const bool use_helper_;
  std::mutex mu_;
  std::condition_variable work_;  // The helper waits here for a job or for stop_.
  std::condition_variable idle_;  // Finish waits here for the helper's job in hand.
  std::deque<Job> jobs_;          // Guarded by mu_.
  bool helper_busy_ = false;      // Guarded by mu_.
  bool stop_ = false;             // Guarded by mu_.
  std::thread helper_;
};

}  // namespace registry::journal
