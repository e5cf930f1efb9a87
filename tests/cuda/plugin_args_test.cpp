// common/dq_common/plugin_args.hpp on the host: the argument checks the cpu, cuda, hip and
// vulkan plugins share. Their messages are part of the plugins' behaviour, so they are checked
// word for word, as is the batch walk stopping at the first bad element.
#include "dq_common/plugin_args.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace pa = dq::plugin_args;

// Records each refusal, as a plugin's fail() does, and returns its status.
struct Failures {
  std::vector<std::pair<int32_t, std::string>> seen;
  auto fn() {
    return [this](int32_t status, std::string message) {
      seen.emplace_back(status, std::move(message));
      return status;
    };
  }
};

dq_plugin_dequantize_args valid_request() {
  static float src[32], dst[32];
  dq_plugin_dequantize_args a{};
  a.struct_size = sizeof a;
  a.src_type = 0;  // f32
  a.dst_type = 0;
  a.src = src;
  a.src_bytes = sizeof src;
  a.dst = dst;
  a.dst_bytes = sizeof dst;
  a.n_elements = 32;
  a.src_on_host = a.dst_on_host = 1;
  return a;
}

// A caller's struct larger than this build's: the batch steps by the caller's size.
struct WiderArgs {
  dq_plugin_dequantize_args a;
  uint64_t newer_field;
};

TEST(PluginArgs, ArgsStructRefusesNullAndTooSmall) {
  Failures f;
  EXPECT_EQ(pa::check_args_struct(nullptr, "dequantize", f.fn()), DQ_ERR_INVALID_ARGUMENT);
  dq_plugin_dequantize_args small = valid_request();
  small.struct_size = pa::kMinArgsSize - 1;
  EXPECT_EQ(pa::check_args_struct(&small, "dequantize", f.fn()), DQ_ERR_INVALID_ARGUMENT);
  small.struct_size = pa::kMinArgsSize;
  EXPECT_EQ(pa::check_args_struct(&small, "dequantize", f.fn()), DQ_OK);
  ASSERT_EQ(f.seen.size(), 2u);
  EXPECT_EQ(f.seen[0].second, "dequantize: null arguments");
  EXPECT_EQ(f.seen[1].second, "dequantize: arguments struct too small");
}

TEST(PluginArgs, BatchValidatesEveryElementWithItsIndex) {
  Failures f;
  WiderArgs batch[3] = {{valid_request(), 0}, {valid_request(), 0}, {valid_request(), 0}};
  for (auto &w : batch) w.a.struct_size = sizeof(WiderArgs);
  std::vector<std::string> whats;
  std::vector<const void *> elements;
  const int32_t st = pa::check_batch_args(
      &batch[0].a, 3, f.fn(), [&](const dq_plugin_dequantize_args &a, const std::string &what) {
        whats.push_back(what);
        elements.push_back(&a);
        return DQ_OK;
      });
  EXPECT_EQ(st, DQ_OK);
  EXPECT_TRUE(f.seen.empty());
  EXPECT_EQ(whats,
            (std::vector<std::string>{"dequantize_batch: tensor 0", "dequantize_batch: tensor 1",
                                      "dequantize_batch: tensor 2"}));
  EXPECT_EQ(elements, (std::vector<const void *>{&batch[0].a, &batch[1].a, &batch[2].a}));
}

TEST(PluginArgs, BatchStopsAtTheFirstRefusal) {
  Failures f;
  dq_plugin_dequantize_args batch[4] = {valid_request(), valid_request(), valid_request(),
                                        valid_request()};
  int validated = 0;
  const int32_t st = pa::check_batch_args(
      batch, 4, f.fn(), [&](const dq_plugin_dequantize_args &, const std::string &what) {
        ++validated;
        return validated == 2 ? f.fn()(DQ_ERR_SIZE, what + ": too small") : DQ_OK;
      });
  EXPECT_EQ(st, DQ_ERR_SIZE);
  EXPECT_EQ(validated, 2);  // tensors 2 and 3 never reached
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_EQ(f.seen[0].second, "dequantize_batch: tensor 1: too small");
}

