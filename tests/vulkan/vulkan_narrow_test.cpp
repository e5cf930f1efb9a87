// The hardware f16 narrowing (plugins/vulkan/narrow_probe.hpp, the default; DQ_VULKAN_NARROW=hw
// names it): f16 outputs narrowed by the device's f32 -> f16 conversion under RoundingModeRTE
// 16, only where the device offers the features and the probe, run at the device's first f16
// request, matches dq_common/half.hpp bit for bit.
// NarrowCheck: the probe's comparison (narrow_check.hpp) on the host with injected device
// results: the reference passes, each plausible hardware departure is caught.
// VulkanNarrow (through the registry, CTest sets the environment): the description the core
// read at init says the probe waits for the first f16 request; after that request the
// plugin's describe() (read through the plugin the registry opened) gives the verdict and its
// probe counter (dq_vulkan_test_narrow_probe_runs) one run. Hardware chosen on a device that
// offers the features (lavapipe does) and the probe inputs come back exact, by default and
// with DQ_VULKAN_NARROW=hw (vulkan.narrow-probe-default, vulkan.narrow-probe-hw); a device
// result that drops the sign of a flushed f32 subnormal (DQ_VULKAN_NARROW_PROBE_FAULT=1) keeps
// the software narrowing, for the request that probed and the next (vulkan.narrow-probe-refused);
// DQ_VULKAN_NARROW=sw probes nothing and says software (vulkan.narrow-probe-sw); a misspelt
// value is refused naming it (vulkan.narrow-probe-unknown). f32, bf16 and F16 -> f16 requests
// never probe (vulkan.narrow-probe-lazy); threads whose first f16 requests come at once, and
// a batch of device memory, get exact output from one probe run (vulkan.narrow-probe-concurrent).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "dq/dq.h"
#include "dq/dq_plugin.h"
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

// The probe inputs as an F32 tensor to `dst_type` through the registry on vulkan.
dq_dequantize_request f32_request(const std::vector<uint32_t> &in, int32_t dst_type, void *dst) {
  dq_dequantize_request r{};
  r.struct_size = sizeof r;
  r.src_type = DQ_TYPE_F32;
  r.dst_type = dst_type;
  r.src = in.data();
  r.src_bytes = in.size() * 4;
  r.n_elements = static_cast<int64_t>(in.size());
  r.dst = dst;
  r.dst_bytes = in.size() * (dst_type == DQ_TYPE_F32 ? 4 : 2);
  r.backend = "vulkan";
  return r;
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
    // The library the registry opened (each context initializes it afresh): its describe()
    // now, which follows the lazy probe, and the probe counter exported for tests.
    plugin = dlopen(b.path, RTLD_NOW | RTLD_NOLOAD);
    ASSERT_NE(plugin, nullptr) << b.path << ": " << dlerror();
    auto entry = reinterpret_cast<dq_plugin_entry_fn>(dlsym(plugin, DQ_PLUGIN_ENTRY_SYMBOL));
    ASSERT_NE(entry, nullptr);
    api = entry(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR);
    ASSERT_NE(api, nullptr);
    runs = reinterpret_cast<uint64_t (*)(int32_t)>(dlsym(plugin, "dq_vulkan_test_narrow_probe_runs"));
    ASSERT_NE(runs, nullptr) << dlerror();
  }
  void TearDown() override {
    if (plugin) dlclose(plugin);  // first, so that destroying the context unloads the plugin
    dq_context_destroy(ctx);
  }

  std::string description_now() const { return api->describe(); }
  uint64_t probe_runs() const { return runs(0); }

  // The probe inputs as an F32 tensor to F16 on vulkan equal the reference.
  void expect_inputs_exact() {
    std::vector<uint16_t> got;
    ASSERT_EQ(inputs_to_f16(&got), DQ_OK) << dq_last_error(ctx);
    EXPECT_EQ(narrow_mismatch(narrow_probe_inputs(), got.data(), got.size()), "");
  }

  int32_t inputs_to_f16(std::vector<uint16_t> *out) {
    const std::vector<uint32_t> in = narrow_probe_inputs();
    out->assign(in.size(), 0xdeadu);
    const dq_dequantize_request r = f32_request(in, DQ_TYPE_F16, out->data());
    return dq_dequantize(ctx, &r);
  }

  dq_context *ctx = nullptr;
  std::string description;  // as the core read it after init
  void *plugin = nullptr;
  const dq_plugin_api *api = nullptr;
  uint64_t (*runs)(int32_t) = nullptr;
};

