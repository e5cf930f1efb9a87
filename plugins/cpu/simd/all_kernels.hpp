// Every fast kernel and the KernelSet built from them, for one ISA: include inside that
// ISA's namespace, after its Simd struct and half_to_float (see x86/kernels_avx2.cpp).
// No #pragma once: each ISA's translation unit includes this exactly once, in its namespace.
#include "kernel_common.hpp"
#include "kernels_float.hpp"
#include "kernels_legacy.hpp"
#include "kernels_kquants.hpp"
#include "kernels_iquants.hpp"
#include "kernels_fp4.hpp"
#include "kernels_low_bit.hpp"
#include "kernel_set.hpp"
