// The ring of staging slots of a device load: each slot is pinned host memory (filled from
// the file; PinnedSlots) plus device memory of the same size (its upload target, read by the
// dequantize kernels), and two events saying when the upload and the kernels reading it are done.
// Pinned bytes are accounted against the budget: exceeding it is an internal error.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loader/device_api.hpp"
#include "loader/pinned_slots.hpp"

namespace dq::loader {

// Pinned bytes held against a budget, with a high-water mark.
class StagingLedger {
 public:
  explicit StagingLedger(uint64_t budget) : budget_(budget) {}
  // Throws LoadError(DQ_ERR_INTERNAL) when taking `bytes` would exceed the budget.
  void take(uint64_t bytes);
  void give(uint64_t bytes);
  uint64_t budget() const { return budget_; }
  uint64_t in_use() const { return in_use_; }
  uint64_t high_water() const { return high_water_; }

 private:
  uint64_t budget_;
  uint64_t in_use_ = 0;
  uint64_t high_water_ = 0;
};

struct SlotLayout {
  int slots;
  uint64_t slot_bytes;
};

// The ring's size when the budget allows more: DQ_LOAD_RING_MIB, else 32 MiB (4 slots of 8 MiB):
// against 64 MiB, half the pinning set-up and a pipeline as fast or faster (fresh processes on
// the H100 host: 49.7 against 61.6 ms; docs/PERFORMANCE.md).
inline constexpr uint64_t kDefaultRingBytes = 32ull << 20;
uint64_t default_ring_bytes();

// Slot count and size for a budget: a ring of min(budget, ring_bytes) in 4 slots (2 under
// 16 MiB). Throws LoadError(DQ_ERR_SIZE) when the budget is under 1 MiB.
SlotLayout layout_for_budget(uint64_t budget, uint64_t ring_bytes = kDefaultRingBytes);

class StagingRing {
 public:
  struct Slot {
    uint8_t *host = nullptr;
    uint8_t *dev = nullptr;
    void *uploaded = nullptr;  // event on the copy stream after the upload from `host`
    void *consumed = nullptr;  // event on the compute stream after the kernels read `dev`
    bool in_flight = false;    // events recorded at least once
  };

  StagingRing(const DeviceApi &dev, uint64_t budget);
  ~StagingRing();  // waits for both streams, then frees
  StagingRing(const StagingRing &) = delete;
  StagingRing &operator=(const StagingRing &) = delete;

  int size() const { return static_cast<int>(slots_.size()); }
  Slot &slot(int i) { return slots_[static_cast<size_t>(i)]; }
  // How the host slots were pinned: "registered", "allocated" or "mixed" (PinnedSlots::how).
  const char *pinned_how() const { return pinned_ ? pinned_->how() : "none"; }
  // Slot i's host memory to upload from. Every slot is pinned before the load starts (the
  // ways of pinning in the background were removed), so it is slot(i).host; the pipeline still
  // asks here.
  uint8_t *upload_source(int i, uint64_t /*used*/) { return slot(i).host; }
  // How many slots (0 .. n-1) the pipeline may use: all of them.
  int usable_slots() const { return size(); }
  // DQ_LOAD_TRACE's account of the ring's set-up: streams, events and device slots, then the
  // pinning (PinnedSlots::trace).
  std::string setup_trace() const;
  uint64_t slot_bytes() const { return layout_.slot_bytes; }
  void *copy_stream() const { return copy_stream_; }
  void *compute_stream() const { return compute_stream_; }
  const StagingLedger &ledger() const { return ledger_; }
  uint64_t device_bytes() const { return layout_.slot_bytes * slots_.size(); }
  // Waits for everything queued; marks slots idle.
  void drain();

 private:
  void release() noexcept;

  const DeviceApi &dev_;
  SlotLayout layout_;
  StagingLedger ledger_;
  std::vector<Slot> slots_;
  std::unique_ptr<PinnedSlots> pinned_;
  double device_setup_ms_ = 0, pin_setup_ms_ = 0;
  void *copy_stream_ = nullptr;
  void *compute_stream_ = nullptr;
};

}  // namespace dq::loader
