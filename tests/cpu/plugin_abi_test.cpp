// The cpu plugin's ABI surface: handshake, device, supports(), and refusals of bad requests
// with a status and a message naming the problem.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cpu_plugin_loader.hpp"
#include "dq_common/type_traits.hpp"

namespace {

const dq_plugin_api *plugin() {
  static const dq::test::LoadedPlugin loaded = dq::test::load_cpu_plugin("scalar");
  return loaded.api;
}

class CpuPluginAbi : public ::testing::Test {
 protected:
  void SetUp() override {
    api = plugin();
    ASSERT_NE(api, nullptr) << dq::test::load_cpu_plugin("scalar").error;
  }
  const dq_plugin_api *api = nullptr;
  // One valid Q8_0 block: d = 1.0 (0x3c00), quants 0..31.
  std::vector<unsigned char> q8_block() {
    std::vector<unsigned char> b(34);
    b[0] = 0x00;
    b[1] = 0x3c;
    for (int i = 0; i < 32; ++i) b[2 + i] = static_cast<unsigned char>(i);
    return b;
  }
};

TEST_F(CpuPluginAbi, HandshakeAndIdentity) {
  EXPECT_EQ(api->abi_major, static_cast<uint32_t>(DQ_PLUGIN_ABI_MAJOR));
  EXPECT_EQ(api->struct_size, sizeof(dq_plugin_api));
  EXPECT_STREQ(api->name, "cpu");
  ASSERT_NE(api->describe, nullptr);
  EXPECT_NE(std::string(api->describe()).find("scalar"), std::string::npos) << api->describe();
  EXPECT_STREQ(api->last_error(), "");
}

TEST_F(CpuPluginAbi, RefusesOtherAbiMajor) {
  // The entry itself returns NULL for a host of another major version.
  const std::string path = std::string(DQ_PLUGIN_DIR) + "/libdq-cpu.so";
  void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr);
  auto entry = reinterpret_cast<dq_plugin_entry_fn>(dlsym(h, DQ_PLUGIN_ENTRY_SYMBOL));
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry(DQ_PLUGIN_ABI_MAJOR + 1, 0), nullptr);
}

TEST_F(CpuPluginAbi, OneHostDevice) {
  EXPECT_EQ(api->device_count(), 1);
  dq_plugin_device_props p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(api->device_props(0, &p), DQ_OK);
  EXPECT_STREQ(p.name, "host CPU");
  EXPECT_GT(p.total_memory, 0u);
  EXPECT_LE(p.free_memory, p.total_memory);
  EXPECT_EQ(p.is_gpu, 0);
  EXPECT_NE(api->device_props(1, &p), DQ_OK);
}

TEST_F(CpuPluginAbi, SupportsExactlyTheDequantizableTypes) {
  for (int32_t id = -2; id < dq::kTypeCount + 3; ++id) {
    const dq::TypeTraits *t = dq::type_traits(id);
    const bool want = t && t->dequantizable;
    for (int32_t out : {0, 1, 30}) EXPECT_EQ(api->supports(id, out), want ? 1 : 0) << id;
    EXPECT_EQ(api->supports(id, 2), 0) << "q4_0 is not an output type";
  }
}

TEST_F(CpuPluginAbi, RefusesRetiredAndUnknownIdsByName) {
  std::vector<unsigned char> src(1024);
  std::vector<float> dst(1024);
  for (int32_t id : {4, 5, 31, 32, 33, 36, 37, 38}) {
    auto a = dq::test::host_args(id, DQ_TYPE_F32, src.data(), src.size(), 32, dst.data(),
                                 dst.size() * 4);
    EXPECT_EQ(api->dequantize(&a), DQ_ERR_UNKNOWN_TYPE) << id;
    const std::string msg = api->last_error();
    EXPECT_NE(msg.find(dq::type_traits(id)->name), std::string::npos) << msg;
    EXPECT_NE(msg.find("retired"), std::string::npos) << msg;
  }
  for (int32_t id : {-1, 43, 156}) {
    auto a = dq::test::host_args(id, DQ_TYPE_F32, src.data(), src.size(), 32, dst.data(),
                                 dst.size() * 4);
    EXPECT_EQ(api->dequantize(&a), DQ_ERR_UNKNOWN_TYPE) << id;
    const std::string msg = api->last_error();
    EXPECT_NE(msg.find(std::to_string(id)), std::string::npos) << msg;
    EXPECT_NE(msg.find("unknown"), std::string::npos) << msg;
  }
  // Known types without a dequantization (Q8_1, integers) are unsupported, not unknown.
  for (int32_t id : {9, 24, 26, 28}) {
    auto a = dq::test::host_args(id, DQ_TYPE_F32, src.data(), src.size(), 32, dst.data(),
                                 dst.size() * 4);
    EXPECT_EQ(api->dequantize(&a), DQ_ERR_UNSUPPORTED) << id;
    EXPECT_NE(std::string(api->last_error()).find(dq::type_traits(id)->name), std::string::npos);
  }
}

