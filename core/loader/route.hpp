// Which backend dequantizes each tensor of a load: the registry's selection rules
// (DQ_BACKEND order or forcing, GPU-first, small tensors to the host) between the
// destination's device backend and the CPU plugin.
#pragma once

#include <cstdint>
#include <vector>

#include "loader/load_plan.hpp"
#include "registry/registry.hpp"

namespace dq::loader {

// Loads below this many file bytes per tensor prefer the CPU plugin when the destination is
// a device (unless DQ_GPU_MIN_BYTES or the option says otherwise). The registry's own default
// (64 MiB) is for host-to-host calls that pay two PCIe transfers; a load pays one upload
// either way, so only tensors too small to be worth a kernel launch stay on the host.
inline constexpr uint64_t kLoaderGpuMinBytes = 256ull << 10;

struct RouteInputs {
  const core::Registry *registry = nullptr;
  const core::Backend *device = nullptr;  // null: the destination is host memory
  const core::Backend *cpu = nullptr;     // null when the CPU plugin is not loaded
  uint64_t gpu_min_bytes = kLoaderGpuMinBytes;
};

// Threshold for a load: option >= 0 wins, then DQ_GPU_MIN_BYTES, then kLoaderGpuMinBytes.
uint64_t loader_gpu_min_bytes(const core::Settings &settings, int64_t option);

// Sets job.route for every job that is not kept. Throws LoadError naming the tensor when no
// backend can do it (e.g. DQ_BACKEND forces one that lacks the type).
void assign_routes(std::vector<TensorJob> &jobs, const RouteInputs &in);

}  // namespace dq::loader
