// dq_malloc / dq_free / dq_memcpy / dq_synchronize on host memory and on the fake GPU, and
// device memory implying its backend in dq_dequantize.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "env_fixture.hpp"

using dq::test::EnvTest;
using dq::test::plugin_folder;

namespace {

class CoreMemoryApi : public EnvTest {
 protected:
  void SetUp() override {
    EnvTest::SetUp();
    set("DQ_PLUGIN_PATH", plugin_folder("plugins-gpu") + ":" + plugin_folder("plugins-nodev"));
  }
  static constexpr dq_location kHost{nullptr, 0};
  static constexpr dq_location kGpu{"fakegpu", 0};
};

TEST_F(CoreMemoryApi, HostAllocationIsAlignedAndCopies) {
  dq_context *ctx = context();
  void *a = nullptr, *b = nullptr;
  ASSERT_EQ(dq_malloc(ctx, kHost, 100, &a), DQ_OK);
  ASSERT_EQ(dq_malloc(ctx, {"host", 0}, 100, &b), DQ_OK);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  std::memset(a, 0x5A, 100);
  ASSERT_EQ(dq_memcpy(ctx, b, kHost, a, kHost, 100), DQ_OK);
  EXPECT_EQ(std::memcmp(a, b, 100), 0);
  EXPECT_EQ(dq_synchronize(ctx, kHost, nullptr), DQ_OK);
  EXPECT_EQ(dq_free(ctx, kHost, a), DQ_OK);
  EXPECT_EQ(dq_free(ctx, kHost, b), DQ_OK);
  EXPECT_EQ(dq_free(ctx, kHost, nullptr), DQ_OK);
}

TEST_F(CoreMemoryApi, BadAllocations) {
  dq_context *ctx = context();
  void *p = nullptr;
  EXPECT_EQ(dq_malloc(ctx, kHost, 0, &p), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_malloc(ctx, kHost, 16, nullptr), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_malloc(ctx, {"fakegpu", -1}, 16, &p), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx)).find("backend 'fakegpu' has no device -1"),
            std::string::npos)
      << dq_last_error(ctx);
  EXPECT_EQ(dq_malloc(ctx, {"nosuch", 0}, 16, &p), DQ_ERR_NO_BACKEND);
  EXPECT_EQ(dq_malloc(ctx, {"fake", 0}, 16, &p), DQ_ERR_NO_DEVICE);
  EXPECT_NE(std::string(dq_last_error(ctx)).find("no fake device"), std::string::npos);
  EXPECT_EQ(dq_malloc(ctx, {"fakegpu", 3}, 16, &p), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(p, nullptr);
}

TEST_F(CoreMemoryApi, DeviceRoundTrip) {
  dq_context *ctx = context();
  std::vector<unsigned char> in(4096), out(4096);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<unsigned char>(i * 7);
  void *d1 = nullptr, *d2 = nullptr;
  ASSERT_EQ(dq_malloc(ctx, kGpu, in.size(), &d1), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_malloc(ctx, kGpu, in.size(), &d2), DQ_OK);
  ASSERT_EQ(dq_memcpy(ctx, d1, kGpu, in.data(), kHost, in.size()), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_memcpy(ctx, d2, kGpu, d1, kGpu, in.size()), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_memcpy(ctx, out.data(), kHost, d2, kGpu, out.size()), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(in, out);
  EXPECT_EQ(dq_synchronize(ctx, kGpu, nullptr), DQ_OK);
  EXPECT_EQ(dq_memcpy(ctx, d2, {"fakegpu", 1}, d1, kGpu, 16), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_free(ctx, kGpu, d1), DQ_OK);
  EXPECT_EQ(dq_free(ctx, kGpu, d2), DQ_OK);
}

TEST_F(CoreMemoryApi, DeviceMemoryImpliesItsBackend) {
  set("DQ_BACKEND", "cpu");  // governs host/host work only: device memory wins
  dq_context *ctx = context();
  std::vector<float> in(32, 1.25f), out(32);
  void *dsrc = nullptr;
  ASSERT_EQ(dq_malloc(ctx, kGpu, 128, &dsrc), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_memcpy(ctx, dsrc, kGpu, in.data(), kHost, 128), DQ_OK);
  dq_dequantize_request r = dq::test::f32_request(in, out);
  r.src = dsrc;
  r.src_where = kGpu;
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  EXPECT_STREQ(dq_last_backend(ctx), "fakegpu");
  EXPECT_EQ(out, in);
  r.src_where = {"fakegpu", 2};
  EXPECT_EQ(dq_dequantize(ctx, &r), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx)).find("device 2 of backend 'fakegpu' does not exist"),
            std::string::npos)
      << dq_last_error(ctx);
  EXPECT_EQ(dq_free(ctx, kGpu, dsrc), DQ_OK);
}

}  // namespace