// DQ_VULKAN_NARROW unset or "hw": the hardware narrowing is asked for.
bool hw_asked() { return !std::getenv("DQ_VULKAN_NARROW") || env_is("DQ_VULKAN_NARROW", "hw"); }

constexpr const char *kPending = "f16 narrowing: probed at the first f16 request on";

TEST_F(VulkanNarrow, HardwareChosenWhereOfferedAndExact) {
  if (!hw_asked() || env_is("DQ_VULKAN_NARROW_PROBE_FAULT", "1"))
    GTEST_SKIP() << "run by vulkan.narrow-probe-default and vulkan.narrow-probe-hw";
  // A device without the features keeps the software narrowing from init and says which is
  // missing; one with them (lavapipe) waits for its first f16 request, probes nothing before.
  const bool offered = description.find(kPending) != std::string::npos;
  EXPECT_EQ(description.find("f16 narrowing: hardware"), std::string::npos) << description;
  if (!offered) {
    EXPECT_TRUE(description.find("shaderFloat16") != std::string::npos ||
                description.find("shaderRoundingModeRTEFloat16") != std::string::npos ||
                description.find("roundingModeIndependence") != std::string::npos)
        << description;
    if (description.find("llvmpipe") != std::string::npos) ADD_FAILURE() << "lavapipe offers both: " << description;
  }
  EXPECT_EQ(probe_runs(), 0u);
  expect_inputs_exact();  // the first f16 request: probes, then runs
  const std::string now = description_now();
  EXPECT_EQ(probe_runs(), offered ? 1u : 0u);
  EXPECT_EQ(now.find(kPending), std::string::npos) << now;
  // The probe's first difference is a valid outcome on a GPU; lavapipe passes.
  if (now.find("f16 narrowing: software") != std::string::npos) {
    EXPECT_TRUE(!offered || now.find(" differ)") != std::string::npos ||
                now.find("dequantize failed") != std::string::npos)
        << now;
    if (now.find("llvmpipe") != std::string::npos) ADD_FAILURE() << "lavapipe passes the probe: " << now;
  } else {
    EXPECT_NE(now.find("f16 narrowing: hardware RoundingModeRTE on"), std::string::npos) << now;
  }
  expect_inputs_exact();  // the hw modules chosen
  EXPECT_EQ(probe_runs(), offered ? 1u : 0u);
}

TEST_F(VulkanNarrow, FaultyProbeKeepsSoftwareNarrowing) {
  if (!env_is("DQ_VULKAN_NARROW_PROBE_FAULT", "1")) GTEST_SKIP() << "run by vulkan.narrow-probe-refused";
  EXPECT_EQ(description.find("f16 narrowing: hardware"), std::string::npos) << description;
  const bool llvmpipe = description.find("llvmpipe") != std::string::npos;
  if (llvmpipe) {
    EXPECT_NE(description.find(kPending), std::string::npos) << description;
  }
  expect_inputs_exact();  // the request whose probe refused: served by the software narrowing
  const std::string now = description_now();
  EXPECT_EQ(now.find("f16 narrowing: hardware"), std::string::npos) << now;
  EXPECT_NE(now.find("f16 narrowing: software on"), std::string::npos) << now;
  if (llvmpipe) {  // features offered: the probe ran and refused
    EXPECT_NE(now.find("f32 0x80000001 -> 0x0000, want 0x8000"), std::string::npos) << now;
    EXPECT_EQ(probe_runs(), 1u);
  }
  expect_inputs_exact();  // and every later one, with no second probe
  EXPECT_EQ(probe_runs(), llvmpipe ? 1u : 0u);
}

TEST_F(VulkanNarrow, SoftwareWhenAskedProbesNothing) {
  if (!env_is("DQ_VULKAN_NARROW", "sw")) GTEST_SKIP() << "run by vulkan.narrow-probe-sw";
  EXPECT_EQ(description.find("f16 narrowing: hardware"), std::string::npos) << description;
  EXPECT_NE(description.find("f16 narrowing: software (DQ_VULKAN_NARROW=sw)"), std::string::npos) << description;
  expect_inputs_exact();
  EXPECT_EQ(probe_runs(), 0u);
  EXPECT_EQ(description_now(), description);
}

