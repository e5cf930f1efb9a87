// Weak "not built" answers for the fast kernel sets declared in kernel_table.hpp, so the
// plugin links and runs (scalar only) on builds or branches without x86/ or arm/ sources.
// A real definition in x86/ or arm/ replaces the weak one at link time.
#include "../kernel_table.hpp"

namespace dq::cpu {

__attribute__((weak)) const KernelSet *avx2_kernels() { return nullptr; }
__attribute__((weak)) const KernelSet *avx512_kernels() { return nullptr; }
__attribute__((weak)) const KernelSet *neon_kernels() { return nullptr; }

}  // namespace dq::cpu
