#include "batch.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "dequantize.hpp"
#include "devices.hpp"
#include "dq_common/plugin_args.hpp"
#include "dq_common/type_traits.hpp"
#include "memory.hpp"
#include "status.hpp"
#include "streams.hpp"

namespace dq::vulkan {
namespace {

using plugin_args::batch_element;
using plugin_args::own_copy;

// dequantize()'s checks, without any work (the batch refuses before starting anything).
int32_t validate(const dq_plugin_dequantize_args &a, const std::string &what) {
  const std::string prefix = what + ": ";
  if (int32_t st = plugin_args::check_request_types(a, prefix, fail); st != DQ_OK) return st;
  if (!supports(a.src_type, a.dst_type))
    return fail(DQ_ERR_UNSUPPORTED, what + ": vulkan backend does not serve " + plugin_args::type_label(a.src_type));
  DeviceContext *ctx = nullptr;
  if (int32_t st = device_context(a.device, what.c_str(), &ctx); st != DQ_OK) return st;
  plugin_args::RequestBytes bytes;
  if (int32_t st = plugin_args::check_request_sizes(a, prefix, &bytes, fail); st != DQ_OK) return st;
  if (!a.src || !a.dst) return fail(DQ_ERR_INVALID_ARGUMENT, what + ": null buffer");
  if (a.src_on_host == a.dst_on_host && plugin_args::ranges_overlap(a.src, bytes.src, a.dst, bytes.dst))
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": source and destination overlap");
  if (!a.dst_on_host && reinterpret_cast<uintptr_t>(a.dst) % bytes.out_size != 0)
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": device destination is not aligned to its element size");
  std::vector<BufferSpan> spans;
  if (!a.src_on_host)
    if (int32_t st = resolve_device(*ctx, a.src, bytes.src, (what + ": source").c_str(), &spans); st != DQ_OK)
      return st;
  if (!a.dst_on_host)
    if (int32_t st = resolve_device(*ctx, a.dst, bytes.dst, (what + ": destination").c_str(), &spans); st != DQ_OK)
      return st;
  if (!stream_of(*ctx, a.stream))
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": not a stream of vulkan device " + std::to_string(a.device));
  return DQ_OK;
}

}  // namespace

int32_t dequantize_batch(const dq_plugin_dequantize_args *args, size_t n) {
  if (n == 0) return ok();
  if (int32_t st = plugin_args::check_batch_args(args, n, fail, validate); st != DQ_OK) return st;
  const size_t stride = args->struct_size;  // the caller's element size (dq_plugin.h)

  // Device memory: each stream's requests into one command buffer, submitted once all are
  // recorded; a failure while recording discards every batch (nothing ran).
  std::vector<Stream *> open;
  std::vector<Stream *> synchronous;  // NULL streams: the call waits, as dequantize does
  auto discard = [&] {
    for (Stream *s : open) s->end_batch(false);
  };
  for (size_t i = 0; i < n; ++i) {
    const dq_plugin_dequantize_args a = own_copy(batch_element(args, stride, i), stride);
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
    dq_plugin_dequantize_args a = own_copy(batch_element(args, stride, i), stride);
    if (!a.src_on_host && !a.dst_on_host) continue;
    if (int32_t st = dequantize(&a); st != DQ_OK)
      return fail(st, "dequantize_batch: tensor " + std::to_string(i) + ": " + std::string(last_error_text()));
  }
  return ok();
}

}  // namespace dq::vulkan
