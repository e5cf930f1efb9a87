// The CPU half of pinning the staging ring, done ahead on a background thread.
//
// Pinning the ring in a fresh process is mostly the kernel zeroing its 2 MiB pages as they are
// faulted in (32 MiB: 3.5-4.4 ms on the H200 host, against 1.1-1.3 ms for registering them;
// docs/PERFORMANCE.md). That part needs no device, so it can run while the process does work it
// does anyway: the CUDA context's start (hundreds of ms, inside the first device call) or the
// model's parse. prepare_staging() starts it (dq_load_prepare, and StagingRing before its first
// device call); PinnedSlots adopts the block with take_prepared_staging(), waiting for it when it
// is not ready, and registers it on the loading thread as before.
//
// One block per process, whoever asks: it is plain anonymous memory, not tied to a device or a
// context. One left unused is freed by the next load that needs a larger one, or at exit (the
// thread is cancelled and joined: a process that never loads neither leaks nor hangs).
// DQ_LOAD_PREPARE=0 turns all of it off: the loading thread maps and faults the ring in itself.
// DQ_LOAD_PREPARE_DELAY_MS (tests) holds the thread back that long first, cancellably.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace dq::loader {

// False when DQ_LOAD_PREPARE is "0" (read at each call: tests switch it).
bool staging_prepare_enabled();

// An anonymous mapping with `ring` at its first 2 MiB boundary, its pages faulted in.
struct PreparedBlock {
  uint8_t *block = nullptr;  // munmap(block, block_bytes) frees it
  uint64_t block_bytes = 0;
  uint8_t *ring = nullptr;  // ring_bytes from here are faulted in
  uint64_t ring_bytes = 0;
  // For DQ_LOAD_TRACE: on the preparing thread, then as the load saw it.
  double map_ms = 0, fault_ms = 0;
  const char *fault_how = "";  // "MADV_POPULATE_WRITE" or "touch"
  double ready_after_ms = 0;   // from prepare_staging() to faulted in
  double lead_ms = 0;          // from prepare_staging() to the load asking for it
  double waited_ms = 0;        // how long the load waited for it
  std::string trace() const;
};

// Starts faulting in a ring of `ring_bytes` on a background thread, unless preparation is off
// or a block at least that large is already prepared or under way. Never throws; a failure
// (no memory, no thread) leaves the loading thread to do it as before.
void prepare_staging(uint64_t ring_bytes);

// The block prepared for at least `ring_bytes`, after waiting for it; the caller owns it. None
// when nothing was started; a smaller block is dropped (cancelled, freed).
std::optional<PreparedBlock> take_prepared_staging(uint64_t ring_bytes);

}  // namespace dq::loader
