// The cpu plugin's ABI entry: validates every request, then hands whole blocks to the
// dispatcher (kernel-set choice and threads live in dispatch.cpp).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "dq/dq_plugin.h"
#include "dq_common/plugin_args.hpp"
#include "dq_common/plugin_error.hpp"
#include "dq_common/plugin_glue.hpp"
#include "dq_common/type_traits.hpp"
#include "kernel_table.hpp"

namespace {

using dq::plugin_error::fail;
using dq::plugin_error::ok;

namespace plugin_args = dq::plugin_args;
using plugin_args::type_label;

bool has_kernel(int32_t src_type, int32_t dst_type) {
  return dq::cpu::scalar_kernels().fn[src_type][dq::cpu::out_index(dst_type)] != nullptr;
}

// Every check of one request before any work, in the order the other plugins use: the shared
// type checks, this backend's kernel, its device and memory, then the shared size checks and
// buffers. `what` names the call ("dequantize", "dequantize_batch: tensor 3"); `prefix` starts
// the type, size and backend messages ("" for dequantize, which has always reported those
// without a call name).
int32_t check_request(const dq_plugin_dequantize_args &a, const std::string &what,
                      const std::string &prefix) {
  if (int32_t st = plugin_args::check_request_types(a, prefix, fail); st != DQ_OK) return st;
  if (!has_kernel(a.src_type, a.dst_type))
    return fail(DQ_ERR_UNSUPPORTED,
                prefix + "cpu backend has no kernel for " + type_label(a.src_type));
  if (a.device != 0)
    return fail(DQ_ERR_INVALID_ARGUMENT,
                prefix + "cpu backend has only device 0, not " + std::to_string(a.device));
  if (!a.src_on_host || !a.dst_on_host)
    return fail(DQ_ERR_INVALID_ARGUMENT, prefix + "cpu backend works on host memory only");
  plugin_args::RequestBytes bytes;
  if (int32_t st = plugin_args::check_request_sizes(a, prefix, &bytes, fail); st != DQ_OK)
    return st;
  if (!a.src || !a.dst) return fail(DQ_ERR_INVALID_ARGUMENT, what + ": null buffer");
  if (plugin_args::ranges_overlap(a.src, bytes.src, a.dst, bytes.dst))
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": source and destination overlap");
  return DQ_OK;
}

int64_t blocks_of(const dq_plugin_dequantize_args &a) {
  return a.n_elements / dq::type_traits(a.src_type)->block_elements;
}

// The ABI entries, named as the fields of dq_plugin_api (dq_common/plugin_glue.hpp).
struct CpuEntries {
  static const char *describe() { return dq::cpu::dispatch_describe(); }

  static int32_t init() {
    std::string error;
    const int32_t status = dq::cpu::dispatch_init(&error);
    return status == DQ_OK ? ok() : fail(status, "cpu backend: " + error);
  }

  static void shutdown() { dq::cpu::dispatch_shutdown(); }

  static int32_t device_count() { return 1; }

  static const char *no_device_reason() { return ""; }

  static int32_t device_props(int32_t device, dq_plugin_device_props *out) {
    if (device != 0) return fail(DQ_ERR_INVALID_ARGUMENT, "cpu backend has only device 0");
    if (!out || out->struct_size < sizeof(dq_plugin_device_props))
      return fail(DQ_ERR_INVALID_ARGUMENT, "device props: null or too small struct");
    std::snprintf(out->name, sizeof out->name, "host CPU");
    const long page = sysconf(_SC_PAGESIZE);
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long avail = sysconf(_SC_AVPHYS_PAGES);
    out->total_memory = (page > 0 && pages > 0) ? uint64_t(page) * uint64_t(pages) : 0;
    out->free_memory = (page > 0 && avail > 0) ? uint64_t(page) * uint64_t(avail) : 0;
    out->is_gpu = 0;
    out->reserved = 0;
    return ok();
  }

  static int32_t supports(int32_t src_type, int32_t dst_type) {
    const dq::TypeTraits *t = dq::type_traits(src_type);
    if (!t || t->retired || !t->dequantizable || !dq::is_output_type(dst_type)) return 0;
    return has_kernel(src_type, dst_type);
  }

  static int32_t dequantize(const dq_plugin_dequantize_args *a) {
    if (int32_t st = plugin_args::check_args_struct(a, "dequantize", fail); st != DQ_OK) return st;
    if (int32_t st = check_request(*a, "dequantize", ""); st != DQ_OK) return st;
    const int32_t st =
        dq::cpu::run_dequantize(a->src_type, a->dst_type, a->src, a->dst, blocks_of(*a));
    if (st != DQ_OK) return fail(st, dq::cpu::dispatch_last_error());
    return ok();
  }

  // Every element checked before any runs; then one thread-pool dispatch for all of them.
  static int32_t dequantize_batch(const dq_plugin_dequantize_args *args, size_t n) {
    if (n == 0) return ok();
    auto validate = [](const dq_plugin_dequantize_args &a, const std::string &what) {
      return check_request(a, what, what + ": ");
    };
    if (int32_t st = plugin_args::check_batch_args(args, n, fail, validate); st != DQ_OK) return st;
    const size_t stride = args->struct_size;  // the caller's element size (dq_plugin.h)
    std::vector<dq::cpu::BatchItem> items;
    items.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const dq_plugin_dequantize_args &a = plugin_args::batch_element(args, stride, i);
      items.push_back({a.src_type, a.dst_type, a.src, a.dst, blocks_of(a)});
    }
    const int32_t st = dq::cpu::run_dequantize_batch(items.data(), items.size());
    if (st != DQ_OK) return fail(st, dq::cpu::dispatch_last_error());
    return ok();
  }

  static int32_t synchronize(int32_t, void *) { return ok(); }

  static constexpr auto last_error = dq::plugin_error::last_error;
};

}  // namespace

extern "C" DQ_PLUGIN_EXPORT const dq_plugin_api *dq_plugin_entry(uint32_t host_abi_major,
                                                                 uint32_t /*host_abi_minor*/) {
  static const dq_plugin_api api = dq::plugin_glue::make_api<CpuEntries>("cpu", "0.1.0");
  return dq::plugin_glue::entry(api, host_abi_major);
}
