// The hardware f16 narrowing (plugins/vulkan/narrow_probe.hpp, the default; DQ_VULKAN_NARROW=hw
// names it): f16 outputs narrowed by the device's f32 -> f16 conversion under RoundingModeRTE
// 16, only where the device offers the features and the init probe matches
// dq_common/half.hpp bit for bit.
// NarrowCheck: the probe's comparison (narrow_check.hpp) on the host with injected device
// results: the reference passes, each plausible hardware departure is caught.
// VulkanNarrow (through the registry, CTest sets the environment): hardware chosen on a
// device that offers the features (lavapipe does) and the probe inputs come back exact, by
// default and with DQ_VULKAN_NARROW=hw (vulkan.narrow-probe-default, vulkan.narrow-probe-hw);
// a device result that drops the sign of a flushed f32 subnormal
// (DQ_VULKAN_NARROW_PROBE_FAULT=1) keeps the software narrowing, said in the description
// (vulkan.narrow-probe-refused); DQ_VULKAN_NARROW=sw probes nothing and says software
// (vulkan.narrow-probe-sw); a misspelt value is refused naming it (vulkan.narrow-probe-unknown).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dq/dq.h"
#include "narrow_check.hpp"

namespace {

using dq::vulkan::narrow_mismatch;
using dq::vulkan::narrow_probe_inputs;

std::vector<uint16_t> reference(const std::vector<uint32_t> &in) {
  std::vector<uint16_t> out;
  for (uint32_t x : in) out.push_back(dq::f32_to_f16(dq::f32_from_bits(x)));
  return out;
}

bool is_nan(uint32_t x) { return (x & 0x7fffffffu) > 0x7f800000u; }

TEST(NarrowCheck, ReferenceResultsPass) {
  const std::vector<uint32_t> in = narrow_probe_inputs();
  const std::vector<uint16_t> want = reference(in);
  EXPECT_EQ(narrow_mismatch(in, want.data(), want.size()), "");
}

TEST(NarrowCheck, InputsCoverTheTrickyClasses) {
  const std::vector<uint32_t> in = narrow_probe_inputs();
  auto has = [&](uint32_t x) { return std::find(in.begin(), in.end(), x) != in.end(); };
  // +-0, +-inf, a quiet and a signalling NaN with payloads (both signs), 65504, just below
  // 65520 and 65520, a tie to even, the binade step, 2^-25 (tie to 0), the min subnormal,
  // the largest subnormal's tie to 2^-14, f32 subnormals of both signs.
  for (uint32_t x : {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc12345u, 0xffc12345u, 0x7fa00000u,
                     0xff800001u, 0x477fe000u, 0x477fefffu, 0x477ff000u, 0x3f801000u, 0x3ffff000u, 0x33000000u,
                     0x33800000u, 0x387fe000u, 0x00000001u, 0x80000001u, 0x807fffffu})
    EXPECT_TRUE(has(x)) << std::hex << x;
}

TEST(NarrowCheck, CanonicalNaNIsCaught) {
  const std::vector<uint32_t> in = narrow_probe_inputs();
  std::vector<uint16_t> got = reference(in);
  for (size_t i = 0; i < in.size(); ++i)
    if (is_nan(in[i])) got[i] = 0x7e00u;  // hardware that drops sign and payload
  const std::string why = narrow_mismatch(in, got.data(), got.size());
  EXPECT_NE(why.find("f32 0xffc00000 -> 0x7e00, want 0xfe00"), std::string::npos) << why;
}

TEST(NarrowCheck, UnsignedFlushOfF32SubnormalsIsCaught) {
  const std::vector<uint32_t> in = narrow_probe_inputs();
  std::vector<uint16_t> got = reference(in);
  for (size_t i = 0; i < in.size(); ++i)
    if ((in[i] & 0x7f800000u) == 0) got[i] = 0x0000u;  // f32 subnormals flushed to +0
  const std::string why = narrow_mismatch(in, got.data(), got.size());
  EXPECT_NE(why.find("f32 0x80000000 -> 0x0000, want 0x8000"), std::string::npos) << why;
}

TEST(NarrowCheck, TruncationIsCaught) {
  // Round toward zero: the mantissa cut, no rounding add (normals only, enough to differ).
  const std::vector<uint32_t> in = narrow_probe_inputs();
  std::vector<uint16_t> got = reference(in);
  for (size_t i = 0; i < in.size(); ++i) {
    const uint32_t a = in[i] & 0x7fffffffu;
    if (a >= 0x38800000u && a < 0x477fe000u)
      got[i] = static_cast<uint16_t>(((in[i] >> 16) & 0x8000u) | ((a - 0x38000000u) >> 13));
  }
  const std::string why = narrow_mismatch(in, got.data(), got.size());
  EXPECT_NE(why.find("differ"), std::string::npos) << why;
  EXPECT_NE(why.find("want 0x3c02"), std::string::npos) << why;  // 1 + 3*2^-11 ties up to even
}

TEST(NarrowCheck, MissingResultsAreCaught) {
  const std::vector<uint32_t> in = narrow_probe_inputs();
  const std::vector<uint16_t> got = reference(in);
  EXPECT_NE(narrow_mismatch(in, got.data(), got.size() - 1), "");
}

bool env_is(const char *name, const char *value) {
  const char *v = std::getenv(name);
  return v && std::strcmp(v, value) == 0;
}

class VulkanNarrow : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(dq_context_create(&ctx), DQ_OK);
    const int32_t vulkan = dq_backend_find(ctx, "vulkan");
    if (vulkan < 0) GTEST_SKIP() << "vulkan plugin not found";
    dq_backend_info b{};
    b.struct_size = sizeof b;
    ASSERT_EQ(dq_backend_get_info(ctx, vulkan, &b), DQ_OK);
    if (!b.loaded || b.device_count < 1) GTEST_SKIP() << "no vulkan device: " << (b.status ? b.status : "");
    description = b.description ? b.description : "";
  }
  void TearDown() override { dq_context_destroy(ctx); }

  // The probe inputs as an F32 tensor to F16 on vulkan equal the reference.
  void expect_inputs_exact() {
    std::vector<uint16_t> got;
    ASSERT_EQ(inputs_to_f16(&got), DQ_OK) << dq_last_error(ctx);
    EXPECT_EQ(narrow_mismatch(narrow_probe_inputs(), got.data(), got.size()), "");
  }

  int32_t inputs_to_f16(std::vector<uint16_t> *out) {
    const std::vector<uint32_t> in = narrow_probe_inputs();
    std::vector<uint16_t> &got = *out;
    got.assign(in.size(), 0xdeadu);
    dq_dequantize_request r{};
    r.struct_size = sizeof r;
    r.src_type = DQ_TYPE_F32;
    r.dst_type = DQ_TYPE_F16;
    r.src = in.data();
    r.src_bytes = in.size() * 4;
    r.n_elements = static_cast<int64_t>(in.size());
    r.dst = got.data();
    r.dst_bytes = got.size() * 2;
    r.backend = "vulkan";
    return dq_dequantize(ctx, &r);
  }

  dq_context *ctx = nullptr;
  std::string description;
};

