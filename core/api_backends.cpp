// dq_backend_*: the registry's backends as seen through the public C API.
#include "api_guard.hpp"
#include "context.hpp"
#include "dq_common/type_traits.hpp"
#include "registry/registry.hpp"

using dq::core::Backend;
using dq::core::set_error;

namespace {

// The backend at `index`, or null after recording an error on ctx.
const Backend *backend_at(dq_context *ctx, int32_t index) {
  const auto &all = dq::core::registry(ctx).backends();
  if (index < 0 || static_cast<size_t>(index) >= all.size()) {
    set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
              "backend index " + std::to_string(index) + " out of range (" +
                  std::to_string(all.size()) + " backends)");
    return nullptr;
  }
  return &all[index];
}

dq_backend_info info_of(const Backend &b) {
  dq_backend_info info{};
  info.struct_size = sizeof(info);
  info.name = b.name.c_str();
  info.path = b.path.c_str();
  info.description = b.description.c_str();
  info.abi_major = b.abi_major;
  info.abi_minor = b.abi_minor;
  info.loaded = b.loaded() ? 1 : 0;
  info.device_count = b.device_count;
  info.status = b.status.c_str();
  return info;
}

dq_status device_info(dq_context *ctx, const Backend &b, int32_t device, dq_device_info *out) {
  if (device < 0 || device >= b.device_count)
    return set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                     "backend '" + b.name + "' has no device " + std::to_string(device) + " (" +
                         std::to_string(b.device_count) + " devices)");
  dq_plugin_device_props props{};
  props.struct_size = sizeof(props);
  if (b.api->device_props(device, &props) != DQ_OK)
    return set_error(ctx, DQ_ERR_BACKEND, "backend '" + b.name + "': " + b.plugin_error());
  // The name read at load time lives as long as the context; memory figures are live.
  dq_device_info info{sizeof(info), b.device_names[device].c_str(), props.total_memory,
                      props.free_memory, props.is_gpu};
  if (!dq::core::write_sized(out, info))
    return set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                     dq::core::too_small_text("dq_device_info", out->struct_size,
                                              DQ_DEVICE_INFO_MIN_SIZE, "DQ_DEVICE_INFO_MIN_SIZE"));
  return DQ_OK;
}

}  // namespace

extern "C" {

DQ_API int32_t dq_backend_count(dq_context *ctx) {
  if (!ctx) return 0;
  int32_t n = 0;
  dq::core::guarded(ctx, [&] {
    n = static_cast<int32_t>(dq::core::registry(ctx).backends().size());
    return DQ_OK;
  });
  return n;
}

DQ_API int32_t dq_backend_find(dq_context *ctx, const char *name) {
  if (!ctx || !name) return -1;
  int32_t i = -1;
  dq::core::guarded(ctx, [&] {
    i = dq::core::registry(ctx).index_of(name);
    return DQ_OK;
  });
  return i;
}

DQ_API dq_status dq_backend_get_info(dq_context *ctx, int32_t backend, dq_backend_info *out) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  return dq::core::guarded(ctx, [&] {
    if (!out) return set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "dq_backend_get_info: out is NULL");
    const Backend *b = backend_at(ctx, backend);
    if (!b) return DQ_ERR_INVALID_ARGUMENT;
    if (!dq::core::write_sized(out, info_of(*b)))
      return set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                       dq::core::too_small_text("dq_backend_info", out->struct_size,
                                                DQ_BACKEND_INFO_MIN_SIZE, "DQ_BACKEND_INFO_MIN_SIZE"));
    return DQ_OK;
  });
}

DQ_API dq_status dq_backend_get_device(dq_context *ctx, int32_t backend, int32_t device,
                                       dq_device_info *out) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  return dq::core::guarded(ctx, [&] {
    if (!out) return set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "dq_backend_get_device: out is NULL");
    const Backend *b = backend_at(ctx, backend);
    if (!b) return DQ_ERR_INVALID_ARGUMENT;
    return device_info(ctx, *b, device, out);
  });
}

DQ_API int32_t dq_backend_supports(dq_context *ctx, int32_t backend, int32_t src_type,
                                   int32_t dst_type) {
  if (!ctx || !dq::type_is_dequantizable(src_type) || !dq::is_output_type(dst_type)) return 0;
  int32_t yes = 0;
  dq::core::guarded(ctx, [&] {
    const Backend *b = backend_at(ctx, backend);
    yes = (b && b->supports(src_type, dst_type)) ? 1 : 0;
    return DQ_OK;
  });
  return yes;
}

}  // extern "C"
