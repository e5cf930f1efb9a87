// Per-tensor backend choice of a load (see route.hpp).
#include "loader/route.hpp"

#include "dq_common/type_traits.hpp"
#include "loader/load_error.hpp"
#include "registry/selection.hpp"

namespace dq::loader {

namespace {

core::Candidate candidate(const core::Backend &b, int32_t src, int32_t dst) {
  core::Candidate c;
  c.name = b.name;
  c.state = b.state;
  c.load_status = b.load_status;
  c.status = b.status;
  c.device_count = b.device_count;
  c.is_gpu = b.has_device_memory;
  c.supports = b.supports(src, dst);
  return c;
}

}  // namespace

uint64_t loader_gpu_min_bytes(const core::Settings &settings, int64_t option) {
  if (option >= 0) return static_cast<uint64_t>(option);
  if (settings.gpu_min_bytes_from_env) return settings.gpu_min_bytes;
  return kLoaderGpuMinBytes;
}

void assign_routes(std::vector<TensorJob> &jobs, const RouteInputs &in) {
  core::SelectionPolicy policy;
  if (in.registry) {
    policy.order = in.registry->settings().backend_order;
    policy.order_text = in.registry->settings().backend_env;
    policy.searched = in.registry->searched_text();
  }
  policy.gpu_min_bytes = in.gpu_min_bytes;
  for (TensorJob &j : jobs) {
    if (j.keep) {
      j.route = Route::copy;
      continue;
    }
    std::vector<core::Candidate> cands;
    if (in.device) cands.push_back(candidate(*in.device, j.src_type, j.out_type));
    if (in.cpu) cands.push_back(candidate(*in.cpu, j.src_type, j.out_type));
    core::SelectionQuery q;
    q.src_type_name = type_traits(j.src_type)->name;
    q.dst_type_name = type_traits(j.out_type)->name;
    q.src_bytes = j.src_bytes;
    if (!in.device) {
      // Host destination: the CPU plugin is the only way.
      q.forced_by = core::ForcedBy::device_memory;
      q.forced = "cpu";
      if (!in.cpu)
        throw LoadError(DQ_ERR_NO_BACKEND, "tensor " + j.name +
                                               ": loading to host memory needs "
                                               "the cpu plugin, which is not loaded");
    }
    core::Selection s = core::select_backend(cands, q, policy);
    if (s.index < 0)
      throw LoadError(s.status == DQ_OK ? DQ_ERR_NO_BACKEND : s.status,
                      "tensor " + j.name + ": " + s.reason);
    j.route = cands[s.index].is_gpu ? Route::device : Route::cpu;
  }
}

}  // namespace dq::loader
