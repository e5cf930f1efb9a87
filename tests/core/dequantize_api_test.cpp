// dq_dequantize through the public API: argument errors reach the caller with messages, and
// a valid call is served by the cpu plugin.
#include <cstring>
#include <string>
#include <vector>

#include "env_fixture.hpp"

using dq::test::EnvTest;

namespace {

class CoreDequantizeApi : public EnvTest {
 protected:
  dq_context *ctx = nullptr;
  std::vector<unsigned char> src = std::vector<unsigned char>(34 * 8);  // 8 q8_0 blocks
  std::vector<float> dst = std::vector<float>(256);
  dq_dequantize_request req{};

  void SetUp() override {
    EnvTest::SetUp();
    ctx = context();
    req.struct_size = sizeof(req);
    req.src_type = DQ_TYPE_Q8_0;
    req.dst_type = DQ_TYPE_F32;
    req.src = src.data();
    req.src_bytes = src.size();
    req.n_elements = 256;
    req.dst = dst.data();
    req.dst_bytes = dst.size() * sizeof(float);
  }
  void expect_error(dq_status status, const std::string &text) {
    EXPECT_EQ(dq_dequantize(ctx, &req), status);
    const std::string msg = dq_last_error(ctx);
    EXPECT_NE(msg.find(text), std::string::npos) << msg;
  }
};

// q8_0 block: f16 scale then 32 int8; scale 0x3C00 = 1.0, values i - 16.
void fill_q8_0(std::vector<unsigned char> &src) {
  for (size_t b = 0; b < src.size() / 34; ++b) {
    src[b * 34] = 0x00;
    src[b * 34 + 1] = 0x3C;
    for (int i = 0; i < 32; ++i)
      src[b * 34 + 2 + i] = static_cast<unsigned char>(static_cast<int8_t>(i - 16));
  }
}

// dq_last_error is the message of the last FAILED call: a success leaves it (dq.h).
TEST_F(CoreDequantizeApi, ValidCallIsServedAndKeepsTheLastFailure) {
  req.src_type = 99;
  ASSERT_NE(dq_dequantize(ctx, &req), DQ_OK);
  const std::string failure = dq_last_error(ctx);
  ASSERT_NE(failure, "");
  req.src_type = DQ_TYPE_Q8_0;
  fill_q8_0(src);
  ASSERT_EQ(dq_dequantize(ctx, &req), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(dq_last_error(ctx), failure);
  EXPECT_STREQ(dq_last_backend(ctx), "cpu");
  for (int i = 0; i < 256; ++i) ASSERT_EQ(dst[i], static_cast<float>(i % 32 - 16)) << i;
}

TEST_F(CoreDequantizeApi, NullContextAndRequest) {
  EXPECT_EQ(dq_dequantize(nullptr, &req), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_dequantize(ctx, nullptr), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx)).find("request is NULL"), std::string::npos);
}

TEST_F(CoreDequantizeApi, UnknownType) {
  req.src_type = 77;
  expect_error(DQ_ERR_UNKNOWN_TYPE, "dq_dequantize: src_type: type 77 is unknown");
}

TEST_F(CoreDequantizeApi, RetiredTypeIsNamed) {
  req.src_type = 4;
  expect_error(DQ_ERR_UNKNOWN_TYPE, "type 4 (q4_2) is retired");
}

TEST_F(CoreDequantizeApi, CountNotABlockMultiple) {
  req.n_elements = 250;
  expect_error(DQ_ERR_SIZE, "n_elements 250 is not a multiple of q8_0's block of 32");
}

TEST_F(CoreDequantizeApi, SourceTooShort) {
  req.src_bytes = 34 * 8 - 1;
  expect_error(DQ_ERR_SIZE, "src_bytes 271 is less than the 272 bytes");
}

TEST_F(CoreDequantizeApi, NullDestination) {
  req.dst = nullptr;
  expect_error(DQ_ERR_INVALID_ARGUMENT, "dst is NULL");
}

TEST_F(CoreDequantizeApi, DestinationTooSmallForBf16) {
  req.dst_type = DQ_TYPE_BF16;
  req.dst_bytes = 511;
  expect_error(DQ_ERR_SIZE, "dst_bytes 511 is less than the 512 bytes of 256 bf16 values");
}

TEST_F(CoreDequantizeApi, ForcedBackendOnRequestIsHonoured) {
  req.backend = "nosuch";
  expect_error(DQ_ERR_NO_BACKEND, "backend 'nosuch' not found");
  req.backend = "cpu";
  fill_q8_0(src);
  EXPECT_EQ(dq_dequantize(ctx, &req), DQ_OK) << dq_last_error(ctx);
}

TEST_F(CoreDequantizeApi, DeviceMemoryOfAnUnknownBackend) {
  req.src_where = {"nosuch", 0};
  expect_error(DQ_ERR_NO_BACKEND, "backend 'nosuch' not found");
}

}  // namespace
