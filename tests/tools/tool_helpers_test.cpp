// Unit tests of the dq tool's hardening helpers: number and device parsing, name suggestions,
// atomic output files and the signal cleanup of temporary files.
#include <gtest/gtest.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "atomic_output.hpp"
#include "device_arg.hpp"
#include "name_suggestions.hpp"
#include "number_option.hpp"
#include "signal_cleanup.hpp"
#include "tool_process.hpp"

namespace fs = std::filesystem;
using namespace dq::tool;
using dq::test::file_text;
using dq::test::ScratchFolder;

namespace {

TEST(ToolNumbers, AcceptsDecimalsInRange) {
  const NumberRange any{0, 1e6, false}, whole{0, 1024, true};
  std::string e;
  EXPECT_EQ(parse_number("256", any, &e), 256.0);
  EXPECT_EQ(parse_number("0.5", any, &e), 0.5);
  EXPECT_EQ(parse_number("+2", any, &e), 2.0);
  EXPECT_EQ(parse_number("1e3", whole, &e), 1000.0);
  EXPECT_EQ(parse_number("-0", whole, &e), 0.0);
  EXPECT_EQ(parse_number("1024", whole, &e), 1024.0);
}

TEST(ToolNumbers, RefusesWhatOnceBecameSilentNonsense) {
  const NumberRange budget{1, 1048576, false}, threads{0, 1024, true};
  for (const char *bad : {"nan", "NaN", "inf", "-inf", "infinity", "1e30", "1e400", "0", "-1",
                          "0x10", "", " 5", "5 ", "5MiB", "1e", ".", "--1", "1..2"}) {
    std::string e;
    EXPECT_FALSE(parse_number(bad, budget, &e)) << "'" << bad << "'";
    EXPECT_EQ(e, "expected a number from 1 to 1048576") << "'" << bad << "'";
  }
  std::string e;
  EXPECT_FALSE(parse_number("1.5", threads, &e));
  EXPECT_EQ(e, "expected a whole number from 0 to 1024");
  EXPECT_FALSE(parse_number("100000", threads, &e));
  EXPECT_FALSE(parse_number("1025", threads, &e));
}

TEST(ToolNumbers, EnvironmentFallsBackWithAWarning) {
  setenv("DQ_TEST_NUMBER", "nan", 1);
  testing::internal::CaptureStderr();
  EXPECT_EQ(number_from_env("DQ_TEST_NUMBER", {0, 100, true}, 7), 7);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "dq: DQ_TEST_NUMBER=nan ignored: expected a whole number from 0 to 100\n");
  setenv("DQ_TEST_NUMBER", "42", 1);
  EXPECT_EQ(number_from_env("DQ_TEST_NUMBER", {0, 100, true}, 7), 42);
  unsetenv("DQ_TEST_NUMBER");
  EXPECT_EQ(number_from_env("DQ_TEST_NUMBER", {0, 100, true}, 7), 7);
}

TEST(ToolDevice, ParsesStrictly) {
  const std::vector<std::string> found{"cpu", "cuda"};
  std::string e;
  auto d = parse_device_arg("cuda:3", found, &e);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->backend, "cuda");
  EXPECT_EQ(d->index, 3);
  d = parse_device_arg("cuda", found, &e);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->index, 0);
  d = parse_device_arg("cpu", found, &e);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->backend.empty());
  EXPECT_TRUE(parse_device_arg("cuda:2147483647", found, &e));
  for (const char *bad : {"cuda:2147483648", "cuda:99999999999", "cuda:-1", "cuda:", "cuda:1x",
                          "cuda: 1", ":0"}) {
    EXPECT_FALSE(parse_device_arg(bad, found, &e)) << bad;
    EXPECT_NE(e.find(std::string("'") + bad + "'"), std::string::npos) << e;
  }
  EXPECT_FALSE(parse_device_arg("gpu", found, &e));
  EXPECT_EQ(e, "--device 'gpu': no such backend (found: cpu, cuda)");
}

// Host memory is one device: host:0 is host as cpu:0 is cpu; another index is a mistake named
// as such (it was passed on to the load, which refused it as a failure, exit 1).
TEST(ToolDevice, HostMemoryIsOneDevice) {
  const std::vector<std::string> found{"cpu", "cuda"};
  std::string e;
  for (const char *host : {"cpu", "host", "cpu:0", "host:0"}) {
    const auto d = parse_device_arg(host, found, &e);
    ASSERT_TRUE(d) << host << ": " << e;
    EXPECT_TRUE(d->backend.empty()) << host;
    EXPECT_EQ(d->index, 0) << host;
  }
  for (const char *bad : {"cpu:1", "host:1", "host:2147483647"}) {
    EXPECT_FALSE(parse_device_arg(bad, found, &e)) << bad;
    EXPECT_EQ(e, std::string("--device '") + bad +
                     "': host memory is one device: cpu, host, cpu:0 or host:0");
  }
}

