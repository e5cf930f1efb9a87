// `dq info` on the shared test data: the tensor names, types, shapes and offsets it reports
// (text and JSON) match manifest.tsv; long arrays are shortened in text and whole in JSON;
// per-type totals add up; the v1 file is refused with exit status 1.
#include <gtest/gtest.h>

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

TEST(GgufInfoTool, UsageErrorIsStatus2) {
  ScratchDir scratch;
  ToolResult r = run_dq({"info"}, scratch.path());
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace dq::test
