// A device backend's plugin table seen by the loader: one device, calls that throw
// LoadError with the plugin's own message, and the pipelining entry points checked once.
#pragma once

#include <cstdint>
#include <string>

#include "dq/dq_plugin.h"

namespace dq::loader {

class DeviceApi {
 public:
  DeviceApi(const dq_plugin_api *api, int32_t device, std::string name);

  const dq_plugin_api *api() const { return api_; }
  int32_t device() const { return device_; }
  const std::string &name() const { return name_; }
  // True when the plugin has device memory plus pinned memory, streams and events.
  static bool can_pipeline(const dq_plugin_api *api);
  // True when the table (ABI >= 1.1 by its struct_size) has host_register and host_unregister.
  static bool can_register(const dq_plugin_api *api);

  void *alloc(uint64_t bytes, const char *what) const;
  void free(void *p) const;  // never throws
  void *alloc_pinned(uint64_t bytes) const;
  void free_pinned(void *p) const;
  // Pins `bytes` at `p` (page-aligned) read-only; returns the handle for unregister_host.
  void *register_host(const void *p, uint64_t bytes) const;
  void unregister_host(void *handle) const;
  void *stream_create() const;
  void stream_destroy(void *s) const;
  void *event_create() const;
  void event_destroy(void *e) const;
  void event_record(void *e, void *stream) const;
  void event_synchronize(void *e) const;
  void stream_wait_event(void *stream, void *e) const;
  void synchronize(void *stream) const;
  // Milliseconds between two completed events; negative when the plugin cannot tell.
  float elapsed_ms(void *start, void *end) const;
  void copy_h2d(void *dst, const void *src, uint64_t bytes, void *stream) const;
  void copy_d2h(void *dst, const void *src, uint64_t bytes, void *stream) const;
  void copy_d2d(void *dst, const void *src, uint64_t bytes, void *stream) const;
  void dequantize(int32_t src_type, int32_t dst_type, const void *src, uint64_t src_bytes,
                  int64_t n_elements, void *dst, uint64_t dst_bytes, void *stream,
                  const std::string &tensor) const;

  // Throws LoadError(status, "<backend>: <what>: <plugin message>") when st != DQ_OK.
  void check(int32_t st, const std::string &what) const;

 private:
  const dq_plugin_api *api_;
  int32_t device_;
  std::string name_;
};

}  // namespace dq::loader
