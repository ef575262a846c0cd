#include "journal/signer.h"

#include <sys/resource.h>
#include <unistd.h>

#include "core/limits.h"

namespace registry::journal {

BatchSigner::BatchSigner(const SigningKey& key)
    : key_(key), use_helper_(std::thread::hardware_concurrency() > 1) {}

BatchSigner::~BatchSigner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_one();
  if (helper_.joinable()) helper_.join();
}

void BatchSigner::Add(const Hash& hash, Signature* out) {
  if (!use_helper_) {
    *out = Sign(key_, hash);
    return;
  }
  size_t queued = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(Job{hash, out});
    queued = jobs_.size();
  }
  if (!helper_.joinable()) {
    helper_ = std::thread([this] {
      // The helper only takes signing off the writer (Finish signs what it has not taken), so
      // it yields to the writer when the cores are busy.
      [[maybe_unused]] const int r =
          ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWriterFeederNice);
      Run();
    });
  }
  // A busy helper takes the next job without being told; an idle one is woken for a few jobs
  // at a time (a wake-up is a system call and, under a hypervisor, an interrupt to the other
  // core). Finish signs what is left below the threshold.
  if (queued >= kJobsPerWake) work_.notify_one();
}

void BatchSigner::Finish() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!jobs_.empty()) {
    const Job job = jobs_.front();
    jobs_.pop_front();
    lock.unlock();
    *job.out = Sign(key_, job.hash);
    lock.lock();
  }
  idle_.wait(lock, [this] { return !helper_busy_; });
}

void BatchSigner::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (stop_) return;  // The owner is gone; nobody waits for what is left.
    const Job job = jobs_.front();
    jobs_.pop_front();
    helper_busy_ = true;
    lock.unlock();
    *job.out = Sign(key_, job.hash);
    lock.lock();
    helper_busy_ = false;
    idle_.notify_one();
  }
}

}  // namespace registry::journal
