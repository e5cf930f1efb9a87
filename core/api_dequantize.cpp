// dq_dequantize: validate, choose a backend, hand the work to its plugin.
#include <cstddef>
#include <string>

#include "api_guard.hpp"
#include "context.hpp"
#include "dequantize_common.hpp"
#include "plugin_call.hpp"
#include "registry/registry.hpp"
#include "request_check.hpp"

using dq::core::set_error;

namespace {

// Per thread, per context, like dq_last_error.
thread_local dq::core::ThreadText t_last_backend;

dq_status run(dq_context *ctx, const dq_dequantize_request &req) {
  auto &reg = dq::core::registry(ctx);
  dq::core::DequantizeTarget target{req.src_type, req.dst_type, req.src_bytes, req.backend,
                                    dq::core::device_backend_of(req)};
  dq::core::Choice choice = reg.select(target);
  if (!choice.backend) return set_error(ctx, choice.status, choice.reason);
  const dq::core::Backend &b = *choice.backend;
  const dq_plugin_dequantize_args args = dq::core::plugin_args(req);
  if (args.device < 0 || args.device >= b.device_count)
    return set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                     "device " + std::to_string(args.device) + " of backend '" + b.name +
                         "' does not exist (" + std::to_string(b.device_count) + " devices)");
  dq_status st = dq::core::plugin_call(ctx, b, "dequantize", b.api->dequantize(&args));
  if (st == DQ_OK) t_last_backend.set_if_changed(ctx, b.name);
  return st;
}

}  // namespace

namespace dq::core {

dq_plugin_dequantize_args plugin_args(const dq_dequantize_request &r) {
  dq_plugin_dequantize_args a{};
  a.struct_size = sizeof(a);
  a.src_type = r.src_type;
  a.dst_type = r.dst_type;
  a.src = r.src;
  a.src_bytes = r.src_bytes;
  a.n_elements = r.n_elements;
  a.dst = r.dst;
  a.dst_bytes = r.dst_bytes;
  const bool src_host = is_host(r.src_where), dst_host = is_host(r.dst_where);
  a.device = !src_host ? r.src_where.device : !dst_host ? r.dst_where.device : 0;
  a.src_on_host = src_host ? 1 : 0;
  a.dst_on_host = dst_host ? 1 : 0;
  a.stream = r.stream;
  return a;
}

void record_last_backend(const dq_context *ctx, const std::string &backend) {
  t_last_backend.set_if_changed(ctx, backend);
}

bool has_batch_entry(const dq_plugin_api &api) {
  // Read the entry only when the plugin's table is long enough to hold it (rule P3).
  return api.struct_size >= offsetof(dq_plugin_api, dequantize_batch) + sizeof(void *) &&
         api.dequantize_batch != nullptr;
}

}  // namespace dq::core

extern "C" {

DQ_API dq_status dq_dequantize(dq_context *ctx, const dq_dequantize_request *req) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  return dq::core::guarded(ctx, [&] {
    dq_dequantize_request r;
    const dq::core::Verdict v = dq::core::check_request(req, &r);
    if (v.status != DQ_OK) return set_error(ctx, v.status, "dq_dequantize: " + v.message);
    return run(ctx, r);
  });
}

DQ_API const char *dq_last_backend(const dq_context *ctx) {
  return ctx ? t_last_backend.get(ctx) : "";
}

}  // extern "C"