TEST_F(CpuPluginAbi, ValidatesSizesAndBuffers) {
  auto block = q8_block();
  std::vector<float> dst(64);
  auto good = dq::test::host_args(DQ_TYPE_Q8_0, DQ_TYPE_F32, block.data(), block.size(), 32,
                                  dst.data(), dst.size() * 4);
  ASSERT_EQ(api->dequantize(&good), DQ_OK) << api->last_error();
  for (int i = 0; i < 32; ++i) EXPECT_EQ(dst[i], static_cast<float>(i));

  auto a = good;
  a.n_elements = 33;  // not a block multiple
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_SIZE);
  EXPECT_NE(std::string(api->last_error()).find("q8_0"), std::string::npos) << api->last_error();
  a = good;
  a.n_elements = 64;  // source too short for two blocks
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_SIZE);
  a = good;
  a.dst_bytes = 31 * 4;  // destination too small: the shared wording names the bytes needed
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_SIZE);
  EXPECT_STREQ(api->last_error(), "destination holds 124 bytes, 32 outputs need 128");
  a = good;
  a.n_elements = 0;
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_INVALID_ARGUMENT);
  a = good;
  a.n_elements = -32;
  EXPECT_NE(api->dequantize(&a), DQ_OK);
  a = good;
  a.src = nullptr;
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_INVALID_ARGUMENT);
  a = good;
  a.dst = nullptr;
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_INVALID_ARGUMENT);
  a = good;
  a.dst_type = DQ_TYPE_Q8_0;  // not an output type
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_INVALID_ARGUMENT);
  a = good;
  a.device = 1;
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_INVALID_ARGUMENT);
  a = good;
  a.src_on_host = 0;
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_INVALID_ARGUMENT);
  a = good;
  a.struct_size = 8;
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(api->dequantize(nullptr), DQ_ERR_INVALID_ARGUMENT);
  // Huge element count: the byte sizes overflow, refused before any access.
  a = good;
  a.n_elements = (INT64_MAX / 32) * 32;
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_SIZE);
  a.src_type = DQ_TYPE_F32;  // INT64_MAX f32 elements: 4 * n overflows 64 bits
  a.n_elements = INT64_MAX;
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_SIZE);
  EXPECT_STREQ(api->last_error(),
               "element count 9223372036854775807 of f32 overflows the byte size");
  a.src_type = DQ_TYPE_Q8_0;  // 2^62 q8_0 elements: the source fits, 4 * n f32 outputs do not
  a.n_elements = INT64_C(1) << 62;
  a.src_bytes = a.dst_bytes = UINT64_MAX;
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_SIZE);
  EXPECT_STREQ(api->last_error(),
               "element count 4611686018427387904 of f32 outputs overflows the byte size");
  // In place (overlapping source and destination) would read already-written output.
  std::vector<unsigned char> buf(34 + 128);
  std::memcpy(buf.data(), block.data(), 34);
  a = dq::test::host_args(DQ_TYPE_Q8_0, DQ_TYPE_F32, buf.data(), 34, 32, buf.data(), buf.size());
  EXPECT_EQ(api->dequantize(&a), DQ_ERR_INVALID_ARGUMENT);
  // A success clears the previous message.
  EXPECT_EQ(api->dequantize(&good), DQ_OK);
  EXPECT_STREQ(api->last_error(), "");
}

// The batch makes the same checks (dq_common/plugin_args.hpp), each refusal prefixed once
// with the tensor's index, and refuses before any tensor is written.
TEST_F(CpuPluginAbi, BatchNamesTheRefusedTensorOnce) {
  ASSERT_NE(api->dequantize_batch, nullptr);
  auto block = q8_block();
  std::vector<float> dst0(32, -1.0f), dst1(32, -1.0f);
  dq_plugin_dequantize_args batch[2] = {
      dq::test::host_args(DQ_TYPE_Q8_0, DQ_TYPE_F32, block.data(), block.size(), 32, dst0.data(),
                          dst0.size() * 4),
      dq::test::host_args(DQ_TYPE_Q8_0, DQ_TYPE_F32, block.data(), block.size(), 32, dst1.data(),
                          dst1.size() * 4)};
  batch[1].dst = nullptr;
  EXPECT_EQ(api->dequantize_batch(batch, 2), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(api->last_error(), "dequantize_batch: tensor 1: null buffer");
  EXPECT_EQ(dst0[0], -1.0f) << "tensor 0 was written before the batch was refused";
  batch[1].dst = dst1.data();
  batch[1].dst_bytes = 31 * 4;
  EXPECT_EQ(api->dequantize_batch(batch, 2), DQ_ERR_SIZE);
  EXPECT_STREQ(api->last_error(),
               "dequantize_batch: tensor 1: destination holds 124 bytes, 32 outputs need 128");
  batch[1].dst_bytes = 32 * 4;
  batch[1].device = 2;
  EXPECT_EQ(api->dequantize_batch(batch, 2), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(api->last_error(),
               "dequantize_batch: tensor 1: cpu backend has only device 0, not 2");
  batch[1].device = 0;
  batch[0].struct_size = 8;
  EXPECT_EQ(api->dequantize_batch(batch, 2), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(api->last_error(), "dequantize_batch: arguments struct too small");
  batch[0].struct_size = sizeof batch[0];
  ASSERT_EQ(api->dequantize_batch(batch, 2), DQ_OK) << api->last_error();
  EXPECT_EQ(dst1[31], 31.0f);
}

}  // namespace
