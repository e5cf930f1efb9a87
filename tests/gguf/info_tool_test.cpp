// `dq info` on the shared test data: the tensor names, types, shapes and offsets it reports
// (text and JSON) match manifest.tsv; long arrays are shortened in text and whole in JSON;
// per-type totals add up; the v1 file is refused with exit status 1. On generated files:
// text from a hostile file cannot reach the terminal raw (controls, bidi controls, invalid
// UTF-8), the JSON stays valid, and --json on huge metadata arrays streams (bounded memory).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "manifest.hpp"
#include "reader_test_util.hpp"
#include "testdata.hpp"
#include "tool_runner.hpp"

namespace dq::test {
namespace {

TEST(GgufInfoTool, JsonMatchesManifestForEveryFile) {
  DQ_REQUIRE_TESTDATA(dir);
  ScratchDir scratch;
  const auto manifest = manifest_by_file(read_manifest(dir));
  int checked = 0;
  for (const auto &[file, tensors] : manifest) {
    if (file.rfind("legacy-v1", 0) == 0) continue;
    SCOPED_TRACE(file);
    ToolResult r = run_dq({"info", (dir / file).string(), "--json"}, scratch.path());
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["tensors"].size(), tensors.size());
    ASSERT_EQ(j["tensor_count"], tensors.size());
    std::map<std::string, std::pair<uint64_t, uint64_t>> per_type;  // count, bytes
    for (size_t i = 0; i < tensors.size(); ++i) {
      const auto &m = tensors[i];
      const auto &t = j["tensors"][i];
      EXPECT_EQ(t["name"], m.tensor);
      EXPECT_EQ(t["type"], m.type);
      EXPECT_EQ(t["type_id"], m.type_id);
      EXPECT_EQ(t["shape"].get<std::vector<int64_t>>(), m.ne);
      EXPECT_EQ(t["n_elements"], m.n_elements);
      EXPECT_EQ(t["n_bytes"], m.nbytes);
      EXPECT_EQ(t["offset"], m.file_offset);
      per_type[m.type].first += 1;
      per_type[m.type].second += m.nbytes;
    }
    ASSERT_EQ(j["totals"].size(), per_type.size());
    for (const auto &tot : j["totals"]) {
      const auto &want = per_type.at(tot["type"].get<std::string>());
      EXPECT_EQ(tot["count"], want.first);
      EXPECT_EQ(tot["bytes"], want.second);
      const double bpw = tot["bytes"].get<double>() * 8 / tot["elements"].get<double>();
      EXPECT_DOUBLE_EQ(tot["bits_per_weight"].get<double>(), bpw);
    }
    // Arrays are whole in JSON.
    for (const auto &[key, entry] : j["metadata"].items())
      if (entry["type"] == "array") {
        EXPECT_EQ(entry["value"].size(), entry["count"]) << key;
      }
    ++checked;
  }
  EXPECT_GE(checked, 12);
}

TEST(GgufInfoTool, TextShowsTensorsTotalsAndShortenedArrays) {
  DQ_REQUIRE_TESTDATA(dir);
  ScratchDir scratch;
  ToolResult r = run_dq({"info", (dir / "all-types.gguf").string()}, scratch.path());
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  const auto manifest = manifest_by_file(read_manifest(dir));
  for (const auto &m : manifest.at("all-types.gguf")) {
    // One table row per tensor: name, type, shape, bytes, offset.
    std::string shape = "[";
    for (size_t d = 0; d < m.ne.size(); ++d) shape += (d ? ", " : "") + std::to_string(m.ne[d]);
    shape += "]";
    bool found = false;
    // Built by appending: GCC 12 at -O3 warns (-Wrestrict, a false positive) on
    // " " + std::to_string(...).
    std::string bytes_col(" "), offset_col(" ");
    bytes_col.append(std::to_string(m.nbytes)).append(" ");
    offset_col.append(std::to_string(m.file_offset));
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(" " + m.tensor + " ") == std::string::npos) continue;
      found = line.find(" " + m.type + " ") != std::string::npos &&
              line.find(shape) != std::string::npos && line.find(bytes_col) != std::string::npos &&
              line.find(offset_col) != std::string::npos;
      if (found) break;
    }
    EXPECT_TRUE(found) << "no row for " << m.tensor << " " << m.type << " " << shape;
  }
  EXPECT_NE(r.out.find("... (992 more)"), std::string::npos);  // test.arr.i32_1000
  EXPECT_NE(r.out.find("\"h\xc3\xa9llo"), std::string::npos);   // UTF-8 kept
  EXPECT_NE(r.out.find("tab\\tnewline\\n\""), std::string::npos); // controls escaped
  EXPECT_NE(r.out.find("totals by type"), std::string::npos);
  EXPECT_NE(r.out.find("q8_0"), std::string::npos);
  EXPECT_NE(r.out.find("8.5000"), std::string::npos);  // q8_0: 34 bytes per 32 weights
}

