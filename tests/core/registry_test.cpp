// Plugin discovery and loading through the public API, with the real cpu plugin of the build
// tree and the fake plugins of tests/core (fake_plugin.c built with -D flags).
#include <cstring>
#include <filesystem>
#include <string>

#include "env_fixture.hpp"

namespace fs = std::filesystem;
using dq::test::EnvTest;
using dq::test::plugin_folder;

namespace {

bool same_folder(const std::string &file, const std::string &folder) {
  return fs::canonical(fs::path(file).parent_path()) == fs::canonical(folder);
}

class CoreRegistry : public EnvTest {};

TEST_F(CoreRegistry, LoadsCpuPluginFromTheBuildTree) {
  dq_context *ctx = context();
  const int32_t cpu = dq_backend_find(ctx, "cpu");
  ASSERT_GE(cpu, 0) << "no cpu plugin; searched beside libdq-core";
  dq_backend_info b = info(ctx, cpu);
  EXPECT_EQ(b.loaded, 1) << b.status;
  EXPECT_EQ(b.abi_major, 1u);
  EXPECT_GE(b.device_count, 1);
  EXPECT_STREQ(b.name, "cpu");
  EXPECT_TRUE(same_folder(b.path, DQ_PLUGIN_DIR)) << b.path;
}

TEST_F(CoreRegistry, ContextCreationLoadsNothing) {
  const fs::path log = fs::path(::testing::TempDir()) / "dq_lazy_events.log";
  fs::remove(log);
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-gpu"));
  set("DQ_FAKE_EVENT_LOG", log.string());
  dq_context *ctx = context();
  EXPECT_EQ(dq::test::contents(log), "");
  EXPECT_GE(dq_backend_find(ctx, "fakegpu"), 0);
  EXPECT_EQ(dq::test::contents(log), "fakegpu init\n");
}

TEST_F(CoreRegistry, RefusesOtherAbiMajorAndCpuKeepsWorking) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-abi"));
  dq_context *ctx = context();
  const int32_t old = dq_backend_find(ctx, "old");
  ASSERT_GE(old, 0);
  dq_backend_info b = info(ctx, old);
  EXPECT_EQ(b.loaded, 0);
  EXPECT_EQ(b.abi_major, 2u);
  EXPECT_STREQ(b.status, "libdq-old.so: plugin ABI 2.0, core expects 1.x");
  EXPECT_EQ(info(ctx, dq_backend_find(ctx, "cpu")).loaded, 1);

  std::vector<float> src{1.5f, -2.0f, 0.0f, 3.25f}, dst(4);
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(dst, src);
  r.backend = "old";
  EXPECT_EQ(dq_dequantize(ctx, &r), DQ_ERR_ABI);
  EXPECT_NE(std::string(dq_last_error(ctx)).find("plugin ABI 2.0, core expects 1.x"),
            std::string::npos);
}

TEST_F(CoreRegistry, ForcedBackendWithoutDeviceFailsWithItsReason) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-nodev"));
  set("DQ_BACKEND", "fake");
  dq_context *ctx = context();
  dq_backend_info b = info(ctx, dq_backend_find(ctx, "fake"));
  EXPECT_EQ(b.loaded, 1);
  EXPECT_EQ(b.device_count, 0);
  EXPECT_STREQ(b.status, "no fake device");
  std::vector<float> src(32, 1.0f), dst(32);
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  EXPECT_EQ(dq_dequantize(ctx, &r), DQ_ERR_NO_DEVICE);
  EXPECT_NE(std::string(dq_last_error(ctx)).find("backend 'fake' has no device: no fake device"),
            std::string::npos)
      << dq_last_error(ctx);
  EXPECT_STREQ(dq_last_backend(ctx), "");
}

// DQ_BACKEND=cuda on whatever this machine is: served by a device, or a failure that names
// why (plugin not built, or no device with the plugin's own reason). Never a fallback.
TEST_F(CoreRegistry, ForcedCudaIsServedOrSaysWhy) {
  set("DQ_BACKEND", "cuda");
  dq_context *ctx = context();
  std::vector<float> src(256, 0.5f), dst(256);
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  const dq_status st = dq_dequantize(ctx, &r);
  const std::string msg = dq_last_error(ctx);
  const int32_t cuda = dq_backend_find(ctx, "cuda");
  if (cuda < 0) {
    EXPECT_EQ(st, DQ_ERR_NO_BACKEND);
    EXPECT_NE(msg.find("backend 'cuda' not found (searched: "), std::string::npos) << msg;
    return;
  }
  dq_backend_info b = info(ctx, cuda);
  if (b.loaded && b.device_count == 0) {
    EXPECT_EQ(st, DQ_ERR_NO_DEVICE);
    EXPECT_NE(msg.find(std::string("backend 'cuda' has no device: ") + b.status), std::string::npos)
        << msg;
  } else if (b.loaded) {
    ASSERT_EQ(st, DQ_OK) << msg;
    EXPECT_STREQ(dq_last_backend(ctx), "cuda");
    EXPECT_EQ(dst, src);
  } else {
    EXPECT_NE(st, DQ_OK);
    EXPECT_NE(msg.find(b.status), std::string::npos) << msg;
  }
}