// DQ_VULKAN_NARROW unset or "hw": the hardware narrowing is asked for.
bool hw_asked() { return !std::getenv("DQ_VULKAN_NARROW") || env_is("DQ_VULKAN_NARROW", "hw"); }

TEST_F(VulkanNarrow, HardwareChosenWhereOfferedAndExact) {
  if (!hw_asked() || env_is("DQ_VULKAN_NARROW_PROBE_FAULT", "1"))
    GTEST_SKIP() << "run by vulkan.narrow-probe-default and vulkan.narrow-probe-hw";
  // A device that keeps the software narrowing says why: a missing feature, or the probe's
  // first difference (a valid outcome on a GPU); lavapipe offers the features and passes.
  if (description.find("f16 narrowing: software") != std::string::npos) {
    EXPECT_TRUE(description.find("shaderFloat16") != std::string::npos ||
                description.find("shaderRoundingModeRTEFloat16") != std::string::npos ||
                description.find("roundingModeIndependence") != std::string::npos ||
                description.find(" differ)") != std::string::npos ||
                description.find("dequantize failed") != std::string::npos)
        << description;
    if (description.find("llvmpipe") != std::string::npos) ADD_FAILURE() << "lavapipe offers both: " << description;
  } else {
    EXPECT_NE(description.find("f16 narrowing: hardware RoundingModeRTE on"), std::string::npos) << description;
  }
  expect_inputs_exact();
}

TEST_F(VulkanNarrow, FaultyProbeKeepsSoftwareNarrowing) {
  if (!env_is("DQ_VULKAN_NARROW_PROBE_FAULT", "1")) GTEST_SKIP() << "run by vulkan.narrow-probe-refused";
  EXPECT_EQ(description.find("f16 narrowing: hardware"), std::string::npos) << description;
  EXPECT_NE(description.find("f16 narrowing: software on"), std::string::npos) << description;
  if (description.find("llvmpipe") != std::string::npos) {  // features offered: the probe ran and refused
    EXPECT_NE(description.find("f32 0x80000001 -> 0x0000, want 0x8000"), std::string::npos) << description;
  }
  expect_inputs_exact();
}

TEST_F(VulkanNarrow, SoftwareWhenAskedProbesNothing) {
  if (!env_is("DQ_VULKAN_NARROW", "sw")) GTEST_SKIP() << "run by vulkan.narrow-probe-sw";
  EXPECT_EQ(description.find("f16 narrowing: hardware"), std::string::npos) << description;
  EXPECT_NE(description.find("f16 narrowing: software (DQ_VULKAN_NARROW=sw)"), std::string::npos) << description;
  expect_inputs_exact();
}

// `dq backends` says which shader variant runs and what the others are called.
TEST_F(VulkanNarrow, DescriptionNamesTheShaderVariant) {
  if (std::getenv("DQ_VULKAN_SHADER")) GTEST_SKIP() << "DQ_VULKAN_SHADER is set";
  EXPECT_NE(description.find("shader variant: prefetch (DQ_VULKAN_SHADER=prefetch (default), run, staged)"),
            std::string::npos)
      << description;
}

// A misspelt value is refused naming it, not silently run as the default or as software.
TEST_F(VulkanNarrow, AnUnknownValueIsRefusedNamingIt) {
  if (!env_is("DQ_VULKAN_NARROW", "hardware")) GTEST_SKIP() << "run by vulkan.narrow-probe-unknown";
  EXPECT_NE(description.find("f16 narrowing: DQ_VULKAN_NARROW=hardware is not an f16 narrowing"), std::string::npos)
      << description;
  EXPECT_EQ(description.find("probe failed"), std::string::npos) << description;  // the init probes unaffected
  std::vector<uint16_t> got;
  EXPECT_EQ(inputs_to_f16(&got), DQ_ERR_INVALID_ARGUMENT);
  const std::string error = dq_last_error(ctx);
  EXPECT_NE(error.find("DQ_VULKAN_NARROW=hardware is not an f16 narrowing (hw (default), sw, branches)"),
            std::string::npos)
      << error;
}

}  // namespace
