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

using dq::plugin_args::type_label;

// DQ_OK when `id` is a type this plugin dequantizes; else the status and message why not.
int32_t check_source_type(int32_t id) {
  const dq::TypeTraits *t = dq::type_traits(id);
  if (!t) return fail(DQ_ERR_UNKNOWN_TYPE, type_label(id) + " is unknown");
  if (t->retired) return fail(DQ_ERR_UNKNOWN_TYPE, type_label(id) + " is retired");
  if (!t->dequantizable) return fail(DQ_ERR_UNSUPPORTED, type_label(id) + " has no dequantization");
  if (!dq::cpu::scalar_kernels().fn[id][dq::cpu::kOutF32])
    return fail(DQ_ERR_UNSUPPORTED, "cpu backend has no kernel for " + type_label(id));
  return DQ_OK;
}

// DQ_OK when `a` is a request this plugin can run; else the status, with the message set.
int32_t check_args(const dq_plugin_dequantize_args *a) {
  if (!a) return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: null arguments");
  if (a->struct_size < offsetof(dq_plugin_dequantize_args, stream) + sizeof(void *))
    return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: arguments struct too small");
  if (int32_t st = check_source_type(a->src_type); st != DQ_OK) return st;
  if (!dq::is_output_type(a->dst_type))
    return fail(DQ_ERR_INVALID_ARGUMENT, "output type id " + std::to_string(a->dst_type) +
                                             " is not f32 (0), f16 (1) or bf16 (30)");
  if (a->device != 0)
    return fail(DQ_ERR_INVALID_ARGUMENT,
                "cpu backend has only device 0, not " + std::to_string(a->device));
  if (!a->src_on_host || !a->dst_on_host)
    return fail(DQ_ERR_INVALID_ARGUMENT, "cpu backend works on host memory only");
  const dq::TypeTraits &t = *dq::type_traits(a->src_type);
  if (a->n_elements <= 0)
    return fail(DQ_ERR_INVALID_ARGUMENT,
                "element count " + std::to_string(a->n_elements) + " is not positive");
  const auto src_needed = dq::type_nbytes(a->src_type, a->n_elements);
  if (!src_needed)
    return fail(DQ_ERR_SIZE, "element count " + std::to_string(a->n_elements) +
                                 (a->n_elements % t.block_elements != 0
                                      ? std::string(" is not a multiple of ") + t.name +
                                            "'s block of " + std::to_string(t.block_elements)
                                      : std::string(" of ") + t.name + " overflows the byte size"));
  if (a->src_bytes < *src_needed)
    return fail(DQ_ERR_SIZE, "source holds " + std::to_string(a->src_bytes) + " bytes, " +
                                 std::to_string(a->n_elements) + " " + t.name + " elements need " +
                                 std::to_string(*src_needed));
  uint64_t dst_needed = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(a->n_elements),
                             static_cast<uint64_t>(dq::output_type_size(a->dst_type)),
                             &dst_needed) ||
      a->dst_bytes < dst_needed)
    return fail(DQ_ERR_SIZE, "destination holds " + std::to_string(a->dst_bytes) + " bytes, " +
                                 std::to_string(a->n_elements) + " outputs need more");
  if (!a->src || !a->dst) return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: null buffer");
  if (dq::plugin_args::ranges_overlap(a->src, *src_needed, a->dst, dst_needed))
    return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: source and destination overlap");
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
    return dq::cpu::scalar_kernels().fn[src_type][dq::cpu::out_index(dst_type)] != nullptr;
  }

  static int32_t dequantize(const dq_plugin_dequantize_args *a) {
    if (int32_t st = check_args(a); st != DQ_OK) return st;
    const int32_t st =
        dq::cpu::run_dequantize(a->src_type, a->dst_type, a->src, a->dst, blocks_of(*a));
    if (st != DQ_OK) return fail(st, dq::cpu::dispatch_last_error());
    return ok();
  }

  // Every element checked before any runs; then one thread-pool dispatch for all of them.
  static int32_t dequantize_batch(const dq_plugin_dequantize_args *args, size_t n) {
    if (n == 0) return ok();
    if (!args) return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize_batch: null arguments");
    const size_t stride = args->struct_size;  // the caller's element size (dq_plugin.h)
    std::vector<dq::cpu::BatchItem> items;
    items.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const auto *a = reinterpret_cast<const dq_plugin_dequantize_args *>(
          reinterpret_cast<const unsigned char *>(args) + i * stride);
      if (a->struct_size != stride)
        return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize_batch: tensor " + std::to_string(i) +
                                                 ": struct_size " + std::to_string(a->struct_size) +
                                                 " differs from the first's " +
                                                 std::to_string(stride));
      if (int32_t st = check_args(a); st != DQ_OK)
        return fail(st, "dequantize_batch: tensor " + std::to_string(i) + ": " +
                            dq::plugin_error::message());
      items.push_back({a->src_type, a->dst_type, a->src, a->dst, blocks_of(*a)});
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
