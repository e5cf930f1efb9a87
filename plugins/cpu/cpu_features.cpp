#include "cpu_features.hpp"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define DQ_CPU_X86 1
#endif

namespace dq::cpu {
namespace {

#ifdef DQ_CPU_X86
uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  // xgetbv with ecx=0; encoded as bytes so no -mxsave is needed for this file.
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12),
             f16c = c & (1u << 29);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;            // SSE + AVX state
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;          // + opmask, ZMM_Hi256, Hi16_ZMM
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5);
  const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
             avx512vl = b & (1u << 31);
  f.avx2 = ymm_saved && avx2 && fma && f16c;
  f.avx512 = f.avx2 && zmm_saved && avx512f && avx512dq && avx512bw && avx512vl;
  // Vendor "AuthenticAMD" (EBX, EDX, ECX of leaf 0) and family 0x0f + extended family 0x0a.
  unsigned vb = 0, vc = 0, vd = 0;
  __cpuid(0, a, vb, vc, vd);
  const bool amd = vb == 0x68747541 && vd == 0x69746e65 && vc == 0x444d4163;
  __cpuid(1, a, b, c, d);
  const unsigned family = ((a >> 8) & 0xf) + (((a >> 8) & 0xf) == 0xf ? ((a >> 20) & 0xff) : 0);
  f.avx512_double_pumped = f.avx512 && amd && family == 0x19;
  return f;
}
#else
CpuFeatures detect() {
  CpuFeatures f;
#if defined(__ARM_NEON) && defined(__aarch64__)
  f.neon = true;  // Advanced SIMD is part of the AArch64 baseline
#endif
  return f;
}
#endif

// Which fast sets this build compiled in (the x86 and arm folders are platform-specific).
bool built_in(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return true;
#ifdef DQ_CPU_X86
    case Isa::kAvx2:
    case Isa::kAvx512: return true;
#else
    case Isa::kAvx2:
    case Isa::kAvx512: return false;
#endif
#if defined(__ARM_NEON) && defined(__aarch64__)
    case Isa::kNeon: return true;
#else
    case Isa::kNeon: return false;
#endif
  }
  return false;
}

}  // namespace

const CpuFeatures &cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

const char *isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
  }
  return "?";
}

bool isa_supported(Isa isa, const CpuFeatures &f) {
  if (!built_in(isa)) return false;
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2: return f.avx2;
    case Isa::kAvx512: return f.avx512;
    case Isa::kNeon: return f.neon;
  }
  return false;
}

Isa best_isa(const CpuFeatures &f) {
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kNeon})
    if (isa_supported(isa, f)) return isa;
  return Isa::kScalar;
}

IsaChoice choose_isa(const char *requested, const CpuFeatures &f) {
  IsaChoice choice;
  if (!requested || !*requested) {
    choice.ok = true;
    choice.isa = best_isa(f);
    return choice;
  }
  choice.forced = true;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
    if (std::strcmp(requested, isa_name(isa)) != 0) continue;
    choice.isa = isa;
    if (isa_supported(isa, f)) {
      choice.ok = true;
    } else {
      choice.error = std::string("DQ_CPU_ISA=") + requested + ": " +
                     (built_in(isa) ? "this CPU does not support it" : "not built for this platform") +
                     " (best available: " + isa_name(best_isa(f)) + ")";
    }
    return choice;
  }
  choice.error = std::string("DQ_CPU_ISA=") + requested +
                 ": unknown instruction set (expected scalar, avx2, avx512 or neon)";
  return choice;
}

}  // namespace dq::cpu
