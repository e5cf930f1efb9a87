// Hybrid uploads (DQ_LOAD_COPY=hybrid or DQ_LOAD_REGISTER_FRACTION): the host copy into pinned
// staging tops out near 35 GB/s on the H100 host, under the bus (55 GB/s). So while the copy
// threads stream the first fills of a load through staging, one more thread pins
// (host_register, ABI 1.1) page-aligned windows of the model's mapping, starting from the far
// end of the plan; fills whose windows are pinned by the time the pipeline reaches them are
// uploaded straight from the mapping into the device slot (no host copy), then dequantized as
// usual. A window not pinned in time is left to staging (never waited for unless mid-pin), and
// each window is unpinned once the upload of its last fill has completed (an event).
// Not safe against truncation: unlike every other route (pread, file_source.hpp) these fills
// read the mapping. A file truncated by another process during a hybrid load makes pinning
// fail (DQ_ERR_IO/backend error), or, once pinned, the upload reads the pages as they were
// before the truncation. It is opt-in for that reason (docs/GGUF.md).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loader/chunking.hpp"
#include "loader/device_api.hpp"
#include "loader/load_plan.hpp"

namespace dq::loader {

struct HybridOptions {
  double fraction = 0;                  // share of the file bytes (the last fills) to try direct
  uint64_t window_bytes = 64ull << 20;  // bytes pinned per host_register call
  bool wait_for_pins = false;           // DQ_LOAD_HYBRID_WAIT=1: never give a window to staging
                                        // (deterministic; for tests)
};

// DQ_LOAD_REGISTER_FRACTION (0..1) wins; else kDefaultHybridFraction when DQ_LOAD_COPY=hybrid;
// else 0 (off). DQ_LOAD_REGISTER_WINDOW_MIB sets the window size.
inline constexpr double kDefaultHybridFraction = 0.35;
HybridOptions hybrid_options_from_env();

struct RegisterWindow {
  uintptr_t lo = 0, hi = 0;  // page-aligned address range of the mapping
  size_t first_fill = 0;     // first and last fill reading it
  size_t last_fill = 0;
};

struct DirectPlan {
  size_t first_fill = 0;                // fills from here on may go direct
  std::vector<RegisterWindow> windows;  // address order, disjoint
};

// A fill can go direct when none of its pieces is dequantized by the CPU plugin (those write
// their output into the pinned slot).
bool fill_can_go_direct(const std::vector<TensorJob> &jobs, const SlotFill &fill);

// The last fills holding at least `fraction` of the file bytes, and windows of about
// `window_bytes` (multiples of `page`) covering the source bytes of those that can go direct.
// Pure arithmetic: tested on its own.
DirectPlan plan_direct(const std::vector<TensorJob> &jobs, const std::vector<SlotFill> &fills,
                       double fraction, uint64_t window_bytes, uint64_t page);

// Runs the pinning thread of one load. Destroy it only after the device has finished every
// upload (the ring is drained): the destructor unpins whatever is still pinned.
class DirectUploader {
 public:
  DirectUploader(const DeviceApi &dev, DirectPlan plan, bool wait_for_pins = false);
  ~DirectUploader();
  DirectUploader(const DirectUploader &) = delete;
  DirectUploader &operator=(const DirectUploader &) = delete;

  // True when fill `k` goes direct: every window it reads is pinned. A window still waiting
  // its turn is given up to staging (for this and later fills); one being pinned is waited for.
  bool acquire(size_t k, const std::vector<TensorJob> &jobs, const SlotFill &fill);
  // Queues the uploads of a direct fill's pieces from the mapping into `slot_dev` on `stream`.
  void upload(const std::vector<TensorJob> &jobs, const SlotFill &fill, uint8_t *slot_dev,
              void *stream);
  // After fill `k` is queued on the copy stream: windows it read last may be unpinned once
  // the stream gets past this point.
  void submitted(size_t k, void *copy_stream);
  // Waits for the thread (every fill submitted, the device drained); writes the trace line
  // when DQ_LOAD_HYBRID_TRACE is set.
  void finish(size_t fills);

 private:
  enum State : int { pending, pinning, pinned, skipped, failed, unpinned };
  struct Window {
    RegisterWindow w;
    std::atomic<int> state{pending};
    void *handle = nullptr;
    void *done = nullptr;   // event after the upload of its last fill
    bool recorded = false;  // under mu_
  };
  void thread_main();
  void settle(Window &w);
  void stop_thread();

  const DeviceApi &dev_;
  DirectPlan plan_;
  bool wait_for_pins_;
  std::deque<Window> windows_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool abort_ = false;            // under mu_
  bool pin_thread_done_ = false;  // under mu_: it pins no more windows
  std::thread thread_;
  std::string error_;  // first pin failure (trace only; the fill falls back to staging)
  size_t direct_fills_ = 0;
  uint64_t direct_bytes_ = 0;
};

}  // namespace dq::loader
