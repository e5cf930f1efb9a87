// The loader to a Vulkan device (lavapipe in CI): every test model read back equals the CPU
// reference byte for byte, with the device kernels for every tensor, with the default
// small-tensor rule and with a 1 MiB staging budget (tensors cut across many slots); a
// generated model larger than the slots; and hybrid uploads from registered windows of the
// mapping (VK_EXT_external_memory_host). Skipped with the reason when there is no Vulkan device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "loader/synthetic_model.hpp"
#include "model_checks.hpp"
#include "scratch_model_path.hpp"

namespace dq::test {
namespace {

const Location kVulkan{"vulkan", 0};

// Lavapipe and the validation layer unless the caller chose otherwise, set before any Context
// loads the plugin (CTest cannot pass them: tests/vulkan/CMakeLists.txt says why).
const bool kEnvironmentSet = [] {
  setenv("DQ_VULKAN_CPU", "1", 0);
  setenv("DQ_VULKAN_VALIDATION", "auto", 0);
  return true;
}();

#define REQUIRE_VULKAN(ctx)                                          \
  do {                                                               \
    std::string why_;                                                \
    if (!have_device(ctx, "vulkan", &why_)) GTEST_SKIP() << why_;    \
  } while (0)

TEST(LoaderVulkan, EveryModelOnDeviceKernels) {
  {
    Context ctx;
    REQUIRE_VULKAN(ctx);
  }
  LoadCase c{kVulkan};
  c.gpu_min_bytes = 0;  // nothing goes to the cpu plugin
  check_every_model(c);
}

TEST(LoaderVulkan, EveryModelWithDefaultRouting) {
  {
    Context ctx;
    REQUIRE_VULKAN(ctx);
  }
  check_every_model({kVulkan});
}

TEST(LoaderVulkan, EveryModelWithOneMebibyteBudget) {
  {
    Context ctx;
    REQUIRE_VULKAN(ctx);
  }
  LoadCase c{kVulkan};
  c.gpu_min_bytes = 0;
  c.budget = 1ull << 20;
  check_every_model(c);
}

loader::synth::LlamaShape small_llama() {
  const loader::synth::LlamaShape s{
      .n_embd = 512, .n_ff = 1536, .n_vocab = 4096, .n_layers = 2, .n_head = 8, .n_head_kv = 2};
  return s;
}

TEST(LoaderVulkan, GeneratedModelAcrossManySlots) {
  Context ctx;
  REQUIRE_VULKAN(ctx);
  const std::string path = scratch_model_path("dq-loader-vulkan-test");
  loader::synth::write_gguf(loader::synth::llama_like(small_llama()), path);
  {
    Model model(ctx, path);
    for (uint64_t budget : {2ull << 20, 64ull << 20}) {
      LoadOptions o;
      o.device(kVulkan).output(DQ_TYPE_F16).staging_budget(budget);
      LoadedModel lm = load(ctx, model, o);
      const auto st = lm.stats();
      EXPECT_LE(st.staging_high_water, budget);
      EXPECT_GT(st.tensors_device, 0);
      for (const auto &t : lm.tensors()) {
        const auto info = *model.tensor(t.name.c_str());
        EXPECT_EQ(first_difference(read_back(ctx, t), cpu_reference(ctx, info, DQ_TYPE_F16)), -1)
            << t.name << " via " << t.backend << ", budget " << budget;
      }
    }
  }
  std::filesystem::remove(path);
}

// Windows of the file's mapping registered with host_register (imported through
// VK_EXT_external_memory_host where offered): fills go direct, every tensor is exact.
TEST(LoaderVulkan, HybridUploadsFromRegisteredWindows) {
  Context ctx;
  REQUIRE_VULKAN(ctx);
  const std::string path = scratch_model_path("dq-loader-vulkan-hybrid");
  loader::synth::write_gguf(loader::synth::llama_like(small_llama()), path);
  ScopedEnv copy("DQ_LOAD_COPY", "hybrid"), trace("DQ_LOAD_HYBRID_TRACE", "1"),
      window("DQ_LOAD_REGISTER_WINDOW_MIB", "2"), wait("DQ_LOAD_HYBRID_WAIT", "1");
  {
    Model model(ctx, path);
    for (int32_t to : {int32_t{DQ_TYPE_F16}, int32_t{DQ_LOAD_KEEP}}) {
      ScopedEnv f("DQ_LOAD_REGISTER_FRACTION", "1");
      LoadOptions o;
      o.device(kVulkan).output(to).staging_budget(4ull << 20);
      testing::internal::CaptureStderr();
      LoadedModel lm = load(ctx, model, o);
      const std::string err = testing::internal::GetCapturedStderr();
      size_t direct = 0, fills = 0;
      ASSERT_EQ(std::sscanf(err.c_str() + std::min(err.size(), err.find("dq: hybrid: ")),
                            "dq: hybrid: %zu of %zu fills direct", &direct, &fills),
                2)
          << err;
      EXPECT_GT(direct, 0u) << err;
      for (const auto &t : lm.tensors()) {
        const auto info = *model.tensor(t.name.c_str());
        EXPECT_EQ(first_difference(read_back(ctx, t), cpu_reference(ctx, info, t.type)), -1) << t.name;
      }
    }
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace dq::test