TEST_F(CoreRegistry, ForcedCpuServesTheCall) {
  set("DQ_BACKEND", "cpu");
  dq_context *ctx = context();
  std::vector<float> src(64, 2.0f), dst(64);
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  EXPECT_STREQ(dq_last_backend(ctx), "cpu");
  EXPECT_EQ(dst, src);
}

TEST_F(CoreRegistry, ForcedUnknownBackendFailsNamingIt) {
  set("DQ_BACKEND", "nosuch");
  dq_context *ctx = context();
  std::vector<float> src(32), dst(32);
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  EXPECT_EQ(dq_dequantize(ctx, &r), DQ_ERR_NO_BACKEND);
  const std::string msg = dq_last_error(ctx);
  EXPECT_NE(msg.find("backend 'nosuch' not found (searched: "), std::string::npos) << msg;
  EXPECT_NE(msg.find(fs::path(DQ_PLUGIN_DIR).filename().string()), std::string::npos) << msg;
}

TEST_F(CoreRegistry, PreferenceListSkipsUnusableEntries) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-nodev"));
  set("DQ_BACKEND", "nosuch,fake,cpu");
  set("DQ_GPU_MIN_BYTES", "0");
  dq_context *ctx = context();
  std::vector<float> src(32), dst(32);
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  EXPECT_STREQ(dq_last_backend(ctx), "cpu");
}

TEST_F(CoreRegistry, FirstOfTwoSameNamesWinsTheOtherIsSkipped) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-dup"));
  dq_context *ctx = context();
  const int32_t winner = dq_backend_find(ctx, "cpu");
  ASSERT_GE(winner, 0);
  EXPECT_TRUE(same_folder(info(ctx, winner).path, plugin_folder("plugins-dup")));
  int skipped = 0;
  for (int32_t i = 0; i < dq_backend_count(ctx); ++i) {
    dq_backend_info b = info(ctx, i);
    if (i == winner || std::string(b.name) != "cpu") continue;
    ++skipped;
    EXPECT_EQ(b.loaded, 0);
    EXPECT_NE(std::string(b.status).find("skipped: 'cpu' already found at"), std::string::npos)
        << b.status;
    EXPECT_NE(std::string(b.status).find("plugins-dup"), std::string::npos) << b.status;
  }
  EXPECT_EQ(skipped, 1);
}

TEST_F(CoreRegistry, BrokenPluginsKeepTheirReasonsOthersWork) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-broken"));
  dq_context *ctx = context();
  const std::pair<const char *, const char *> expected[] = {
      {"initfail", "init failed: fake init failure"},
      {"noentry", "does not export dq_plugin_entry"},
      {"misnamed", "plugin calls itself 'other', file name says 'misnamed'"},
      {"short", "plugin table is"},
      {"unresolved", "undefined symbol: dq_fake_function_nobody_defines"},
  };
  for (const auto &[name, reason] : expected) {
    const int32_t i = dq_backend_find(ctx, name);
    ASSERT_GE(i, 0) << name;
    dq_backend_info b = info(ctx, i);
    EXPECT_EQ(b.loaded, 0) << name;
    EXPECT_NE(std::string(b.status).find(reason), std::string::npos) << name << ": " << b.status;
  }
  EXPECT_EQ(info(ctx, dq_backend_find(ctx, "cpu")).loaded, 1);
}

TEST_F(CoreRegistry, DebugLogShowsSearchLoadsAndChoices) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-abi"));
  set("DQ_LOG", "debug");
  dq_context *ctx = context();
  ::testing::internal::CaptureStderr();
  std::vector<float> src(1024), dst(1024);
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  const dq_status st = dq_dequantize(ctx, &r);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(st, DQ_OK);
  const std::string abi = plugin_folder("plugins-abi");
  EXPECT_NE(log.find("dq: search " + abi + " (DQ_PLUGIN_PATH)"), std::string::npos) << log;
  EXPECT_NE(log.find("(beside libdq-core)"), std::string::npos) << log;
  EXPECT_NE(log.find("dq: found " + abi + "/libdq-old.so"), std::string::npos) << log;
  EXPECT_NE(
      log.find("refused " + abi + "/libdq-old.so: libdq-old.so: plugin ABI 2.0, core expects 1.x"),
      std::string::npos)
      << log;
  EXPECT_NE(log.find("dq: loaded cpu"), std::string::npos) << log;
  EXPECT_NE(log.find("dq: tensor f32 4096 B -> cpu ("), std::string::npos) << log;
}

TEST_F(CoreRegistry, QuietWithoutDqLog) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-abi"));
  dq_context *ctx = context();
  ::testing::internal::CaptureStderr();
  dq_backend_count(ctx);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(CoreRegistry, ThresholdRoutesHostTensorsBetweenGpuAndCpu) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-gpu"));
  set("DQ_GPU_MIN_BYTES", "4096");
  dq_context *ctx = context();
  std::vector<float> big(1024, 3.0f), small(1023, 4.0f), out(1024);
  dq_dequantize_request r = dq::test::f32_request(big, out);
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  EXPECT_STREQ(dq_last_backend(ctx), "fakegpu");
  r = dq::test::f32_request(small, out);
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  EXPECT_STREQ(dq_last_backend(ctx), "cpu");
}

