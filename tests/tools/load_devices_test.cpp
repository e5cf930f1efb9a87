// dq load --devices ... --split ...: one load over several devices as a user runs it (host
// memory twice, and the fake asynchronous device of the loader tests as two devices), and the
// usage mistakes it refuses.
#include <gtest/gtest.h>

#include "testdata.hpp"
#include "tool_process.hpp"

namespace dq::test {
namespace {

ToolResult run(std::vector<std::string> args, const std::filesystem::path &out,
               std::vector<std::pair<std::string, std::string>> env = {}) {
  ToolChild c{std::move(args), std::move(env)};
  c.stdout_path = out.string();
  return run_tool(c);
}

TEST(ToolLoadDevices, ReportsEveryDeviceAndTheSum) {
  DQ_REQUIRE_TESTDATA(dir);
  ScratchFolder scratch;
  const auto out = scratch.path() / "out.txt";
  const std::string model = (dir / "stories260K.gguf").string();
  for (const char *split : {"tensor", "layer"}) {
    const ToolResult r = run({"load", model, "--devices", "cpu,cpu", "--split", split, "--no-progress"}, out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string text = file_text(out);
    EXPECT_NE(text.find("over 2 devices (split " + std::string(split) + ")"), std::string::npos) << text;
    EXPECT_NE(text.find("\n  all "), std::string::npos) << text;
  }
  // The fake device as two devices: each row has its link rate measured in the same run.
  const ToolResult r = run({"load", model, "--devices", "fakeasync:0,fakeasync:1", "--no-progress"}, out,
                           {{"DQ_PLUGIN_PATH", DQ_FAKE_PLUGIN_DIR}, {"DQ_FAKEASYNC_DEVICES", "2"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = file_text(out);
  EXPECT_NE(text.find("  fakeasync:0 "), std::string::npos) << text;
  EXPECT_NE(text.find("  fakeasync:1 "), std::string::npos) << text;
  EXPECT_NE(text.find("compares with their sum"), std::string::npos) << text;
}

TEST(ToolLoadDevices, RefusesMistakesInOneLine) {
  DQ_REQUIRE_TESTDATA(dir);
  ScratchFolder scratch;
  const auto out = scratch.path() / "out.txt";
  const std::string model = (dir / "mini-llama-q4_k_m.gguf").string();
  struct Case {
    std::vector<std::string> args;
    int code;
    const char *says;
  };
  const std::vector<Case> cases = {
      {{"load", model, "--devices", "cpu,,cpu"}, 2, "empty entry"},
      {{"load", model, "--devices", "cpu,nosuch:0"}, 2, "nosuch"},
      {{"load", model, "--device", "cpu", "--devices", "cpu,cpu"}, 2, "do not go together"},
      {{"load", model, "--devices", "cpu,cpu", "--split", "diagonal"}, 2, "diagonal"},
      // 256 columns of q4_K are one block: no whole-block column split over two devices.
      {{"load", model, "--devices", "cpu,cpu", "--split", "tensor"}, 1, "block size 256"},
  };
  for (const Case &c : cases) {
    const ToolResult r = run(c.args, out);
    EXPECT_EQ(r.exit_code, c.code) << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// A device index the backend does not have is a usage error (README: an unknown device, exit 2),
// named with the devices there are; it was the load's failure (exit 1).
TEST(ToolLoadDevices, DeviceTheBackendLacksIsAUsageError) {
  DQ_REQUIRE_TESTDATA(dir);
  ScratchFolder scratch;
  const auto out = scratch.path() / "out.txt";
  const std::string model = (dir / "stories260K.gguf").string();
  const std::vector<std::pair<std::string, std::string>> env = {
      {"DQ_PLUGIN_PATH", DQ_FAKE_PLUGIN_DIR}, {"DQ_FAKEASYNC_DEVICES", "2"}};
  ToolResult r = run({"load", model, "--device", "fakeasync:2", "--no-progress"}, out, env);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "dq: --device 'fakeasync:2': fakeasync has 2 devices, fakeasync:0 to "
                   "fakeasync:1\n");
  r = run({"load", model, "--devices", "fakeasync:0,fakeasync:5", "--no-progress"}, out, env);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("fakeasync has 2 devices"), std::string::npos) << r.err;
  r = run({"load", model, "--device", "fakeasync:1", "--no-progress"}, out, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace dq::test
