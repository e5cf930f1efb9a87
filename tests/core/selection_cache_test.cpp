// The registry's cached backend choice (registry/selection_cache.hpp) must choose exactly as
// the full selection does: per type pair and size class, with forced backends, device memory,
// DQ_BACKEND read once per context, failures reported in full every time, and every choice
// logged under DQ_LOG=debug.
#include <string>
#include <thread>
#include <vector>

#include "env_fixture.hpp"

using dq::test::EnvTest;

namespace {

class CoreSelectionCache : public EnvTest {
 protected:
  std::vector<float> big = std::vector<float>(1024, 3.0f);   // 4096 bytes
  std::vector<float> small = std::vector<float>(1023, 4.0f);  // 4092 bytes
  std::vector<float> out = std::vector<float>(1024);

  // The backend that served r, or "error: <message>".
  std::string served_by(dq_context *ctx, const dq_dequantize_request &r) {
    if (dq_dequantize(ctx, &r) != DQ_OK) return std::string("error: ") + dq_last_error(ctx);
    return dq_last_backend(ctx);
  }
};

int count_of(const std::string &text, const std::string &part) {
  int n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST_F(CoreSelectionCache, SizeClassesAlternateAfterBothAreCached) {
  set("DQ_PLUGIN_PATH", dq::test::plugin_folder("plugins-gpu"));
  set("DQ_GPU_MIN_BYTES", "4096");
  dq_context *ctx = context();
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(served_by(ctx, dq::test::f32_request(big, out)), "fakegpu") << round;
    EXPECT_EQ(served_by(ctx, dq::test::f32_request(small, out)), "cpu") << round;
  }
}

TEST_F(CoreSelectionCache, ForcedBackendWinsOverACachedChoiceAndLeavesItIntact) {
  set("DQ_PLUGIN_PATH", dq::test::plugin_folder("plugins-gpu"));
  set("DQ_GPU_MIN_BYTES", "0");
  dq_context *ctx = context();
  dq_dequantize_request r = dq::test::f32_request(big, out);
  for (int round = 0; round < 2; ++round) {
    r.backend = nullptr;
    EXPECT_EQ(served_by(ctx, r), "fakegpu") << round;
    r.backend = "cpu";
    EXPECT_EQ(served_by(ctx, r), "cpu") << round;
  }
  // Another pair is chosen on its own: fakegpu does f32 only, so q8_0 goes to cpu.
  std::vector<unsigned char> q8(34, 0);
  dq_dequantize_request q = r;
  q.backend = nullptr;
  q.src_type = DQ_TYPE_Q8_0;
  q.src = q8.data();
  q.src_bytes = q8.size();
  q.n_elements = 32;
  EXPECT_EQ(served_by(ctx, q), "cpu");
  EXPECT_EQ(served_by(ctx, r), "cpu");
  r.backend = nullptr;
  EXPECT_EQ(served_by(ctx, r), "fakegpu");
}

// A failure is never cached: the second identical call reports the same full message.
TEST_F(CoreSelectionCache, FailuresKeepTheirFullMessageEveryTime) {
  set("DQ_PLUGIN_PATH", dq::test::plugin_folder("plugins-gpu"));
  dq_context *ctx = context();
  std::vector<unsigned char> q8(34, 0);
  dq_dequantize_request q = dq::test::f32_request(big, out);
  q.src_type = DQ_TYPE_Q8_0;
  q.src = q8.data();
  q.src_bytes = q8.size();
  q.n_elements = 32;
  q.backend = "fakegpu";
  const std::string expected =
      "error: backend 'fakegpu' does not dequantize q8_0 to f32 (forced by the request)";
  EXPECT_EQ(served_by(ctx, q), expected);
  q.backend = nullptr;
  EXPECT_EQ(served_by(ctx, q), "cpu");
  q.backend = "fakegpu";
  EXPECT_EQ(served_by(ctx, q), expected);
  q.backend = "nosuch";
  const std::string first = served_by(ctx, q);
  EXPECT_NE(first.find("error: backend 'nosuch' not found"), std::string::npos) << first;
  EXPECT_EQ(served_by(ctx, q), first);
}

// Device memory implies its backend even when host work of the same pair is cached on cpu.
TEST_F(CoreSelectionCache, DeviceMemoryGoesToItsBackendBetweenCachedHostCalls) {
  set("DQ_PLUGIN_PATH", dq::test::plugin_folder("plugins-gpu"));
  dq_context *ctx = context();
  const dq_location gpu{"fakegpu", 0};
  void *device_src = nullptr;
  ASSERT_EQ(dq_malloc(ctx, gpu, big.size() * sizeof(float), &device_src), DQ_OK)
      << dq_last_error(ctx);
  ASSERT_EQ(dq_memcpy(ctx, device_src, gpu, big.data(), {nullptr, 0}, big.size() * sizeof(float)),
            DQ_OK)
      << dq_last_error(ctx);
  dq_dequantize_request host = dq::test::f32_request(big, out);
  dq_dequantize_request device = host;
  device.src = device_src;
  device.src_where = gpu;
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(served_by(ctx, host), "cpu") << round;
    EXPECT_EQ(served_by(ctx, device), "fakegpu") << round;
  }
  EXPECT_EQ(out[0], 3.0f);
  EXPECT_EQ(dq_free(ctx, gpu, device_src), DQ_OK) << dq_last_error(ctx);
}

