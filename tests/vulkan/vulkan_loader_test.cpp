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
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

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

// "" when `got` equals `want`, else where and how they differ: sizes, the first and last
// differing byte, how many differ, and the bytes around the first (so a device run's log says
// whether whole pages, a shifted range or a few bytes came out wrong).
std::string describe_difference(const std::vector<uint8_t> &got, const std::vector<uint8_t> &want) {
  if (got == want) return "";
  std::ostringstream o;
  if (got.size() != want.size()) o << "got " << got.size() << " bytes, want " << want.size() << "; ";
  const size_t n = std::min(got.size(), want.size());
  size_t first = n, last = 0, count = 0;
  for (size_t i = 0; i < n; ++i)
    if (got[i] != want[i]) first = std::min(first, i), last = i, ++count;
  if (count == 0) return o.str() + "the common prefix is equal";
  o << count << " of " << n << " bytes differ, first at byte " << first << ", last at byte " << last << "; from byte "
    << first / 16 * 16 << " got/want:";
  for (const auto *v : {&got, &want}) {
    o << "\n   ";
    for (size_t i = first / 16 * 16; i < std::min(n, first / 16 * 16 + 32); ++i)
      o << ' ' << std::hex << std::setw(2) << std::setfill('0') << int((*v)[i]) << std::dec;
  }
  return o.str();
}

// Loads `path` through the hybrid path (every fill direct where its windows get pinned, 2 MiB
// windows) into `to` and expects every tensor to equal the CPU reference; on a difference it
// prints the tensor, its type, where it differs and the hybrid and import traces (the load's
// stderr, also left in *stderr_out).
void expect_exact_hybrid_load(Context &ctx, Model &model, int32_t to, const std::string &label,
                              std::string *stderr_out = nullptr) {
  ScopedEnv copy("DQ_LOAD_COPY", "hybrid"), trace("DQ_LOAD_HYBRID_TRACE", "1"),
      window("DQ_LOAD_REGISTER_WINDOW_MIB", "2"), wait("DQ_LOAD_HYBRID_WAIT", "1"),
      fraction("DQ_LOAD_REGISTER_FRACTION", "1"), imports("DQ_VULKAN_IMPORT_TRACE", "1");
  LoadOptions o;
  o.device(kVulkan).output(to).staging_budget(4ull << 20);
  testing::internal::CaptureStderr();
  LoadedModel lm = load(ctx, model, o);
  const std::string err = testing::internal::GetCapturedStderr();
  if (stderr_out) *stderr_out = err;
  // Always shown: how each window was served (imported and checked, or staged and why), so a
  // device run that passes still says whether its imports were trusted.
  for (size_t at = 0, end; at < err.size(); at = end + 1) {
    end = std::min(err.find('\n', at), err.size());
    const std::string line = err.substr(at, end - at);
    if (line.rfind("dq-vulkan:", 0) == 0 || line.rfind("dq: hybrid:", 0) == 0)
      std::printf("[%s] %s\n", label.c_str(), line.c_str());
  }
  size_t direct = 0, fills = 0;
  ASSERT_EQ(std::sscanf(err.c_str() + std::min(err.size(), err.find("dq: hybrid: ")),
                        "dq: hybrid: %zu of %zu fills direct", &direct, &fills),
            2)
      << label << ":\n" << err;
  EXPECT_GT(direct, 0u) << label << ":\n" << err;
  int wrong = 0;
  for (const auto &t : lm.tensors()) {
    const auto info = *model.tensor(t.name.c_str());
    const std::string diff = describe_difference(read_back(ctx, t), cpu_reference(ctx, info, t.type));
    EXPECT_EQ(diff, "") << label << ": tensor " << t.name << " (" << dq_type_name(info.type) << " to "
                        << dq_type_name(t.type) << ", " << info.n_bytes << " file bytes at offset " << info.file_offset
                        << ", via " << t.backend << ") differs from the cpu reference";
    wrong += !diff.empty();
  }
  if (wrong) ADD_FAILURE() << label << ": " << wrong << " tensors wrong; the load's stderr (hybrid and import "
                           << "traces):\n" << err;
}

// Windows of the file's mapping registered with host_register (imported through
// VK_EXT_external_memory_host where offered): fills go direct, every tensor is exact.
TEST(LoaderVulkan, HybridUploadsFromRegisteredWindows) {
  Context ctx;
  REQUIRE_VULKAN(ctx);
  const std::string path = scratch_model_path("dq-loader-vulkan-hybrid");
  loader::synth::write_gguf(loader::synth::llama_like(small_llama()), path);
  {
    Model model(ctx, path);
    for (int32_t to : {int32_t{DQ_TYPE_F16}, int32_t{DQ_LOAD_KEEP}})
      expect_exact_hybrid_load(ctx, model, to, to == DQ_LOAD_KEEP ? "kept" : "to f16");
  }
  std::filesystem::remove(path);
}

// An import whose check reads back other bytes than the pages hold (simulated) is not used:
// copies from that registration are staged, and the load stays exact.
TEST(LoaderVulkan, HybridUploadsStageWhenAnImportFailsItsCheck) {
  Context ctx;
  REQUIRE_VULKAN(ctx);
  const std::string path = scratch_model_path("dq-loader-vulkan-hybrid-check");
  loader::synth::write_gguf(loader::synth::llama_like(small_llama()), path);
  {
    ScopedEnv mismatch("DQ_VULKAN_TEST_IMPORT_MISMATCH", "1");
    Model model(ctx, path);
    std::string err;
    expect_exact_hybrid_load(ctx, model, DQ_TYPE_F16, "imports failing their check", &err);
    // Where the device imports at all, the trace says each window's import was refused.
    if (err.find("imported into memory type") != std::string::npos) {
      EXPECT_NE(err.find("failed its check"), std::string::npos) << err;
      EXPECT_EQ(err.find(", checked"), std::string::npos) << err;
    }
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace dq::test
