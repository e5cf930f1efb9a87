#include "isa_preference.hpp"

#include "dispatch.hpp"

namespace dq::cpu {
namespace {

// Measured on the project's 2-core AMD EPYC (Zen 4, family 19h), GCC 12 -O2, 2026-12-05,
// commit 142d61d, with dq_cpu_isa_ab (tests/cpu/isa_ab_bench.cpp): one thread, avx2 and avx512
// timed call by call in one process on thread CPU time, medians of 21-41 rounds, repeated in
// separate processes, under the shared machine's load (4-9) and quiet (1-3). "regular" from
// 64K and 1M elements, "streaming" from 16M. An entry needs avx2 about 2% faster or more in
// nearly every run, loaded and quiet; docs/PERFORMANCE.md has the rows.
//
// Why AVX-512 gains little on Zen 4: a 512-bit operation costs two 256-bit ones, so only
// fewer and richer instructions (16-entry vpermps, vpmovdw, masks) pay, and at 16M elements to
// f32 one core is bound by memory anyway. Q1_0 and Q5_K were slower on AVX-512 (by 5-23%)
// until their lane masks stopped going through k registers (simd/, same commit): no entry.
// Left out as not reproducible: F32 and F16 sources to f16 in cache (0.83 to 1.20 from one
// process to the next: where the buffers land decides), BF16 -> f32 streaming (0.96-0.98
// under load, 1.06-1.10 quiet).
constexpr Avx2Preference kAvx2Preferences[] = {
    // Q2_K -> f32, in cache: avx2/avx512 time 0.960-0.983 in 18 of 19 runs (64K, 1M),
    // loaded and quiet. Streaming: 1.02-1.06, avx512 kept.
    {10, kOutF32, true, false},
};

// `best` with the table's entries for this store kind taken from `avx2`.
KernelSet mixed_copy(const KernelSet &best, const KernelSet &avx2, bool streaming) {
  KernelSet set = best;
  set.isa = "avx512+avx2";
  set.streaming = nullptr;
  for (const Avx2Preference &p : kAvx2Preferences)
    if (streaming ? p.streaming : p.regular)
      set.fn[p.type][p.out] = avx2.fn[p.type][p.out];
  return set;
}

}  // namespace

const Avx2Preference *avx2_preferences(size_t *count) {
  *count = sizeof kAvx2Preferences / sizeof kAvx2Preferences[0];
  return kAvx2Preferences;
}

Isa preferred_isa(const CpuFeatures &f, Isa best, int32_t type, int32_t out_type, bool streaming) {
  if (best != Isa::kAvx512 || !f.avx512_double_pumped || !isa_supported(Isa::kAvx2, f)) return best;
  for (const Avx2Preference &p : kAvx2Preferences)
    if (p.type == type && p.out == out_index(out_type) && (streaming ? p.streaming : p.regular))
      return Isa::kAvx2;
  return best;
}

const KernelSet *auto_kernel_set(Isa best) {
  const KernelSet *plain = kernel_set_for(best);
  const KernelSet *avx2 = kernel_set_for(Isa::kAvx2);
  if (!plain || best != Isa::kAvx512 || !cpu_features().avx512_double_pumped || !avx2 ||
      !plain->streaming || !avx2->streaming)
    return plain;
  // Built once (thread-safe static initialization; `best` can only be avx512 here). The
  // regular set points at its mixed streaming twin, as the plain sets do.
  static const KernelSet streaming = mixed_copy(*plain->streaming, *avx2->streaming, true);
  static const KernelSet regular = [&] {
    KernelSet set = mixed_copy(*plain, *avx2, false);
    set.streaming = &streaming;
    return set;
  }();
  return &regular;
}

}  // namespace dq::cpu
