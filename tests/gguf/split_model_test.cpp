// Split models (NAME-0000k-of-0000N.gguf with split.* keys) open as one model.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "reader_test_util.hpp"
#include "testdata.hpp"
#include "tool_runner.hpp"

namespace dq::test {
namespace {

// Part `no` (0-based) of a 3-part model holding 5 tensors: 2 + 2 + 1.
GgufBuilder part(uint16_t no, uint16_t count = 3, int32_t total = 5) {
  GgufBuilder g;
  if (no == 0) {
    g.kv("general.architecture", kString, enc_string("llama"));
    g.kv("llama.block_count", kU32, enc<uint32_t>(2));
  }
  g.kv("split.no", kU16, enc<uint16_t>(no));
  g.kv("split.count", kU16, enc<uint16_t>(count));
  g.kv("split.tensors.count", kI32, enc<int32_t>(total));
  const int first = no == 0 ? 0 : no == 1 ? 2 : 4;
  const int n = no == 2 ? 1 : 2;
  for (int i = first; i < first + n; ++i)
    g.tensor("blk." + std::to_string(i) + ".weight", 8, {64, uint64_t(i + 1)}, 2 * 34 * (i + 1));
  return g;
}

std::filesystem::path write_parts(const ScratchDir &dir, const std::string &stem = "model") {
  for (uint16_t no = 0; no < 3; ++no) {
    char name[64];
    std::snprintf(name, sizeof name, "%s-%05u-of-00003.gguf", stem.c_str(), no + 1);
    GgufBuilder g = part(no);
    write_bytes(dir / name, g.build());
  }
  return dir / (stem + "-00001-of-00003.gguf");
}

TEST(GgufSplit, ThreePartsOpenAsOneModel) {
  ScratchDir dir;
  const auto first = write_parts(dir);
  Opened o(first);
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  EXPECT_EQ(dq_model_split_count(o.model), 3u);
  ASSERT_EQ(dq_model_tensor_count(o.model), 5);
  EXPECT_EQ(dq_model_kv_count(o.model), 5);  // the first part's keys only
  EXPECT_GE(dq_model_kv_find(o.model, "general.architecture"), 0);
  const uint32_t want_split[] = {0, 0, 1, 1, 2};
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    const std::string name = "blk." + std::to_string(i) + ".weight";
    const int64_t idx = dq_model_tensor_find(o.model, name.c_str());
    ASSERT_EQ(idx, i);
    const dq_tensor_info t = tensor_info(o.model, idx);
    EXPECT_EQ(t.split, want_split[i]);
    EXPECT_EQ(t.ne[1], i + 1);
    // The view holds the bytes of its own part file.
    char part_name[64];
    std::snprintf(part_name, sizeof part_name, "model-%05u-of-00003.gguf", t.split + 1);
    const Bytes bytes = read_file(dir / part_name);
    ASSERT_LE(t.file_offset + t.n_bytes, bytes.size());
    EXPECT_EQ(std::memcmp(t.data, bytes.data() + t.file_offset, t.n_bytes), 0);
    EXPECT_GE(t.file_offset, dq_model_data_offset(o.model, t.split));
  }
  EXPECT_EQ(dq_model_data_offset(o.model, 3), 0u);
}

TEST(GgufSplit, AnyPartOpensTheWholeModel) {
  ScratchDir dir;
  write_parts(dir);
  Opened o(dir / "model-00002-of-00003.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  EXPECT_EQ(dq_model_split_count(o.model), 3u);
  EXPECT_EQ(dq_model_tensor_count(o.model), 5);
  EXPECT_GE(dq_model_kv_find(o.model, "general.architecture"), 0);
}

TEST(GgufSplit, MissingPartIsNamed) {
  ScratchDir dir;
  const auto first = write_parts(dir);
  std::filesystem::remove(dir / "model-00003-of-00003.gguf");
  Opened o(first);
  EXPECT_EQ(o.status, DQ_ERR_IO);
  EXPECT_NE(o.message.find("split part 3 of 3"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("model-00003-of-00003.gguf"), std::string::npos) << o.message;
}

TEST(GgufSplit, InconsistentPartsAreRefused) {
  {
    ScratchDir dir;
    const auto first = write_parts(dir);
    GgufBuilder wrong = part(2);  // part 2's file claims to be part 3
    write_bytes(dir / "model-00002-of-00003.gguf", wrong.build());
    Opened o(first);
    EXPECT_EQ(o.status, DQ_ERR_BAD_FILE);
    EXPECT_NE(o.message.find("split part 2 of 3"), std::string::npos) << o.message;
  }
  {
    ScratchDir dir;
    const auto first = write_parts(dir);
    GgufBuilder g = part(0, 3, 6);  // split.tensors.count says 6, the parts hold 5
    write_bytes(first, g.build());
    Opened o(first);
    EXPECT_EQ(o.status, DQ_ERR_BAD_FILE);
    EXPECT_NE(o.message.find("split.tensors.count is 6"), std::string::npos) << o.message;
  }
  {
    ScratchDir dir;
    const auto first = write_parts(dir);
    GgufBuilder g = part(1);
    g.tensors[0].name = "blk.0.weight";  // already in part 1
    write_bytes(dir / "model-00002-of-00003.gguf", g.build());
    Opened o(first);
    EXPECT_EQ(o.status, DQ_ERR_BAD_FILE);
    EXPECT_NE(o.message.find("blk.0.weight"), std::string::npos) << o.message;
  }
  {
    ScratchDir dir;
    GgufBuilder g = part(0);
    write_bytes(dir / "renamed.gguf", g.build());
    Opened o(dir / "renamed.gguf");
    EXPECT_EQ(o.status, DQ_ERR_BAD_FILE);
    EXPECT_NE(o.message.find("file name"), std::string::npos) << o.message;
  }
  {
    ScratchDir dir;
    GgufBuilder g = part(0);
    g.kvs[2].value = enc<uint16_t>(3);  // split.no 3 of 3
    write_bytes(dir / "m-00001-of-00003.gguf", g.build());
    Opened o(dir / "m-00001-of-00003.gguf");
    EXPECT_EQ(o.status, DQ_ERR_BAD_FILE);
    EXPECT_NE(o.message.find("split.no"), std::string::npos) << o.message;
  }
}

TEST(GgufSplit, InfoToolShowsEveryPart) {
  ScratchDir dir;
  const auto first = write_parts(dir);
  ToolResult r = run_dq({"info", first.string(), "--json"}, dir.path());
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["splits"].size(), 3u);
  ASSERT_EQ(j["tensors"].size(), 5u);
  EXPECT_EQ(j["tensors"][4]["split"], 2);
  EXPECT_EQ(j["tensors"][4]["name"], "blk.4.weight");
}

}  // namespace
}  // namespace dq::test
