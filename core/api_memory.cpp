// dq_malloc / dq_free / dq_memcpy / dq_synchronize: host memory here, device memory through
// the owning plugin's mem_* entries.
#include <cstdlib>
#include <cstring>
#include <string>

#include "api_guard.hpp"
#include "context.hpp"
#include "plugin_call.hpp"
#include "registry/registry.hpp"
#include "request_check.hpp"

using dq::core::Backend;
using dq::core::set_error;

namespace {

constexpr size_t kHostAlignment = 64;  // a cache line: lets plugins use aligned vector loads

// The device backend `where` names, checked for device memory and the device index.
dq_status device_backend(dq_context *ctx, const dq_location &where, const Backend **out) {
  auto &reg = dq::core::registry(ctx);
  const Backend *b = reg.find(where.backend);
  const std::string name = std::string("backend '") + where.backend + "'";
  if (!b)
    return set_error(ctx, DQ_ERR_NO_BACKEND,
                     name + " not found (searched: " + reg.searched_text() + ")");
  if (!b->loaded()) return set_error(ctx, b->load_status, name + " is not usable: " + b->status);
  if (!b->has_device_memory)
    return set_error(ctx, DQ_ERR_UNSUPPORTED, name + " has no device memory (use host)");
  if (b->device_count == 0)
    return set_error(ctx, DQ_ERR_NO_DEVICE, name + " has no device: " + b->status);
  if (where.device < 0 || where.device >= b->device_count)
    return set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                     name + " has no device " + std::to_string(where.device));
  *out = b;
  return DQ_OK;
}

// A host location with a device other than 0 is refused (dq.h, "Locations").
dq_status check_location(dq_context *ctx, const char *call, const dq_location &where) {
  const std::string why = dq::core::location_problem(where);
  return why.empty() ? DQ_OK : set_error(ctx, DQ_ERR_INVALID_ARGUMENT, std::string(call) + ": " + why);
}

dq_status host_malloc(dq_context *ctx, size_t bytes, void **out) {
  const size_t rounded = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
  if (rounded < bytes) return set_error(ctx, DQ_ERR_OUT_OF_MEMORY, "dq_malloc: size overflows");
  *out = std::aligned_alloc(kHostAlignment, rounded);
  return *out ? DQ_OK
              : set_error(ctx, DQ_ERR_OUT_OF_MEMORY,
                          "dq_malloc: " + std::to_string(bytes) + " host bytes");
}

// Copy direction, or 0 for host to host.
int32_t copy_kind(bool dst_host, bool src_host) {
  if (dst_host && src_host) return 0;
  if (src_host) return DQ_COPY_HOST_TO_DEVICE;
  return dst_host ? DQ_COPY_DEVICE_TO_HOST : DQ_COPY_DEVICE_TO_DEVICE;
}

dq_status check_same_device(dq_context *ctx, const dq_location &a, const dq_location &b) {
  if (std::strcmp(a.backend, b.backend) == 0 && a.device == b.device) return DQ_OK;
  return set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                   "dq_memcpy: copies between two devices are not supported; copy through host");
}

dq_status device_copy(dq_context *ctx, void *dst, const dq_location &dst_where, const void *src,
                      const dq_location &src_where, size_t bytes, int32_t kind) {
  const dq_location &dev = kind == DQ_COPY_HOST_TO_DEVICE ? dst_where : src_where;
  if (kind == DQ_COPY_DEVICE_TO_DEVICE && check_same_device(ctx, dst_where, src_where) != DQ_OK)
    return DQ_ERR_INVALID_ARGUMENT;
  const Backend *b = nullptr;
  if (dq_status st = device_backend(ctx, dev, &b); st != DQ_OK) return st;
  dq_status st = dq::core::plugin_call(
      ctx, *b, "mem_copy", b->api->mem_copy(dev.device, dst, src, bytes, kind, nullptr));
  // dq_memcpy is synchronous; a device-to-device copy may otherwise still be running.
  if (st == DQ_OK)
    st = dq::core::plugin_call(ctx, *b, "synchronize", b->api->synchronize(dev.device, nullptr));
  return st;
}

}  // namespace

extern "C" {

DQ_API dq_status dq_malloc(dq_context *ctx, dq_location where, size_t bytes, void **out) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  return dq::core::guarded(ctx, [&]() -> dq_status {
    if (!out) return set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "dq_malloc: out is NULL");
    *out = nullptr;
    if (bytes == 0) return set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "dq_malloc: bytes is 0");
    if (dq_status st = check_location(ctx, "dq_malloc", where); st != DQ_OK) return st;
    if (dq::core::is_host(where)) return host_malloc(ctx, bytes, out);
    const Backend *b = nullptr;
    if (dq_status st = device_backend(ctx, where, &b); st != DQ_OK) return st;
    return dq::core::plugin_call(ctx, *b, "mem_alloc", b->api->mem_alloc(where.device, bytes, out));
  });
}

DQ_API dq_status dq_free(dq_context *ctx, dq_location where, void *ptr) {
  // Same rule as every call taking a context (dq.h): NULL ctx is refused, even for host
  // memory, so a caller's missing context shows up here and not at the next dq_malloc.
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  return dq::core::guarded(ctx, [&]() -> dq_status {
    if (dq_status st = check_location(ctx, "dq_free", where); st != DQ_OK) return st;
    if (!ptr) return DQ_OK;
    if (dq::core::is_host(where)) {
      std::free(ptr);
      return DQ_OK;
    }
    const Backend *b = nullptr;
    if (dq_status st = device_backend(ctx, where, &b); st != DQ_OK) return st;
    return dq::core::plugin_call(ctx, *b, "mem_free", b->api->mem_free(where.device, ptr));
  });
}

DQ_API dq_status dq_memcpy(dq_context *ctx, void *dst, dq_location dst_where, const void *src,
                           dq_location src_where, size_t bytes) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  return dq::core::guarded(ctx, [&]() -> dq_status {
    if (dq_status st = check_location(ctx, "dq_memcpy: dst_where", dst_where); st != DQ_OK)
      return st;
    if (dq_status st = check_location(ctx, "dq_memcpy: src_where", src_where); st != DQ_OK)
      return st;
    if (bytes == 0) return DQ_OK;
    if (!dst || !src)
      return set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "dq_memcpy: dst or src is NULL");
    const int32_t kind = copy_kind(dq::core::is_host(dst_where), dq::core::is_host(src_where));
    if (kind == 0) {
      std::memmove(dst, src, bytes);
      return DQ_OK;
    }
    return device_copy(ctx, dst, dst_where, src, src_where, bytes, kind);
  });
}

DQ_API dq_status dq_synchronize(dq_context *ctx, dq_location where, void *stream) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  return dq::core::guarded(ctx, [&]() -> dq_status {
    if (dq_status st = check_location(ctx, "dq_synchronize", where); st != DQ_OK) return st;
    if (dq::core::is_host(where)) return DQ_OK;  // host work is synchronous
    const Backend *b = nullptr;
    if (dq_status st = device_backend(ctx, where, &b); st != DQ_OK) return st;
    return dq::core::plugin_call(ctx, *b, "synchronize", b->api->synchronize(where.device, stream));
  });
}

}  // extern "C"
