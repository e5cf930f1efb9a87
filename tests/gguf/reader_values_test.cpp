// The value and tensor API on generated files: getter conversion rules, NULL and
// out-of-range handling, struct_size, zero-copy views, concurrent lazy array access.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "reader_test_util.hpp"

namespace dq::test {
namespace {

Bytes values_file() {
  GgufBuilder g;
  g.kv("u8", kU8, enc<uint8_t>(255));
  g.kv("i8", kI8, enc<int8_t>(-1));
  g.kv("u16", kU16, enc<uint16_t>(65535));
  g.kv("i16", kI16, enc<int16_t>(-32768));
  g.kv("u32", kU32, enc<uint32_t>(4294967295u));
  g.kv("i32", kI32, enc<int32_t>(-7));
  g.kv("f32", kF32, enc<float>(0.25f));
  g.kv("bool", kBool, enc<uint8_t>(1));
  g.kv("str", kString, enc_string(std::string("nul\0inside", 10)));
  g.kv("u64", kU64, enc<uint64_t>(UINT64_MAX));
  g.kv("i64", kI64, enc<int64_t>(INT64_MIN));
  g.kv("f64", kF64, enc<double>(-0.5));
  g.kv("arr.u16", kArray, enc_numbers<uint16_t>(kU16, {1, 2, 3, 4}));
  Bytes inner = enc_numbers<int32_t>(kI32, {5, 6});
  Bytes nested;
  nested.insert(nested.end(), inner.begin(), inner.end());
  nested.insert(nested.end(), inner.begin(), inner.end());
  g.kv("arr.nested", kArray, enc_array(kArray, 2, nested));
  g.tensor("w", 12, {256, 3}, 3 * 144);  // q4_K
  g.tensor("v", 1, {8, 2, 2}, 8 * 2 * 2 * 2);
  return g.build();
}

class GgufValues : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = values_file();
    write_bytes(dir_ / "values.gguf", bytes_);
    opened_ = std::make_unique<Opened>(dir_ / "values.gguf");
    ASSERT_EQ(opened_->status, DQ_OK) << opened_->message;
    m_ = opened_->model;
  }
  const dq_value *v(const char *key) { return kv(m_, key); }

  ScratchDir dir_;
  Bytes bytes_;
  std::unique_ptr<Opened> opened_;
  const dq_model *m_ = nullptr;
};

TEST_F(GgufValues, IntegerGettersConvertWhenTheValueFits) {
  int64_t i = 0;
  uint64_t u = 0;
  EXPECT_EQ(dq_value_get_i64(v("u8"), &i), DQ_OK);
  EXPECT_EQ(i, 255);
  EXPECT_EQ(dq_value_get_u64(v("i8"), &u), DQ_ERR_SIZE);  // -1 does not fit unsigned
  EXPECT_EQ(dq_value_get_i64(v("i8"), &i), DQ_OK);
  EXPECT_EQ(i, -1);
  EXPECT_EQ(dq_value_get_i64(v("i16"), &i), DQ_OK);
  EXPECT_EQ(i, -32768);
  EXPECT_EQ(dq_value_get_u64(v("u32"), &u), DQ_OK);
  EXPECT_EQ(u, 4294967295u);
  EXPECT_EQ(dq_value_get_u64(v("u64"), &u), DQ_OK);
  EXPECT_EQ(u, UINT64_MAX);
  EXPECT_EQ(dq_value_get_i64(v("u64"), &i), DQ_ERR_SIZE);
  EXPECT_EQ(dq_value_get_i64(v("i64"), &i), DQ_OK);
  EXPECT_EQ(i, INT64_MIN);
  EXPECT_EQ(dq_value_get_i64(v("bool"), &i), DQ_OK);
  EXPECT_EQ(i, 1);
  EXPECT_EQ(dq_value_get_i64(v("f32"), &i), DQ_ERR_TYPE_MISMATCH);
  EXPECT_EQ(dq_value_get_u64(v("str"), &u), DQ_ERR_TYPE_MISMATCH);
  EXPECT_EQ(dq_value_get_i64(v("arr.u16"), &i), DQ_ERR_TYPE_MISMATCH);
}

