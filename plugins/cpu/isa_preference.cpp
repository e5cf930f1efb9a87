#include "isa_preference.hpp"

#include "dispatch.hpp"

namespace dq::cpu {
namespace {

// Measured on the project's 2-core AMD EPYC (Zen 4, family 19h), GCC 12 -O2, 2026-12-05,
// with dq_cpu_isa_ab (tests/cpu/isa_ab_bench.cpp): one thread, avx2 and avx512 timed call by
// call in one process, thread CPU time, medians of 21-41 rounds, repeated runs. "regular" from
// 64K and 1M elements, "streaming" from 16M. An entry is here only when avx2 took at least 2%
// less time in every run (avx2 time / avx512 time, per run). docs/PERFORMANCE.md has the rows.
//
// Why AVX-512 can lose on Zen 4: a 512-bit operation costs two 256-bit ones, so only fewer
// instructions and richer ones (16-entry vpermps, vpmovdw) pay; lane masks built by cmpeq
// become k-register round trips (vptestnmd, vpmovm2d, vpmovd2m) that AVX2 does not need.
constexpr Avx2Preference kAvx2Preferences[] = {
    // Q1_0: cmpeq + blend per vector = vptestnmd, vpmovm2d, vpmovd2m, vpblendmd, plus a
    // vinserti64x4 for the two bytes. avx2/avx512 time: f32 0.83 / ~1.00 (streaming, tie),
    // f16 0.77 / 0.90, bf16 0.93 / 0.98.
    {41, kOutF32, true, false},
    {41, kOutF16, true, true},
    {41, kOutBF16, true, true},
    // Q5_K: (qh & u) ? 16 : 0 via cmpeq + andnot, a k-register round trip per vector.
    // f32 0.94, f16 0.945 (regular); streaming 1.00-1.05, avx512 kept.
    {13, kOutF32, true, false},
    {13, kOutF16, true, false},
    // BF16 -> f32 is a widen and a shift: streaming 0.96-0.976 (64-byte vs 32-byte
    // non-temporal stores); regular 0.99-1.01, avx512 kept.
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