// Issue 15: cuda and vulkan drive the same NVIDIA GPU: the default picks cuda and the debug
// log says why; DQ_BACKEND=vulkan still forces vulkan.
TEST_F(CoreRegistry, CudaPreferredOverVulkanOnTheSameGpuAndTheLogSaysSo) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-samegpu"));
  set("DQ_GPU_MIN_BYTES", "0");
  set("DQ_LOG", "debug");
  std::vector<float> src(1024, 3.0f), dst(1024);
  {
    dq_context *ctx = context();
    dq_dequantize_request r = dq::test::f32_request(src, dst);
    ::testing::internal::CaptureStderr();
    ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_STREQ(dq_last_backend(ctx), "cuda");
    EXPECT_NE(log.find("preferring cuda over vulkan: both see NVIDIA H200"), std::string::npos) << log;
  }
  set("DQ_BACKEND", "vulkan");
  dq_context *forced = context();
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  ASSERT_EQ(dq_dequantize(forced, &r), DQ_OK) << dq_last_error(forced);
  EXPECT_STREQ(dq_last_backend(forced), "vulkan");
}

TEST_F(CoreRegistry, DefaultThresholdKeepsMegabytesOnCpu) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-gpu"));
  dq_context *ctx = context();
  std::vector<float> src(1 << 18, 1.0f), dst(1 << 18);  // 1 MiB
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  EXPECT_STREQ(dq_last_backend(ctx), "cpu");
}

TEST_F(CoreRegistry, PluginSharedByContextsShutsDownOnceAfterTheLast) {
  const fs::path log = fs::path(::testing::TempDir()) / "dq_shared_events.log";
  fs::remove(log);
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-gpu"));
  set("DQ_FAKE_EVENT_LOG", log.string());
  set("DQ_BACKEND", "fakegpu");
  dq_context *a = nullptr, *b = nullptr;
  ASSERT_EQ(dq_context_create(&a), DQ_OK);
  ASSERT_EQ(dq_context_create(&b), DQ_OK);
  dq_backend_count(a);
  dq_backend_count(b);
  dq_context_destroy(a);
  EXPECT_EQ(dq::test::contents(log), "fakegpu init\n");
  std::vector<float> src(32, 5.0f), dst(32);
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  EXPECT_EQ(dq_dequantize(b, &r), DQ_OK) << dq_last_error(b);
  EXPECT_EQ(dst, src);
  dq_context_destroy(b);
  EXPECT_EQ(dq::test::contents(log), "fakegpu init\nfakegpu shutdown\n");
}

TEST_F(CoreRegistry, BackendQueriesCheckTheirArguments) {
  set("DQ_PLUGIN_PATH", plugin_folder("plugins-gpu"));
  dq_context *ctx = context();
  dq_backend_info b{};
  b.struct_size = sizeof(b);
  EXPECT_EQ(dq_backend_get_info(ctx, dq_backend_count(ctx), &b), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx)).find("out of range"), std::string::npos);
  EXPECT_EQ(dq_backend_get_info(ctx, 0, nullptr), DQ_ERR_INVALID_ARGUMENT);
  const int32_t gpu = dq_backend_find(ctx, "fakegpu");
  dq_device_info d{};
  d.struct_size = sizeof(d);
  ASSERT_EQ(dq_backend_get_device(ctx, gpu, 0, &d), DQ_OK);
  EXPECT_STREQ(d.name, "fake device 0");
  EXPECT_EQ(d.total_memory, 1ull << 30);
  EXPECT_EQ(d.is_gpu, 1);
  EXPECT_EQ(dq_backend_get_device(ctx, gpu, 1, &d), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_backend_supports(ctx, gpu, DQ_TYPE_F32, DQ_TYPE_F32), 1);
  EXPECT_EQ(dq_backend_supports(ctx, gpu, DQ_TYPE_Q4_K, DQ_TYPE_F32), 0);
  EXPECT_EQ(dq_backend_find(ctx, "nosuch"), -1);
  EXPECT_EQ(dq_backend_find(ctx, nullptr), -1);
}

TEST_F(CoreRegistry, OlderCallerStructIsFilledOnlyAsFarAsItReaches) {
  dq_context *ctx = context();
  dq_backend_info b;
  std::memset(&b, 0xAB, sizeof(b));
  b.struct_size = offsetof(dq_backend_info, description);  // caller knows name and path only
  ASSERT_EQ(dq_backend_get_info(ctx, 0, &b), DQ_OK);
  EXPECT_EQ(b.struct_size, offsetof(dq_backend_info, description));
  EXPECT_NE(b.name, nullptr);
  unsigned char tail[sizeof(b) - offsetof(dq_backend_info, description)];
  std::memset(tail, 0xAB, sizeof(tail));
  EXPECT_EQ(
      std::memcmp(reinterpret_cast<unsigned char *>(&b) + offsetof(dq_backend_info, description),
                  tail, sizeof(tail)),
      0);
}

}  // namespace