// `dq backends` says which shader variant runs and what the others are called.
TEST_F(VulkanNarrow, DescriptionNamesTheShaderVariant) {
  if (std::getenv("DQ_VULKAN_SHADER")) GTEST_SKIP() << "DQ_VULKAN_SHADER is set";
  EXPECT_NE(description.find("shader variant: default: prefetch to f16/bf16, run to f32 "
                             "(DQ_VULKAN_SHADER=default, prefetch, run, staged)"),
            std::string::npos)
      << description;
}

// The default takes the prefetch modules to f16 and bf16 and the run modules to f32 (each the
// faster on an H100, 2026-12-06); a named variant holds for every output. Read per request.
TEST_F(VulkanNarrow, DefaultShaderVariantFollowsTheOutput) {
  if (std::getenv("DQ_VULKAN_SHADER")) GTEST_SKIP() << "DQ_VULKAN_SHADER is set";
  auto staged = reinterpret_cast<int32_t (*)(int32_t)>(dlsym(plugin, "dq_vulkan_test_staged_run"));
  ASSERT_NE(staged, nullptr) << dlerror();
  EXPECT_EQ(staged(DQ_TYPE_F16), 1);
  EXPECT_EQ(staged(DQ_TYPE_BF16), 1);
  EXPECT_EQ(staged(DQ_TYPE_F32), 0);
  ASSERT_EQ(setenv("DQ_VULKAN_SHADER", "prefetch", 1), 0);
  EXPECT_EQ(staged(DQ_TYPE_F32), 1);
  ASSERT_EQ(setenv("DQ_VULKAN_SHADER", "run", 1), 0);
  EXPECT_EQ(staged(DQ_TYPE_F16), 0);
  ASSERT_EQ(setenv("DQ_VULKAN_SHADER", "default", 1), 0);
  EXPECT_EQ(staged(DQ_TYPE_F32), 0);
  EXPECT_EQ(staged(DQ_TYPE_BF16), 1);
  ASSERT_EQ(setenv("DQ_VULKAN_SHADER", "prefech", 1), 0);
  EXPECT_EQ(staged(DQ_TYPE_F16), -1);
  ASSERT_EQ(unsetenv("DQ_VULKAN_SHADER"), 0);
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
  EXPECT_EQ(probe_runs(), 0u);
}

// Requests that can never take the hw modules (f32 and bf16 outputs, F16 -> f16, which narrows
// nothing) leave the probe unrun, one at a time and in a batch: a process asking only for
// them pays nothing for it.
TEST_F(VulkanNarrow, NoF16NarrowingRequestNoProbe) {
  if (env_is("DQ_VULKAN_NARROW", "hardware")) GTEST_SKIP() << "every request is refused";
  const std::vector<uint32_t> in = narrow_probe_inputs();
  std::vector<uint32_t> want16(in.size());  // the f16 reference, as an F16 tensor to copy
  for (size_t i = 0; i < in.size(); ++i) want16[i] = dq::f32_to_f16(dq::f32_from_bits(in[i]));
  const std::vector<uint16_t> f16_src(want16.begin(), want16.end());
  std::vector<uint32_t> f32(in.size(), 0), batch_f32(in.size(), 0);
  std::vector<uint16_t> bf16(in.size(), 0xdeadu), f16(in.size(), 0xdeadu);
  dq_dequantize_request r = f32_request(in, DQ_TYPE_F32, f32.data());
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  r = f32_request(in, DQ_TYPE_BF16, bf16.data());
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  dq_dequantize_request batch[2] = {f32_request(in, DQ_TYPE_F32, batch_f32.data()),
                                    f32_request(in, DQ_TYPE_F16, f16.data())};
  batch[1].src_type = DQ_TYPE_F16;
  batch[1].src = f16_src.data();
  batch[1].src_bytes = f16_src.size() * 2;
  ASSERT_EQ(dq_dequantize_batch(ctx, batch, 2), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(f32, in);
  EXPECT_EQ(batch_f32, in);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(bf16[i], dq::f32_to_bf16(dq::f32_from_bits(in[i]))) << i;
    EXPECT_EQ(f16[i], f16_src[i]) << i;
  }
  EXPECT_EQ(probe_runs(), 0u);
  EXPECT_EQ(description_now(), description);  // still as init left it
}

