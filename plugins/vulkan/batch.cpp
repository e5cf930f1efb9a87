#include "batch.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "dequantize.hpp"
#include "devices.hpp"
#include "dq_common/type_traits.hpp"
#include "memory.hpp"
#include "status.hpp"
#include "streams.hpp"

namespace dq::vulkan {
namespace {

const dq_plugin_dequantize_args &element(const dq_plugin_dequantize_args *args, size_t stride, size_t i) {
  return *reinterpret_cast<const dq_plugin_dequantize_args *>(reinterpret_cast<const uint8_t *>(args) + i * stride);
}

// The caller's element as this plugin's struct (a larger caller struct's tail is not ours).
dq_plugin_dequantize_args own_copy(const dq_plugin_dequantize_args &a, size_t stride) {
  dq_plugin_dequantize_args c{};
  std::memcpy(&c, &a, std::min(stride, sizeof c));
  c.struct_size = sizeof c;
  return c;
}

bool overlaps(const void *a, uint64_t a_bytes, const void *b, uint64_t b_bytes) {
  const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return pa < pb + b_bytes && pb < pa + a_bytes;
}

// dequantize()'s checks, without any work (the batch refuses before starting anything).
int32_t validate(const dq_plugin_dequantize_args &a, const std::string &what) {
  const dq::TypeTraits *t = dq::type_traits(a.src_type);
  const std::string label = "type id " + std::to_string(a.src_type) + (t ? std::string(" (") + t->name + ")" : "");
  if (!t) return fail(DQ_ERR_UNKNOWN_TYPE, what + ": " + label + " is unknown");
  if (t->retired) return fail(DQ_ERR_UNKNOWN_TYPE, what + ": " + label + " is retired");
  if (!t->dequantizable) return fail(DQ_ERR_UNSUPPORTED, what + ": " + label + " has no dequantization");
  if (!dq::is_output_type(a.dst_type))
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": output type id " + std::to_string(a.dst_type) +
                                             " is not f32 (0), f16 (1) or bf16 (30)");
  if (!supports(a.src_type, a.dst_type))
    return fail(DQ_ERR_UNSUPPORTED, what + ": vulkan backend does not serve " + label);
  DeviceContext *ctx = nullptr;
  if (int32_t st = device_context(a.device, what.c_str(), &ctx); st != DQ_OK) return st;
  if (a.n_elements <= 0)
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": element count " + std::to_string(a.n_elements) + " is not positive");
  const auto src_needed = dq::type_nbytes(a.src_type, a.n_elements);
  if (!src_needed)
    return fail(DQ_ERR_SIZE, what + ": element count " + std::to_string(a.n_elements) + " is not a multiple of " +
                                 t->name + "'s block of " + std::to_string(t->block_elements));
  if (a.src_bytes < *src_needed)
    return fail(DQ_ERR_SIZE, what + ": source holds " + std::to_string(a.src_bytes) + " bytes, " +
                                 std::to_string(a.n_elements) + " " + t->name + " elements need " +
                                 std::to_string(*src_needed));
  const size_t out_size = dq::output_type_size(a.dst_type);
  uint64_t dst_needed = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(a.n_elements), static_cast<uint64_t>(out_size), &dst_needed) ||
      a.dst_bytes < dst_needed)
    return fail(DQ_ERR_SIZE, what + ": destination holds " + std::to_string(a.dst_bytes) + " bytes, " +
                                 std::to_string(a.n_elements) + " outputs need " + std::to_string(dst_needed));
  if (!a.src || !a.dst) return fail(DQ_ERR_INVALID_ARGUMENT, what + ": null buffer");
  if (a.src_on_host == a.dst_on_host && overlaps(a.src, *src_needed, a.dst, dst_needed))
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": source and destination overlap");
  if (!a.dst_on_host && reinterpret_cast<uintptr_t>(a.dst) % out_size != 0)
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": device destination is not aligned to its element size");
  std::vector<BufferSpan> spans;
  if (!a.src_on_host)
    if (int32_t st = resolve_device(*ctx, a.src, *src_needed, (what + ": source").c_str(), &spans); st != DQ_OK)
      return st;
  if (!a.dst_on_host)
    if (int32_t st = resolve_device(*ctx, a.dst, dst_needed, (what + ": destination").c_str(), &spans); st != DQ_OK)
      return st;
  if (!stream_of(*ctx, a.stream))
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": not a stream of vulkan device " + std::to_string(a.device));
  return DQ_OK;
}

}  // namespace

