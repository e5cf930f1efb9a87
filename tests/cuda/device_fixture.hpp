// Shared pieces of the cuda device tests: a fixture that skips (with the plugin's own
// reason) when there is no usable device, device buffers, and the cpu reference.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dq_common/dequantize_args.hpp"
#include "dq_common/type_traits.hpp"
#include "plugin_loader.hpp"

namespace dq::test {

class CudaDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    const LoadedPlugin &p = cuda_plugin();
    if (!p.api) GTEST_SKIP() << "cuda plugin not available: " << p.error;
    if (p.api->device_count() < 1) GTEST_SKIP() << p.api->no_device_reason();
    cuda = p.api;
  }
  const dq_plugin_api *cuda = nullptr;
};

// True when the sanitizer-friendly quick mode is on (smaller sizes, no 2^31 tensor).
inline bool quick_mode() {
  const char *q = std::getenv("DQ_CUDA_TEST_QUICK");
  return q && *q && std::strcmp(q, "0") != 0;
}

// Owns one device allocation made through the plugin.
class DeviceBuffer {
 public:
  DeviceBuffer(const dq_plugin_api *api, size_t bytes) : api_(api), bytes_(bytes) {
    if (api_->mem_alloc(0, bytes, &ptr_) != DQ_OK) {
      error_ = api_->last_error();
      ptr_ = nullptr;
    }
  }
  ~DeviceBuffer() {
    if (ptr_) api_->mem_free(0, ptr_);
  }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  uint8_t *get() const { return static_cast<uint8_t *>(ptr_); }
  size_t size() const { return bytes_; }
  const std::string &error() const { return error_; }

 private:
  const dq_plugin_api *api_;
  void *ptr_ = nullptr;
  size_t bytes_;
  std::string error_;
};

inline std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t x = rng();
    std::memcpy(v.data() + i, &x, 8);
  }
  for (; i < n; ++i) v[i] = static_cast<uint8_t>(rng());
  return v;
}

inline dq_plugin_dequantize_args make_args(int32_t type, int32_t out, const void *src, size_t src_bytes,
                                           int64_t n, void *dst, size_t dst_bytes) {
  return make_dequantize_args(type, out, src, src_bytes, n, dst, dst_bytes, /*on_host=*/false);
}

// The cpu plugin's output for host bytes, or an empty vector with *why set.
inline std::vector<uint8_t> cpu_reference(int32_t type, int32_t out, const std::vector<uint8_t> &src, int64_t n,
                                          std::string *why) {
  const LoadedPlugin &p = cpu_plugin();
  if (!p.api) {
    *why = "cpu plugin not available: " + p.error;
    return {};
  }
  if (!p.api->supports(type, out)) {
    *why = std::string("cpu plugin does not support ") + dq::type_traits(type)->name;
    return {};
  }
  std::vector<uint8_t> dst(static_cast<size_t>(n) * dq::output_type_size(out));
  dq_plugin_dequantize_args a = make_args(type, out, src.data(), src.size(), n, dst.data(), dst.size());
  a.src_on_host = a.dst_on_host = 1;
  if (p.api->dequantize(&a) != DQ_OK) {
    *why = std::string("cpu plugin failed: ") + p.api->last_error();
    return {};
  }
  return dst;
}

// Compares outputs byte for byte; a NaN matches any NaN (the kernels and the cpu plugin may
// quiet NaN payloads differently; the golden data holds no NaN). Returns a description of
// the first mismatch, or "" when identical.
inline std::string compare_outputs(const std::vector<uint8_t> &got, const std::vector<uint8_t> &want,
                                   int32_t out, size_t *n_bad = nullptr) {
  const size_t es = dq::output_type_size(out);
  if (got.size() != want.size()) return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < got.size(); i += es) {
    if (std::memcmp(got.data() + i, want.data() + i, es) == 0) continue;
    auto nan = [&](const uint8_t *p) {
      if (es == 4) {
        uint32_t u;
        std::memcpy(&u, p, 4);
        return (u & 0x7fffffffu) > 0x7f800000u;
      }
      uint16_t h;
      std::memcpy(&h, p, 2);
      return out == 1 ? (h & 0x7fffu) > 0x7c00u : (h & 0x7fffu) > 0x7f80u;
    };
    if (nan(got.data() + i) && nan(want.data() + i)) continue;
    if (bad++ == 0) first = i / es;
  }
  if (n_bad) *n_bad = bad;
  if (!bad) return "";
  char buf[160];
  uint32_t g = 0, w = 0;
  std::memcpy(&g, got.data() + first * es, es);
  std::memcpy(&w, want.data() + first * es, es);
  std::snprintf(buf, sizeof buf, "%zu of %zu elements differ; first at %zu: got 0x%x want 0x%x", bad,
                got.size() / es, first, g, w);
  return buf;
}

}  // namespace dq::test