TEST(GgufInfoTool, V1FileExitsWithStatus1NamingVersion1) {
  DQ_REQUIRE_TESTDATA(dir);
  ScratchDir scratch;
  const auto file = (dir / "legacy-v1-ggml-vocab-llama.gguf").string();
  ToolResult r = run_dq({"info", file}, scratch.path());
  ASSERT_TRUE(r.exited) << "signal " << r.signal;
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("dq: " + file + ": ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("version 1"), std::string::npos) << r.err;
}

TEST(GgufInfoTool, ControlBytesInKeysAndNamesAreEscaped) {
  ScratchDir scratch;
  GgufBuilder g;
  g.kv("odd\x01key", kString, enc_string("line1\nline2\x02"));
  g.tensor("t\nx", 0, {4}, 16);
  write_bytes(scratch / "odd.gguf", g.build());
  ToolResult r = run_dq({"info", (scratch / "odd.gguf").string()}, scratch.path());
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  EXPECT_NE(r.out.find("odd\\x01key"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"line1\\nline2\\x02\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" t\\nx "), std::string::npos) << r.out;
  ToolResult j = run_dq({"info", (scratch / "odd.gguf").string(), "--json"}, scratch.path());
  ASSERT_TRUE(j.exited && j.exit_code == 0) << j.err;
  const auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["metadata"]["odd\x01key"]["value"], "line1\nline2\x02");
  EXPECT_EQ(doc["tensors"][0]["name"], "t\nx");
}

TEST(GgufInfoTool, BidiC1AndInvalidUtf8AreEscapedInTextAndJson) {
  ScratchDir scratch;
  GgufBuilder g;
  g.kv("evil\xe2\x80\xaekey", kString, enc_string("a\xc2\x9b" "31m\xe2\x81\xa6z\xff"));
  Bytes strs;
  put_string(strs, "\x1b]0;title\x07");
  g.kv("arr", kArray, enc_array(kString, 1, strs));
  g.tensor("w\xe2\x80\x8f\x1b[2J", 0, {4}, 16);
  write_bytes(scratch / "evil.gguf", g.build());

  ToolResult r = run_dq({"info", (scratch / "evil.gguf").string()}, scratch.path());
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  EXPECT_NE(r.out.find("evil\\u{202E}key"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"a\\u{009B}31m\\u{2066}z\\xff\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"\\x1b]0;title\\x07\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" w\\u{200F}\\x1b[2J "), std::string::npos) << r.out;
  for (const char *raw : {"\x1b", "\xe2\x80\xae", "\xc2\x9b", "\xe2\x81\xa6", "\xff",
                          "\xe2\x80\x8f", "\x07"})
    EXPECT_EQ(r.out.find(raw), std::string::npos) << "raw bytes in the text output";

  ToolResult j = run_dq({"info", (scratch / "evil.gguf").string(), "--json"}, scratch.path());
  ASSERT_TRUE(j.exited && j.exit_code == 0) << j.err;
  EXPECT_NE(j.out.find("evil\\u202ekey"), std::string::npos) << j.out;
  for (const char *raw : {"\x1b", "\xe2\x80\xae", "\xc2\x9b", "\xe2\x81\xa6", "\xff",
                          "\xe2\x80\x8f", "\x07"})
    EXPECT_EQ(j.out.find(raw), std::string::npos) << "raw bytes in the JSON output";
  const auto doc = nlohmann::json::parse(j.out);
  // Valid characters come back exactly; the invalid byte becomes U+FFFD.
  EXPECT_EQ(doc["metadata"]["evil\xe2\x80\xaekey"]["value"],
            "a\xc2\x9b" "31m\xe2\x81\xa6z\xef\xbf\xbd");
  EXPECT_EQ(doc["metadata"]["arr"]["value"][0], "\x1b]0;title\x07");
  EXPECT_EQ(doc["tensors"][0]["name"], "w\xe2\x80\x8f\x1b[2J");
}

TEST(GgufInfoTool, JsonKeepsValueTypesAndNonFiniteFloatsAreNull) {
  ScratchDir scratch;
  GgufBuilder g;
  g.kv("f32", kF32, enc<float>(0.1f)).kv("f64", kF64, enc<double>(3.0));
  g.kv("nan", kF32, enc<uint32_t>(0x7fc00000u)).kv("u64", kU64, enc<uint64_t>(~0ull));
  g.kv("i8s", kArray, enc_numbers<int8_t>(kI8, {-1, 2})).kv("b", kBool, enc<uint8_t>(1));
  write_bytes(scratch / "types.gguf", g.build());
  ToolResult j = run_dq({"info", (scratch / "types.gguf").string(), "--json"}, scratch.path());
  ASSERT_TRUE(j.exited && j.exit_code == 0) << j.err;
  const auto doc = nlohmann::json::parse(j.out);
  const auto &m = doc["metadata"];
  EXPECT_EQ(m["f32"]["value"].get<float>(), 0.1f);
  EXPECT_NE(j.out.find("\"value\": 0.1\n"), std::string::npos) << j.out;  // the float's digits
  EXPECT_TRUE(m["f64"]["value"].is_number_float());
  EXPECT_TRUE(m["nan"]["value"].is_null());
  EXPECT_EQ(m["u64"]["value"].get<uint64_t>(), ~0ull);
  EXPECT_EQ(m["i8s"]["value"], nlohmann::json::array({-1, 2}));
  EXPECT_EQ(m["b"]["value"], true);
}

// Runs `dq info --json FILE` with stdout to `out`; returns the child's peak RSS in bytes
// (0 when it did not exit with status 0).
uint64_t info_json_peak_rss(const std::filesystem::path &file, const std::filesystem::path &out) {
  const std::string tool = dq_tool_path().string();
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 1) < 0) _exit(127);
    execl(tool.c_str(), tool.c_str(), "info", file.c_str(), "--json", static_cast<char *>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 0;
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

// Runs `fn` in a child process. Big buffers made there do not raise this process's RSS,
// which a child forked later would report as its own peak (ru_maxrss carries over fork and
// exec).
template <typename Fn>
void in_child(Fn &&fn) {
  const pid_t pid = fork();
  if (pid == 0) {
    fn();
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// Metadata token i of the big file: 40 bytes with a control and a bidi control in it.
std::string big_token(uint64_t i) {
  std::string t = "tok\x01" + std::to_string(i) + "\xe2\x80\xae";
  t.resize(40, '.');
  return t;
}

TEST(GgufInfoTool, JsonOfHugeMetadataArraysStreamsInBoundedMemory) {
  ScratchDir scratch;
  // 16 MiB of metadata: 320k strings of 40 bytes and 1.5M u8 (the printer that built a whole
  // JSON document first peaked at 428 MB for a 16 MB file; reading u8 elements through
  // dq_value_array_get would add 56 bytes each).
  constexpr uint64_t kStrings = 320000, kBytes = 1500000;
  in_child([&] {
    Bytes strs;
    strs.reserve(kStrings * 48);
    for (uint64_t i = 0; i < kStrings; ++i) put_string(strs, big_token(i));
    GgufBuilder big;
    big.kv("tokens", kArray, enc_array(kString, kStrings, strs));
    big.kv("bytes", kArray, enc_array(kU8, kBytes, Bytes(kBytes, 7)));
    big.tensor("w", 0, {4}, 16);
    write_bytes(scratch / "big.gguf", big.build());
  });
  const uint64_t file_size = std::filesystem::file_size(scratch / "big.gguf");
  ASSERT_GT(file_size, uint64_t{16} << 20);
  GgufBuilder small;
  small.tensor("w", 0, {4}, 16);
  write_bytes(scratch / "small.gguf", small.build());

  const uint64_t baseline = info_json_peak_rss(scratch / "small.gguf", scratch / "small.json");
  const uint64_t peak = info_json_peak_rss(scratch / "big.gguf", scratch / "big.json");
  ASSERT_GT(baseline, 0u);
  ASSERT_GT(peak, 0u) << "dq info --json failed on the big file";
  // The file is mapped (counted once) and the reader keeps one value per string element
  // (together about twice the file); the printer itself must add only a small buffer.
  EXPECT_LT(peak - std::min(peak, baseline), 3 * file_size)
      << "peak RSS " << (peak >> 20) << " MiB, baseline " << (baseline >> 20) << " MiB";

  // And the streamed document is complete and valid (checked without building a DOM).
  const std::string json = slurp(scratch / "big.json");
  EXPECT_TRUE(nlohmann::json::accept(json));
  std::string last = big_token(kStrings - 1);
  last.replace(last.find('\x01'), 1, "\\u0001").replace(last.find("\xe2\x80\xae"), 3, "\\u202e");
  EXPECT_NE(json.find("\"" + last + "\"\n"), std::string::npos) << last;
  EXPECT_NE(json.find("\"count\": " + std::to_string(kBytes)), std::string::npos);
}

// The reader's message already starts with the path: the tool must not print it twice.
TEST(GgufInfoTool, MissingFileIsNamedOnce) {
  ScratchDir scratch;
  const std::string file = (scratch.path() / "absent.gguf").string();
  ToolResult r = run_dq({"info", file}, scratch.path());
  ASSERT_TRUE(r.exited) << "signal " << r.signal;
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("dq: " + file + ": ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find(file), r.err.rfind(file)) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(GgufInfoTool, UsageErrorIsStatus2) {
  ScratchDir scratch;
  ToolResult r = run_dq({"info"}, scratch.path());
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace dq::test
