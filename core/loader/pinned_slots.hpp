// Pinned host memory for the staging slots.
//
// cudaHostAlloc pins at about 2 GB/s on the H100 host (64 MiB: 31 ms, most of a fresh
// process's load set-up, and pinning on one thread holds up CUDA calls on the others). Anonymous
// memory at a 2 MiB boundary, asked for as 2 MiB pages, faulted in and then registered
// (host_register, plugin ABI 1.1) takes 11-15 ms for 64 MiB, and uploads from it run at the same
// speed (tests/loader/probe/setup_probe.cu; docs/PERFORMANCE.md). Plugins without host_register,
// or a registration that fails, get host_alloc_pinned for that slot; DQ_LOAD_PIN=alloc forces it
// for all (to compare).
//
// The loading thread registers each slot, after faulting it in (4 KiB touches) unless the
// ring came from prepare_staging (a background thread faulted it in while the process did
// something else; prepared_staging.hpp, DQ_LOAD_PREPARE=0 turns it off). Five other ways
// (DQ_LOAD_RING_PIN=populate|block|overlap|background|grow, and DQ_LOAD_RING_THP=0) were timed
// on an H100 on 2026-12-05 and none was reliably ahead of this one, so they were removed
// (docs/PERFORMANCE.md). DQ_LOAD_TRACE=1 prints the set-up pieces (trace()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loader/device_api.hpp"
#include "loader/prepared_staging.hpp"

namespace dq::loader {

// DQ_LOAD_RING_PIN set to anything but "register" prints one warning line per process naming
// it and saying only the default remains; the variable changes nothing else.
void warn_if_ring_pin_set();

class PinnedSlots {
 public:
  // Throws LoadError when a slot can be neither registered nor allocated.
  PinnedSlots(const DeviceApi &dev, int slots, uint64_t slot_bytes);
  ~PinnedSlots();  // unpins and frees
  PinnedSlots(const PinnedSlots &) = delete;
  PinnedSlots &operator=(const PinnedSlots &) = delete;

  // Where slot i's fills go and its uploads read from; pinned from construction on.
  uint8_t *host(int i) const { return slots_[static_cast<size_t>(i)].host; }
  // "registered" when every slot was pinned by host_register, "allocated" when none, else
  // "mixed".
  const char *how() const;
  // DQ_LOAD_TRACE's account of the set-up: map, fault-in (or the prepared block's), each
  // registration.
  std::string trace() const;
  // Whether slots of this size on this device are pinned by registering anonymous memory (the
  // memory prepare_staging() can fault in ahead) rather than by host_alloc_pinned.
  static bool will_register(const DeviceApi &dev, uint64_t slot_bytes);

 private:
  struct Slot {
    uint8_t *block = nullptr;  // its part of block_ (null: not registrable)
    uint8_t *host = nullptr;   // fills go here: `block`, or host_alloc_pinned memory
    bool registered = false;   // `host` is `block`, registered
    bool allocated = false;    // `host` is from host_alloc_pinned
  };
  void map_block();
  void adopt(const PreparedBlock &p);
  void fault_in_and_register(int i);
  void allocate(int i);
  void release() noexcept;

  const DeviceApi &dev_;
  uint64_t slot_bytes_;
  uint8_t *block_ = nullptr;  // anonymous mapping for registered slots (null: alloc only)
  uint64_t block_bytes_ = 0;
  uint8_t *ring_ = nullptr;  // block_'s first 2 MiB boundary: slot i at i * slot_bytes_
  std::vector<Slot> slots_;

  // Set-up times for the trace.
  double map_ms_ = 0, fault_ms_ = 0;
  std::unique_ptr<PreparedBlock> prepared_;  // the adopted block's account (null: mapped here)
  std::vector<double> register_ms_;
};

}  // namespace dq::loader
