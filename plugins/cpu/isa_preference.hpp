// The automatic kernel choice per (type, output, store kind): the best instruction set's
// kernels, except where a measured table says another supported set's kernel is faster on
// this CPU. DQ_CPU_ISA=<set> still runs that one set, unmixed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu_features.hpp"
#include "kernel_table.hpp"

namespace dq::cpu {

// A kernel the automatic choice takes from the avx2 set on a double-pumped AVX-512 CPU.
struct Avx2Preference {
  int32_t type;
  OutIndex out;      // kOutF32, kOutF16 or kOutBF16
  bool regular;      // the cached-store kernel (outputs under 8 MiB, or unaligned)
  bool streaming;    // the non-temporal kernel (aligned outputs of 8 MiB or more)
};

// The table (isa_preference.cpp, with the measurements behind each entry).
const Avx2Preference *avx2_preferences(size_t *count);

// The set whose kernel the automatic choice runs for (type, out_type, streaming) on a CPU with
// features `f`, whose best set is `best`.
Isa preferred_isa(const CpuFeatures &f, Isa best, int32_t type, int32_t out_type, bool streaming);

// The kernel set run when DQ_CPU_ISA is unset, `best` being best_isa(cpu_features()): that
// set itself where the table does not apply, else a copy with the table's entries taken from
// avx2 (named "avx512+avx2"). Built once; null when `best` is not supported.
const KernelSet *auto_kernel_set(Isa best);

}  // namespace dq::cpu
