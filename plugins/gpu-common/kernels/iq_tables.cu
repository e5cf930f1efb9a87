// The i-quant grids and 16-entry value tables as __device__ arrays, initialised at compile time from the constexpr
// tables in dq_common/grids.hpp. The kernels copy the one they need into shared memory.
#include <cstddef>

#include "dq_common/grids.hpp"
#include "gpu_port.hpp"
#include "iq_tables.cuh"

namespace dq::gpu {
namespace {

template <typename T, size_t N>
struct DeviceTable {
  alignas(16) T v[N];
};

template <typename T, size_t N>
constexpr DeviceTable<T, N> copy_table(const T (&a)[N]) {
  DeviceTable<T, N> t{};
  for (size_t i = 0; i < N; ++i) t.v[i] = a[i];
  return t;
}

// 16-entry value tables as exact floats, for shared-memory lookups.
template <size_t N>
constexpr DeviceTable<float, N> float_table(const int8_t (&a)[N]) {
  DeviceTable<float, N> t{};
  for (size_t i = 0; i < N; ++i) t.v[i] = static_cast<float>(a[i]);
  return t;
}

__device__ const auto g_iq4nl = float_table(dq::grids::kvalues_iq4nl);
__device__ const auto g_fp4 = float_table(dq::grids::kvalues_mxfp4);
__device__ const auto g_iq2xxs = copy_table(dq::grids::iq2xxs_grid);
__device__ const auto g_iq2xs = copy_table(dq::grids::iq2xs_grid);
__device__ const auto g_iq2s = copy_table(dq::grids::iq2s_grid);
__device__ const auto g_iq3xxs = copy_table(dq::grids::iq3xxs_grid);
__device__ const auto g_iq3s = copy_table(dq::grids::iq3s_grid);
__device__ const auto g_iq1s = copy_table(dq::grids::iq1s_grid);

template <typename Sym>
const uint8_t *address_of(const Sym &symbol, Error *err) {
  void *p = nullptr;
  *err = symbol_address(&p, symbol);
  return static_cast<const uint8_t *>(p);
}

}  // namespace

const uint8_t *iq_grid_device(int32_t type, Error *err) {
  *err = kSuccess;
  switch (type) {
    case 16: return address_of(g_iq2xxs, err);
    case 17: return address_of(g_iq2xs, err);
    case 22: return address_of(g_iq2s, err);
    case 18: return address_of(g_iq3xxs, err);
    case 21: return address_of(g_iq3s, err);
    case 19:
    case 29: return address_of(g_iq1s, err);
    case 20:
    case 23: return address_of(g_iq4nl, err);
    case 39:
    case 40: return address_of(g_fp4, err);
    default: return nullptr;
  }
}

}  // namespace dq::gpu