int32_t dequantize_batch(const dq_plugin_dequantize_args *args, size_t n) {
  if (n == 0) return ok();
  if (!args) return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize_batch: null arguments");
  const size_t stride = args->struct_size;  // the caller's element size (dq_plugin.h)
  if (stride < offsetof(dq_plugin_dequantize_args, stream) + sizeof(void *))
    return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize_batch: arguments struct too small");
  for (size_t i = 0; i < n; ++i) {
    const dq_plugin_dequantize_args &a = element(args, stride, i);
    const std::string what = "dequantize_batch: tensor " + std::to_string(i);
    if (a.struct_size != stride)
      return fail(DQ_ERR_INVALID_ARGUMENT, what + ": struct_size " + std::to_string(a.struct_size) +
                                               " differs from the first's " + std::to_string(stride));
    if (int32_t st = validate(a, what); st != DQ_OK) return st;
  }

  // Device memory: each stream's requests into one command buffer, submitted once all are
  // recorded; a failure while recording discards every batch (nothing ran).
  std::vector<Stream *> open;
  std::vector<Stream *> synchronous;  // NULL streams: the call waits, as dequantize does
  auto discard = [&] {
    for (Stream *s : open) s->end_batch(false);
  };
  for (size_t i = 0; i < n; ++i) {
    const dq_plugin_dequantize_args a = own_copy(element(args, stride, i), stride);
    if (a.src_on_host || a.dst_on_host) continue;
    DeviceContext *ctx = nullptr;
    device_context(a.device, "dequantize_batch", &ctx);  // checked above
    Stream *s = stream_of(*ctx, a.stream);
    if (std::find(open.begin(), open.end(), s) == open.end()) {
      if (int32_t st = s->begin_batch(); st != DQ_OK) {
        const std::string why = last_error_text();
        discard();
        return fail(st, "dequantize_batch: " + why);
      }
      open.push_back(s);
      if (!a.stream) synchronous.push_back(s);
    }
    dq_plugin_dequantize_args queued = a;
    // Recorded only: the batch's own wait for NULL streams comes after its submission.
    if (int32_t st = dequantize(&queued); st != DQ_OK) {
      const std::string why = last_error_text();
      discard();
      return fail(st, "dequantize_batch: tensor " + std::to_string(i) + ": " + why);
    }
  }
  int32_t status = DQ_OK;
  std::string why;
  for (Stream *s : open)
    if (status == DQ_OK) {
      if ((status = s->end_batch(true)) != DQ_OK) why = last_error_text();
    } else {
      s->end_batch(false);
    }
  if (status != DQ_OK) return fail(status, "dequantize_batch: " + why);
  for (Stream *s : synchronous)
    if (int32_t st = s->wait(); st != DQ_OK) return fail(st, std::string("dequantize_batch: ") + last_error_text());

  // Host memory: staged one at a time (each waits), after the device work is queued.
  for (size_t i = 0; i < n; ++i) {
    dq_plugin_dequantize_args a = own_copy(element(args, stride, i), stride);
    if (!a.src_on_host && !a.dst_on_host) continue;
    if (int32_t st = dequantize(&a); st != DQ_OK)
      return fail(st, "dequantize_batch: tensor " + std::to_string(i) + ": " + std::string(last_error_text()));
  }
  return ok();
}

}  // namespace dq::vulkan
