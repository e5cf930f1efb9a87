// Staging slots and their budget (see staging_ring.hpp).
#include "loader/staging_ring.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "loader/load_error.hpp"
#include "loader/load_trace.hpp"
#include "loader/prepared_staging.hpp"

namespace dq::loader {

void StagingLedger::take(uint64_t bytes) {
  if (in_use_ + bytes > budget_)
    throw LoadError(DQ_ERR_INTERNAL, "staging would hold " + std::to_string(in_use_ + bytes) +
                                         " bytes, over its budget of " + std::to_string(budget_));
  in_use_ += bytes;
  high_water_ = std::max(high_water_, in_use_);
}

void StagingLedger::give(uint64_t bytes) {
  in_use_ -= std::min(bytes, in_use_);
}

uint64_t default_ring_bytes() {
  constexpr uint64_t kMiB = 1ull << 20;
  if (const char *e = std::getenv("DQ_LOAD_RING_MIB"); e && *e) {
    const long v = std::strtol(e, nullptr, 10);
    if (v >= 1 && v <= 65536) return static_cast<uint64_t>(v) * kMiB;
  }
  return kDefaultRingBytes;
}

SlotLayout layout_for_budget(uint64_t budget, uint64_t ring_bytes) {
  constexpr uint64_t kMiB = 1ull << 20;
  if (budget < kMiB)
    throw LoadError(DQ_ERR_SIZE, "staging budget of " + std::to_string(budget) +
                                     " bytes is under the 1 MiB minimum");
  // The budget is a ceiling: the ring uses at most `ring_bytes` of it, as 4 slots (2 under
  // 16 MiB, double buffering). A ring that stays in the last-level cache lets the upload read
  // the slot from the cache instead of memory (measured on the H100 host: 32-64 MiB beat 128-256 MiB).
  const uint64_t ring = std::max(std::min(budget, ring_bytes), kMiB);
  const int slots = ring < 16 * kMiB ? 2 : 4;
  const uint64_t slot = ring / slots / 4096 * 4096;  // whole pages
  return {slots, slot};
}

StagingRing::StagingRing(const DeviceApi &dev, uint64_t budget)
    : dev_(dev), layout_(layout_for_budget(budget, default_ring_bytes())), ledger_(budget) {
  try {
    // The host ring's pages are faulted in on a background thread meanwhile (unless a
    // dq_load_prepare already started that): the device calls below may include the device's
    // start-up, and take 0.6 ms when it is up (H200).
    warn_if_ring_pin_set();
    if (PinnedSlots::will_register(dev_, layout_.slot_bytes))
      prepare_staging(layout_.slot_bytes * static_cast<uint64_t>(layout_.slots));
    auto t = std::chrono::steady_clock::now();
    copy_stream_ = dev_.stream_create();
    compute_stream_ = dev_.stream_create();
    slots_.resize(layout_.slots);
    for (int i = 0; i < layout_.slots; ++i) ledger_.take(layout_.slot_bytes);
    for (Slot &s : slots_) {
      s.dev = static_cast<uint8_t *>(dev_.alloc(layout_.slot_bytes, "device staging"));
      s.uploaded = dev_.event_create();
      s.consumed = dev_.event_create();
    }
    device_setup_ms_ = ms_since(t);
    t = std::chrono::steady_clock::now();
    pinned_ = std::make_unique<PinnedSlots>(dev_, layout_.slots, layout_.slot_bytes);
    for (int i = 0; i < layout_.slots; ++i) slots_[static_cast<size_t>(i)].host = pinned_->host(i);
    pin_setup_ms_ = ms_since(t);
  } catch (...) {
    release();
    throw;
  }
}

StagingRing::~StagingRing() {
  release();
}

std::string StagingRing::setup_trace() const {
  char head[160];
  std::snprintf(head, sizeof head,
                "ring %d x %llu KiB: streams, events, device slots %.2f ms; pinning %.2f ms "
                "before the load went on (",
                layout_.slots, static_cast<unsigned long long>(layout_.slot_bytes >> 10),
                device_setup_ms_, pin_setup_ms_);
  return head + (pinned_ ? pinned_->trace() : std::string("no pinned slots")) + ")";
}

void StagingRing::drain() {
  dev_.synchronize(copy_stream_);
  dev_.synchronize(compute_stream_);
  for (Slot &s : slots_) s.in_flight = false;
}

void StagingRing::release() noexcept {
  // Nothing may be freed while an upload or a kernel still uses it.
  if (copy_stream_) dev_.api()->synchronize(dev_.device(), copy_stream_);
  if (compute_stream_) dev_.api()->synchronize(dev_.device(), compute_stream_);
  pinned_.reset();
  for (Slot &s : slots_) {
    ledger_.give(layout_.slot_bytes);
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
