// The CPU plugin's kernel interface: one function per (type, output type) that dequantizes
// whole blocks. The scalar set is the in-project specification; faster sets (AVX2,
// AVX-512, NEON) fill the entries they implement and leave the rest null (scalar is used).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dq_common/type_traits.hpp"

namespace dq::cpu {

// Dequantizes n_blocks consecutive blocks of one type from `src` into `dst`
// (float, uint16_t f16 bits or uint16_t bf16 bits, per the table it sits in).
using BlockFn = void (*)(const uint8_t *src, void *dst, int64_t n_blocks);

enum OutIndex : int { kOutF32 = 0, kOutF16 = 1, kOutBF16 = 2, kOutCount = 3 };

inline constexpr int out_index(int32_t dst_type) {
  return dst_type == 0 ? kOutF32 : dst_type == 1 ? kOutF16 : dst_type == 30 ? kOutBF16 : -1;
}

struct KernelSet {
  const char *isa;  // "scalar", "avx2", "avx512", "neon"
  BlockFn fn[kTypeCount][kOutCount];
  // The same kernels with non-temporal stores, for large outputs whose address is 64-byte
  // aligned (dispatch.cpp decides); null when the set has none.
  const KernelSet *streaming = nullptr;
};

// Always present; every dequantizable type filled.
const KernelSet &scalar_kernels();

// Fast kernel sets (x86/, arm/): null when the build or the CPU lacks the ISA.
const KernelSet *avx2_kernels();
const KernelSet *avx512_kernels();
const KernelSet *neon_kernels();

// ---- Dispatch (dispatch.cpp): kernel-set choice plus thread pool, used by plugin.cpp ----
// Chooses the kernel set once (DQ_CPU_ISA=scalar|avx2|avx512|neon, else the best the CPU
// supports). Returns 0 (DQ_OK), or a dq_status with *error naming the problem (unknown or
// unsupported DQ_CPU_ISA); the plugin must then fail init. Safe to call more than once.
int32_t dispatch_init(std::string *error);
// "avx512 (auto)", "scalar (DQ_CPU_ISA)", or the init error text.
const char *dispatch_describe();
// Dequantizes n_blocks blocks of `type` into out_type (0 f32, 1 f16, 30 bf16) with the chosen
// set (scalar where it has no entry), large inputs split over the thread pool. Initializes
// lazily. Returns 0 (DQ_OK) or a dq_status; then dispatch_last_error() holds the message.
int32_t run_dequantize(int32_t type, int32_t out_type, const void *src, void *dst,
                       int64_t n_blocks);
// One tensor of a batch.
struct BatchItem {
  int32_t type;
  int32_t out_type;
  const void *src;
  void *dst;
  int64_t n_blocks;
};
// The batch in one thread-pool dispatch (small tensors packed together, large ones split);
// the same kernels and results as one run_dequantize per item.
int32_t run_dequantize_batch(const BatchItem *items, size_t n);
const char *dispatch_last_error();  // calling thread's last run_dequantize failure, or ""
// Joins the thread pool (plugin shutdown). A later run_dequantize recreates it.
void dispatch_shutdown();

}  // namespace dq::cpu
