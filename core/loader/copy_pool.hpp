// Host threads that move the model's bytes into staging memory. One thread reaches about
// 4-7 GB/s on the H100 host, far under what PCIe gen5 takes (55 GB/s), so large fills are
// split over several threads; small ones stay on the calling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dq::loader {

// Bytes to move: from `fd` at `file_offset` with pread() when `fd` >= 0 (a model's file: see
// file_source.hpp), else from `src` (memory); `file` names the file in errors.
struct CopySegment {
  void *dst;
  const void *src;
  uint64_t bytes;
  int fd = -1;
  uint64_t file_offset = 0;
  const char *file = nullptr;
};

// How bytes are moved from memory (segments with a descriptor are always read with pread()):
//   stream    non-temporal stores (no read-for-ownership of the destination; the staging
//             slot is read next by the DMA engine, not by this CPU)
//   prefetch  stream plus software prefetches 4 KiB ahead (across page starts)
//   memcpy    plain memcpy (the default: the slot stays in the cache, where the DMA engine
//             reads it)
//   pread     memcpy here; named for DQ_LOAD_COPY=pread, which reads files with pread()
//             (now every file read does)
// DQ_LOAD_COPY=stream|prefetch|memcpy|pread picks.
enum class CopyMethod { memcpy, stream, pread, prefetch };
CopyMethod default_copy_method();
const char *copy_method_name(CopyMethod m);
// Copies memory to memory (pread means memcpy here).
void copy_bytes(CopyMethod m, void *dst, const void *src, uint64_t bytes);

class CopyPool {
 public:
  // `threads` in total, the caller's included (1: no helper threads).
  explicit CopyPool(int threads, CopyMethod method = default_copy_method());
  CopyMethod method() const { return method_; }
  ~CopyPool();
  CopyPool(const CopyPool &) = delete;
  CopyPool &operator=(const CopyPool &) = delete;

  int threads() const { return n_threads_; }

  // Moves every segment: begin() then finish().
  void copy(const std::vector<CopySegment> &segments, uint64_t min_parallel_bytes = 256ull << 10) {
    begin(segments, min_parallel_bytes);
    finish();
  }
  // Starts moving `segments` (which must live until finish()): when the total is at least
  // `min_parallel_bytes` the helpers start on it at once, taking pieces of about 256 KiB from
  // a shared counter; the caller joins in finish(). Between the two the caller may do other
  // work (the pipeline queues the previous slot's upload and kernels there), and the helpers
  // take the pieces it has not come to.
  void begin(const std::vector<CopySegment> &segments, uint64_t min_parallel_bytes = 256ull << 10);
  // Returns when every byte of the copy begin() started is there; throws LoadError(DQ_ERR_IO)
  // naming the file when a read failed. Must follow every begin(), also on error paths.
  void finish();

  // Threads to use by default on this machine.
  // Three quarters of the cores, at most 16 per device fed (one thread moves 4-7 GB/s, a
  // link takes up to 55).
  static int default_threads(int devices = 1);

 private:
  void worker_loop();
  void run_pieces();
  void note_error(std::string e);

  int n_threads_ = 1;  // set before any helper starts (helpers read it)
  std::vector<std::thread> workers_;
  // Hand-off: helpers spin briefly on `generation_` before sleeping on `start_cv_` (a
  // condition-variable wake-up costs tens of microseconds per fill on a VM, several percent of
  // a 32 MiB fill); the caller spins on `pending_` likewise.
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  std::string error_;  // first failure of the current copy (under mu_)
  CopyMethod method_;
  const std::vector<CopySegment> *segments_ = nullptr;
  uint64_t total_ = 0;
  uint64_t piece_ = 0;  // bytes per piece of the current copy
  std::atomic<uint64_t> next_piece_{0};
  bool inline_ = false;  // the current copy is small: finish() does it alone
};

}  // namespace dq::loader
