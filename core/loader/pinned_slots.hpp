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
// Issue 17: the 32 MiB ring's set-up (6-9 ms on the H200) is most of what keeps a fresh
// process's first load under 85% of the bus, so DQ_LOAD_RING_PIN picks how the ring is pinned
// (RingPin below) and DQ_LOAD_TRACE=1 prints the pieces (trace()).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loader/device_api.hpp"

namespace dq::loader {

// How the staging ring's slots are pinned (DQ_LOAD_RING_PIN=<name>):
//   register    the loading thread faults each slot in (4 KiB touches), then registers it: the
//               way of 2026-11 (c77a5d9)
//   populate    the whole ring faulted in at once by the copy threads (MADV_POPULATE_WRITE on
//               2 MiB-aligned shares; zeroing pages is most of the fault-in), then each slot
//               registered on the loading thread
//   block       faulted in like populate, then one registration of the whole ring instead of
//               one per slot
//   overlap     faulted in like populate; slot 0 registered before the load starts, the others
//               on a background thread while the first fills run; a slot's first upload waits
//               for its registration (fills may go into it before)
//   background  faulted in like populate; every registration on a background thread, beside
//               the load's planning, output allocation and first fill
//   grow        faulted in like populate; slots 0 and 1 registered before the load starts, the
//               others on a background thread; the pipeline never waits for them: it cycles
//               over the slots registered so far (usable()), a ring that grows from 2 slots
// Every way falls back to host_alloc_pinned for a slot whose registration fails.
enum class RingPin { register_each, populate, block, overlap, background, grow };
// populate: it keeps every CUDA call on the loading thread (background registration was
// measured on the H100 as slowing the pipeline by as much as it saved, docs/PERFORMANCE.md) and
// removes the part of the set-up that threads can share.
inline constexpr RingPin kDefaultRingPin = RingPin::register_each;  // the one measured on the H200
// DQ_LOAD_RING_PIN, else the default; an unknown value prints one warning line per process
// naming it and the accepted ones, and gives the default.
RingPin ring_pin_from_env();
const char *ring_pin_name(RingPin p);

class PinnedSlots {
 public:
  // `fault_threads` threads (the caller's included) fault the ring in for every way but
  // register. Throws LoadError when a slot can be neither registered nor allocated.
  PinnedSlots(const DeviceApi &dev, int slots, uint64_t slot_bytes,
              RingPin pin = ring_pin_from_env(), int fault_threads = 1);
  ~PinnedSlots();  // waits for the background registrations, unpins and frees
  PinnedSlots(const PinnedSlots &) = delete;
  PinnedSlots &operator=(const PinnedSlots &) = delete;

  // Where slot i's fills go. Changes only inside upload_ready(i).
  uint8_t *host(int i) const { return slots_[static_cast<size_t>(i)].host; }
  // Waits until slot i is pinned and returns host(i), the memory to upload from. When its
  // background registration failed, the slot moves to host_alloc_pinned memory first, taking
  // its first `used` bytes along (throws LoadError when that allocation fails). Loading
  // thread only.
  uint8_t *upload_ready(int i, uint64_t used);
  // "registered" when every slot was (or is being) pinned by host_register, "allocated" when
  // none, else "mixed". Waits for the background registrations.
  const char *how();
  // Slots 0 .. usable()-1 are pinned (ready for fills and uploads without waiting): all of
  // them but for grow, where the count grows as background registrations end (at least
  // min(2, slots)). Loading thread only.
  int usable();
  RingPin pin() const { return pin_; }
  // DQ_LOAD_TRACE's account of the set-up: fault-in, each registration, waits for them.
  std::string trace();

 private:
  enum class State { pending, registered, refused };
  struct Slot {
    uint8_t *block = nullptr;  // its part of block_ (null: not registrable)
    uint8_t *host = nullptr;   // fills go here: `block`, or host_alloc_pinned memory
    bool allocated = false;    // `host` is from host_alloc_pinned
    bool ready = false;        // uploads may read `host` (loading thread only)
  };
  void map_block();
  void fault_in(int threads);
  bool try_register(int i) const;
  void register_now(int i);  // on the loading thread, settles the slot
  void settle(int i, uint64_t used);
  void register_in_background(int first);
  void release() noexcept;

  const DeviceApi &dev_;
  const RingPin pin_;
  uint64_t slot_bytes_;
  uint8_t *block_ = nullptr;  // anonymous mapping for registered slots (null: alloc only)
  uint64_t block_bytes_ = 0;
  uint8_t *ring_ = nullptr;  // block_'s first 2 MiB boundary: slot i at i * slot_bytes_
  void *ring_handle_ = nullptr;  // `block`: the one registration of the whole ring
  std::vector<Slot> slots_;
  int usable_ = 0;  // grow: slots 0 .. usable_-1 are ready (loading thread)

  // Shared with the background registration thread (under mu_).
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<State> state_;
  std::vector<double> register_ms_;
  std::atomic<bool> stop_{false};
  std::thread registrar_;

  // Set-up times for the trace (loading thread).
  double map_ms_ = 0, fault_ms_ = 0, ring_register_ms_ = -1, waited_ms_ = 0;
  int fault_threads_used_ = 0;
  const char *fault_how_ = "none";
};

}  // namespace dq::loader
