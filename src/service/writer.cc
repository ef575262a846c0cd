// The single writer thread with group commit. See service/writer.h.
#include "service/writer.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace registry::service {

Writer::Writer(Registry& registry, size_t queue_max)
    : registry_(registry), queue_max_(queue_max) {}

Writer::~Writer() { Stop(); }

void Writer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  REGISTRY_ASSERT(!started_);
  started_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Writer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Requests left when the thread never ran are refused, never silently dropped.
  std::deque<Item> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
  }
  for (Item& item : left) {
    Response response;
    response.failure = Failure::Refused(Check::kOverloaded, "the registry is shutting down");
    item.done(std::move(response));
  }
  if (!left.empty() && batch_answered_) batch_answered_();
}

void Writer::SetBatchAnswered(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  REGISTRY_ASSERT(!started_);
  batch_answered_ = std::move(hook);
}

bool Writer::SubmitAsync(Request request, std::function<void(Response)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= queue_max_ || stopping_) {
      ++stats_.overloaded;
      return false;
    }
    queue_.push_back(Item{std::move(request), std::move(done)});
  }
  cv_.notify_one();
  return true;
}

Response Writer::Overloaded() const {
  Response response;
  response.failure = Failure::Refused(
      Check::kOverloaded, "the write queue is full (" + std::to_string(queue_max_) +
                              " requests waiting); retry later");
  return response;
}

WriterStats Writer::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  WriterStats stats = stats_;
  stats.queued = queue_.size();
  return stats;
}

void Writer::Run() {
  for (;;) {
    std::vector<Item> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping with nothing left.
      const size_t n = std::min(queue_.size(), kBatchSizeMax);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<Request> requests;
    requests.reserve(batch.size());
    for (Item& item : batch) requests.push_back(std::move(item.request));  // Not read again.
    std::vector<Response> responses = registry_.ExecuteBatch(requests);
    REGISTRY_ASSERT(responses.size() == batch.size());
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.batches;
      stats_.requests += batch.size();
      stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, batch.size());
      for (size_t i = 0; i < kBatchBuckets.size(); ++i) {
        if (batch.size() <= kBatchBuckets[i]) ++stats_.batch_size_buckets[i];
      }
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(responses[i]));
    if (batch_answered_) batch_answered_();
  }
}

}  // namespace registry::service
