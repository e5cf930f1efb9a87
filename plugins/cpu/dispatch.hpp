// Internals of dispatch.cpp beyond the plugin-facing API in kernel_table.hpp: explicit
// kernel-set and thread-count control for tests and benchmarks.
#pragma once

#include <cstdint>
#include <string>

#include "cpu_features.hpp"
#include "kernel_table.hpp"

namespace dq::cpu {

// The compiled-in set for `isa`, or nullptr when the build or this CPU lacks it.
const KernelSet *kernel_set_for(Isa isa);

// Threads a run may use: DQ_THREADS when set (1..1024), else all online cores. Sets *error and
// returns 0 for an invalid DQ_THREADS.
int configured_threads(std::string *error);

// Fewer blocks than this (in output elements) stay on the calling thread.
inline constexpr int64_t kParallelMinElements = int64_t{1} << 17;

// Dequantizes with an explicit set (entries it lacks fall back to scalar) on up to n_threads
// threads of the shared pool. Returns 0 (DQ_OK) or a dq_status with *error set.
int32_t run_dequantize_with(const KernelSet &set, int n_threads, int32_t type, int32_t out_type,
                            const void *src, void *dst, int64_t n_blocks, std::string *error);

// run_dequantize_batch with an explicit set and thread count (tests, benchmarks).
int32_t run_dequantize_batch_with(const KernelSet &set, int n_threads, const BatchItem *items,
                                  size_t n, std::string *error);

}  // namespace dq::cpu
