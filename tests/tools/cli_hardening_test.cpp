// The dq command under hostile conditions (issue 19): full disks, signals mid-write, little
// memory, full standard output, and every kind of usage mistake. Each runs the real tool.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "small_gguf.hpp"
#include "tool_process.hpp"

namespace fs = std::filesystem;
using dq::test::file_text;
using dq::test::kGgufF16;
using dq::test::kGgufF32;
using dq::test::run_tool;
using dq::test::RunningTool;
using dq::test::ScratchFolder;
using dq::test::SmallTensor;
using dq::test::ToolChild;
using dq::test::ToolResult;
using dq::test::wait_until;
using dq::test::write_small_gguf;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

// An address-space limit cannot be tested on a sanitized tool (ASan's shadow memory alone is
// over any useful limit).
#ifdef DQ_TOOL_SANITIZED
#define SKIP_UNDER_ADDRESS_LIMIT() GTEST_SKIP() << "the tool is built with ASan: no RLIMIT_AS"
#else
#define SKIP_UNDER_ADDRESS_LIMIT() (void)0
#endif

int count_lines(const std::string &s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// float(i) for element i: every element distinct and checkable.
SmallTensor counting_f32(const std::string &name, uint64_t n) {
  return {name, kGgufF32, n, [n](FILE *f) {
            std::vector<float> v(1 << 16);
            for (uint64_t done = 0; done < n;) {
              const uint64_t k = std::min<uint64_t>(v.size(), n - done);
              for (uint64_t i = 0; i < k; ++i) v[i] = static_cast<float>(done + i);
              if (std::fwrite(v.data(), 4, k, f) != k) return false;
              done += k;
            }
            return true;
          }};
}

// A model of a few small tensors with llama-like names.
fs::path small_model(const ScratchFolder &dir) {
  const fs::path p = dir / "small.gguf";
  EXPECT_TRUE(write_small_gguf(p.string(), {counting_f32("blk.0.attn_q.weight", 65536),
                                            counting_f32("blk.0.attn_k.weight", 65536),
                                            counting_f32("blk.0.attn_v.weight", 1024),
                                            counting_f32("output.weight", 4096)}));
  return p;
}

// One F16 tensor of `n` elements, all zero, stored as a hole (no disk, no time).
fs::path sparse_model(const ScratchFolder &dir, uint64_t n) {
  const fs::path p = dir / "big.gguf";
  EXPECT_TRUE(write_small_gguf(p.string(), {{"big", kGgufF16, n, nullptr}}));
  return p;
}

void write_text(const fs::path &p, const std::string &text) {
  FILE *f = std::fopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

// ------------------------------------------------------------------ output files

TEST(ToolOutputFile, DiskFullKeepsTheOldFileAndLeavesNoTemporary) {
  ScratchFolder dir;
  const fs::path model = small_model(dir), out = dir / "q.f32";
  write_text(out, "the good old output");
  ToolChild c;
  c.args = {"dequant", model.string(), "--tensor", "blk.0.attn_q.weight", "--out", out.string()};
  c.file_size_limit = 64 * 1024;  // the 256 KiB output cannot fit: write fails with EFBIG
  const ToolResult r = run_tool(c);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "dq: " + out.string() + ": write failed: File too large\n");
  EXPECT_EQ(file_text(out), "the good old output");
  EXPECT_TRUE(dir.names_with(".dq-tmp-").empty());
}

TEST(ToolOutputFile, CompleteOutputReplacesTheOldFileWithItsMode) {
  ScratchFolder dir;
  const fs::path model = small_model(dir), out = dir / "q.f32";
  write_text(out, "old");
  ASSERT_EQ(chmod(out.c_str(), 0640), 0);
  const ToolResult r = run_tool({{"dequant", model.string(), "--tensor", "output.weight",
                                  "--out", out.string()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string bytes = file_text(out);
  ASSERT_EQ(bytes.size(), 4096u * 4);
  float last;
  std::memcpy(&last, bytes.data() + bytes.size() - 4, 4);
  EXPECT_EQ(last, 4095.0f);
  EXPECT_EQ(fs::status(out).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_TRUE(dir.names_with(".dq-tmp-").empty());
}

TEST(ToolOutputFile, OutputThatIsTheInputIsRefused) {
  ScratchFolder dir;
  const fs::path model = small_model(dir), link = dir / "link.gguf";
  const std::string before = file_text(model);
  fs::create_hard_link(model, link);
  for (const fs::path &target : {model, link}) {
    const ToolResult r = run_tool(
        {{"dequant", model.string(), "--tensor", "output.weight", "--out", target.string()}});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(target.string() + ": is the input file"), std::string::npos) << r.err;
  }
  EXPECT_EQ(file_text(model), before);
  EXPECT_TRUE(dir.names_with(".dq-tmp-").empty());
}

TEST(ToolOutputFile, DeviceTargetIsWrittenInPlaceNotReplaced) {
  ScratchFolder dir;
  const fs::path model = small_model(dir);
  const ToolResult r = run_tool(
      {{"dequant", model.string(), "--tensor", "output.weight", "--out", "/dev/null"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

// SIGTERM while the output is being written: the target keeps its old content, no temporary
// file stays, and the process still dies of SIGTERM (the handler re-raises it).
TEST(ToolOutputFile, SigtermMidWriteLeavesTheOldFileAndNoTemporary) {
  ScratchFolder dir;
  const fs::path model = sparse_model(dir, 256 * kMiB), out = dir / "big.f32";  // 1 GiB out
  write_text(out, "the good old output");
  RunningTool tool({{"dequant", model.string(), "--tensor", "big", "--out", out.string()},
                    {{"DQ_THREADS", "1"}}});
  // Mid-write: the temporary file has its first bytes (the output has 16 chunks).
  auto temp_has_data = [&] {
    for (const auto &name : dir.names_with(".dq-tmp-")) {
      std::error_code ec;
      if (fs::file_size(dir / name, ec) > 0 && !ec) return true;
    }
    return false;
  };
  const bool caught = wait_until([&] { return temp_has_data() || !tool.running(); }, 60) &&
                      temp_has_data();
  if (caught) kill(tool.pid(), SIGTERM);
  const ToolResult r = tool.finish();
  ASSERT_TRUE(caught) << "no temporary output file seen while dq ran; exit " << r.exit_code
                      << ": " << r.err;
  EXPECT_EQ(r.signal, SIGTERM) << "exit " << r.exit_code << ": " << r.err;
  EXPECT_EQ(file_text(out), "the good old output");
  EXPECT_TRUE(dir.names_with(".dq-tmp-").empty());
}

// ------------------------------------------------------------------ big tensors

// 2 GiB of f32 output from a 1 GiB file under a 2.5 GiB address-space limit: whole-tensor
// buffers cannot fit (exit 134 on std::bad_alloc before), chunks do.
TEST(ToolBigTensor, DequantStreamsUnderAnAddressSpaceLimit) {
  SKIP_UNDER_ADDRESS_LIMIT();
  ScratchFolder dir;
  const fs::path model = sparse_model(dir, 512 * kMiB);
  ToolChild c;
  c.args = {"dequant", model.string(), "--tensor", "big", "--out", "/dev/null"};
  c.env = {{"DQ_THREADS", "2"}};
  c.address_space_limit = 2560 * kMiB;
  const ToolResult r = run_tool(c);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.signal, 0);
}

// Several chunks (16 Mi f32 elements each): the pieces join into the exact tensor.
TEST(ToolBigTensor, ChunkedOutputIsTheWholeTensor) {
  ScratchFolder dir;
  const uint64_t n = 40 * kMiB / 4 * 2 + 123 * 32;  // 2.5 chunks and a tail
  const fs::path model = dir / "count.gguf", out = dir / "count.f32";
  ASSERT_TRUE(write_small_gguf(model.string(), {counting_f32("count", n)}));
  const ToolResult r =
      run_tool({{"dequant", model.string(), "--tensor", "count", "--out", out.string()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string bytes = file_text(out);
  ASSERT_EQ(bytes.size(), n * 4);
  std::vector<float> v(n);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  uint64_t wrong = 0;
  for (uint64_t i = 0; i < n; ++i) wrong += v[i] != static_cast<float>(i);
  EXPECT_EQ(wrong, 0u);
}

// The model shrinks while dq reads it: an I/O error naming the file (exit 1), not SIGBUS,
// and nothing at the target. The FIFO holds dq inside its first chunk's write meanwhile.
TEST(ToolBigTensor, FileTruncatedMidReadIsAnErrorNotASignal) {
  ScratchFolder dir;
  const fs::path model = sparse_model(dir, 64 * kMiB), fifo = dir / "pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  RunningTool tool({{"dequant", model.string(), "--tensor", "big", "--out", fifo.string()}});
  const int rd = open(fifo.c_str(), O_RDONLY);
  ASSERT_GE(rd, 0);
  char buf[65536];
  ASSERT_GT(read(rd, buf, 1), 0);  // dq has read and converted its first chunk
  ASSERT_EQ(truncate(model.c_str(), 4096), 0);
  while (read(rd, buf, sizeof buf) > 0) {
  }
  close(rd);
  const ToolResult r = tool.finish();
  EXPECT_EQ(r.signal, 0) << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("dq: " + model.string() + ": ", 0), 0u) << r.err;
}

TEST(ToolBigTensor, OutOfMemoryIsOneLineNotAnAbort) {
  SKIP_UNDER_ADDRESS_LIMIT();
  ToolChild c;
  c.args = {"bench", "--backend", "cpu", "--types", "q8_0", "--elements", "1073741824",
            "--no-gguf", "--repeat", "1"};
  c.address_space_limit = 1024 * kMiB;  // the 4 GiB output buffer cannot be had
  const ToolResult r = run_tool(c);
  EXPECT_EQ(r.signal, 0) << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "dq: out of memory\n");
}

// ------------------------------------------------------------------ temporary files of dq load

TEST(ToolLoadTempFile, KilledBenchLeavesNoGeneratedModel) {
  ScratchFolder dir;
  RunningTool tool({{"load", "--bench-model", "1", "--device", "cpu", "--no-progress"},
                    {{"TMPDIR", dir.path().string()}}});
  const bool seen = wait_until(
      [&] { return !dir.names_with("dq-bench-").empty() || !tool.running(); }, 60) &&
                    !dir.names_with("dq-bench-").empty();
  if (seen) kill(tool.pid(), SIGTERM);
  const ToolResult r = tool.finish();
  ASSERT_TRUE(seen) << "no generated model seen; exit " << r.exit_code << ": " << r.err;
  EXPECT_EQ(r.signal, SIGTERM) << r.err;
  EXPECT_TRUE(dir.names_with("dq-bench-").empty());
}

// A generated model larger than the temp folder's free space is refused before a byte is
// written (it filled the disk up to the failing write). The file size limit only keeps a
// regression from writing much.
TEST(ToolLoadTempFile, BenchModelThatCannotFitIsRefusedBeforeWriting) {
  ScratchFolder dir;
  struct statvfs fs {};
  ASSERT_EQ(statvfs(dir.path().c_str(), &fs), 0);
  if (static_cast<double>(fs.f_bavail) * fs.f_frsize > 1001e9)
    GTEST_SKIP() << "the scratch folder has room for a 1000 GB model";
  for (const std::string devices : {"--device", "--devices"}) {
    ToolChild c{{"load", "--bench-model", "1000", devices, "cpu", "--no-progress"},
                {{"TMPDIR", dir.path().string()}}};
    c.file_size_limit = 1 * kMiB;
    const ToolResult r = run_tool(c);
    EXPECT_EQ(r.exit_code, 1) << devices << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("temporary file does not fit in " + dir.path().string() + " ("),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(dir.names_with("dq-bench").empty());
  }
}

// ------------------------------------------------------------------ standard output

TEST(ToolStandardOutput, FullStdoutIsReportedByEveryCommand) {
  ScratchFolder dir;
  const fs::path model = small_model(dir);
  const std::vector<std::vector<std::string>> commands = {
      {"backends"},
      {"load", model.string(), "--device", "cpu", "--no-progress"},
      {"dequant", model.string(), "--tensor", "output.weight", "--out", "-"},
      {"--help"},
  };
  for (const auto &args : commands) {
    ToolChild c{args};
    c.stdout_path = "/dev/full";
    const ToolResult r = run_tool(c);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err, "dq: cannot write to standard output: No space left on device\n")
        << args[0];
  }
  // dq info names its own write failure: one line, not two.
  ToolChild info{{"info", model.string()}};
  info.stdout_path = "/dev/full";
  const ToolResult r = run_tool(info);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
}

// ------------------------------------------------------------------ usage errors

TEST(ToolUsage, EveryUsageMistakeExitsTwoWithOneLine) {
  ScratchFolder dir;
  const std::string m = small_model(dir).string(), out = (dir / "o.f32").string();
  const std::vector<std::vector<std::string>> mistakes = {
      {},
      {"nosuch"},
      {"backends", "--bogus"},
      {"dequant"},
      {"dequant", m, "--tensor", "output.weight"},
      {"dequant", m, "--tensor", "output.weight", "--out", ""},
      {"dequant", "", "--tensor", "output.weight", "--out", out},
      {"dequant", m, "--tensor", "output.weight", "--to", "q4_0", "--out", out},
      {"dequant", m, "--tensor", "output.weight", "--backend", "nosuch", "--out", out},
      {"dequant", m, "--tensor", "output.weight", "--out", m},
      {"info"},
      {"info", m, "--bogus"},
      {"bench", "--elements", "nan"},
      {"bench", "--elements", "0"},
      {"bench", "--elements", "1e30"},
      {"bench", "--threads", "0"},
      {"bench", "--threads", "1025"},
      {"bench", "--repeat", "-1"},
      {"bench", "--to", "q4_0"},
      {"bench", "--types", "nosuch"},
      {"bench", "--backend", "nosuch"},
      {"load", ""},
      {"load", "--budget", "nan"},
      {"load", "--budget", "1e30"},
      {"load", "--budget", "0"},
      {"load", "--budget", "0x10"},
      {"load", "--budget", "inf"},
      {"load", "--threads", "100000"},
      {"load", "--threads", "1.5"},
      {"load", "--threads", "-1"},
      {"load", "--repeat", "-1"},
      {"load", "--repeat", "0"},
      {"load", "--bench-model", "1e-9"},
      {"load", "--bench-model", "-1"},
      {"load", "--bench-model", "nan"},
      {"load", "--bench-model", "0"},
      {"load", "--device", "gpu"},
      {"load", "--device", "cuda:99999999999"},
      {"load", "--device", "cpu:-1"},
      {"load", "--device", ""},
      {"load", "--device", ":0"},
      {"load", "--device", "cpu:1"},
      {"load", "--device", "host:1"},
      {"load", "--devices", "cpu,cpu:1"},
      {"load", "--to", "q4_0"},
  };
  for (const auto &args : mistakes) {
    std::string shown;
    for (const auto &a : args) shown += " '" + a + "'";
    const ToolResult r = run_tool({args});
    EXPECT_EQ(r.exit_code, 2) << "dq" << shown << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << "dq" << shown << ": " << r.err;
    EXPECT_EQ(r.err.rfind("dq", 0), 0u) << "dq" << shown << ": " << r.err;
  }
}

TEST(ToolUsage, BadNumbersAndDevicesAreNamedWithTheirRange) {
  EXPECT_EQ(run_tool({{"load", "--budget", "nan"}}).err,
            "dq: --budget nan: expected a number from 1 to 1048576 (see --help)\n");
  EXPECT_EQ(run_tool({{"load", "--bench-model", "1e-9"}}).err,
            "dq: --bench-model 1e-9: expected a number from 1 to 1000 (see --help)\n");
  EXPECT_EQ(run_tool({{"load", "--threads", "100000"}}).err,
            "dq: --threads 100000: expected a whole number from 0 to 1024 (see --help)\n");
  EXPECT_EQ(run_tool({{"load", "--device", "cuda:99999999999"}}).err,
            "dq: --device 'cuda:99999999999': the device index must be a whole number from 0 to "
            "2147483647\n");
  EXPECT_EQ(run_tool({{"load", "--device", "gpu"}}).err.rfind(
                "dq: --device 'gpu': no such backend (found: cpu", 0),
            0u);
  EXPECT_EQ(run_tool({{"load", "--device", "cpu:1"}}).err,
            "dq: --device 'cpu:1': host memory is one device: cpu, host, cpu:0 or host:0\n");
}

// host:0 names host memory as host does (it was refused as "no such backend").
TEST(ToolUsage, HostZeroIsTheHost) {
  ScratchFolder dir;
  const std::string m = small_model(dir).string();
  for (const char *host : {"host", "host:0", "cpu:0"}) {
    const ToolResult r = run_tool({{"load", m, "--device", host, "--no-progress"}});
    EXPECT_EQ(r.exit_code, 0) << host << ": " << r.err;
  }
  const ToolResult r = run_tool({{"load", m, "--devices", "host:0,cpu", "--no-progress"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// ------------------------------------------------------------------ messages

TEST(ToolMessages, MissingTensorSuggestsTheClosestNames) {
  ScratchFolder dir;
  const std::string m = small_model(dir).string();
  const ToolResult typo = run_tool(
      {{"dequant", m, "--tensor", "blk.0.attn_q.weigth", "--out", (dir / "o").string()}});
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_EQ(typo.err, "dq: " + m +
                          ": no tensor named 'blk.0.attn_q.weigth'; did you mean "
                          "'blk.0.attn_q.weight'?\n");
  const ToolResult several =
      run_tool({{"dequant", m, "--tensor", "blk.0.attn_x.weight", "--out", (dir / "o").string()}});
  EXPECT_EQ(several.err, "dq: " + m +
                             ": no tensor named 'blk.0.attn_x.weight'; did you mean "
                             "'blk.0.attn_q.weight', 'blk.0.attn_k.weight' or "
                             "'blk.0.attn_v.weight'?\n");
  const ToolResult far =
      run_tool({{"dequant", m, "--tensor", "token_embd", "--out", (dir / "o").string()}});
  EXPECT_EQ(far.err, "dq: " + m + ": no tensor named 'token_embd'\n");
  EXPECT_FALSE(fs::exists(dir / "o"));
}

TEST(ToolMessages, LoadNamesTheFileOnce) {
  const ToolResult r = run_tool({{"load", "/nonexistent/model.gguf", "--device", "cpu"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("dq: /nonexistent/model.gguf: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find("/nonexistent/model.gguf"), r.err.rfind("/nonexistent/model.gguf"))
      << "the path is named more than once: " << r.err;
}

}  // namespace
