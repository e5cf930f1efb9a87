// dq_dequantize_batch through the public API: the same bytes as one dq_dequantize per
// request, every request validated before any runs (errors name the index), n == 0, NULL
// arguments, the caller's struct_size as the array's stride, and backends without the batch
// entry served one request at a time.
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "../cpu/fast_random_blocks.hpp"
#include "dq/dq.hpp"
#include "dq_common/type_traits.hpp"
#include "env_fixture.hpp"

using dq::test::EnvTest;

namespace {

// One tensor with its source, a batch destination and a single-call destination.
struct Tensor {
  int32_t type, out;
  int64_t n_elements;
  std::vector<uint8_t> src, batch_dst, single_dst;

  Tensor(int32_t type_, int32_t out_, int64_t n_blocks, uint64_t seed) : type(type_), out(out_) {
    const dq::TypeTraits &t = *dq::type_traits(type);
    n_elements = n_blocks * t.block_elements;
    src = dq::test::random_blocks(type, n_blocks, seed);
    const size_t out_bytes = static_cast<size_t>(n_elements) * dq::output_type_size(out);
    batch_dst.assign(out_bytes, 0xAB);
    single_dst.assign(out_bytes, 0xCD);
  }
  dq_dequantize_request request(std::vector<uint8_t> &dst) const {
    dq_dequantize_request r{};
    r.struct_size = sizeof r;
    r.src_type = type;
    r.dst_type = out;
    r.src = src.data();
    r.src_bytes = src.size();
    r.n_elements = n_elements;
    r.dst = dst.data();
    r.dst_bytes = dst.size();
    return r;
  }
};

class CoreDequantizeBatch : public EnvTest {
 protected:
  dq_context *ctx = nullptr;
  void SetUp() override {
    EnvTest::SetUp();
    set("DQ_BACKEND", "cpu");  // host work on the cpu plugin, whatever else is installed
    ctx = context();
  }
  // Requests over each tensor's batch destination.
  static std::vector<dq_dequantize_request> batch_of(std::vector<Tensor> &ts) {
    std::vector<dq_dequantize_request> reqs;
    for (Tensor &t : ts) reqs.push_back(t.request(t.batch_dst));
    return reqs;
  }
  void expect_untouched(const std::vector<Tensor> &ts) {
    for (size_t i = 0; i < ts.size(); ++i)
      for (uint8_t b : ts[i].batch_dst) ASSERT_EQ(b, 0xAB) << "tensor " << i << " was written";
  }
  std::string error() const { return dq_last_error(ctx); }
};

// Different types and outputs in one batch, small tensors beside ones large enough to be
// split over the thread pool: every byte equals what one dq_dequantize per tensor gives.
TEST_F(CoreDequantizeBatch, MixedTypesEqualSingleCalls) {
  std::vector<Tensor> ts;
  ts.emplace_back(DQ_TYPE_Q4_K, DQ_TYPE_F16, 1024, 1);  // 256Ki elements: split
  ts.emplace_back(DQ_TYPE_Q8_0, DQ_TYPE_F32, 3, 2);     // tiny: packed with its neighbours
  ts.emplace_back(DQ_TYPE_Q6_K, DQ_TYPE_BF16, 37, 3);
  ts.emplace_back(DQ_TYPE_IQ4_XS, DQ_TYPE_F32, 600, 4);
  ts.emplace_back(DQ_TYPE_F16, DQ_TYPE_F32, 4, 5);
  ts.emplace_back(DQ_TYPE_Q4_0, DQ_TYPE_BF16, 8192, 6);  // 256Ki elements
  ts.emplace_back(DQ_TYPE_Q4_K, DQ_TYPE_F16, 1, 7);
  std::vector<dq_dequantize_request> reqs = batch_of(ts);
  ASSERT_EQ(dq_dequantize_batch(ctx, reqs.data(), reqs.size()), DQ_OK) << error();
  EXPECT_STREQ(dq_last_backend(ctx), "cpu");
  for (size_t i = 0; i < ts.size(); ++i) {
    const dq_dequantize_request one = ts[i].request(ts[i].single_dst);
    ASSERT_EQ(dq_dequantize(ctx, &one), DQ_OK) << error();
    EXPECT_EQ(ts[i].batch_dst, ts[i].single_dst)
        << "tensor " << i << " (" << dq::type_traits(ts[i].type)->name << ") differs";
  }
}

// A bad request anywhere: nothing runs, and the message names the request and the problem.
TEST_F(CoreDequantizeBatch, BadRequestRefusesTheWholeBatch) {
  std::vector<Tensor> ts;
  for (int i = 0; i < 3; ++i) ts.emplace_back(DQ_TYPE_Q4_K, DQ_TYPE_F32, 2, 10 + i);
  std::vector<dq_dequantize_request> reqs = batch_of(ts);
  reqs[2].n_elements = 100;
  EXPECT_EQ(dq_dequantize_batch(ctx, reqs.data(), reqs.size()), DQ_ERR_SIZE);
  EXPECT_NE(error().find("dq_dequantize_batch: request 2: n_elements 100 is not a multiple of "
                         "q4_K's block of 256"),
            std::string::npos)
      << error();
  expect_untouched(ts);

  reqs = batch_of(ts);
  reqs[1].src_type = 4;
  EXPECT_EQ(dq_dequantize_batch(ctx, reqs.data(), reqs.size()), DQ_ERR_UNKNOWN_TYPE);
  EXPECT_NE(error().find("request 1: src_type: type 4 (q4_2) is retired"), std::string::npos)
      << error();
  reqs = batch_of(ts);
  reqs[0].dst = nullptr;
  EXPECT_EQ(dq_dequantize_batch(ctx, reqs.data(), reqs.size()), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error().find("request 0: dst is NULL"), std::string::npos) << error();
  // A backend that cannot be used is found before anything runs too.
  reqs = batch_of(ts);
  reqs[2].backend = "nosuchbackend";
  EXPECT_NE(dq_dequantize_batch(ctx, reqs.data(), reqs.size()), DQ_OK);
  EXPECT_NE(error().find("request 2: "), std::string::npos) << error();
  expect_untouched(ts);
}

// Host buffers of two requests that overlap where one is written: refused, naming both.
TEST_F(CoreDequantizeBatch, OverlappingRequestsAreRefused) {
  std::vector<Tensor> ts;
  for (int i = 0; i < 3; ++i) ts.emplace_back(DQ_TYPE_Q8_0, DQ_TYPE_F32, 4, 20 + i);
  std::vector<dq_dequantize_request> reqs = batch_of(ts);
  reqs[2].dst = ts[0].batch_dst.data() + 64;
  reqs[2].dst_bytes = ts[0].batch_dst.size() - 64;
  reqs[2].n_elements = 32;
  EXPECT_EQ(dq_dequantize_batch(ctx, reqs.data(), reqs.size()), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error().find("request 2: its dst overlaps the dst of request 0"), std::string::npos)
      << error();
  expect_untouched(ts);
  // Writing over another request's source is refused too; two requests reading one source
  // are fine.
  reqs = batch_of(ts);
  reqs[1].dst = const_cast<uint8_t *>(ts[0].src.data());
  reqs[1].dst_bytes = ts[0].src.size();
  reqs[1].n_elements = 32;
  EXPECT_EQ(dq_dequantize_batch(ctx, reqs.data(), reqs.size()), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error().find("request 1: its dst overlaps the src of request 0"), std::string::npos)
      << error();
  reqs = batch_of(ts);
  reqs[1].src = ts[0].src.data();
  EXPECT_EQ(dq_dequantize_batch(ctx, reqs.data(), reqs.size()), DQ_OK) << error();
}

TEST_F(CoreDequantizeBatch, EmptyBatchAndNullArguments) {
  EXPECT_EQ(dq_dequantize_batch(ctx, nullptr, 0), DQ_OK);
  std::vector<Tensor> ts;
  ts.emplace_back(DQ_TYPE_Q8_0, DQ_TYPE_F32, 1, 30);
  std::vector<dq_dequantize_request> reqs = batch_of(ts);
  EXPECT_EQ(dq_dequantize_batch(ctx, reqs.data(), 0), DQ_OK);
  expect_untouched(ts);
  EXPECT_EQ(dq_dequantize_batch(ctx, nullptr, 2), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error().find("reqs is NULL but n is 2"), std::string::npos) << error();
  EXPECT_EQ(dq_dequantize_batch(nullptr, reqs.data(), 1), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_dequantize_batch(nullptr, nullptr, 0), DQ_ERR_INVALID_ARGUMENT);
  expect_untouched(ts);
}

// A caller built against a header whose request ended at dst_bytes: its array steps by
// that size, and the fields past it count as zero (host memory, no stream, no backend).
TEST_F(CoreDequantizeBatch, OlderCallersStructSizeIsTheStride) {
  constexpr size_t kOld = DQ_DEQUANTIZE_REQUEST_MIN_SIZE;
  std::vector<Tensor> ts;
  ts.emplace_back(DQ_TYPE_Q8_0, DQ_TYPE_F32, 2, 40);
  ts.emplace_back(DQ_TYPE_Q4_K, DQ_TYPE_F16, 1, 41);
  std::vector<unsigned char> array(kOld * ts.size(), 0xEE);  // garbage past each request
  for (size_t i = 0; i < ts.size(); ++i) {
    dq_dequantize_request r = ts[i].request(ts[i].batch_dst);
    r.struct_size = kOld;
    std::memcpy(array.data() + i * kOld, &r, kOld);
  }
  auto *reqs = reinterpret_cast<const dq_dequantize_request *>(array.data());
  ASSERT_EQ(dq_dequantize_batch(ctx, reqs, ts.size()), DQ_OK) << error();
  for (Tensor &t : ts) {
    const dq_dequantize_request one = t.request(t.single_dst);
    ASSERT_EQ(dq_dequantize(ctx, &one), DQ_OK) << error();
    EXPECT_EQ(t.batch_dst, t.single_dst);
  }
  // Every request must carry the array's element size.
  std::vector<dq_dequantize_request> mixed = batch_of(ts);
  mixed[1].struct_size = kOld;
  EXPECT_EQ(dq_dequantize_batch(ctx, mixed.data(), mixed.size()), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error().find("request 1: struct_size " + std::to_string(kOld) + " differs from request 0's"),
            std::string::npos)
      << error();
  mixed = batch_of(ts);
  mixed[0].struct_size = 8;
  EXPECT_EQ(dq_dequantize_batch(ctx, mixed.data(), mixed.size()), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error().find("request 0: request struct_size 8 is less than DQ_DEQUANTIZE_REQUEST_MIN_SIZE"),
            std::string::npos)
      << error();
}

// A plugin without the batch entry (the fake, ABI 1.0) gets its requests one at a time,
// beside the cpu plugin's group; dq_last_backend names the last request's backend.
TEST_F(CoreDequantizeBatch, BackendsWithoutTheEntryAreCalledPerRequest) {
  set("DQ_PLUGIN_PATH", dq::test::plugin_folder("plugins-gpu"));
  unsetenv("DQ_BACKEND");
  dq_context *c = context();
  std::vector<float> a(64), b(96), a_out(64, -1.f), b_out(96, -1.f);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  for (size_t i = 0; i < b.size(); ++i) b[i] = -static_cast<float>(i);
  std::vector<Tensor> ts;
  ts.emplace_back(DQ_TYPE_Q8_0, DQ_TYPE_F32, 2, 50);
  std::vector<dq_dequantize_request> reqs = {dq::test::f32_request(a, a_out),
                                             ts[0].request(ts[0].batch_dst),
                                             dq::test::f32_request(b, b_out)};
  reqs[0].backend = "fakegpu";
  reqs[1].backend = "cpu";
  reqs[2].backend = "fakegpu";
  ASSERT_EQ(dq_dequantize_batch(c, reqs.data(), reqs.size()), DQ_OK) << dq_last_error(c);
  EXPECT_EQ(a_out, a);
  EXPECT_EQ(b_out, b);
  EXPECT_STREQ(dq_last_backend(c), "fakegpu");
  const dq_dequantize_request one = ts[0].request(ts[0].single_dst);
  ASSERT_EQ(dq_dequantize(c, &one), DQ_OK) << dq_last_error(c);
  EXPECT_EQ(ts[0].batch_dst, ts[0].single_dst);
}

// The C++ layer: a vector of requests in one call; a bad one throws with the index.
TEST_F(CoreDequantizeBatch, CppLayer) {
  dq::Context cx;
  std::vector<Tensor> ts;
  ts.emplace_back(DQ_TYPE_Q6_K, DQ_TYPE_F32, 3, 60);
  ts.emplace_back(DQ_TYPE_Q8_0, DQ_TYPE_BF16, 5, 61);
  std::vector<dq::DequantizeRequest> reqs;
  for (Tensor &t : ts)
    reqs.push_back({t.type, t.out, t.src.data(), t.src.size(), t.n_elements, t.batch_dst.data(),
                    t.batch_dst.size(), {}, {}, nullptr, "cpu"});
  EXPECT_EQ(dq::dequantize_batch(cx, reqs), "cpu");
  for (Tensor &t : ts) {
    const dq_dequantize_request one = t.request(t.single_dst);
    ASSERT_EQ(dq_dequantize(ctx, &one), DQ_OK) << error();
    EXPECT_EQ(t.batch_dst, t.single_dst);
  }
  reqs[1].n_elements = 7;
  try {
    dq::dequantize_batch(cx, reqs);
    ADD_FAILURE() << "no exception";
  } catch (const dq::Error &e) {
    EXPECT_NE(std::string(e.what()).find("request 1: n_elements 7"), std::string::npos) << e.what();
  }
}

}  // namespace
