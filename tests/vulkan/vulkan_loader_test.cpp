// The loader to a Vulkan device (lavapipe in CI): every test model read back equals the CPU
// reference byte for byte, with the device kernels for every tensor, with the default
// small-tensor rule and with a 1 MiB staging budget (tensors cut across many slots); a
// generated model larger than the slots; and hybrid uploads from registered windows of the
// mapping (VK_EXT_external_memory_host; where the driver refuses to import the file's mapping, as
// NVIDIA's does, the fills are staged and the test prints and records why). Skipped with the
// reason when there is no Vulkan device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <optional>
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

// The loader's hybrid summary line (DQ_LOAD_HYBRID_TRACE): "dq: hybrid: D of F fills direct
// (M MiB), from fill K; windows: W, R pinned+unpinned, S left to staging, X failed[: reason]".
struct HybridSummary {
  size_t direct = 0, fills = 0, windows = 0;
  int registered = 0, staged = 0, failed = 0;
  std::string reason;  // why the first window failed to register; "" when none failed
};

std::optional<HybridSummary> parse_hybrid_line(const std::string &err) {
  for (size_t at = err.find("dq: hybrid: "); at != std::string::npos; at = err.find("dq: hybrid: ", at + 1)) {
    const std::string line = err.substr(at, err.find('\n', at) - at);
    HybridSummary h;
    double mib = 0;
    size_t first_fill = 0;
    int used = 0;
    if (std::sscanf(line.c_str(),
                    "dq: hybrid: %zu of %zu fills direct (%lf MiB), from fill %zu; windows: %zu, %d pinned+unpinned, "
                    "%d left to staging, %d failed%n",
                    &h.direct, &h.fills, &mib, &first_fill, &h.windows, &h.registered, &h.staged, &h.failed,
                    &used) != 8)
      continue;
    if (line.compare(used, 2, ": ") == 0) h.reason = line.substr(used + 2);
    return h;
  }
  return std::nullopt;
}

// The import-failure texts of the plugin's import trace (DQ_VULKAN_IMPORT_TRACE) for
// registrations of `file` (its /proc/self/maps line ends with "/file"), and whether any registration
// of it was imported or staged instead (a line without "import failed").
struct FileImports {
  std::vector<std::string> failures;
  bool registered = false;
};

FileImports file_imports(const std::string &err, const std::string &file) {
  FileImports r;
  for (size_t at = 0, end; at < err.size(); at = end + 1) {
    end = std::min(err.find('\n', at), err.size());
    const std::string line = err.substr(at, end - at);
    if (line.rfind("dq-vulkan: host_register ", 0) != 0 || line.find("/" + file + "]") == std::string::npos) continue;
    const size_t failed = line.find("]: import failed: ");
    if (failed == std::string::npos)
      r.registered = true;
    else
      r.failures.push_back(line.substr(failed + 18));
  }
  return r;
}

// Whether a hybrid load that read every tensor exactly also used its registered windows:
// "" when it did; `*refused` set (and "" returned) when the driver refused to import the model
// file's mapping, which the load must then name (the hybrid line's reason holds the plugin's
// import error, every window staged); otherwise what is wrong. A file imported, or registered
// without an import, must give direct fills: no import failure excuses none then.
std::string hybrid_direct_problem(const HybridSummary &h, const std::string &err, const std::string &file,
                                  std::string *refused) {
  refused->clear();
  const FileImports imports = file_imports(err, file);
  const bool file_refused = h.registered == 0 && h.failed > 0 && !imports.registered && !imports.failures.empty();
  if (!file_refused) {
    if (h.direct > 0) return "";
    return "no fill went direct (" + std::to_string(h.registered) + " of " + std::to_string(h.windows) +
           " windows registered, " + std::to_string(h.failed) + " failed" +
           (imports.registered ? ", the import trace shows " + file + " registered" : "") + ")";
  }
  if (h.direct != 0) return std::to_string(h.direct) + " fills direct with no window registered";
  if (h.reason.empty()) return "a window failed to register but the hybrid line names no reason";
  for (const std::string &why : imports.failures)
    if (h.reason.find(why) == std::string::npos)
      return "the hybrid line's reason \"" + h.reason + "\" does not name the import failure \"" + why + "\"";
  *refused = h.reason;
  return "";
}

// Loads `path` through the hybrid path (every fill direct where its windows get pinned, 2 MiB
// windows) into `to` and expects every tensor to equal the CPU reference; on a difference it
// prints the tensor, its type, where it differs and the hybrid and import traces (the load's
// stderr, also left in *stderr_out). Fills must go direct unless the driver refused to import
// the file's mapping (NVIDIA 580.159.04 does: VK_ERROR_OUT_OF_DEVICE_MEMORY); that is printed
// and recorded as the test's property "file_import_refused".
void expect_exact_hybrid_load(Context &ctx, Model &model, const std::string &path, int32_t to,
                              const std::string &label, std::string *stderr_out = nullptr) {
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
  const auto hybrid = parse_hybrid_line(err);
  ASSERT_TRUE(hybrid) << label << ": no hybrid summary line:\n" << err;
  std::string refused;
  const std::string problem =
      hybrid_direct_problem(*hybrid, err, std::filesystem::path(path).filename().string(), &refused);
  EXPECT_EQ(problem, "") << label << ":\n" << err;
  if (!refused.empty()) {
    testing::Test::RecordProperty("file_import_refused", label + ": " + refused);
    std::printf("[%s] driver refused to import the file mapping: %s; fills staged (%zu of %zu, every tensor %s)\n",
                label.c_str(), refused.c_str(), hybrid->fills - hybrid->direct, hybrid->fills,
                wrong ? "NOT exact" : "exact");
  }
}

