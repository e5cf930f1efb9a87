// The vulkan plugin's denormal probe through the registry (DQ_BACKEND=vulkan,cpu and
// DQ_GPU_MIN_BYTES=0 from CTest, so vulkan serves whatever it supports).
// DQ_VULKAN_ASSUME_DENORM_FLUSH=1 makes the shaders' float products flush f32 subnormals as
// NVIDIA does: the probe then picks the exact integer products for subnormal scales, and Q8_K
// and MXFP4 blocks with subnormal scales stay on vulkan, bit for bit
// (vulkan.denormal-flush-exact). With DQ_VULKAN_DENORM_EXACT=0 as well (no exact products:
// the last resort) both types are refused, `dq backends` says why, and the cpu plugin serves
// them (vulkan.denormal-flush-refused). Without either, lavapipe keeps them with the float
// products (vulkan.denormal-kept).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dq/dq.h"

namespace {

bool env_is(const char *name, const char *value) {
  const char *v = std::getenv(name);
  return v && std::strcmp(v, value) == 0;
}
bool simulated_flush() { return env_is("DQ_VULKAN_ASSUME_DENORM_FLUSH", "1"); }
bool exact_disabled() { return env_is("DQ_VULKAN_DENORM_EXACT", "0"); }

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

  // Two MXFP4 blocks with E8M0 bytes 0 and 1 (scales 2^-128, 2^-127), every code.
  static std::vector<uint8_t> subnormal_mxfp4() {
    std::vector<uint8_t> src(34, 0);
    for (int b = 0; b < 2; ++b) {
      src[17 * b] = static_cast<uint8_t>(b);
      for (int j = 0; j < 16; ++j) src[17 * b + 1 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    }
    return src;
  }

  // The blocks dequantized to `out` by `backend` (nullptr: the registry's choice), as bytes.
  dq_status dequantize(int32_t type, const std::vector<uint8_t> &src, int32_t out, const char *backend,
                       std::vector<uint8_t> *dst) {
    const int64_t n = type == DQ_TYPE_Q8_K ? 256 * static_cast<int64_t>(src.size() / 292)
                                           : 32 * static_cast<int64_t>(src.size() / 17);
    dst->assign(static_cast<size_t>(n) * (out == DQ_TYPE_F32 ? 4 : 2), 0xab);
    dq_dequantize_request r{};
    r.struct_size = sizeof r;
    r.src_type = type;
    r.dst_type = out;
    r.src = src.data();
    r.src_bytes = src.size();
    r.n_elements = n;
    r.dst = dst->data();
    r.dst_bytes = dst->size();
    r.backend = backend;
    return dq_dequantize(ctx, &r);
  }

  // Every output of both blocks is served by `want_backend` and equals the cpu plugin's.
  void expect_served_exactly(const char *want_backend) {
    for (int32_t type : {DQ_TYPE_Q8_K, DQ_TYPE_MXFP4}) {
      const std::vector<uint8_t> src = type == DQ_TYPE_Q8_K ? subnormal_q8_k() : subnormal_mxfp4();
      for (int32_t out : {DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16}) {
        std::vector<uint8_t> routed, cpu;
        ASSERT_EQ(dequantize(type, src, out, nullptr, &routed), DQ_OK) << dq_last_error(ctx);
        EXPECT_STREQ(dq_last_backend(ctx), want_backend) << "type " << type << " out " << out;
        ASSERT_EQ(dequantize(type, src, out, "cpu", &cpu), DQ_OK) << dq_last_error(ctx);
        EXPECT_EQ(routed, cpu) << "type " << type << " out " << out;
      }
    }
  }

  dq_context *ctx = nullptr;
  int32_t vulkan = -1;
  std::string description;
};

TEST_F(VulkanDenormal, FlushingDeviceUsesExactProducts) {
  if (!simulated_flush() || exact_disabled())
    GTEST_SKIP() << "run with DQ_VULKAN_ASSUME_DENORM_FLUSH=1 (CTest vulkan.denormal-flush-exact)";
  for (int32_t out : {DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16}) {
    EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_Q8_K, out), 1) << "output " << out;
    EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_MXFP4, out), 1) << "output " << out;
  }
  EXPECT_NE(description.find("Q8_K, MXFP4 use exact integer products"), std::string::npos) << description;
  // The evidence for the next report: what the float products did, the properties, the modules.
  EXPECT_NE(description.find("float products: Q8_K got 0x80000000"), std::string::npos) << description;
  EXPECT_NE(description.find("shaderDenormPreserveFloat32="), std::string::npos) << description;
  EXPECT_NE(description.find("denormBehaviorIndependence="), std::string::npos) << description;
  EXPECT_NE(description.find(" modules"), std::string::npos) << description;
  EXPECT_EQ(description.find("refused"), std::string::npos) << description;
  expect_served_exactly("vulkan");
}

TEST_F(VulkanDenormal, FlushingDeviceWithoutExactProductsRefusesQ8KAndMxfp4) {
  if (!simulated_flush() || !exact_disabled())
    GTEST_SKIP() << "run with DQ_VULKAN_ASSUME_DENORM_FLUSH=1 DQ_VULKAN_DENORM_EXACT=0 (CTest vulkan.denormal-flush-refused)";
  for (int32_t out : {DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16}) {
    EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_Q8_K, out), 0) << "output " << out;
    EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_MXFP4, out), 0) << "output " << out;
  }
  EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_Q4_0, DQ_TYPE_F32), 1) << "other types stay on vulkan";
  EXPECT_NE(description.find("Q8_K, MXFP4 refused"), std::string::npos) << description;
  EXPECT_NE(description.find("flushes f32 subnormals"), std::string::npos) << description;
  EXPECT_NE(description.find("shaderDenormPreserveFloat32="), std::string::npos) << description;
  EXPECT_NE(description.find("exact products: disabled"), std::string::npos) << description;
  expect_served_exactly("cpu");

  // Forced onto vulkan: refused (the core sees supports() = 0), never a tensor of zeros.
  std::vector<uint8_t> forced;
  EXPECT_EQ(dequantize(DQ_TYPE_Q8_K, subnormal_q8_k(), DQ_TYPE_F32, "vulkan", &forced), DQ_ERR_UNSUPPORTED)
      << dq_last_error(ctx);
}

TEST_F(VulkanDenormal, PreservingDeviceKeepsQ8KAndMxfp4) {
  if (simulated_flush()) GTEST_SKIP() << "DQ_VULKAN_ASSUME_DENORM_FLUSH=1 simulates a flushing device";
  // Lavapipe keeps subnormals; a real device that flushes skips here with the probe's word.
  if (description.find("float products") != std::string::npos) GTEST_SKIP() << description;
  EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_Q8_K, DQ_TYPE_F32), 1);
  EXPECT_EQ(dq_backend_supports(ctx, vulkan, DQ_TYPE_MXFP4, DQ_TYPE_F32), 1);
  EXPECT_EQ(description.find("refused"), std::string::npos) << description;
  EXPECT_EQ(description.find("exact integer products"), std::string::npos) << description;
  expect_served_exactly("vulkan");
}

}  // namespace
