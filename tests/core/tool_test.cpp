// `dq backends` and `dq dequant` run as a user runs them: output bytes, exit codes, messages.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "dq/dq_plugin.h"
#include "testdata.hpp"

namespace fs = std::filesystem;

namespace {

struct ToolRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

ToolRun run(const std::string &args, const std::string &env = "") {
  const std::string cmd = "env -u DQ_BACKEND -u DQ_PLUGIN_PATH -u DQ_LOG -u DQ_GPU_MIN_BYTES " +
                          env + " " DQ_TOOL " " + args + " 2>&1";
  ToolRun r;
  FILE *p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string plugin_folder(const char *set) {
  return (fs::path(DQ_TEST_PLUGIN_ROOT) / set).string();
}

fs::path out_path(const std::string &name) {
  return fs::path(::testing::TempDir()) / ("dq_tool_" + name);
}

int count_lines(const std::string &s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Expected f16 / bf16 bits: the golden f32 rounded to nearest even (no NaN in the data).
uint16_t to_f16(float f) {
  return std::bit_cast<uint16_t>(static_cast<_Float16>(f));
}
uint16_t to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  return static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

std::vector<float> as_floats(const std::vector<unsigned char> &bytes) {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

std::vector<unsigned char> as_bytes(const std::vector<uint16_t> &v) {
  std::vector<unsigned char> b(v.size() * 2);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

class CoreDequantTool : public ::testing::TestWithParam<const char *> {};

TEST_P(CoreDequantTool, F32IsByteIdenticalToGolden) {
  DQ_REQUIRE_TESTDATA(data);
  const std::string tensor = std::string("t.") + GetParam();
  const fs::path out = out_path(tensor + ".f32");
  ToolRun r = run("dequant " + (data / "all-types.gguf").string() + " --tensor " + tensor +
                      " --out " + out.string(),
                  "DQ_BACKEND=cpu");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto golden = dq::test::read_file(data / "golden" / ("all-types." + tensor + ".f32"));
  ASSERT_FALSE(golden.empty());
  EXPECT_TRUE(dq::test::read_file(out) == golden) << tensor << " differs from the golden file";
}

TEST_P(CoreDequantTool, HalfOutputsAreTheGoldenRounded) {
  DQ_REQUIRE_TESTDATA(data);
  const std::string tensor = std::string("t.") + GetParam();
  const auto golden =
      as_floats(dq::test::read_file(data / "golden" / ("all-types." + tensor + ".f32")));
  std::vector<uint16_t> f16, bf16;
  for (float f : golden) f16.push_back(to_f16(f)), bf16.push_back(to_bf16(f));
  for (const auto &[to, expected] : {std::pair{"f16", f16}, std::pair{"bf16", bf16}}) {
    const fs::path out = out_path(tensor + "." + to);
    ToolRun r = run("dequant " + (data / "all-types.gguf").string() + " --tensor " + tensor +
                    " --to " + to + " --out " + out.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(dq::test::read_file(out) == as_bytes(expected)) << tensor << " as " << to;
  }
}

TEST_P(CoreDequantTool, CudaOutputIsByteIdenticalToGolden) {
  DQ_REQUIRE_TESTDATA(data);
  ToolRun list = run("backends");
  if (list.output.find("\ncuda ") == std::string::npos) GTEST_SKIP() << "cuda plugin not built";
  const std::string tensor = std::string("t.") + GetParam();
  const fs::path out = out_path(tensor + ".cuda.f32");
  ToolRun r = run("dequant " + (data / "all-types.gguf").string() + " --tensor " + tensor +
                  " --backend cuda --out " + out.string());
  if (r.exit_code == 1 && r.output.find("has no device") != std::string::npos)
    GTEST_SKIP() << "no CUDA device: " << r.output;
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto golden = dq::test::read_file(data / "golden" / ("all-types." + tensor + ".f32"));
  EXPECT_TRUE(dq::test::read_file(out) == golden)
      << tensor << " on cuda differs from the golden file";
}

INSTANTIATE_TEST_SUITE_P(CoreAllTypes, CoreDequantTool, ::testing::Values("q8_0", "q5_0", "q6_k"));

TEST(CoreDequantToolErrors, BadInputExitsOneWithOneLine) {
  DQ_REQUIRE_TESTDATA(data);
  const std::string file = (data / "all-types.gguf").string();
  ToolRun missing = run("dequant " + file + " --tensor t.nope --out " + out_path("x").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.output, "dq: " + file + ": no tensor named 't.nope'\n");
  // An unknown backend name is a usage error (exit 2), like an unknown --device of dq load.
  ToolRun forced =
      run("dequant " + file + " --tensor t.q8_0 --backend nosuch --out " + out_path("x").string());
  EXPECT_EQ(forced.exit_code, 2);
  EXPECT_EQ(forced.output, "dq: --backend 'nosuch': no such backend (dq backends lists them)\n");
  ToolRun unwritable = run("dequant " + file + " --tensor t.q8_0 --out /nonexistent-dir/x.f32");
  EXPECT_EQ(unwritable.exit_code, 1);
  EXPECT_EQ(unwritable.output.rfind("dq: /nonexistent-dir/x.f32: cannot open for writing", 0), 0u)
      << unwritable.output;
}

TEST(CoreDequantToolErrors, MissingFileExitsOne) {
  ToolRun r = run("dequant /nonexistent/model.gguf --tensor t --out " + out_path("y").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output.rfind("dq: /nonexistent/model.gguf: ", 0), 0u) << r.output;
  EXPECT_EQ(count_lines(r.output), 1) << r.output;
}

TEST(CoreDequantToolErrors, UsageErrorsExitTwo) {
  EXPECT_EQ(run("dequant x.gguf --tensor t").exit_code, 2);  // no --out
  EXPECT_EQ(run("dequant x.gguf --tensor t --to q4_0 --out y").exit_code, 2);
  EXPECT_EQ(run("dequant --out y").exit_code, 2);
}

TEST(CoreDequantToolLog, DebugLogNamesTheChoice) {
  DQ_REQUIRE_TESTDATA(data);
  ToolRun r = run("dequant " + (data / "all-types.gguf").string() + " --tensor t.q6_k --out " +
                      out_path("log.f32").string(),
                  "DQ_LOG=debug");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("dq: tensor q6_K 53760 B -> cpu ("), std::string::npos) << r.output;
}

TEST(CoreBackendsTool, ListsCpuAndTheFakes) {
  ToolRun r = run("backends", "DQ_PLUGIN_PATH=" + plugin_folder("plugins-abi") + ":" +
                                  plugin_folder("plugins-nodev"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("NAME"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cpu      1." + std::to_string(DQ_PLUGIN_ABI_MINOR) + "   loaded"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("fake     1.0   loaded"), std::string::npos) << r.output;  // ABI 1.0 plugin
  EXPECT_NE(r.output.find("old      2.0   refused"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("libdq-old.so: plugin ABI 2.0, core expects 1.x"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("no device: no fake device"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("searched: " + plugin_folder("plugins-abi") + " (DQ_PLUGIN_PATH)"),
            std::string::npos)
      << r.output;
}

TEST(CoreBackendsTool, VerboseListsTypesAndOutputs) {
  ToolRun r = run("backends -v");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("q6_K       -> f32 f16 bf16"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("device 0: "), std::string::npos) << r.output;
}

}  // namespace
