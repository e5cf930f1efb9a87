#include "isa_preference.hpp"

#include "dispatch.hpp"

namespace dq::cpu {
namespace {

// Measured on the project's 2-core AMD EPYC (Zen 4, family 19h), GCC 12 -O2, 2026-12-05,
// commit 142d61d, with dq_cpu_isa_ab (tests/cpu/isa_ab_bench.cpp): one thread, avx2 and avx512
// timed call by call in one process on thread CPU time, medians of 21-41 rounds, 7 to 17 runs
// per entry. "regular" from 64K and 1M elements, "streaming" from 16M. An entry is here only
// when avx2 took about 2% less time or more in (nearly) every run; docs/PERFORMANCE.md has them.
//
// Why AVX-512 gains little on Zen 4: a 512-bit operation costs two 256-bit ones, so only
// fewer and richer instructions (16-entry vpermps, vpmovdw, masks) pay, and at 16M elements to
// f32 one core is bound by memory anyway. Q1_0 and Q5_K were slower on AVX-512 (by 5-23%)
// until their lane masks stopped going through k registers (simd/, same commit): no entry.
// F32 and F16 sources to f16 flip from run to run (the buffers' placement decides): no entry.
constexpr Avx2Preference kAvx2Preferences[] = {
    // Q2_K -> f32, in cache: avx2/avx512 time 0.960-0.983 in 16 of 17 runs (64K, 1M).
    // Streaming: 1.02, avx512 kept.
    {10, kOutF32, true, false},
    // BF16 -> f32 (a widen and a shift), streaming: 0.960-0.980 in 7 of 7 runs (16M);
    // 64-byte non-temporal stores of a pure copy lose a little to 32-byte ones here.
    // In cache: 0.99-1.04, avx512 kept.
    {30, kOutF32, false, true},
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