TEST_F(GgufValues, FloatBoolStringGetters) {
  double d = 0;
  EXPECT_EQ(dq_value_get_f64(v("f32"), &d), DQ_OK);
  EXPECT_EQ(d, 0.25);
  EXPECT_EQ(dq_value_get_f64(v("f64"), &d), DQ_OK);
  EXPECT_EQ(d, -0.5);
  EXPECT_EQ(dq_value_get_f64(v("i32"), &d), DQ_ERR_TYPE_MISMATCH);
  int32_t b = 0;
  EXPECT_EQ(dq_value_get_bool(v("bool"), &b), DQ_OK);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(dq_value_get_bool(v("u8"), &b), DQ_ERR_TYPE_MISMATCH);
  const char *s = nullptr;
  uint64_t len = 0;
  EXPECT_EQ(dq_value_get_string(v("str"), &s, &len), DQ_OK);
  EXPECT_EQ(std::string(s, len), std::string("nul\0inside", 10));
  // Zero-copy: the string points into the mapped file, at its bytes.
  EXPECT_EQ(dq_value_get_string(v("u8"), &s, &len), DQ_ERR_TYPE_MISMATCH);
}

TEST_F(GgufValues, ArraysAndNestedArrays) {
  const dq_value *a = v("arr.u16");
  EXPECT_EQ(dq_value_get_type(a), DQ_VALUE_ARRAY);
  EXPECT_EQ(dq_value_array_type(a), DQ_VALUE_UINT16);
  ASSERT_EQ(dq_value_array_count(a), 4u);
  const void *raw = nullptr;
  uint64_t n = 0;
  ASSERT_EQ(dq_value_array_data(a, &raw, &n), DQ_OK);
  EXPECT_EQ(n, 8u);
  const uint16_t want[] = {1, 2, 3, 4};
  EXPECT_EQ(std::memcmp(raw, want, 8), 0);
  uint64_t u = 0;
  ASSERT_EQ(dq_value_get_u64(dq_value_array_get(a, 3), &u), DQ_OK);
  EXPECT_EQ(u, 4u);
  EXPECT_EQ(dq_value_array_get(a, 4), nullptr);
  EXPECT_EQ(dq_value_array_get(a, UINT64_MAX), nullptr);

  const dq_value *nested = v("arr.nested");
  EXPECT_EQ(dq_value_array_type(nested), DQ_VALUE_ARRAY);
  ASSERT_EQ(dq_value_array_count(nested), 2u);
  EXPECT_EQ(dq_value_array_data(nested, &raw, &n), DQ_ERR_TYPE_MISMATCH);
  const dq_value *second = dq_value_array_get(nested, 1);
  ASSERT_EQ(dq_value_array_type(second), DQ_VALUE_INT32);
  int64_t i = 0;
  ASSERT_EQ(dq_value_get_i64(dq_value_array_get(second, 1), &i), DQ_OK);
  EXPECT_EQ(i, 6);
  // Scalars are not arrays.
  EXPECT_EQ(dq_value_array_count(v("u8")), 0u);
  EXPECT_EQ(dq_value_array_get(v("u8"), 0), nullptr);
  EXPECT_EQ(dq_value_array_data(v("u8"), &raw, &n), DQ_ERR_TYPE_MISMATCH);
}

TEST_F(GgufValues, ConcurrentFirstAccessToANumberArray) {
  const dq_value *a = v("arr.u16");
  std::vector<std::thread> threads;
  std::vector<const dq_value *> seen(8);
  for (int k = 0; k < 8; ++k)
    threads.emplace_back([&, k] { seen[k] = dq_value_array_get(a, 2); });
  for (auto &t : threads) t.join();
  for (auto *p : seen) EXPECT_EQ(p, seen[0]);
  uint64_t u = 0;
  ASSERT_EQ(dq_value_get_u64(seen[0], &u), DQ_OK);
  EXPECT_EQ(u, 3u);
}

TEST_F(GgufValues, LookupsAndNullArguments) {
  EXPECT_EQ(dq_model_kv_find(m_, "missing"), -1);
  EXPECT_EQ(dq_model_kv_find(m_, nullptr), -1);
  EXPECT_EQ(dq_model_kv_find(nullptr, "u8"), -1);
  EXPECT_EQ(dq_model_kv_count(m_), 14);
  EXPECT_STREQ(dq_model_kv_key(m_, 0), "u8");
  EXPECT_EQ(dq_model_kv_key(m_, 14), nullptr);
  EXPECT_EQ(dq_model_kv_key(m_, -1), nullptr);
  EXPECT_EQ(dq_model_kv_value(m_, 99), nullptr);
  EXPECT_EQ(dq_model_tensor_find(m_, "nope"), -1);
  int64_t i = 0;
  EXPECT_EQ(dq_value_get_i64(nullptr, &i), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_value_get_i64(v("u8"), nullptr), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_value_array_count(nullptr), 0u);
  EXPECT_EQ(dq_value_array_get(nullptr, 0), nullptr);
  dq_model_close(nullptr);
  dq_context *ctx = nullptr;
  ASSERT_EQ(dq_context_create(&ctx), DQ_OK);
  dq_model *out = reinterpret_cast<dq_model *>(1);
  EXPECT_EQ(dq_model_open(ctx, nullptr, &out), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx)), "");
  EXPECT_EQ(dq_model_open(nullptr, (dir_ / "values.gguf").c_str(), &out), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_model_open(ctx, (dir_ / "absent.gguf").c_str(), &out), DQ_ERR_IO);
  EXPECT_EQ(out, nullptr);
  EXPECT_NE(std::string(dq_last_error(ctx)).find("No such file"), std::string::npos);
  dq_context_destroy(ctx);
}

