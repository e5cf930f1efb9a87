#include "grids.hpp"

#include <cstddef>

#include "dq_common/grids.hpp"
#include "shaders/grid_layout.h"

namespace dq::vulkan {
namespace {

template <typename T, size_t N>
size_t put(std::vector<uint32_t> &w, size_t at, const T (&table)[N]) {
  for (size_t i = 0; i < N; ++i) {
    const uint64_t v = static_cast<uint64_t>(table[i]);
    if constexpr (sizeof(T) == 8) {
      w[at++] = static_cast<uint32_t>(v);
      w[at++] = static_cast<uint32_t>(v >> 32);
    } else {
      w[at++] = static_cast<uint32_t>(v);
    }
  }
  return at;
}

}  // namespace

std::vector<uint32_t> grid_words() {
  namespace g = dq::grids;
  std::vector<uint32_t> w(DQ_GRID_WORDS, 0);
  // Each table must end where the layout says the next one starts.
  [[maybe_unused]] size_t at = put(w, DQ_GRID_SIGNS_IQ2XS, g::ksigns_iq2xs);
  static_assert(DQ_GRID_IQ2XXS == 128u && DQ_GRID_IQ2XS == DQ_GRID_IQ2XXS + 2 * 256u &&
                DQ_GRID_IQ2S == DQ_GRID_IQ2XS + 2 * 512u && DQ_GRID_IQ3XXS == DQ_GRID_IQ2S + 2 * 1024u &&
                DQ_GRID_IQ3S == DQ_GRID_IQ3XXS + 256u && DQ_GRID_IQ1S == DQ_GRID_IQ3S + 512u &&
                DQ_GRID_WORDS == DQ_GRID_IQ1S + 2 * 2048u);
  static_assert(sizeof g::ksigns_iq2xs == 128 && sizeof g::iq2xxs_grid == 256 * 8 && sizeof g::iq2xs_grid == 512 * 8 &&
                sizeof g::iq2s_grid == 1024 * 8 && sizeof g::iq3xxs_grid == 256 * 4 && sizeof g::iq3s_grid == 512 * 4 &&
                sizeof g::iq1s_grid == 2048 * 8);
  put(w, DQ_GRID_IQ2XXS, g::iq2xxs_grid);
  put(w, DQ_GRID_IQ2XS, g::iq2xs_grid);
  put(w, DQ_GRID_IQ2S, g::iq2s_grid);
  put(w, DQ_GRID_IQ3XXS, g::iq3xxs_grid);
  put(w, DQ_GRID_IQ3S, g::iq3s_grid);
  put(w, DQ_GRID_IQ1S, g::iq1s_grid);
  return w;
}

}  // namespace dq::vulkan
