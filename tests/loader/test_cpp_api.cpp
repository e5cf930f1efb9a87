// The C++ layer (dq/dq.hpp) over the whole public API: context and backends, type helpers,
// memory, dequantize, model metadata and tensors, loading, and errors as dq::Error.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>

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

// DeviceBuffer and Loader keep the dq_context, not the Context object: moving the Context
// (returned from a function, a member of a moved struct) left them holding an empty one, so a
// failed load lost its message and a buffer was never freed (dq_free(NULL)); a Context object
// destroyed after the move left them reading freed memory.
TEST(CppApi, BuffersAndLoadersFollowTheirContextThroughAMove) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;  // declared first: the loader and the buffer go before its dq_context
  LoadOptions o;
  o.output(DQ_TYPE_F32);
  std::optional<Loader> loader;
  DeviceBuffer buf;
  {
    auto first = std::make_unique<Context>();
    loader.emplace(*first, o);
    buf = DeviceBuffer(*first, Location::host(), 64);
    ctx = std::move(*first);
  }  // the moved-from Context object is gone; its dq_context lives on in ctx
  Model m(ctx, (dir / "stories260K-q4_k_m.gguf").string());
  EXPECT_EQ(loader->load(m, o).size(), m.tensor_count());
  LoadOptions bad;
  bad.tensor("not.there");
  try {
    loader->load(m, bad);
    ADD_FAILURE() << "unknown tensor must throw";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), DQ_ERR_NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("not.there"), std::string::npos) << e.what();
  }
  ctx.memcpy(buf.data(), Location::host(), "dq", Location::host(), 3);
  EXPECT_STREQ(static_cast<const char *>(buf.data()), "dq");
  buf.reset();  // freed through ctx (ASan/LSan: no leak, no use after free)
}

// A count the source cannot hold is dq::Error with the C check's message, before any output
// is allocated: -1 made a std::length_error escape, 2^50 asked for 4 PiB (std::bad_alloc).
TEST(CppApi, DequantizeToHostRefusesACountItsSourceCannotHold) {
  Context ctx;
  const std::vector<uint8_t> block(18, 0);  // one q4_0 block: 32 elements
  struct Case {
    int64_t n;
    dq_status status;
    const char *says;
  };
  for (const Case &c : {Case{-1, DQ_ERR_INVALID_ARGUMENT, "n_elements is -1, must be > 0"},
                        Case{0, DQ_ERR_INVALID_ARGUMENT, "n_elements is 0, must be > 0"},
                        Case{33, DQ_ERR_SIZE, "not a multiple of q4_0's block of 32"},
                        Case{int64_t{1} << 50, DQ_ERR_SIZE, "src_bytes 18 is less than"}}) {
    try {
      dequantize_to_host(ctx, DQ_TYPE_Q4_0, block, c.n, DQ_TYPE_F32);
      ADD_FAILURE() << c.n << " elements of one block must throw";
    } catch (const Error &e) {
      EXPECT_EQ(e.status(), c.status) << c.n;
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(dequantize_to_host(ctx, DQ_TYPE_Q4_0, block, 32, DQ_TYPE_F32).size(), 128u);
}

// dequantize_batch gives what one dequantize per tensor gives; a bad request throws with the
// C message naming its index, and nothing is written.
TEST(CppApi, DequantizeBatchEqualsSingleCallsAndNamesABadRequest) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model m(ctx, (dir / "all-types.gguf").string());
  std::vector<TensorInfo> tensors;
  for (TensorInfo &t : m.tensors())
    if (t.type != DQ_TYPE_I8 && t.type != DQ_TYPE_I16 && t.type != DQ_TYPE_I32 &&
        t.type != DQ_TYPE_I64 && t.type != DQ_TYPE_F64)
      tensors.push_back(std::move(t));
  ASSERT_GE(tensors.size(), 5u);
  const int32_t outs[] = {DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16};
  std::vector<std::vector<uint8_t>> got(tensors.size());
  std::vector<DequantizeRequest> reqs;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo &t = tensors[i];
    const int32_t out = outs[i % 3];
    got[i].assign(t.n_elements * out_size(out), 0xAB);
    DequantizeRequest r;
    r.src_type = t.type;
    r.dst_type = out;
    r.src = t.data;
    r.src_bytes = t.n_bytes;
    r.n_elements = t.n_elements;
    r.dst = got[i].data();
    r.dst_bytes = got[i].size();
    reqs.push_back(r);
  }
  EXPECT_FALSE(dequantize_batch(ctx, reqs).empty());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo &t = tensors[i];
    EXPECT_EQ(got[i], dequantize_to_host(ctx, t.type, t.bytes(), t.n_elements, outs[i % 3]))
        << t.name << " to " << type_name(outs[i % 3]);
  }

  // Request 2 asks for 100 elements of q4_K (not whole 256-element blocks).
  const auto q4k = m.tensor("t.q4_k");
  ASSERT_TRUE(q4k);
  std::vector<float> a(q4k->n_elements, 7.0f), b(q4k->n_elements, 7.0f), c(100, 7.0f);
  std::vector<DequantizeRequest> bad(3);
  float *dsts[] = {a.data(), b.data(), c.data()};
  const int64_t counts[] = {q4k->n_elements, q4k->n_elements, 100};
  for (int i = 0; i < 3; ++i) {
    bad[i].src_type = q4k->type;
    bad[i].src = q4k->data;
    bad[i].src_bytes = q4k->n_bytes;
    bad[i].n_elements = counts[i];
    bad[i].dst = dsts[i];
    bad[i].dst_bytes = counts[i] * sizeof(float);
  }
  try {
    dequantize_batch(ctx, bad);
    ADD_FAILURE() << "a batch with a bad request must throw";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), DQ_ERR_SIZE);
    EXPECT_NE(std::string(e.what()).find("request 2"), std::string::npos) << e.what();
  }
  for (const auto *v : {&a, &b, &c})
    for (float x : *v) ASSERT_EQ(x, 7.0f) << "a refused batch wrote an output";
  EXPECT_NO_THROW(dequantize_batch(ctx, std::span<const DequantizeRequest>{}));
}