TEST_F(GgufValues, TensorInfoIsAZeroCopyViewOfTheFile) {
  ASSERT_EQ(dq_model_tensor_count(m_), 2);
  const dq_tensor_info w = tensor_info(m_, dq_model_tensor_find(m_, "w"));
  EXPECT_EQ(w.type, DQ_TYPE_Q4_K);
  EXPECT_EQ(w.n_dims, 2u);
  EXPECT_EQ(w.ne[0], 256);
  EXPECT_EQ(w.ne[1], 3);
  EXPECT_EQ(w.ne[2], 1);
  EXPECT_EQ(w.n_elements, 768);
  EXPECT_EQ(w.n_bytes, 3u * 144);
  EXPECT_EQ(w.file_offset % 32, 0u);
  EXPECT_EQ(w.file_offset, dq_model_data_offset(m_, 0));
  ASSERT_LE(w.file_offset + w.n_bytes, bytes_.size());
  EXPECT_EQ(std::memcmp(w.data, bytes_.data() + w.file_offset, w.n_bytes), 0);
  const dq_tensor_info t = tensor_info(m_, 1);
  EXPECT_EQ(t.n_dims, 3u);
  EXPECT_EQ(t.n_elements, 32);
  EXPECT_EQ(t.file_offset, w.file_offset + 448);  // 432 rounded up to 32
  // The same bytes through two opens are the same bytes, and reads stay inside the view.
  EXPECT_EQ(static_cast<const uint8_t *>(t.data)[t.n_bytes - 1],
            bytes_[t.file_offset + t.n_bytes - 1]);
}

TEST_F(GgufValues, TensorInfoWritesOnlyWhatStructSizeCovers) {
  dq_tensor_info t;
  std::memset(&t, 0xab, sizeof t);
  t.struct_size = offsetof(dq_tensor_info, type) + sizeof(t.type);
  ASSERT_EQ(dq_model_tensor_info(m_, 0, &t), DQ_OK);
  EXPECT_STREQ(t.name, "w");
  EXPECT_EQ(t.type, DQ_TYPE_Q4_K);
  uint32_t untouched;
  std::memset(&untouched, 0xab, sizeof untouched);
  EXPECT_EQ(t.n_dims, untouched);
  t.struct_size = sizeof t;
  EXPECT_EQ(dq_model_tensor_info(m_, 2, &t), DQ_ERR_INVALID_ARGUMENT);  // index out of range
  EXPECT_EQ(dq_model_tensor_info(m_, -1, &t), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_model_tensor_info(nullptr, 0, &t), DQ_ERR_INVALID_ARGUMENT);
  t.struct_size = 0;
  EXPECT_EQ(dq_model_tensor_info(m_, 0, &t), DQ_ERR_INVALID_ARGUMENT);
}

TEST(GgufHeader, AlignmentKeyMovesTheDataSection) {
  ScratchDir dir;
  GgufBuilder g;
  g.alignment = 256;
  g.kv("general.alignment", kU32, enc<uint32_t>(256));
  g.tensor("a", 0, {3}, 12);
  g.tensor("b", 0, {5}, 20);
  write_bytes(dir / "a.gguf", g.build());
  Opened o(dir / "a.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  EXPECT_EQ(dq_model_alignment(o.model), 256u);
  EXPECT_EQ(dq_model_data_offset(o.model, 0) % 256, 0u);
  EXPECT_EQ(tensor_info(o.model, 1).file_offset, dq_model_data_offset(o.model, 0) + 256);
}

TEST(GgufHeader, Version2AndDefaultAlignment) {
  ScratchDir dir;
  GgufBuilder g;
  g.version = 2;
  g.tensor("a", 0, {}, 4);  // n_dims 0: one element
  write_bytes(dir / "v2.gguf", g.build());
  Opened o(dir / "v2.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  EXPECT_EQ(dq_model_gguf_version(o.model), 2u);
  EXPECT_EQ(dq_model_alignment(o.model), 32u);
  EXPECT_EQ(tensor_info(o.model, 0).n_elements, 1);
}

}  // namespace
}  // namespace dq::test