// DQ_BACKEND is read once, when a context first needs its plugins: a later change is seen by
// a new context only, as before the cache.
TEST_F(CoreSelectionCache, DqBackendIsReadOncePerContext) {
  set("DQ_PLUGIN_PATH", dq::test::plugin_folder("plugins-gpu"));
  set("DQ_BACKEND", "fakegpu");
  dq_context *first = context();
  const dq_dequantize_request r = dq::test::f32_request(small, out);
  EXPECT_EQ(served_by(first, r), "fakegpu");
  set("DQ_BACKEND", "cpu");
  EXPECT_EQ(served_by(first, r), "fakegpu");
  dq_context *second = context();
  EXPECT_EQ(served_by(second, r), "cpu");
  EXPECT_EQ(served_by(first, r), "fakegpu");
  set("DQ_BACKEND", "cpu,fakegpu");  // a list is an order of preference, not a force
  set("DQ_GPU_MIN_BYTES", "0");
  dq_context *third = context();
  EXPECT_EQ(served_by(third, r), "cpu");
  EXPECT_EQ(served_by(third, r), "cpu");
}

// Threads racing to fill the cache of one context all get the right backend (run under
// ASan/TSan too: the cache is shared by every thread of a context).
TEST_F(CoreSelectionCache, ThreadsFillingTheCacheTogetherAgree) {
  set("DQ_PLUGIN_PATH", dq::test::plugin_folder("plugins-gpu"));
  set("DQ_GPU_MIN_BYTES", "4096");
  dq_context *ctx = context();
  constexpr int kThreads = 4, kCalls = 200;
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::vector<float> mine(1024);  // each thread writes its own output
      for (int i = 0; i < kCalls; ++i) {
        const bool large = (i + t) % 2 == 0;
        const dq_dequantize_request r = dq::test::f32_request(large ? big : small, mine);
        if (served_by(ctx, r) != (large ? "fakegpu" : "cpu")) ++wrong[t];
      }
    });
  for (auto &th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
}

// Under DQ_LOG=debug each call's choice is logged, the cached second one too.
TEST_F(CoreSelectionCache, DebugLogNamesEveryChoice) {
  set("DQ_PLUGIN_PATH", dq::test::plugin_folder("plugins-gpu"));
  set("DQ_LOG", "debug");
  dq_context *ctx = context();
  dq_backend_count(ctx);  // load first: the load log is not what this test reads
  const dq_dequantize_request r = dq::test::f32_request(big, out);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(served_by(ctx, r), "cpu");
  EXPECT_EQ(served_by(ctx, r), "cpu");
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_of(log, "tensor f32 4096 B -> cpu"), 2) << log;
}

}  // namespace
