// Host threads that copy from the mapped file into staging memory. One thread reading the
// page cache reaches about 10 GB/s, under what PCIe gen5 takes (55 GB/s), so large fills are
// split over several threads; small ones stay on the calling thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dq::loader {

struct CopySegment {
  void *dst;
  const void *src;
  uint64_t bytes;
};

// How bytes are moved: plain memcpy, or streaming (non-temporal) stores that skip the
// read-for-ownership of the destination and leave the caches alone: the staging slot is read
// next by the DMA engine, not by this CPU. DQ_LOAD_COPY=memcpy|stream picks; default stream
// where the CPU has AVX2.
enum class CopyMethod { memcpy, stream };
CopyMethod default_copy_method();
const char *copy_method_name(CopyMethod m);
void copy_bytes(CopyMethod m, void *dst, const void *src, uint64_t bytes);

class CopyPool {
 public:
  // `threads` in total, the caller's included (1: no helper threads).
  explicit CopyPool(int threads, CopyMethod method = default_copy_method());
  CopyMethod method() const { return method_; }
  ~CopyPool();
  CopyPool(const CopyPool &) = delete;
  CopyPool &operator=(const CopyPool &) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Copies every segment; splits the total bytes evenly over the threads when it is at least
  // `min_parallel_bytes`. Returns when all bytes are copied.
  void copy(const std::vector<CopySegment> &segments, uint64_t min_parallel_bytes = 4ull << 20);

  // Threads to use by default on this machine.
  static int default_threads();

 private:
  void worker_loop(int index);
  void run_share(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  CopyMethod method_;
  const std::vector<CopySegment> *segments_ = nullptr;
  uint64_t total_ = 0;
};

}  // namespace dq::loader
