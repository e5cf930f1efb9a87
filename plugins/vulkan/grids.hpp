// The i-quant lookup tables as the words of the grids buffer (layout: shaders/grid_layout.h).
#pragma once

#include <cstdint>
#include <vector>

namespace dq::vulkan {

std::vector<uint32_t> grid_words();

}  // namespace dq::vulkan
