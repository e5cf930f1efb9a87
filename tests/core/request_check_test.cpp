// Validation of dq_dequantize requests: every rule has a case that breaks it.
#include "request_check.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dq::core {
namespace {

struct Buffers {
  std::vector<unsigned char> src = std::vector<unsigned char>(144 * 4);
  std::vector<float> dst = std::vector<float>(1024);
};

dq_dequantize_request q4k_request(Buffers &b) {
  dq_dequantize_request r{};
  r.struct_size = sizeof(r);
  r.src_type = DQ_TYPE_Q4_K;
  r.dst_type = DQ_TYPE_F32;
  r.src = b.src.data();
  r.src_bytes = b.src.size();
  r.n_elements = 1024;
  r.dst = b.dst.data();
  r.dst_bytes = b.dst.size() * sizeof(float);
  return r;
}

void expect_rejected(const dq_dequantize_request &r, dq_status status, const std::string &text) {
  Verdict v = check_request(&r);
  EXPECT_EQ(v.status, status) << v.message;
  EXPECT_NE(v.message.find(text), std::string::npos) << "message: " << v.message;
}

TEST(CoreRequestCheck, ValidRequestPasses) {
  Buffers b;
  dq_dequantize_request r = q4k_request(b);
  EXPECT_EQ(check_request(&r).status, DQ_OK);
}

TEST(CoreRequestCheck, NullsAndStructSize) {
  Buffers b;
  EXPECT_EQ(check_request(nullptr).status, DQ_ERR_INVALID_ARGUMENT);
  dq_dequantize_request r = q4k_request(b);
  r.dst = nullptr;
  expect_rejected(r, DQ_ERR_INVALID_ARGUMENT, "dst is NULL");
  r = q4k_request(b);
  r.src = nullptr;
  expect_rejected(r, DQ_ERR_INVALID_ARGUMENT, "src is NULL");
  r = q4k_request(b);
  r.struct_size = DQ_DEQUANTIZE_REQUEST_MIN_SIZE - 1;
  expect_rejected(r, DQ_ERR_INVALID_ARGUMENT, "DQ_DEQUANTIZE_REQUEST_MIN_SIZE");
  // An older caller's struct ends before stream/backend (or the locations): accepted, and
  // the missing fields read as zero even when the bytes after them are garbage.
  for (size_t size : {offsetof(dq_dequantize_request, backend),
                      offsetof(dq_dequantize_request, stream),
                      static_cast<size_t>(DQ_DEQUANTIZE_REQUEST_MIN_SIZE)}) {
    r = q4k_request(b);
    r.struct_size = size;
    r.backend = "beyond the caller's struct";
    if (size == DQ_DEQUANTIZE_REQUEST_MIN_SIZE) r.src_where = {"other", 5};
    EXPECT_EQ(check_request(&r).status, DQ_OK) << size << ": " << check_request(&r).message;
    const dq_dequantize_request w = widened(r);
    EXPECT_EQ(w.backend, nullptr) << size;
    EXPECT_EQ(w.struct_size, sizeof w);
    if (size == DQ_DEQUANTIZE_REQUEST_MIN_SIZE) {
      EXPECT_EQ(w.src_where.backend, nullptr);
    }
  }
}

TEST(CoreRequestCheck, TypeRules) {
  Buffers b;
  dq_dequantize_request r = q4k_request(b);
  r.src_type = 99;
  expect_rejected(r, DQ_ERR_UNKNOWN_TYPE, "type 99 is unknown");
  r.src_type = -1;
  expect_rejected(r, DQ_ERR_UNKNOWN_TYPE, "type -1 is unknown");
  r.src_type = 4;
  expect_rejected(r, DQ_ERR_UNKNOWN_TYPE, "type 4 (q4_2) is retired");
  r.src_type = 36;
  expect_rejected(r, DQ_ERR_UNKNOWN_TYPE, "type 36 (iq4_nl_4_4) is retired");
  r.src_type = DQ_TYPE_Q8_1;
  expect_rejected(r, DQ_ERR_UNSUPPORTED, "(q8_1) cannot be dequantized");
  r.src_type = DQ_TYPE_I32;
  expect_rejected(r, DQ_ERR_UNSUPPORTED, "(i32) cannot be dequantized");
  r = q4k_request(b);
  r.dst_type = DQ_TYPE_Q4_0;
  expect_rejected(r, DQ_ERR_INVALID_ARGUMENT, "dst_type: type 2 (q4_0) is not an output type");
}

TEST(CoreRequestCheck, CountRules) {
  Buffers b;
  dq_dequantize_request r = q4k_request(b);
  r.n_elements = 0;
  expect_rejected(r, DQ_ERR_INVALID_ARGUMENT, "n_elements is 0");
  r.n_elements = -256;
  expect_rejected(r, DQ_ERR_INVALID_ARGUMENT, "must be > 0");
  r.n_elements = 1000;
  expect_rejected(r, DQ_ERR_SIZE, "n_elements 1000 is not a multiple of q4_K's block of 256");
  r.n_elements = INT64_MAX / 256 * 256;  // source fits, f32 output bytes overflow 64 bits
  r.src_bytes = SIZE_MAX;
  expect_rejected(r, DQ_ERR_SIZE, "overflows the output size");
}

TEST(CoreRequestCheck, BufferSizes) {
  Buffers b;
  dq_dequantize_request r = q4k_request(b);
  r.src_bytes = 144 * 4 - 1;
  expect_rejected(r, DQ_ERR_SIZE, "src_bytes 575 is less than the 576 bytes of 1024 q4_K elements");
  r = q4k_request(b);
  r.dst_type = DQ_TYPE_F16;
  r.dst_bytes = 2047;
  expect_rejected(r, DQ_ERR_SIZE, "dst_bytes 2047 is less than the 2048 bytes of 1024 f16 values");
  r.dst_bytes = 2048;
  EXPECT_EQ(check_request(&r).status, DQ_OK);
  r = q4k_request(b);
  r.src_type = DQ_TYPE_F32;
  r.n_elements = INT64_MAX;  // 4 bytes each: would pass a wrapping size check
  r.src_bytes = SIZE_MAX;
  expect_rejected(r, DQ_ERR_SIZE, "overflows the byte count");
}

TEST(CoreRequestCheck, OverlappingHostBuffers) {
  std::vector<unsigned char> mem(8192);
  dq_dequantize_request r{};
  r.struct_size = sizeof(r);
  r.src_type = DQ_TYPE_Q8_0;
  r.dst_type = DQ_TYPE_F32;
  r.src = mem.data();
  r.src_bytes = 34;
  r.n_elements = 32;
  r.dst = mem.data() + 16;
  r.dst_bytes = 128;
  expect_rejected(r, DQ_ERR_INVALID_ARGUMENT, "overlap");
  r.dst = mem.data() + 34;
  EXPECT_EQ(check_request(&r).status, DQ_OK);
}

TEST(CoreRequestCheck, LocationsMustAgree) {
  Buffers b;
  dq_dequantize_request r = q4k_request(b);
  r.src_where = {"cuda", 0};
  r.dst_where = {"vulkan", 0};
  expect_rejected(r, DQ_ERR_INVALID_ARGUMENT, "one backend");
  r.dst_where = {"cuda", 1};
  expect_rejected(r, DQ_ERR_INVALID_ARGUMENT, "different devices");
  r.dst_where = {"host", 0};
  r.backend = "cpu";
  expect_rejected(r, DQ_ERR_INVALID_ARGUMENT,
                  "backend 'cpu' forced, but the memory is on backend 'cuda'");
  r.backend = nullptr;
  EXPECT_EQ(check_request(&r).status, DQ_OK);
  EXPECT_STREQ(device_backend_of(r), "cuda");
}

}  // namespace
}  // namespace dq::core
