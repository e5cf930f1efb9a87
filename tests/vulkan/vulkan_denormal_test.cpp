// The vulkan plugin's denormal probe through the registry (DQ_BACKEND=vulkan,cpu and
// DQ_GPU_MIN_BYTES=0 from CTest, so vulkan serves whatever it supports). With
// DQ_VULKAN_ASSUME_DENORM_FLUSH=1 (a device that flushes f32 subnormals, as NVIDIA's compiler
// does) Q8_K and MXFP4 are refused, `dq backends` says why, and a Q8_K tensor of subnormal
// outputs is served by the cpu plugin, bit for bit; without it lavapipe keeps them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dq/dq.h"

namespace {

class VulkanDenormal : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(dq_context_create(&ctx), DQ_OK);
    vulkan = dq_backend_find(ctx, "vulkan");
    if (vulkan < 0) GTEST_SKIP() << "vulkan plugin not found";
    dq_backend_info b{};
    b.struct_size = sizeof b;
    ASSERT_EQ(dq_backend_get_info(ctx, vulkan, &b), DQ_OK);
    if (!b.loaded || b.device_count < 1) GTEST_SKIP() << "no vulkan device: " << (b.status ? b.status : "");
    description = b.description ? b.description : "";
  }
  void TearDown() override { dq_context_destroy(ctx); }

  // One Q8_K block: d = 1e-40f (subnormal) times q = -128..127, the outputs NVIDIA zeroed.
  static std::vector<uint8_t> subnormal_q8_k() {
    std::vector<uint8_t> src(292, 0);
    const float d = 1e-40f;
    std::memcpy(src.data(), &d, sizeof d);
    for (int i = 0; i < 256; ++i) src[4 + i] = static_cast<uint8_t>(static_cast<int8_t>(i - 128));
    return src;
  }

  // The block dequantized to f32 by `backend` (nullptr: the registry's choice).
  dq_status dequantize(const std::vector<uint8_t> &src, const char *backend, std::vector<float> *out) {
    out->assign(256, -1.0f);
    dq_dequantize_request r{};
    r.struct_size = sizeof r;
    r.src_type = DQ_TYPE_Q8_K;
    r.dst_type = DQ_TYPE_F32;
    r.src = src.data();
    r.src_bytes = src.size();
    r.n_elements = 256;
    r.dst = out->data();
    r.dst_bytes = out->size() * sizeof(float);
    r.backend = backend;
    return dq_dequantize(ctx, &r);
  }

  dq_context *ctx = nullptr;
  int32_t vulkan = -1;
  std::string description;
};

bool forced_flush() {
  const char *v = std::getenv("DQ_VULKAN_ASSUME_DENORM_FLUSH");
  return v && std::strcmp(v, "1") == 0;
}

TEST_F(VulkanDenormal, FlushingDeviceRefusesQ8KAndMxfp4) {
  if (!forced_flush()) GTEST_SKIP() << "run with DQ_VULKAN_ASSUME_DENORM_FLUSH=1 (CTest vulkan.denormal-flush-refused)";
  for (int32_t out : {DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16}) {
    EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_Q8_K, out), 0) << "output " << out;
    EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_MXFP4, out), 0) << "output " << out;
  }
  EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_Q4_0, DQ_TYPE_F32), 1) << "other types stay on vulkan";
  EXPECT_NE(description.find("Q8_K, MXFP4 refused"), std::string::npos) << description;
  EXPECT_NE(description.find("flushes f32 subnormals"), std::string::npos) << description;

  const std::vector<uint8_t> src = subnormal_q8_k();
  std::vector<float> routed, cpu;
  ASSERT_EQ(dequantize(src, nullptr, &routed), DQ_OK) << dq_last_error(ctx);
  EXPECT_STREQ(dq_last_backend(ctx), "cpu");
  ASSERT_EQ(dequantize(src, "cpu", &cpu), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(std::memcmp(routed.data(), cpu.data(), cpu.size() * sizeof(float)), 0);

  // Forced onto vulkan: refused (the core sees supports() = 0), never a tensor of zeros.
  std::vector<float> forced;
  EXPECT_EQ(dequantize(src, "vulkan", &forced), DQ_ERR_UNSUPPORTED) << dq_last_error(ctx);
}

TEST_F(VulkanDenormal, PreservingDeviceKeepsQ8KAndMxfp4) {
  if (forced_flush()) GTEST_SKIP() << "DQ_VULKAN_ASSUME_DENORM_FLUSH=1 forces the refusal";
  // Lavapipe keeps subnormals; a real device that flushes skips here with the probe's word.
  if (description.find("flushes f32 subnormals") != std::string::npos) GTEST_SKIP() << description;
  EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_Q8_K, DQ_TYPE_F32), 1);
  EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_MXFP4, DQ_TYPE_F32), 1);
  EXPECT_EQ(description.find("refused"), std::string::npos) << description;

  const std::vector<uint8_t> src = subnormal_q8_k();
  std::vector<float> routed, cpu;
  ASSERT_EQ(dequantize(src, nullptr, &routed), DQ_OK) << dq_last_error(ctx);
  EXPECT_STREQ(dq_last_backend(ctx), "vulkan");
  ASSERT_EQ(dequantize(src, "cpu", &cpu), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(std::memcmp(routed.data(), cpu.data(), cpu.size() * sizeof(float)), 0);
}

}  // namespace