// Threads whose first f16 requests (dq_dequantize and dq_dequantize_batch) reach the device at
// once: one probe run, the others wait for it; every output exact.
TEST_F(VulkanNarrow, ConcurrentFirstF16RequestsProbeOnce) {
  if (!hw_asked()) GTEST_SKIP() << "no probe with DQ_VULKAN_NARROW set otherwise";
  if (description.find(kPending) == std::string::npos) GTEST_SKIP() << "nothing to probe: " << description;
  ASSERT_EQ(probe_runs(), 0u);
  const std::vector<uint32_t> in = narrow_probe_inputs();
  constexpr int kThreads = 4;
  std::vector<std::vector<uint16_t>> got(kThreads, std::vector<uint16_t>(in.size(), 0xdeadu));
  std::vector<int32_t> status(kThreads, -1);
  std::vector<std::string> error(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      const dq_dequantize_request r = f32_request(in, DQ_TYPE_F16, got[t].data());
      start.arrive_and_wait();
      status[t] = t % 2 ? dq_dequantize_batch(ctx, &r, 1) : dq_dequantize(ctx, &r);
      if (status[t] != DQ_OK) error[t] = dq_last_error(ctx);
    });
  for (std::thread &th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(status[t], DQ_OK) << "thread " << t << ": " << error[t];
    EXPECT_EQ(narrow_mismatch(in, got[t].data(), got[t].size()), "") << "thread " << t;
  }
  EXPECT_EQ(probe_runs(), 1u);
  const std::string now = description_now();
  EXPECT_EQ(now.find(kPending), std::string::npos) << now;
  if (now.find("llvmpipe") != std::string::npos) {
    EXPECT_NE(now.find(env_is("DQ_VULKAN_NARROW_PROBE_FAULT", "1") ? "f16 narrowing: software on"
                                                                     : "f16 narrowing: hardware RoundingModeRTE on"),
              std::string::npos)
        << now;
  }
}

// A batch of device memory whose f16 request is the device's first: the probe runs before the
// batch records anything (its own requests use the device's NULL stream too), then the batch
// runs exact.
TEST_F(VulkanNarrow, FirstF16RequestInADeviceBatchProbesFirst) {
  if (!hw_asked()) GTEST_SKIP() << "no probe with DQ_VULKAN_NARROW set otherwise";
  if (description.find(kPending) == std::string::npos) GTEST_SKIP() << "nothing to probe: " << description;
  ASSERT_EQ(probe_runs(), 0u);
  const std::vector<uint32_t> in = narrow_probe_inputs();
  const dq_location vk{"vulkan", 0}, host{nullptr, 0};
  const size_t n = in.size();
  void *src = nullptr, *dst32 = nullptr, *dst16 = nullptr;
  ASSERT_EQ(dq_malloc(ctx, vk, n * 4, &src), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_malloc(ctx, vk, n * 4, &dst32), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_malloc(ctx, vk, n * 2, &dst16), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_memcpy(ctx, src, vk, in.data(), host, n * 4), DQ_OK) << dq_last_error(ctx);
  dq_dequantize_request batch[2] = {f32_request(in, DQ_TYPE_F32, dst32), f32_request(in, DQ_TYPE_F16, dst16)};
  for (dq_dequantize_request &r : batch) r.src = src, r.src_where = vk, r.dst_where = vk;
  ASSERT_EQ(dq_dequantize_batch(ctx, batch, 2), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_synchronize(ctx, vk, nullptr), DQ_OK) << dq_last_error(ctx);
  std::vector<uint32_t> got32(n, 0);
  std::vector<uint16_t> got16(n, 0xdeadu);
  ASSERT_EQ(dq_memcpy(ctx, got32.data(), host, dst32, vk, n * 4), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_memcpy(ctx, got16.data(), host, dst16, vk, n * 2), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(got32, in);
  EXPECT_EQ(narrow_mismatch(in, got16.data(), got16.size()), "");
  EXPECT_EQ(probe_runs(), 1u);
  for (void *p : {src, dst32, dst16}) EXPECT_EQ(dq_free(ctx, vk, p), DQ_OK);
}

}  // namespace
