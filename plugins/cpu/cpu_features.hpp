// What the running CPU (and its OS) can execute, and which kernel set DQ_CPU_ISA asks for.
#pragma once

#include <string>

namespace dq::cpu {

enum class Isa { kScalar, kAvx2, kAvx512, kNeon };

struct CpuFeatures {
  bool avx2 = false;    // AVX2 + FMA + F16C, with YMM state saved by the OS
  bool avx512 = false;  // AVX-512 F, BW, VL, DQ, with ZMM/opmask state saved by the OS
  bool neon = false;    // Arm Advanced SIMD (always present on AArch64)
  // AMD family 19h with AVX-512 (Zen 4): 512-bit operations run as two 256-bit halves, so
  // AVX-512 saves instructions but not ALU work. isa_preference.cpp's table applies here.
  bool avx512_double_pumped = false;
};

// Detected once (CPUID + XGETBV on x86); cheap to call again.
const CpuFeatures &cpu_features();

const char *isa_name(Isa isa);
bool isa_supported(Isa isa, const CpuFeatures &f);
// The best set this CPU runs (and this build contains).
Isa best_isa(const CpuFeatures &f);

struct IsaChoice {
  bool ok = false;
  Isa isa = Isa::kScalar;
  bool forced = false;  // chosen by DQ_CPU_ISA rather than detected
  std::string error;    // why not ok
};

// Resolves the DQ_CPU_ISA value `requested` (nullptr or "" = auto). An unknown name or a set
// this CPU/build cannot run is an error, never a silent fallback.
IsaChoice choose_isa(const char *requested, const CpuFeatures &f);

}  // namespace dq::cpu
