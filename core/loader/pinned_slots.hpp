// Pinned host memory for the staging slots.
//
// cudaHostAlloc pins at about 2 GB/s on the H100 host (64 MiB: 31 ms, most of a fresh
// process's load set-up, and pinning on one thread holds up CUDA calls on the others). Anonymous
// memory at a 2 MiB boundary, asked for as 2 MiB pages, faulted in and then registered
// (host_register, plugin ABI 1.1) takes 11-15 ms for 64 MiB, and uploads from it run at the same
// speed (tests/loader/probe/setup_probe.cu; docs/PERFORMANCE.md). Pinning slots 1..N-1 on a
// background thread while slot 0 fills was measured too and not kept: it saved set-up time but
// slowed the pipeline as much. Plugins without host_register, or a registration that fails, get
// host_alloc_pinned for that slot; DQ_LOAD_PIN=alloc forces it for all (to compare).
#pragma once

#include <cstdint>
#include <vector>

#include "loader/device_api.hpp"

namespace dq::loader {

class PinnedSlots {
 public:
  // Throws LoadError when a slot can be neither registered nor allocated.
  PinnedSlots(const DeviceApi &dev, int slots, uint64_t slot_bytes);
  ~PinnedSlots();  // unpins and frees
  PinnedSlots(const PinnedSlots &) = delete;
  PinnedSlots &operator=(const PinnedSlots &) = delete;

  uint8_t *host(int i) const { return slots_[static_cast<size_t>(i)].host; }
  // "registered" when every slot was pinned by host_register, "allocated" when none, else
  // "mixed".
  const char *how() const;

 private:
  struct Slot {
    uint8_t *host = nullptr;
    bool registered = false;  // else from host_alloc_pinned
  };
  Slot pin(int i) const;
  void release() noexcept;

  const DeviceApi &dev_;
  uint64_t slot_bytes_;
  uint8_t *block_ = nullptr;  // anonymous mapping for registered slots (null: alloc only)
  uint64_t block_bytes_ = 0;
  std::vector<Slot> slots_;
};

}  // namespace dq::loader
