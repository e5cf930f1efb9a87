// SelectionCache: fixed tables of relaxed atomics indexed by type pair (see the header).
#include "registry/selection_cache.hpp"

#include "dq_common/type_traits.hpp"

namespace dq::core {
namespace {

constexpr int kOutputTypes = 3;  // f32, f16, bf16
constexpr int kPairs = kTypeCount * kOutputTypes;

int output_slot(int32_t dst_type) {
  switch (dst_type) {
    case 0:  // f32
      return 0;
    case 1:  // f16
      return 1;
    case 30:  // bf16
      return 2;
    default:
      return -1;
  }
}

}  // namespace

SelectionCache::SelectionCache(size_t backend_count)
    : backend_count_(backend_count),
      automatic_(new std::atomic<int16_t>[kPairs * 2]()),
      supports_(new std::atomic<uint8_t>[(backend_count ? backend_count : 1) * kPairs]()) {}

int SelectionCache::pair_slot(int32_t src_type, int32_t dst_type) {
  const int out = output_slot(dst_type);
  if (src_type < 0 || src_type >= kTypeCount || out < 0) return -1;
  return src_type * kOutputTypes + out;
}

int SelectionCache::automatic(int32_t src_type, int32_t dst_type, bool below) const {
  const int pair = pair_slot(src_type, dst_type);
  if (pair < 0) return -1;
  return automatic_[pair * 2 + (below ? 1 : 0)].load(std::memory_order_relaxed) - 1;
}

void SelectionCache::remember_automatic(int32_t src_type, int32_t dst_type, bool below,
                                        int backend) {
  const int pair = pair_slot(src_type, dst_type);
  if (pair < 0 || backend < 0 || backend >= INT16_MAX) return;
  automatic_[pair * 2 + (below ? 1 : 0)].store(static_cast<int16_t>(backend + 1),
                                               std::memory_order_relaxed);
}

SelectionCache::Support SelectionCache::supports(size_t backend, int32_t src_type,
                                                 int32_t dst_type) const {
  const int pair = pair_slot(src_type, dst_type);
  if (pair < 0 || backend >= backend_count_) return Support::unknown;
  return static_cast<Support>(supports_[backend * kPairs + pair].load(std::memory_order_relaxed));
}

void SelectionCache::remember_supports(size_t backend, int32_t src_type, int32_t dst_type,
                                       bool yes) {
  const int pair = pair_slot(src_type, dst_type);
  if (pair < 0 || backend >= backend_count_) return;
  supports_[backend * kPairs + pair].store(static_cast<uint8_t>(yes ? Support::yes : Support::no),
                                           std::memory_order_relaxed);
}

}  // namespace dq::core
