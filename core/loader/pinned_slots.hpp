// Pinned host memory for the staging slots, made ready without holding up the first fill.
//
// cudaHostAlloc pins at about 2 GB/s on the H100 host (64 MiB: 31 ms, which was most of a
// fresh process's load set-up), while anonymous memory asked for as 2 MiB pages and then
// registered (host_register, plugin ABI 1.1) takes 13 ms, of which slot 0 (16 MiB) 3.5 ms
// (tests/loader/probe/setup_probe.cu). So slot 0 is pinned in the constructor and the other
// slots on a background thread while the first fill copies; host(i) waits for slot i.
// Pinning beside uploads did not slow them (the same probe). Plugins without host_register,
// or a registration that fails, get host_alloc_pinned for that slot instead.
// DQ_LOAD_PIN=alloc forces host_alloc_pinned for all (the old way, to compare); DQ_LOAD_PIN=sync
// pins every slot in the constructor.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "loader/device_api.hpp"

namespace dq::loader {

class PinnedSlots {
 public:
  PinnedSlots(const DeviceApi &dev, int slots, uint64_t slot_bytes);
  ~PinnedSlots();  // joins the pinning thread, unpins and frees
  PinnedSlots(const PinnedSlots &) = delete;
  PinnedSlots &operator=(const PinnedSlots &) = delete;

  // Slot i's pinned memory; waits until it is pinned. Throws the LoadError of a failed pin.
  uint8_t *host(int i);
  int size() const { return static_cast<int>(slots_.size()); }
  // "registered" when every slot was pinned by host_register, else "allocated" or "mixed";
  // only final once every slot is ready.
  const char *how() const;

 private:
  struct Slot {
    uint8_t *host = nullptr;
    bool registered = false;  // else from host_alloc_pinned
    bool ready = false;
    std::exception_ptr error;
  };
  void pin(int i) noexcept;
  void release() noexcept;

  const DeviceApi &dev_;
  uint64_t slot_bytes_;
  uint8_t *block_ = nullptr;  // anonymous mapping for registered slots (null: alloc only)
  uint64_t block_bytes_ = 0;
  std::vector<Slot> slots_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::thread pinner_;
};

}  // namespace dq::loader
