// What the plugin knows about the machine's CUDA devices: probed once in init(), with the
// reason when there are none, plus each device's own stream (created on first use) and the
// allocations made through mem_alloc (for mem_in_use and shutdown).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

namespace dq::cuda {

// Probes devices. Never fails: with no driver or no GPU it records the reason and reports
// zero devices.
void devices_init();
// Synchronizes and destroys the own streams and frees allocations left over.
void devices_shutdown();

int32_t device_count();
const char *no_device_reason();
const std::string &runtime_description();  // "CUDA runtime 13.0, driver 13.0, ..."

// Multiprocessor count of a valid device index.
int sm_count(int32_t device);

// DQ_OK after making `device` current for this thread, else the failure (bad index, or no
// device) recorded through status.hpp.
int32_t select_device(int32_t device, const char *what);

// The stream to use: `stream` itself when non-null, else the device's own non-blocking
// stream (created on first use). Device must be current. Returns DQ_OK or a failure.
int32_t resolve_stream(int32_t device, void *stream, cudaStream_t *out);

// Allocation tracking.
void track_alloc(int32_t device, void *ptr, size_t bytes);
// False when `ptr` was not allocated through mem_alloc on `device`.
bool untrack_alloc(int32_t device, void *ptr);
void alloc_stats(int32_t device, uint64_t *allocations, uint64_t *bytes);

}  // namespace dq::cuda