// The plan helpers: every tensor either whole on each device or cut into pieces that cover it
// exactly once; a tensor-parallel load over two host "devices" (two pipelines to host
// memory) gives, part by part, the same rows and columns as a whole load.
TEST(CppApi, PlansAndALoadOverTwoDevices) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model m(ctx, (dir / "stories260K.gguf").string());
  const std::vector<LoadPart> tp = plan_tensor_parallel(ctx, m, 2);
  int64_t cut = 0;
  for (const TensorInfo &t : m.tensors()) {
    const int64_t cols = t.ne[0], rows = t.n_elements / t.ne[0];
    int64_t area = 0, n = 0;
    bool split = false;
    for (const LoadPart &p : tp) {
      if (p.name != t.name) continue;
      const int64_t re = p.row_end < 0 ? rows : p.row_end, ce = p.col_end < 0 ? cols : p.col_end;
      EXPECT_TRUE(p.device == 0 || p.device == 1) << t.name;
      area += (re - p.row_begin) * (ce - p.col_begin);
      split |= re - p.row_begin != rows || ce - p.col_begin != cols;
      ++n;
    }
    EXPECT_EQ(n, 2) << t.name << ": one part per device";
    EXPECT_EQ(area, split ? rows * cols : 2 * rows * cols) << t.name;
    cut += split;
  }
  EXPECT_GT(cut, 0);
  // Rank 1 alone: device 1's parts, on device 0.
  std::vector<LoadPart> rank1;
  for (LoadPart p : tp)
    if (p.device == 1) {
      p.device = 0;
      rank1.push_back(p);
    }
  EXPECT_EQ(plan_tensor_parallel(ctx, m, 2, 1), rank1);

  LoadOptions whole_opts;
  whole_opts.output(DQ_TYPE_F32);
  const LoadedModel whole = load(ctx, m, whole_opts);
  LoadOptions o;
  o.output(DQ_TYPE_F32).devices({Location::host(), Location::host()}).parts(tp);
  const LoadedModel lm = load(ctx, m, o);
  ASSERT_EQ(lm.size(), static_cast<int64_t>(tp.size()));
  ASSERT_EQ(lm.device_count(), 2);
  EXPECT_EQ(lm.device_stats(0).tensors + lm.device_stats(1).tensors, lm.size());
  EXPECT_THROW(lm.device_stats(2), Error);
  for (const LoadedTensor &t : lm.tensors()) {
    const std::vector<uint8_t> ref = read_back(ctx, *whole.find(t.name.c_str()));
    const std::vector<uint8_t> got = read_back(ctx, t);
    const int64_t all_cols = whole.find(t.name.c_str())->ne[0];
    const int64_t cols = t.col_end - t.col_begin;
    ASSERT_EQ(got.size(), static_cast<size_t>((t.row_end - t.row_begin) * cols * 4)) << t.name;
    for (int64_t r = t.row_begin; r < t.row_end; ++r)
      ASSERT_EQ(0, std::memcmp(got.data() + (r - t.row_begin) * cols * 4,
                               ref.data() + (r * all_cols + t.col_begin) * 4, cols * 4))
          << t.name << " row " << r << " on device " << t.device_index;
  }

  const std::vector<LoadPart> layers = plan_layers(ctx, m, 2);
  EXPECT_EQ(static_cast<int64_t>(layers.size()), m.tensor_count());
  try {
    plan_tensor_parallel(ctx, Model(ctx, (dir / "mini-llama-q4_k_m.gguf").string()), 2);
    ADD_FAILURE() << "256 q4_K columns cannot be halved at whole blocks";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), DQ_ERR_SIZE);
    EXPECT_NE(std::string(e.what()).find("block size"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dq::test
