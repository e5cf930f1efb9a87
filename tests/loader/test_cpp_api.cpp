// The C++ layer (dq/dq.hpp) over the whole public API: context and backends, type helpers,
// memory, dequantize, model metadata and tensors, loading, and errors as dq::Error.
#include <gtest/gtest.h>

#include "loader_test_util.hpp"

namespace dq::test {
namespace {

TEST(CppApi, ContextBackendsAndTypes) {
  Context ctx;
  EXPECT_FALSE(version().empty());
  EXPECT_EQ(type_name(DQ_TYPE_Q4_K), "q4_K");
  EXPECT_EQ(type_from_name("Q6_K"), DQ_TYPE_Q6_K);
  EXPECT_FALSE(type_from_name("nonsense"));
  EXPECT_EQ(tensor_bytes(DQ_TYPE_Q4_K, 512), 288u);
  try {
    tensor_bytes(DQ_TYPE_Q4_K, 100);
    ADD_FAILURE() << "100 is not a block multiple";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), DQ_ERR_SIZE);
  }
  const auto backends = ctx.backends();
  ASSERT_FALSE(backends.empty());
  const auto cpu = ctx.find_backend("cpu");
  ASSERT_TRUE(cpu);
  EXPECT_TRUE(backends[*cpu].loaded);
  EXPECT_TRUE(ctx.supports(*cpu, DQ_TYPE_Q4_K, DQ_TYPE_F16));
  const DeviceInfo d = ctx.device(*cpu, 0);
  EXPECT_FALSE(d.name.empty());
  EXPECT_FALSE(ctx.find_backend("nosuchbackend"));
  EXPECT_EQ(type_name(4), "retired(Q4_2)");  // dq.h's name for a retired id
}

// "cpu" is host memory in the C API (dq.h); the C++ Location says the same.
TEST(CppApi, CpuLocationIsHost) {
  EXPECT_TRUE(Location::host().is_host());
  EXPECT_TRUE((Location{"host", 0}).is_host());
  EXPECT_TRUE((Location{"cpu", 0}).is_host());
  EXPECT_FALSE((Location{"cuda", 0}).is_host());
  EXPECT_EQ((Location{"cpu", 0}).c().backend, nullptr);
}

TEST(CppApi, ModelMetadataTensorsAndDequantize) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model m(ctx, (dir / "all-types.gguf").string());
  EXPECT_EQ(m.gguf_version(), 3u);
  EXPECT_EQ(m.split_count(), 1u);
  ASSERT_TRUE(m.kv("general.architecture"));
  EXPECT_EQ(m.kv("general.architecture")->as_string(), "dq-testdata");
  EXPECT_EQ(m.kv("test.u8")->as_u64(), 200u);
  EXPECT_EQ(m.kv("test.i64")->as_i64(), -9000000000000000000LL);
  EXPECT_TRUE(m.kv("test.bool.true")->as_bool());
  EXPECT_EQ(m.kv("test.arr.i32_1000")->array_size(), 1000u);
  EXPECT_FALSE(m.kv("no.such.key"));
  try {
    m.kv("test.str")->as_i64();
    ADD_FAILURE() << "a string read as an integer must throw";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), DQ_ERR_TYPE_MISMATCH);
  }
  const auto t = m.tensor("t.q6_k");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->type, DQ_TYPE_Q6_K);
  EXPECT_EQ(static_cast<int64_t>(m.tensors().size()), m.tensor_count());
  const auto out = dequantize_to_host(ctx, t->type, t->bytes(), t->n_elements, DQ_TYPE_F32, "cpu");
  EXPECT_EQ(out, golden(dir, dir / "all-types.gguf", "t.q6_k"));
  EXPECT_EQ(ctx.last_backend(), "cpu");
}

TEST(CppApi, ErrorsCarryStatusAndMessage) {
  Context ctx;
  try {
    Model m(ctx, "/nonexistent/dir/model.gguf");
    ADD_FAILURE() << "opening a missing file must throw";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), DQ_ERR_IO);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf"), std::string::npos) << e.what();
  }
}

TEST(CppApi, HostBufferMemcpyAndLoad) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  DeviceBuffer buf(ctx, Location::host(), 64);
  ASSERT_NE(buf.data(), nullptr);
  const char text[] = "dq";
  ctx.memcpy(buf.data(), Location::host(), text, Location::host(), sizeof text);
  EXPECT_STREQ(static_cast<const char *>(buf.data()), "dq");
  DeviceBuffer moved = std::move(buf);
  EXPECT_EQ(buf.data(), nullptr);
  EXPECT_NE(moved.data(), nullptr);

  Model m(ctx, (dir / "stories260K-q4_k_m.gguf").string());
  LoadOptions o;
  uint64_t seen = 0;
  o.output(DQ_TYPE_F32).progress([&](uint64_t d, uint64_t) { seen = d; });
  LoadedModel lm = load(ctx, m, o);
  EXPECT_EQ(lm.size(), m.tensor_count());
  EXPECT_EQ(seen, lm.stats().file_bytes);
  const auto t = lm.find("blk.0.attn_q.weight");
  ASSERT_TRUE(t);
  EXPECT_EQ(read_back(ctx, *t), golden(dir, dir / "stories260K-q4_k_m.gguf", "blk.0.attn_q.weight"));
  LoadedModel from_file = load_file(ctx, (dir / "stories260K-q4_k_m.gguf").string(), o);
  EXPECT_EQ(from_file.size(), lm.size());
  LoadedModel empty;
  EXPECT_EQ(empty.get(), nullptr);
  try {
    LoadOptions bad;
    bad.tensor("not.there");
    load(ctx, m, bad);
    ADD_FAILURE() << "unknown tensor must throw";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), DQ_ERR_NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("not.there"), std::string::npos);
  }
}

}  // namespace
}  // namespace dq::test
