// A fixture that sets the registry's environment variables for one test and clears them
// after, plus paths of the test plugin folders built beside this test.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "dq/dq.h"

#ifndef DQ_TEST_PLUGIN_ROOT
#define DQ_TEST_PLUGIN_ROOT ""
#endif

namespace dq::test {

inline std::string plugin_folder(const std::string &set) {
  return (std::filesystem::path(DQ_TEST_PLUGIN_ROOT) / set).string();
}

class EnvTest : public ::testing::Test {
 protected:
  static constexpr const char *kVars[] = {"DQ_PLUGIN_PATH", "DQ_BACKEND", "DQ_GPU_MIN_BYTES",
                                          "DQ_LOG", "DQ_FAKE_EVENT_LOG"};
  void SetUp() override {
    for (const char *v : kVars) unsetenv(v);
  }
  void TearDown() override {
    for (dq_context *c : contexts_) dq_context_destroy(c);
    for (const char *v : kVars) unsetenv(v);
  }
  void set(const char *name, const std::string &value) { setenv(name, value.c_str(), 1); }
  // A context destroyed at TearDown (after the environment was set for it).
  dq_context *context() {
    dq_context *c = nullptr;
    EXPECT_EQ(dq_context_create(&c), DQ_OK);
    contexts_.push_back(c);
    return c;
  }
  dq_backend_info info(dq_context *ctx, int32_t index) {
    dq_backend_info b{};
    b.struct_size = sizeof(b);
    EXPECT_EQ(dq_backend_get_info(ctx, index, &b), DQ_OK) << dq_last_error(ctx);
    return b;
  }

 private:
  std::vector<dq_context *> contexts_;
};

// An f32 -> f32 request over caller-owned buffers (every backend here can do it).
inline dq_dequantize_request f32_request(const std::vector<float> &src, std::vector<float> &dst) {
  dq_dequantize_request r{};
  r.struct_size = sizeof(r);
  r.src_type = DQ_TYPE_F32;
  r.dst_type = DQ_TYPE_F32;
  r.src = src.data();
  r.src_bytes = src.size() * sizeof(float);
  r.n_elements = static_cast<int64_t>(src.size());
  r.dst = dst.data();
  r.dst_bytes = dst.size() * sizeof(float);
  return r;
}

inline std::string contents(const std::filesystem::path &p) {
  std::string s;
  if (FILE *f = std::fopen(p.c_str(), "rb")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
  }
  return s;
}

}  // namespace dq::test