// The verdict above on the traces of the NVIDIA run (H100, 580.159.04, 2026-12-05) and on
// lavapipe's: a refused file import passes only when the load names it, and a file that was
// imported (or registered) with no direct fill fails.
TEST(LoaderVulkan, HybridVerdictFromTraces) {
  const std::string file = "dq-loader-vulkan-hybrid-3498.gguf";
  const std::string vk_error = "importing host memory (VK_EXT_external_memory_host): VK_ERROR_OUT_OF_DEVICE_MEMORY (-2)";
  const std::string refused_trace =
      "dq-vulkan: host_register 0x7f0c0083d000 + 204800 bytes [7f0c0083d000-7f0c00870000 r--s 00000000 00:2a 77 /tmp/" +
      file + "]: import failed: " + vk_error + "\n";
  const std::string refused_hybrid =
      "dq: hybrid: 0 of 5 fills direct (0.0 MiB), from fill 0; windows: 1, 0 pinned+unpinned, 0 left to staging, 1 "
      "failed: vulkan: registering 204800 bytes of the model's mapping: " + vk_error + "\n";
  const std::string imported_trace =
      "dq-vulkan: host_register 0x7f0c0083d000 + 204800 bytes [7f0c0083d000-7f0c00870000 r--s 00000000 00:2a 77 /tmp/" +
      file + "]: imported into memory type 3 (host-visible|coherent|cached), checked\n";
  const auto verdict = [&](const std::string &err, std::string *refused) {
    const auto h = parse_hybrid_line(err);
    return h ? hybrid_direct_problem(*h, err, file, refused) : std::string("unparsed");
  };
  std::string refused;

  // NVIDIA: the file's import refused, the load says why: passes, with the reason.
  EXPECT_EQ(verdict(refused_trace + refused_hybrid, &refused), "");
  EXPECT_NE(refused.find("VK_ERROR_OUT_OF_DEVICE_MEMORY"), std::string::npos) << refused;

  // Imported (lavapipe) and fills direct: passes, nothing refused.
  EXPECT_EQ(verdict(imported_trace + "dq: hybrid: 5 of 5 fills direct (0.2 MiB), from fill 0; windows: 1, 1 "
                                     "pinned+unpinned, 0 left to staging, 0 failed\n",
                    &refused),
            "");
  EXPECT_EQ(refused, "");

  // Imported, yet no fill direct: fails.
  EXPECT_NE(verdict(imported_trace + "dq: hybrid: 0 of 5 fills direct (0.0 MiB), from fill 0; windows: 1, 1 "
                                     "pinned+unpinned, 0 left to staging, 0 failed\n",
                    &refused),
            "");
  // The file imported but the hybrid line says its window failed (another cause): fails.
  EXPECT_NE(verdict(imported_trace + refused_hybrid, &refused), "");
  // A window failed with no import failure in the trace (not the driver): fails.
  EXPECT_NE(verdict(refused_hybrid, &refused), "");
  // The load names another reason than the driver's: fails.
  EXPECT_NE(verdict(refused_trace + "dq: hybrid: 0 of 5 fills direct (0.0 MiB), from fill 0; windows: 1, 0 "
                                    "pinned+unpinned, 0 left to staging, 1 failed: something else\n",
                    &refused),
            "");
  // Refused, and no reason on the hybrid line: fails.
  EXPECT_NE(verdict(refused_trace + "dq: hybrid: 0 of 5 fills direct (0.0 MiB), from fill 0; windows: 1, 0 "
                                    "pinned+unpinned, 0 left to staging, 1 failed\n",
                    &refused),
            "");
  // Nothing registered, nothing failed, nothing direct: fails.
  EXPECT_NE(verdict("dq: hybrid: 0 of 5 fills direct (0.0 MiB), from fill 0; windows: 1, 0 pinned+unpinned, 1 left "
                    "to staging, 0 failed\n",
                    &refused),
            "");
  // The refusal of another file's mapping excuses nothing.
  EXPECT_NE(verdict("dq-vulkan: host_register 0x1000 + 4096 bytes [1000-2000 r--s 00000000 00:2a 78 /tmp/other.gguf]: "
                    "import failed: " + vk_error + "\n" + refused_hybrid,
                    &refused),
            "");
}

// Windows of the file's mapping registered with host_register (imported through
// VK_EXT_external_memory_host where offered): fills go direct (staged, and said so, where the
// driver refuses the file's import), every tensor is exact.
TEST(LoaderVulkan, HybridUploadsFromRegisteredWindows) {
  Context ctx;
  REQUIRE_VULKAN(ctx);
  const std::string path = scratch_model_path("dq-loader-vulkan-hybrid");
  loader::synth::write_gguf(loader::synth::llama_like(small_llama()), path);
  {
    Model model(ctx, path);
    for (int32_t to : {int32_t{DQ_TYPE_F16}, int32_t{DQ_LOAD_KEEP}})
      expect_exact_hybrid_load(ctx, model, path, to, to == DQ_LOAD_KEEP ? "kept" : "to f16");
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
    expect_exact_hybrid_load(ctx, model, path, DQ_TYPE_F16, "imports failing their check", &err);
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
