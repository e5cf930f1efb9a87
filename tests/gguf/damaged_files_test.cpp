// Damaged GGUF files (generated here, see damaged_corpus.hpp) are refused with a status and a
// message naming the problem and its byte offset, never a crash, both through the C API and
// through `dq info` (exit status 1, one line on stderr). Run under ASan/UBSan in CI.
#include <gtest/gtest.h>

#include <algorithm>

#include "damaged_corpus.hpp"
#include "reader_test_util.hpp"
#include "tool_runner.hpp"

namespace dq::test {
namespace {

// Messages for a file cut short: a read past the end, or a count/length/offset that the
// remaining bytes cannot hold.
bool says_truncated(const std::string &m) {
  for (const char *s : {"truncated", "cannot fit", "past the end", "past end"})
    if (m.find(s) != std::string::npos) return true;
  return false;
}

size_t count_lines(const std::string &s) { return std::count(s.begin(), s.end(), '\n'); }

TEST(GgufDamaged, TheUndamagedBaseOpens) {
  ScratchDir dir;
  GgufBuilder g = small_model();
  write_bytes(dir / "good.gguf", g.build());
  Opened o(dir / "good.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  EXPECT_EQ(dq_model_tensor_count(o.model), 3);
}

TEST(GgufDamaged, EachCaseIsRefusedWithStatusAndMessage) {
  ScratchDir dir;
  const auto cases = damaged_cases();
  ASSERT_GE(cases.size(), 40u);
  for (const auto &c : cases) {
    SCOPED_TRACE(c.name);
    const auto path = dir / (c.name + ".gguf");
    write_bytes(path, c.bytes);
    Opened o(path);
    EXPECT_EQ(o.status, static_cast<dq_status>(c.status)) << o.message;
    EXPECT_EQ(o.model, nullptr);
    EXPECT_NE(o.message.find(c.expect), std::string::npos)
        << "message: " << o.message << "\nexpected to contain: " << c.expect;
    EXPECT_NE(o.message.find("at byte "), std::string::npos) << o.message;
    EXPECT_EQ(o.message.find('\n'), std::string::npos) << "one-line message: " << o.message;
  }
}

TEST(GgufDamaged, TruncatedAtEveryPositionIsRefused) {
  ScratchDir dir;
  GgufBuilder g = small_model();
  const Bytes good = g.build();
  const auto path = dir / "cut.gguf";
  for (size_t len = 0; len < good.size(); ++len) {
    write_bytes(path, Bytes(good.begin(), good.begin() + static_cast<long>(len)));
    Opened o(path);
    ASSERT_EQ(o.status, DQ_ERR_BAD_FILE) << "truncated to " << len << " bytes: " << o.message;
    ASSERT_FALSE(o.message.empty()) << len;
    ASSERT_TRUE(says_truncated(o.message)) << len << ": " << o.message;
  }
}

// Every header byte replaced by a few values: the reader accepts or refuses, never crashes
// (ASan/UBSan make out-of-bounds reads and overflows fail this test).
TEST(GgufDamaged, EveryHeaderByteOverwrittenNeverCrashes) {
  ScratchDir dir;
  GgufBuilder g = small_model();
  const Bytes good = g.build();
  const auto path = dir / "flip.gguf";
  int refused = 0;
  for (size_t pos = 0; pos < g.layout.infos_end; ++pos) {
    for (uint8_t value : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      if (good[pos] == value) continue;
      Bytes b = good;
      b[pos] = value;
      write_bytes(path, b);
      Opened o(path);
      if (o.status != DQ_OK) {
        ++refused;
        ASSERT_FALSE(o.message.empty()) << pos;
      } else {
        // Accepted: every tensor view must lie inside the file.
        for (int64_t i = 0; i < dq_model_tensor_count(o.model); ++i) {
          dq_tensor_info t = tensor_info(o.model, i);
          ASSERT_LE(t.file_offset + t.n_bytes, b.size());
        }
      }
    }
  }
  EXPECT_GT(refused, 100);
}

void expect_tool_refuses(const std::filesystem::path &file, const std::string &expect,
                         const ScratchDir &dir, bool json = false) {
  std::vector<std::string> args = {"info", file.string()};
  if (json) args.push_back("--json");
  ToolResult r = run_dq(args, dir.path());
  ASSERT_TRUE(r.exited) << "dq info killed by signal " << r.signal << "\n" << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("dq: " + file.string() + ": ", 0), 0u) << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << "exactly one line on stderr:\n" << r.err;
  EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(GgufDamaged, InfoToolExitsWithStatus1OnEachCase) {
  ASSERT_TRUE(std::filesystem::exists(dq_tool_path())) << dq_tool_path();
  ScratchDir dir;
  for (const auto &c : damaged_cases()) {
    SCOPED_TRACE(c.name);
    const auto path = dir / (c.name + ".gguf");
    write_bytes(path, c.bytes);
    expect_tool_refuses(path, c.expect, dir);
  }
}

TEST(GgufDamaged, InfoToolExitsWithStatus1OnTruncations) {
  ScratchDir dir;
  GgufBuilder g = small_model();
  const Bytes good = g.build();
  // A spread of cut points through the header and the data section (the API test covers all).
  for (size_t len = 0; len < good.size(); len += 37) {
    SCOPED_TRACE(len);
    const auto path = dir / ("cut" + std::to_string(len) + ".gguf");
    write_bytes(path, Bytes(good.begin(), good.begin() + static_cast<long>(len)));
    expect_tool_refuses(path, "", dir, len % 2 == 0);
    EXPECT_TRUE(says_truncated(slurp(dir / "tool.err")));
  }
}

TEST(GgufDamaged, InfoToolNamesMissingFilesAndFolders) {
  ScratchDir dir;
  expect_tool_refuses(dir / "absent.gguf", "No such file", dir);
  expect_tool_refuses(dir.path(), "not a regular file", dir);
}

}  // namespace
}  // namespace dq::test
