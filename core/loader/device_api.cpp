// Loader-side wrapper of a device plugin's table (see device_api.hpp).
#include "loader/device_api.hpp"

#include <cstddef>

#include "dq_common/dequantize_args.hpp"
#include "loader/load_error.hpp"

namespace dq::loader {

DeviceApi::DeviceApi(const dq_plugin_api *api, int32_t device, std::string name)
    : api_(api), device_(device), name_(std::move(name)) {}

bool DeviceApi::can_pipeline(const dq_plugin_api *a) {
  return a && a->mem_alloc && a->mem_free && a->mem_copy && a->synchronize &&
         a->host_alloc_pinned && a->host_free_pinned && a->stream_create && a->stream_destroy &&
         a->event_create && a->event_destroy && a->event_record && a->event_synchronize &&
         a->stream_wait_event;
}

bool DeviceApi::can_register(const dq_plugin_api *a) {
  // A plugin built against ABI 1.0 has a shorter table: never read past its struct_size.
  constexpr size_t needed = offsetof(dq_plugin_api, host_unregister) + sizeof(a->host_unregister);
  return a && a->struct_size >= needed && a->host_register && a->host_unregister;
}

void DeviceApi::check(int32_t st, const std::string &what) const {
  if (st == DQ_OK) return;
  const char *msg = api_->last_error ? api_->last_error() : "";
  throw LoadError(
      static_cast<dq_status>(st),
      name_ + ": " + what + ": " + (msg && *msg ? msg : dq_status_string((dq_status)st)));
}

void *DeviceApi::alloc(uint64_t bytes, const char *what) const {
  void *p = nullptr;
  check(api_->mem_alloc(device_, bytes, &p),
        std::string("allocating ") + std::to_string(bytes) + " bytes for " + what);
  return p;
}

void DeviceApi::free(void *p) const {
  if (p) api_->mem_free(device_, p);
}

void *DeviceApi::alloc_pinned(uint64_t bytes) const {
  void *p = nullptr;
  check(api_->host_alloc_pinned(bytes, &p),
        "allocating " + std::to_string(bytes) + " bytes of pinned staging memory");
  return p;
}

void DeviceApi::free_pinned(void *p) const {
  if (p) api_->host_free_pinned(p);
}

void *DeviceApi::register_host(const void *p, uint64_t bytes) const {
  void *h = nullptr;
  check(api_->host_register(const_cast<void *>(p), bytes, DQ_HOST_REGISTER_READ_ONLY, &h),
        "registering " + std::to_string(bytes) + " bytes of the model's mapping");
  return h;
}

void DeviceApi::unregister_host(void *handle) const {
  if (handle) check(api_->host_unregister(handle), "unregistering the model's mapping");
}

void *DeviceApi::stream_create() const {
  void *s = nullptr;
  check(api_->stream_create(device_, &s), "creating a stream");
  return s;
}

void DeviceApi::stream_destroy(void *s) const {
  if (s) api_->stream_destroy(device_, s);
}

void *DeviceApi::event_create() const {
  void *e = nullptr;
  check(api_->event_create(device_, &e), "creating an event");
  return e;
}

void DeviceApi::event_destroy(void *e) const {
  if (e) api_->event_destroy(device_, e);
}

void DeviceApi::event_record(void *e, void *stream) const {
  check(api_->event_record(device_, e, stream), "recording an event");
}

void DeviceApi::event_synchronize(void *e) const {
  check(api_->event_synchronize(device_, e), "waiting for an event");
}

void DeviceApi::stream_wait_event(void *stream, void *e) const {
  check(api_->stream_wait_event(device_, stream, e), "ordering streams");
}

void DeviceApi::synchronize(void *stream) const {
  check(api_->synchronize(device_, stream), "synchronizing");
}

float DeviceApi::elapsed_ms(void *start, void *end) const {
  float ms = -1.0f;
  if (!api_->event_elapsed_ms || api_->event_elapsed_ms(device_, start, end, &ms) != DQ_OK)
    return -1.0f;
  return ms;
}

void DeviceApi::copy_h2d(void *dst, const void *src, uint64_t bytes, void *stream) const {
  check(api_->mem_copy(device_, dst, src, bytes, DQ_COPY_HOST_TO_DEVICE, stream),
        "copying " + std::to_string(bytes) + " bytes to the device");
}

void DeviceApi::copy_d2h(void *dst, const void *src, uint64_t bytes, void *stream) const {
  check(api_->mem_copy(device_, dst, src, bytes, DQ_COPY_DEVICE_TO_HOST, stream),
        "copying " + std::to_string(bytes) + " bytes from the device");
}

void DeviceApi::copy_d2d(void *dst, const void *src, uint64_t bytes, void *stream) const {
  check(api_->mem_copy(device_, dst, src, bytes, DQ_COPY_DEVICE_TO_DEVICE, stream),
        "copying " + std::to_string(bytes) + " bytes on the device");
}

void DeviceApi::dequantize(int32_t src_type, int32_t dst_type, const void *src, uint64_t src_bytes,
                           int64_t n_elements, void *dst, uint64_t dst_bytes, void *stream,
                           const std::string &tensor) const {
  dq_plugin_dequantize_args a = make_dequantize_args(src_type, dst_type, src, src_bytes, n_elements,
                                                     dst, dst_bytes, /*on_host=*/false);
  a.device = device_;
  a.stream = stream;
  check(api_->dequantize(&a), "dequantizing tensor " + tensor);
}

}  // namespace dq::loader
