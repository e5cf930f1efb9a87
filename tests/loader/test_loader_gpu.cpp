// Loader to a CUDA device: every test model read back equals the CPU reference byte for byte,
// with the device kernels for every tensor, with the default small-tensor rule, and with a
// 1 MiB staging budget (tensors cut across many slots); row ranges, caller device buffers,
// the reusable loader, the bandwidth probe and every way of pinning the staging ring. Skipped with the reason when there is no GPU.
#include <algorithm>
#include <gtest/gtest.h>

#include "loader/synthetic_model.hpp"
#include "model_checks.hpp"
#include "scratch_model_path.hpp"

namespace dq::test {
namespace {

const Location kCuda{"cuda", 0};

#define REQUIRE_CUDA(ctx)                                       \
  do {                                                          \
    std::string why_;                                           \
    if (!have_device(ctx, "cuda", &why_)) GTEST_SKIP() << why_; \
  } while (0)

// Writes the generated llama-like model of the tests below (tens of MB, tensors larger than the
// staging slots) to this process's scratch_model_path(name); returns its path.
std::string write_generated_llama(const char *name) {
  const loader::synth::LlamaShape s{
      .n_embd = 1024, .n_ff = 2816, .n_vocab = 8192, .n_layers = 2, .n_head = 8, .n_head_kv = 2};
  const std::string path = scratch_model_path(name);
  loader::synth::write_gguf(loader::synth::llama_like(s), path);
  return path;
}

TEST(LoaderCuda, EveryModelOnDeviceKernels) {
  {
    Context ctx;
    REQUIRE_CUDA(ctx);
  }
  LoadCase c{kCuda};
  c.gpu_min_bytes = 0;  // nothing goes to the cpu plugin
  check_every_model(c);
}

TEST(LoaderCuda, EveryModelWithDefaultRouting) {
  {
    Context ctx;
    REQUIRE_CUDA(ctx);
  }
  check_every_model({kCuda});
}

TEST(LoaderCuda, EveryModelWithOneMebibyteBudget) {
  {
    Context ctx;
    REQUIRE_CUDA(ctx);
  }
  LoadCase c{kCuda};
  c.gpu_min_bytes = 0;
  c.budget = 1ull << 20;
  check_every_model(c);
}

// A generated llama-like model (tens of MB, tensors larger than the slots) with a small budget.
TEST(LoaderCuda, GeneratedModelAcrossManySlots) {
  Context ctx;
  REQUIRE_CUDA(ctx);
  const std::string path = write_generated_llama("dq-loader-gpu-test");
  {
    Model model(ctx, path);
    for (uint64_t budget : {2ull << 20, 64ull << 20}) {
      LoadOptions o;
      o.device(kCuda).output(DQ_TYPE_F16).staging_budget(budget);
      LoadedModel lm = load(ctx, model, o);
      const auto st = lm.stats();
      EXPECT_LE(st.staging_high_water, budget);
      EXPECT_GT(st.staging_high_water, 0u);
      if (budget == (2ull << 20)) {
        EXPECT_GT(st.chunks, 4) << "tensors larger than the slots";
      }
      EXPECT_GT(st.tensors_device, 0);
      EXPECT_GT(st.tensors_cpu, 0) << "the f32 norms are under the small-tensor threshold";
      for (const auto &t : lm.tensors()) {
        const auto info = *model.tensor(t.name.c_str());
        EXPECT_EQ(first_difference(read_back(ctx, t), cpu_reference(ctx, info, DQ_TYPE_F16)), -1)
            << t.name << " via " << t.backend << ", budget " << budget;
      }
    }
  }
  std::filesystem::remove(path);
}

// The staging ring (pinned_slots.hpp) on a real device: registered, every slot used more than
// once, every tensor equal to the CPU reference; with the ring faulted in ahead
// (prepared_staging.hpp) after a dq_load_prepare hint (its thread held back 200 ms, so the load
// waits for it), by the ring's own start, and by the loading thread (DQ_LOAD_PREPARE=0).
TEST(LoaderCuda, PinnedRingLoadsEveryTensor) {
  Context ctx;
  REQUIRE_CUDA(ctx);
  const std::string path = write_generated_llama("dq-loader-gpu-ringpin");
  {
    Model model(ctx, path);
    for (const char *how : {"hint", "1", "0"}) {
      SCOPED_TRACE(std::string("prepared: ") + how);
      const bool hint = std::string(how) == "hint";
      ScopedEnv prepare("DQ_LOAD_PREPARE", hint ? "1" : how),
          delay("DQ_LOAD_PREPARE_DELAY_MS", hint ? "200" : "0"), trace("DQ_LOAD_TRACE", "1");
      LoadOptions o;
      // 16 MiB: 4 slots of 4 MiB, each filled more than once.
      o.device(kCuda).output(DQ_TYPE_F16).staging_budget(16ull << 20);
      if (hint) prepare_load(ctx, model, o);
      testing::internal::CaptureStderr();
      LoadedModel lm = load(ctx, model, o);
      const std::string err = testing::internal::GetCapturedStderr();
      EXPECT_EQ(err.find("prepared on a background thread") != std::string::npos, *how != '0')
          << err;
      EXPECT_STREQ(lm.stats().staging_pinned, "registered");
      EXPECT_GT(lm.stats().chunks, 4);
      for (const auto &t : lm.tensors()) {
        const auto info = *model.tensor(t.name.c_str());
        EXPECT_EQ(first_difference(read_back(ctx, t), cpu_reference(ctx, info, DQ_TYPE_F16)), -1)
            << t.name;
      }
    }
  }
  std::filesystem::remove(path);
}

// Hybrid uploads (windows of the mapping registered with cudaHostRegister, read-only): the
// trace says fills went direct, and every tensor equals the CPU reference.
TEST(LoaderCuda, HybridUploadsFromRegisteredWindows) {
  // The first H100 run of this test (commit d0ec964) did not finish in 300 s: opt-in until the
  // hang is found (docs/PERFORMANCE.md, Model loading).
  if (!std::getenv("DQ_TEST_HYBRID")) GTEST_SKIP() << "hybrid path hung on the H100; set DQ_TEST_HYBRID=1 to run";
  Context ctx;
  REQUIRE_CUDA(ctx);
  const std::string path = write_generated_llama("dq-loader-gpu-hybrid");
  ScopedEnv copy("DQ_LOAD_COPY", "hybrid"), trace("DQ_LOAD_HYBRID_TRACE", "1"),
      window("DQ_LOAD_REGISTER_WINDOW_MIB", "2");
  {
    Model model(ctx, path);
    for (const char *fraction : {"0.4", "1"})
      for (int32_t to : {int32_t{DQ_TYPE_F16}, int32_t{DQ_LOAD_KEEP}}) {
        ScopedEnv f("DQ_LOAD_REGISTER_FRACTION", fraction);
        LoadOptions o;
        o.device(kCuda).output(to).staging_budget(4ull << 20);
        testing::internal::CaptureStderr();
        LoadedModel lm = load(ctx, model, o);
        const std::string err = testing::internal::GetCapturedStderr();
        std::fprintf(stderr, "%s", err.c_str());
        EXPECT_STREQ(lm.stats().copy_method, "hybrid");
        size_t direct = 0, fills = 0;
        ASSERT_EQ(std::sscanf(err.c_str() + std::min(err.size(), err.find("dq: hybrid: ")), "dq: hybrid: %zu of %zu fills direct", &direct, &fills), 2) << err;
        EXPECT_GT(direct, 0u) << err;
        for (const auto &t : lm.tensors()) {
          const auto info = *model.tensor(t.name.c_str());
          EXPECT_EQ(first_difference(read_back(ctx, t), cpu_reference(ctx, info, t.type)), -1)
              << t.name << " via " << t.backend << ", fraction " << fraction;
        }
      }
  }
  std::filesystem::remove(path);
}

TEST(LoaderCuda, RowRangesEqualSlices) {
  Context ctx;
  REQUIRE_CUDA(ctx);
  DQ_REQUIRE_TESTDATA(dir);
  Model model(ctx, (dir / "mini-llama-q4_k_m.gguf").string());
  LoadOptions o;
  o.device(kCuda).output(DQ_TYPE_F32).gpu_min_bytes(0);
  struct R { const char *name; int64_t b, e; };
  const R ranges[] = {{"token_embd.weight", 128, 384}, {"output.weight", 0, 1}, {"blk.1.ffn_down.weight", 100, 256}};
  for (const R &r : ranges) o.rows(r.name, r.b, r.e);
  LoadedModel lm = load(ctx, model, o);
  for (const R &r : ranges) {
    const auto t = *lm.find(r.name);
    EXPECT_EQ(first_difference(read_back(ctx, t), cpu_reference(ctx, *model.tensor(r.name), DQ_TYPE_F32, r.b, r.e)), -1)
        << r.name;
  }
}

TEST(LoaderCuda, CallerDeviceBuffersAndReusableLoader) {
  Context ctx;
  REQUIRE_CUDA(ctx);
  DQ_REQUIRE_TESTDATA(dir);
  Model model(ctx, (dir / "all-types.gguf").string());
  std::vector<DeviceBuffer> mine;
  LoadOptions o;
  o.device(kCuda).output(DQ_TYPE_BF16).gpu_min_bytes(0);
  o.buffers([&](const dq_tensor_info &, int32_t, int64_t, int64_t, uint64_t bytes) -> void * {
    mine.emplace_back(ctx, kCuda, bytes);
    return mine.back().data();
  });
  Loader loader(ctx, o);
  for (int round = 0; round < 2; ++round) {
    mine.clear();
    mine.reserve(64);
    LoadedModel lm = loader.load(model, o);
    for (const auto &t : lm.tensors()) {
      EXPECT_TRUE(t.caller_owned);
      const auto info = *model.tensor(t.name.c_str());
      const int32_t want = type_is_dequantizable(info.type) ? DQ_TYPE_BF16 : info.type;
      EXPECT_EQ(first_difference(read_back(ctx, t), cpu_reference(ctx, info, want)), -1) << t.name;
    }
  }
}

TEST(LoaderCuda, BandwidthProbeAndBudgetErrors) {
  Context ctx;
  REQUIRE_CUDA(ctx);
  const double bps = measure_h2d_bandwidth(ctx, kCuda, 16ull << 20, 3);
  EXPECT_GT(bps, 1e8);
  DQ_REQUIRE_TESTDATA(dir);
  Model model(ctx, (dir / "mini-llama-q4_k_m.gguf").string());
  LoadOptions o;
  o.device(kCuda).staging_budget(4096);
  try {
    load(ctx, model, o);
    ADD_FAILURE() << "a 4 KiB budget must be refused";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), DQ_ERR_SIZE);
    EXPECT_NE(std::string(e.what()).find("1 MiB"), std::string::npos) << e.what();
  }
  o.device("cuda", 99).staging_budget(0);
  EXPECT_THROW(load(ctx, model, o), Error);
}

}  // namespace
}  // namespace dq::test
