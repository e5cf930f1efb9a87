// Staging slots and their budget (see staging_ring.hpp).
#include "loader/staging_ring.hpp"

#include <algorithm>

#include "loader/load_error.hpp"

namespace dq::loader {

void StagingLedger::take(uint64_t bytes) {
  if (in_use_ + bytes > budget_)
    throw LoadError(DQ_ERR_INTERNAL, "staging would hold " + std::to_string(in_use_ + bytes) +
                                         " bytes, over its budget of " + std::to_string(budget_));
  in_use_ += bytes;
  high_water_ = std::max(high_water_, in_use_);
}

void StagingLedger::give(uint64_t bytes) { in_use_ -= std::min(bytes, in_use_); }

SlotLayout layout_for_budget(uint64_t budget) {
  constexpr uint64_t kMiB = 1ull << 20;
  if (budget < kMiB)
    throw LoadError(DQ_ERR_SIZE, "staging budget of " + std::to_string(budget) +
                                     " bytes is under the 1 MiB minimum");
  // 32 MiB slots, 4 to 8 of them; budgets under 16 MiB get 2 slots (double buffering).
  const int slots =
      budget < 16 * kMiB ? 2 : static_cast<int>(std::clamp<uint64_t>(budget / (32 * kMiB), 4, 8));
  uint64_t slot = budget / slots / 4096 * 4096;  // whole pages
  return {slots, slot};
}

StagingRing::StagingRing(const DeviceApi &dev, uint64_t budget)
    : dev_(dev), layout_(layout_for_budget(budget)), ledger_(budget) {
  try {
    copy_stream_ = dev_.stream_create();
    compute_stream_ = dev_.stream_create();
    slots_.resize(layout_.slots);
    for (Slot &s : slots_) {
      ledger_.take(layout_.slot_bytes);
      s.host = static_cast<uint8_t *>(dev_.alloc_pinned(layout_.slot_bytes));
      s.dev = static_cast<uint8_t *>(dev_.alloc(layout_.slot_bytes, "device staging"));
      s.uploaded = dev_.event_create();
      s.consumed = dev_.event_create();
    }
  } catch (...) {
    release();
    throw;
  }
}

StagingRing::~StagingRing() { release(); }

void StagingRing::drain() {
  dev_.synchronize(copy_stream_);
  dev_.synchronize(compute_stream_);
  for (Slot &s : slots_) s.in_flight = false;
}

void StagingRing::release() noexcept {
  // Nothing may be freed while an upload or a kernel still uses it.
  if (copy_stream_) dev_.api()->synchronize(dev_.device(), copy_stream_);
  if (compute_stream_) dev_.api()->synchronize(dev_.device(), compute_stream_);
  for (Slot &s : slots_) {
    if (s.host) {
      dev_.free_pinned(s.host);
      ledger_.give(layout_.slot_bytes);
    }
    dev_.free(s.dev);
    dev_.event_destroy(s.uploaded);
    dev_.event_destroy(s.consumed);
    s = Slot{};
  }
  slots_.clear();
  dev_.stream_destroy(copy_stream_);
  dev_.stream_destroy(compute_stream_);
  copy_stream_ = compute_stream_ = nullptr;
}

}  // namespace dq::loader