TEST(PluginArgs, BatchRefusesAnElementOfAnotherSizeBeforeValidatingIt) {
  Failures f;
  dq_plugin_dequantize_args batch[3] = {valid_request(), valid_request(), valid_request()};
  batch[1].struct_size = sizeof batch[1] + 8;
  int validated = 0;
  const int32_t st = pa::check_batch_args(
      batch, 3, f.fn(), [&](const dq_plugin_dequantize_args &, const std::string &) {
        ++validated;
        return DQ_OK;
      });
  EXPECT_EQ(st, DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(validated, 1);
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_EQ(f.seen[0].second, "dequantize_batch: tensor 1: struct_size " +
                                  std::to_string(sizeof batch[1] + 8) +
                                  " differs from the first's " + std::to_string(sizeof batch[0]));
}

TEST(PluginArgs, BatchRefusesNullAndTooSmallWithoutValidating) {
  Failures f;
  int validated = 0;
  auto count = [&](const dq_plugin_dequantize_args &, const std::string &) {
    return ++validated, DQ_OK;
  };
  EXPECT_EQ(pa::check_batch_args(nullptr, 1, f.fn(), count), DQ_ERR_INVALID_ARGUMENT);
  dq_plugin_dequantize_args small = valid_request();
  small.struct_size = 8;
  EXPECT_EQ(pa::check_batch_args(&small, 1, f.fn(), count), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(validated, 0);
  ASSERT_EQ(f.seen.size(), 2u);
  EXPECT_EQ(f.seen[0].second, "dequantize_batch: null arguments");
  EXPECT_EQ(f.seen[1].second, "dequantize_batch: arguments struct too small");
}

TEST(PluginArgs, OwnCopyTakesOnlyThisBuildsFields) {
  WiderArgs wide{valid_request(), 0xdeadbeef};
  wide.a.struct_size = sizeof wide;
  const dq_plugin_dequantize_args c = pa::own_copy(wide.a, sizeof wide);
  EXPECT_EQ(c.struct_size, sizeof c);
  EXPECT_EQ(c.src, wide.a.src);
  EXPECT_EQ(c.n_elements, 32);
}

TEST(PluginArgs, TypeRefusalsCarryThePrefix) {
  Failures f;
  dq_plugin_dequantize_args a = valid_request();
  a.src_type = 99;
  EXPECT_EQ(pa::check_request_types(a, "dequantize_batch: tensor 4: ", f.fn()),
            DQ_ERR_UNKNOWN_TYPE);
  a.src_type = 4;  // q4_2
  EXPECT_EQ(pa::check_request_types(a, "", f.fn()), DQ_ERR_UNKNOWN_TYPE);
  a.src_type = 24;  // i8
  EXPECT_EQ(pa::check_request_types(a, "", f.fn()), DQ_ERR_UNSUPPORTED);
  a.src_type = 12;  // q4_K
  a.dst_type = 2;
  EXPECT_EQ(pa::check_request_types(a, "x: ", f.fn()), DQ_ERR_INVALID_ARGUMENT);
  a.dst_type = 30;
  EXPECT_EQ(pa::check_request_types(a, "x: ", f.fn()), DQ_OK);
  ASSERT_EQ(f.seen.size(), 4u);
  EXPECT_EQ(f.seen[0].second, "dequantize_batch: tensor 4: type id 99 is unknown");
  EXPECT_EQ(f.seen[1].second, "type id 4 (q4_2) is retired");
  EXPECT_EQ(f.seen[2].second, "type id 24 (i8) has no dequantization");
  EXPECT_EQ(f.seen[3].second, "x: output type id 2 is not f32 (0), f16 (1) or bf16 (30)");
}

TEST(PluginArgs, SizeRefusalsAndTheBytesOfAGoodRequest) {
  Failures f;
  pa::RequestBytes bytes;
  dq_plugin_dequantize_args a = valid_request();
  a.src_type = 12;  // q4_K: 256 elements in 144 bytes
  a.dst_type = 1;   // f16
  a.n_elements = 0;
  EXPECT_EQ(pa::check_request_sizes(a, "p: ", &bytes, f.fn()), DQ_ERR_INVALID_ARGUMENT);
  a.n_elements = 100;
  EXPECT_EQ(pa::check_request_sizes(a, "p: ", &bytes, f.fn()), DQ_ERR_SIZE);
  a.n_elements = 512;
  a.src_bytes = 287;
  EXPECT_EQ(pa::check_request_sizes(a, "p: ", &bytes, f.fn()), DQ_ERR_SIZE);
  a.src_bytes = 288;
  a.dst_bytes = 1023;
  EXPECT_EQ(pa::check_request_sizes(a, "p: ", &bytes, f.fn()), DQ_ERR_SIZE);
  EXPECT_EQ(bytes.src, 0u);  // untouched by a refusal
  a.dst_bytes = 1024;
  EXPECT_EQ(pa::check_request_sizes(a, "p: ", &bytes, f.fn()), DQ_OK);
  EXPECT_EQ(bytes.src, 288u);
  EXPECT_EQ(bytes.dst, 1024u);
  EXPECT_EQ(bytes.out_size, 2u);
  ASSERT_EQ(f.seen.size(), 4u);
  EXPECT_EQ(f.seen[0].second, "p: element count 0 is not positive");
  EXPECT_EQ(f.seen[1].second, "p: element count 100 is not a multiple of q4_K's block of 256");
  EXPECT_EQ(f.seen[2].second, "p: source holds 287 bytes, 512 q4_K elements need 288");
  EXPECT_EQ(f.seen[3].second, "p: destination holds 1023 bytes, 512 outputs need 1024");
}

// Sizes past 64 bits are named as overflows, not as a bad block multiple (f32's block is 1)
// nor as a destination that "needs" the wrapped product.
TEST(PluginArgs, SizeOverflowsAreNamedAsSuch) {
  Failures f;
  pa::RequestBytes bytes;
  dq_plugin_dequantize_args a = valid_request();
  a.src_bytes = a.dst_bytes = UINT64_MAX;
  a.n_elements = INT64_MAX;  // f32: 4 * n source bytes overflow
  EXPECT_EQ(pa::check_request_sizes(a, "p: ", &bytes, f.fn()), DQ_ERR_SIZE);
  a.src_type = 2;                   // q4_0: 18 bytes per 32 elements fit...
  a.n_elements = INT64_C(1) << 62;  // ...but 4 * n f32 output bytes do not
  EXPECT_EQ(pa::check_request_sizes(a, "p: ", &bytes, f.fn()), DQ_ERR_SIZE);
  ASSERT_EQ(f.seen.size(), 2u);
  EXPECT_EQ(f.seen[0].second,
            "p: element count 9223372036854775807 of f32 overflows the byte size");
  EXPECT_EQ(f.seen[1].second,
            "p: element count 4611686018427387904 of f32 outputs overflows the byte size");
}

TEST(PluginArgs, RangesOverlapOnlyWhenTheyShareAByte) {
  char buf[16];
  EXPECT_TRUE(pa::ranges_overlap(buf, 8, buf + 7, 8));
  EXPECT_FALSE(pa::ranges_overlap(buf, 8, buf + 8, 8));
  EXPECT_FALSE(pa::ranges_overlap(buf + 8, 8, buf, 8));
  EXPECT_EQ(pa::type_label(12), "type id 12 (q4_K)");
  EXPECT_EQ(pa::type_label(-1), "type id -1");
}

}  // namespace
