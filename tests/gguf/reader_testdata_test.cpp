// Every .gguf of the shared test data against its manifest (manifest.tsv / manifest.json),
// the v1 refusal, and the metadata of all-types.gguf and metadata-nested-arrays.gguf.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "manifest.hpp"
#include "reader_test_util.hpp"
#include "testdata.hpp"

namespace dq::test {
namespace {

TEST(GgufTestdata, EveryFileMatchesManifest) {
  DQ_REQUIRE_TESTDATA(dir);
  const auto manifest = manifest_by_file(read_manifest(dir));
  std::ifstream jf(dir / "manifest.json");
  const auto json = nlohmann::json::parse(jf);
  std::map<std::string, nlohmann::json> facts;
  for (const auto &f : json["files"]) facts[f["file"]] = f;

  int opened = 0;
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".gguf") continue;
    const std::string file = entry.path().filename().string();
    if (file.rfind("legacy-v1", 0) == 0) continue;  // refused: see V1IsRefused
    SCOPED_TRACE(file);
    Opened o(entry.path());
    ASSERT_EQ(o.status, DQ_OK) << o.message;
    ++opened;
    ASSERT_TRUE(manifest.count(file)) << "file missing from manifest.tsv";
    const auto &fact = facts.at(file);
    // Facts the manifest states (some files omit alignment and data_offset).
    auto fact_of = [&](const char *key) -> int64_t {
      return fact.contains(key) && fact[key].is_number_integer() ? fact[key].get<int64_t>() : -1;
    };
    EXPECT_EQ(dq_model_gguf_version(o.model), fact_of("gguf_version"));
    EXPECT_EQ(dq_model_kv_count(o.model), fact_of("n_kv"));
    EXPECT_EQ(dq_model_tensor_count(o.model), fact_of("n_tensors"));
    if (fact_of("alignment") >= 0) {
      EXPECT_EQ(dq_model_alignment(o.model), fact_of("alignment"));
    }
    if (fact_of("data_offset") >= 0) {
      EXPECT_EQ(static_cast<int64_t>(dq_model_data_offset(o.model, 0)), fact_of("data_offset"));
    }
    EXPECT_EQ(dq_model_split_count(o.model), 1u);

    const auto &expected = manifest.at(file);
    ASSERT_EQ(dq_model_tensor_count(o.model), static_cast<int64_t>(expected.size()));
    const Bytes bytes = dq::test::read_file(entry.path());
    for (size_t i = 0; i < expected.size(); ++i) {
      const ManifestRow &m = expected[i];
      SCOPED_TRACE(m.tensor);
      const int64_t idx = dq_model_tensor_find(o.model, m.tensor.c_str());
      ASSERT_EQ(idx, static_cast<int64_t>(i)) << "tensor order or lookup differs";
      const dq_tensor_info t = tensor_info(o.model, idx);
      EXPECT_STREQ(t.name, m.tensor.c_str());
      EXPECT_EQ(t.type, m.type_id);
      ASSERT_EQ(t.n_dims, m.ne.size());
      for (size_t d = 0; d < 4; ++d) EXPECT_EQ(t.ne[d], d < m.ne.size() ? m.ne[d] : 1);
      EXPECT_EQ(t.n_elements, m.n_elements);
      EXPECT_EQ(t.n_bytes, m.nbytes);
      EXPECT_EQ(t.file_offset, m.file_offset);
      EXPECT_EQ(t.split, 0u);
      // The view is the file's own bytes at that offset.
      ASSERT_LE(t.file_offset + t.n_bytes, bytes.size());
      EXPECT_EQ(std::memcmp(t.data, bytes.data() + t.file_offset, t.n_bytes), 0);
    }
  }
  EXPECT_GE(opened, 12) << "expected the 12 readable .gguf files of the test data";
}

TEST(GgufTestdata, V1IsRefused) {
  DQ_REQUIRE_TESTDATA(dir);
  Opened o(dir / "legacy-v1-ggml-vocab-llama.gguf");
  EXPECT_EQ(o.status, DQ_ERR_BAD_FILE);
  EXPECT_EQ(o.model, nullptr);
  EXPECT_NE(o.message.find("version 1"), std::string::npos) << o.message;
}