TEST(ToolSuggestions, EditDistanceCountsSwapsAsOne) {
  EXPECT_EQ(edit_distance("weigth", "weight"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
}

TEST(ToolSuggestions, OnlyTheClosestPlausibleNames) {
  const std::vector<std::string> names{"blk.0.attn_q.weight", "blk.0.attn_k.weight",
                                       "blk.0.attn_v.weight", "blk.1.attn_q.weight",
                                       "output.weight"};
  EXPECT_EQ(closest_names("blk.0.attn_q.weigth", names),
            std::vector<std::string>{"blk.0.attn_q.weight"});
  EXPECT_EQ(closest_names("blk.0.attn_x.weight", names),
            (std::vector<std::string>{"blk.0.attn_q.weight", "blk.0.attn_k.weight",
                                      "blk.0.attn_v.weight"}));
  EXPECT_TRUE(closest_names("token_embd.weight", names).empty());
  EXPECT_TRUE(closest_names("x", names).empty());
}

TEST(ToolAtomicOutput, CommitReplacesAndAbandonLeavesTheOldFile) {
  ScratchFolder dir;
  const fs::path target = dir / "out.bin";
  {
    FILE *f = std::fopen(target.c_str(), "wb");
    std::fputs("old", f);
    std::fclose(f);
  }
  {
    AtomicOutput out;
    ASSERT_TRUE(out.open(target.string(), {})) << out.problem();
    ASSERT_TRUE(out.write("new bytes", 9));
    EXPECT_EQ(file_text(target), "old");  // not visible before commit
    EXPECT_EQ(dir.names_with(".dq-tmp-").size(), 1u);
  }  // abandoned
  EXPECT_EQ(file_text(target), "old");
  EXPECT_TRUE(dir.names_with(".dq-tmp-").empty());
  AtomicOutput out;
  ASSERT_TRUE(out.open(target.string(), {}));
  ASSERT_TRUE(out.write("new bytes", 9));
  ASSERT_TRUE(out.commit()) << out.problem();
  EXPECT_EQ(file_text(target), "new bytes");
  EXPECT_TRUE(dir.names_with(".dq-tmp-").empty());
}

TEST(ToolAtomicOutput, RefusesAnInputAndAnEmptyPath) {
  ScratchFolder dir;
  const fs::path input = dir / "model.gguf", alias = dir / "alias.gguf";
  {
    FILE *f = std::fopen(input.c_str(), "wb");
    std::fputs("model", f);
    std::fclose(f);
  }
  fs::create_symlink(input, alias);
  AtomicOutput out;
  EXPECT_FALSE(out.open(alias.string(), {input.string()}));
  EXPECT_TRUE(out.usage_error());
  EXPECT_EQ(out.problem(), alias.string() + ": is the input file " + input.string() +
                               "; refusing to write over it (choose another --out)");
  EXPECT_FALSE(out.open("", {}));
  EXPECT_TRUE(out.usage_error());
  EXPECT_EQ(file_text(input), "model");
}

// A symbolic link is written through: the file it names gets the bytes (made when the link
// dangles), the link stays a link. The rename used to replace the link by a regular file and
// leave the file it named with its old bytes.
TEST(ToolAtomicOutput, SymbolicLinksAreWrittenThrough) {
  ScratchFolder dir;
  fs::create_directory(dir / "sub");
  const fs::path real = dir / "sub" / "real.bin", link = dir / "link.bin",
                 dangling = dir / "dangling.bin", loop = dir / "loop.bin";
  {
    FILE *f = std::fopen(real.c_str(), "wb");
    std::fputs("old", f);
    std::fclose(f);
  }
  fs::create_symlink("sub/real.bin", link);  // relative to the link's folder
  fs::create_symlink(dir / "sub" / "made.bin", dangling);
  fs::create_symlink("loop.bin", loop);
  for (const fs::path &p : {link, dangling}) {
    AtomicOutput out;
    ASSERT_TRUE(out.open(p.string(), {})) << out.problem();
    ASSERT_TRUE(out.write("new", 3));
    ASSERT_TRUE(out.commit()) << out.problem();
    EXPECT_TRUE(fs::is_symlink(p)) << p;
  }
  EXPECT_EQ(file_text(real), "new");
  EXPECT_EQ(file_text(dir / "sub" / "made.bin"), "new");
  EXPECT_TRUE(dir.names_with(".dq-tmp-").empty());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "sub"), fs::directory_iterator{}), 2);
  AtomicOutput out;
  EXPECT_FALSE(out.open(loop.string(), {}));
  EXPECT_EQ(out.problem(), loop.string() + ": cannot open for writing: Too many levels of symbolic links");
  EXPECT_TRUE(fs::is_symlink(loop));
}

// A name of NAME_MAX bytes is legal; its temporary file's name is shortened to fit (the
// suffix made it "File name too long").
TEST(ToolAtomicOutput, LongestLegalNameIsWritten) {
  ScratchFolder dir;
  const fs::path target = dir / std::string(NAME_MAX, 'n');
  AtomicOutput out;
  ASSERT_TRUE(out.open(target.string(), {})) << out.problem();
  ASSERT_TRUE(out.write("new", 3));
  ASSERT_TRUE(out.commit()) << out.problem();
  EXPECT_EQ(file_text(target), "new");
  EXPECT_TRUE(dir.names_with(".dq-tmp-").empty());
}

TEST(ToolAtomicOutput, MissingFolderIsAFailureNamingThePath) {
  AtomicOutput out;
  EXPECT_FALSE(out.open("/nonexistent-dir/x.f32", {}));
  EXPECT_FALSE(out.usage_error());
  EXPECT_EQ(out.problem(), "/nonexistent-dir/x.f32: cannot open for writing: No such file or directory");
}

// A registered file goes away when the process is ended by SIGTERM, which still ends it.
TEST(ToolSignalCleanup, SigtermRemovesRegisteredFilesAndStillKills) {
  ScratchFolder dir;
  const std::string kept = (dir / "kept").string(), removed = (dir / "removed").string();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    for (const std::string &p : {kept, removed}) std::fclose(std::fopen(p.c_str(), "wb"));
    forget_on_signal(remove_on_signal(kept));
    remove_on_signal(removed);
    raise(SIGTERM);
    _exit(0);  // not reached
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  EXPECT_TRUE(fs::exists(kept));
  EXPECT_FALSE(fs::exists(removed));
}

}  // namespace
