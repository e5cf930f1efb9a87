// A persistent pool of worker threads for splitting one large dequantization into chunks.
// Callers from any number of threads may submit at once; each caller also works on its own
// job, so a pool of N-1 workers gives N-way parallelism.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace dq::cpu {

class ThreadPool {
 public:
  // `n_workers` threads besides the callers (0 is allowed: everything runs on the caller).
  explicit ThreadPool(int n_workers);
  ~ThreadPool();  // finishes queued jobs' chunks, then joins
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int workers() const { return static_cast<int>(threads_.size()); }

  // Calls fn(i) for every i in [0, n_chunks) on the caller plus up to max_threads-1 workers;
  // returns when all calls have finished. fn must not throw.
  void parallel_for(int64_t n_chunks, int max_threads, const std::function<void(int64_t)> &fn);

 private:
  struct Job;
  void worker_loop();
  static void work_on(Job &job);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace dq::cpu
