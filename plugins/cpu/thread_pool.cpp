#include "thread_pool.hpp"

#include <atomic>

namespace dq::cpu {

struct ThreadPool::Job {
  const std::function<void(int64_t)> *fn = nullptr;
  int64_t n_chunks = 0;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> finished{0};
  int helpers_wanted = 0;  // workers still to join (guarded by the pool mutex)
  std::mutex done_mutex;
  std::condition_variable done;
};

ThreadPool::ThreadPool(int n_workers) {
  threads_.reserve(n_workers > 0 ? n_workers : 0);
  for (int i = 0; i < n_workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto &t : threads_) t.join();
}

// Takes chunks until none are left; the last finisher wakes the submitting caller.
void ThreadPool::work_on(Job &job) {
  int64_t done_here = 0;
  for (;;) {
    int64_t i = job.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job.n_chunks) break;
    (*job.fn)(i);
    ++done_here;
  }
  if (done_here == 0) return;
  if (job.finished.fetch_add(done_here, std::memory_order_acq_rel) + done_here == job.n_chunks) {
    std::lock_guard<std::mutex> lock(job.done_mutex);
    job.done.notify_all();
  }
}

void ThreadPool::worker_loop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and nothing left
      job = queue_.front();
      if (--job->helpers_wanted <= 0) queue_.pop_front();
    }
    work_on(*job);
  }
}

void ThreadPool::parallel_for(int64_t n_chunks, int max_threads,
                              const std::function<void(int64_t)> &fn) {
  if (n_chunks <= 0) return;
  int helpers = max_threads - 1;
  if (helpers > workers()) helpers = workers();
  if (helpers > n_chunks - 1) helpers = static_cast<int>(n_chunks - 1);
  if (helpers <= 0) {
    for (int64_t i = 0; i < n_chunks; ++i) fn(i);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n_chunks = n_chunks;
  job->helpers_wanted = helpers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(job);
  }
  if (helpers == 1) wake_.notify_one(); else wake_.notify_all();
  work_on(*job);
  std::unique_lock<std::mutex> lock(job->done_mutex);
  job->done.wait(lock, [&] {
    return job->finished.load(std::memory_order_acquire) == job->n_chunks;
  });
  // A worker may still dequeue this job later: it then finds no chunks left and leaves it.
  std::lock_guard<std::mutex> qlock(mutex_);
  for (auto it = queue_.begin(); it != queue_.end(); ++it)
    if (*it == job) { queue_.erase(it); break; }
}

}  // namespace dq::cpu