TEST(GgufTestdata, V2FileReadsItsVocabulary) {
  DQ_REQUIRE_TESTDATA(dir);
  Opened o(dir / "legacy-v2-ggml-vocab-falcon.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  EXPECT_EQ(dq_model_gguf_version(o.model), 2u);
  const dq_value *tokens = kv(o.model, "tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(dq_value_array_type(tokens), DQ_VALUE_STRING);
  EXPECT_GT(dq_value_array_count(tokens), 1000u);
  const char *s = nullptr;
  uint64_t len = 0;
  ASSERT_EQ(dq_value_get_string(dq_value_array_get(tokens, 0), &s, &len), DQ_OK);
}

template <typename T>
T get_int(const dq_model *m, const char *key) {
  const dq_value *v = kv(m, key);
  EXPECT_NE(v, nullptr) << key;
  if constexpr (std::is_signed_v<T>) {
    int64_t x = 0;
    EXPECT_EQ(dq_value_get_i64(v, &x), DQ_OK) << key;
    return static_cast<T>(x);
  } else {
    uint64_t x = 0;
    EXPECT_EQ(dq_value_get_u64(v, &x), DQ_OK) << key;
    return static_cast<T>(x);
  }
}

std::string get_str(const dq_value *v) {
  const char *s = nullptr;
  uint64_t len = 0;
  EXPECT_EQ(dq_value_get_string(v, &s, &len), DQ_OK);
  return std::string(s ? s : "", len);
}

TEST(GgufTestdata, AllTypesMetadataReadsBack) {
  DQ_REQUIRE_TESTDATA(dir);
  Opened o(dir / "all-types.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  const dq_model *m = o.model;
  EXPECT_EQ(dq_value_get_type(kv(m, "test.u8")), DQ_VALUE_UINT8);
  EXPECT_EQ(get_int<uint64_t>(m, "test.u8"), 200u);
  EXPECT_EQ(get_int<int64_t>(m, "test.i8"), -100);
  EXPECT_EQ(get_int<uint64_t>(m, "test.u16"), 60000u);
  EXPECT_EQ(get_int<int64_t>(m, "test.i16"), -30000);
  EXPECT_EQ(get_int<uint64_t>(m, "test.u32"), 4000000000u);
  EXPECT_EQ(get_int<int64_t>(m, "test.i32"), -2000000000);
  EXPECT_EQ(get_int<uint64_t>(m, "test.u64"), 18000000000000000000ull);
  EXPECT_EQ(get_int<int64_t>(m, "test.i64"), -9000000000000000000ll);
  double d = 0;
  ASSERT_EQ(dq_value_get_f64(kv(m, "test.f32"), &d), DQ_OK);
  EXPECT_EQ(static_cast<float>(d), 3.14159274f);
  ASSERT_EQ(dq_value_get_f64(kv(m, "test.f64"), &d), DQ_OK);
  EXPECT_EQ(d, 2.718281828459045);
  int32_t b = -1;
  ASSERT_EQ(dq_value_get_bool(kv(m, "test.bool.true"), &b), DQ_OK);
  EXPECT_EQ(b, 1);
  ASSERT_EQ(dq_value_get_bool(kv(m, "test.bool.false"), &b), DQ_OK);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(get_str(kv(m, "test.str")), "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\xa6\x99 tab\tnewline\n");
  EXPECT_EQ(get_str(kv(m, "test.str.empty")), "");
  EXPECT_EQ(get_str(kv(m, "general.architecture")), "dq-testdata");

  // Arrays: element type, count, extreme values, raw data.
  const dq_value *u8 = kv(m, "test.arr.u8");
  ASSERT_EQ(dq_value_array_type(u8), DQ_VALUE_UINT8);
  ASSERT_EQ(dq_value_array_count(u8), 5u);
  const void *raw = nullptr;
  uint64_t raw_bytes = 0;
  ASSERT_EQ(dq_value_array_data(u8, &raw, &raw_bytes), DQ_OK);
  ASSERT_EQ(raw_bytes, 5u);
  const uint8_t want_u8[] = {0, 1, 127, 128, 255};
  EXPECT_EQ(std::memcmp(raw, want_u8, 5), 0);

  auto ints = [&](const char *key) {
    std::vector<int64_t> out;
    const dq_value *a = kv(m, key);
    for (uint64_t j = 0; j < dq_value_array_count(a); ++j) {
      int64_t x = 0;
      EXPECT_EQ(dq_value_get_i64(dq_value_array_get(a, j), &x), DQ_OK) << key << "[" << j << "]";
      out.push_back(x);
    }
    return out;
  };
  EXPECT_EQ(ints("test.arr.i8"), (std::vector<int64_t>{-128, -1, 0, 1, 127}));
  EXPECT_EQ(ints("test.arr.u16"), (std::vector<int64_t>{0, 1, 65535}));
  EXPECT_EQ(ints("test.arr.i16"), (std::vector<int64_t>{-32768, 0, 32767}));
  EXPECT_EQ(ints("test.arr.u32"), (std::vector<int64_t>{0, 1, 4294967295}));
  EXPECT_EQ(ints("test.arr.i32"), (std::vector<int64_t>{INT32_MIN, 0, INT32_MAX}));
  EXPECT_EQ(ints("test.arr.i64"), (std::vector<int64_t>{INT64_MIN, 0, INT64_MAX}));
  EXPECT_EQ(ints("test.arr.bool"), (std::vector<int64_t>{1, 0, 1}));
  const dq_value *u64 = kv(m, "test.arr.u64");
  uint64_t big = 0;
  int64_t too_big = 0;
  ASSERT_EQ(dq_value_get_u64(dq_value_array_get(u64, 2), &big), DQ_OK);
  EXPECT_EQ(big, UINT64_MAX);
  EXPECT_EQ(dq_value_get_i64(dq_value_array_get(u64, 2), &too_big), DQ_ERR_SIZE);
  EXPECT_EQ(dq_value_array_get(u64, 3), nullptr);

  const dq_value *f32 = kv(m, "test.arr.f32");
  ASSERT_EQ(dq_value_array_count(f32), 5u);
  ASSERT_EQ(dq_value_get_f64(dq_value_array_get(f32, 1), &d), DQ_OK);
  EXPECT_TRUE(d == 0.0 && std::signbit(d));
  ASSERT_EQ(dq_value_get_f64(dq_value_array_get(f32, 4), &d), DQ_OK);
  EXPECT_EQ(static_cast<float>(d), 3.4e38f);
  const dq_value *f64 = kv(m, "test.arr.f64");
  ASSERT_EQ(dq_value_get_f64(dq_value_array_get(f64, 2), &d), DQ_OK);
  EXPECT_EQ(d, 1e300);

  const dq_value *empty = kv(m, "test.arr.empty_i32");
  EXPECT_EQ(dq_value_get_type(empty), DQ_VALUE_ARRAY);
  EXPECT_EQ(dq_value_array_type(empty), DQ_VALUE_INT32);
  EXPECT_EQ(dq_value_array_count(empty), 0u);
  EXPECT_EQ(dq_value_array_get(empty, 0), nullptr);

  const dq_value *strs = kv(m, "test.arr.str");
  ASSERT_EQ(dq_value_array_type(strs), DQ_VALUE_STRING);
  ASSERT_EQ(dq_value_array_count(strs), 5u);
  EXPECT_EQ(get_str(dq_value_array_get(strs, 0)), "alpha");
  EXPECT_EQ(get_str(dq_value_array_get(strs, 1)), "");
  EXPECT_EQ(get_str(dq_value_array_get(strs, 4)), "\xe2\x96\x81token");
  EXPECT_EQ(dq_value_array_data(strs, &raw, &raw_bytes), DQ_ERR_TYPE_MISMATCH);

  EXPECT_EQ(dq_value_array_count(kv(m, "test.arr.i32_1000")), 1000u);
}

// Flattens a (nested) array of i32 or f32 into numbers, and records its nesting shape.
void flatten(const dq_value *v, std::vector<double> &out, std::string &shape) {
  if (dq_value_get_type(v) != DQ_VALUE_ARRAY) {
    double d = 0;
    int64_t i = 0;
    if (dq_value_get_f64(v, &d) != DQ_OK) {
      EXPECT_EQ(dq_value_get_i64(v, &i), DQ_OK);
      d = static_cast<double>(i);
    }
    out.push_back(d);
    return;
  }
  shape += "[";
  for (uint64_t j = 0; j < dq_value_array_count(v); ++j) {
    const dq_value *e = dq_value_array_get(v, j);
    EXPECT_EQ(dq_value_get_type(e) == DQ_VALUE_ARRAY, dq_value_array_type(v) == DQ_VALUE_ARRAY);
    flatten(e, out, shape);
  }
  shape += "]";
}

TEST(GgufTestdata, NestedArraysReadBack) {
  DQ_REQUIRE_TESTDATA(dir);
  Opened o(dir / "metadata-nested-arrays.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  // Flat values as gguf-py reads them; the nesting is what gguf-py flattens away.
  std::vector<double> values;
  std::string shape;
  flatten(kv(o.model, "test.nested.i32"), values, shape);
  EXPECT_EQ(values, (std::vector<double>{1, 2, 3, 4, -5, 6}));
  EXPECT_EQ(shape, "[[][][]]");
  values.clear();
  shape.clear();
  flatten(kv(o.model, "test.nested.deep"), values, shape);
  EXPECT_EQ(values, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(shape, "[[[][]][[]]]");
  values.clear();
  shape.clear();
  flatten(kv(o.model, "test.nested.f32"), values, shape);
  EXPECT_EQ(values, (std::vector<double>{0.5, -1.25, 3.0}));

  const dq_value *strs = kv(o.model, "test.nested.str");
  ASSERT_EQ(dq_value_array_type(strs), DQ_VALUE_ARRAY);
  std::vector<std::string> flat;
  for (uint64_t j = 0; j < dq_value_array_count(strs); ++j) {
    const dq_value *inner = dq_value_array_get(strs, j);
    ASSERT_EQ(dq_value_array_type(inner), DQ_VALUE_STRING);
    for (uint64_t k = 0; k < dq_value_array_count(inner); ++k)
      flat.push_back(get_str(dq_value_array_get(inner, k)));
  }
  EXPECT_EQ(flat, (std::vector<std::string>{"a", "bc", "\xc3\xbc" "n" "\xc3\xaf" "c" "\xc3\xb6" "d" "\xc3\xa9", "", "x"}));
}

}  // namespace
}  // namespace dq::test
