// The single writer (ISSUE 4 item 6, ARCHITECTURE decision 8): one thread applies every write.
// Callers enqueue requests into a bounded queue; the thread takes up to kBatchSizeMax at a time
// and runs them with one Registry::ExecuteBatch (one COMMIT per batch; a refused request leaves
// nothing behind), then answers each caller. A caller is answered only after its batch
// committed (durable), and a full queue refuses at once with kOverloaded (HTTP 503).
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/limits.h"
#include "service/registry.h"

namespace registry::service {

struct WriterStats {
  uint64_t batches = 0;
  uint64_t requests = 0;
  uint64_t largest_batch = 0;
  // batch_size_buckets[i] counts batches of size <= kBatchBuckets[i] (cumulative, Prometheus).
  std::array<uint64_t, 6> batch_size_buckets{};
  uint64_t overloaded = 0;
  size_t queued = 0;
};
inline constexpr std::array<size_t, 6> kBatchBuckets = {1, 2, 4, 16, 64, kBatchSizeMax};

class Writer {
 public:
  // `registry` must outlive the Writer. `queue_max` bounds the waiting requests.
  explicit Writer(Registry& registry, size_t queue_max = kWriterQueueMax);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Starts the thread; requests submitted before wait in the queue.
  void Start();
  // Stops taking requests, applies those queued, and joins the thread.
  void Stop();

  // Enqueues a request whose answer is `done`, called on the writer thread once its batch has
  // committed (or, when the Writer stops before running it, with a kOverloaded refusal): keep it
  // short, it delays the next batch. Returns false, without calling `done`, when the queue is
  // full. What the HTTP API uses, so that a request waiting for its commit holds no thread.
  bool SubmitAsync(Request request, std::function<void(Response)> done);

  // Called after the `done` of every request of a batch, on the writer thread, and by Stop
  // after the `done` of the requests it refuses; set it before Start. With it, a `done` may
  // only collect its answer and the hook hand the batch's answers on at once (the HTTP server
  // posts them to its workers in one go, waking each sleeping worker once per batch rather
  // than once per answer: docs/benchmarks.md).
  void SetBatchAnswered(std::function<void()> hook);

  // The answer to a request the full queue does not take.
  Response Overloaded() const;

  WriterStats Stats() const;

 private:
  struct Item {
    Request request;
    std::function<void(Response)> done;
  };
  void Run();

  Registry& registry_;
  const size_t queue_max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
  std::function<void()> batch_answered_;  // Set before Start; read by the writer thread.
  WriterStats stats_;
};

}  // namespace registry::service
