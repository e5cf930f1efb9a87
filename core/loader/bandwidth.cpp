// dq_measure_h2d_bandwidth: the bus figure a load is compared with, measured the same way the
// loader uploads (pinned host memory, async copy on a stream, device events for timing).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "context.hpp"
#include "loader/device_api.hpp"
#include "loader/load_error.hpp"
#include "registry/registry.hpp"

using dq::loader::DeviceApi;
using dq::loader::LoadError;

namespace {

double measure(const DeviceApi &dev, uint64_t bytes, int repeats) {
  struct Resources {
    const DeviceApi &d;
    void *host = nullptr, *devbuf = nullptr, *stream = nullptr, *e0 = nullptr, *e1 = nullptr;
    ~Resources() {
      if (stream) d.api()->synchronize(d.device(), stream);
      d.free_pinned(host);
      d.free(devbuf);
      d.event_destroy(e0);
      d.event_destroy(e1);
      d.stream_destroy(stream);
    }
  } r{dev};
  r.host = dev.alloc_pinned(bytes);
  std::memset(r.host, 0x5a, bytes);  // touch every page, and no all-zero data
  r.devbuf = dev.alloc(bytes, "the bandwidth probe");
  r.stream = dev.stream_create();
  r.e0 = dev.event_create();
  r.e1 = dev.event_create();
  dev.copy_h2d(r.devbuf, r.host, bytes, r.stream);  // warm-up
  dev.synchronize(r.stream);
  std::vector<double> rates;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    dev.event_record(r.e0, r.stream);
    dev.copy_h2d(r.devbuf, r.host, bytes, r.stream);
    dev.event_record(r.e1, r.stream);
    dev.event_synchronize(r.e1);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const float ms = dev.elapsed_ms(r.e0, r.e1);
    if (ms > 0) s = ms / 1e3;
    rates.push_back(static_cast<double>(bytes) / s);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

extern "C" DQ_API dq_status dq_measure_h2d_bandwidth(dq_context *ctx, dq_location where,
                                                     uint64_t bytes, int32_t repeats,
                                                     double *bytes_per_second) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  if (!bytes_per_second)
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "bytes_per_second is NULL");
  const char *name = where.backend;
  if (!name || !*name || !std::strcmp(name, "host") || !std::strcmp(name, "cpu"))
    return dq::core::set_error(ctx, DQ_ERR_UNSUPPORTED,
                               "host memory has no host-to-device bus to measure");
  try {
    const dq::core::Backend *b = dq::core::registry(ctx).find(name);
    if (!b || !b->has_device())
      return dq::core::set_error(ctx, b ? DQ_ERR_NO_DEVICE : DQ_ERR_NO_BACKEND,
                                 std::string("backend '") + name + "' has no usable device" +
                                     (b && !b->status.empty() ? ": " + b->status : ""));
    if (!DeviceApi::can_pipeline(b->api))
      return dq::core::set_error(
          ctx, DQ_ERR_UNSUPPORTED,
          std::string("backend '") + name + "' lacks pinned memory or streams");
    if (where.device < 0 || where.device >= b->device_count)
      return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "no such device");
    DeviceApi dev(b->api, where.device, b->name);
    *bytes_per_second = measure(dev, bytes ? bytes : 256ull << 20, repeats > 0 ? repeats : 5);
    return DQ_OK;
  } catch (const LoadError &e) {
    return dq::core::set_error(ctx, e.status(), e.what());
  } catch (const std::exception &e) {
    return dq::core::set_error(ctx, DQ_ERR_INTERNAL, e.what());
  }
}
