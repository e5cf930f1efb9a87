// The vulkan plugin's own contract beyond dq-conformance: exactly the verified pairs are
// advertised, the exact f16/bf16 rounding on values the goldens may not reach, chunking of
// a tensor larger than one staging chunk, and loading without a Vulkan loader.
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <iterator>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dq_common/half.hpp"
#include "vulkan_fixture.hpp"

namespace dq::test {
namespace {

[[maybe_unused]] ::testing::Environment *const g_shutdown =
    ::testing::AddGlobalTestEnvironment(new VulkanShutdown);

// (type, output) pairs verified bit-exact on lavapipe; growing this list needs the goldens.
const std::set<std::pair<int32_t, int32_t>> &verified_pairs() {
  static const std::set<std::pair<int32_t, int32_t>> s = [] {
    std::set<std::pair<int32_t, int32_t>> r;
    for (int32_t t : {0, 1, 30, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14, 15, 20, 23, 34, 35, 39, 40, 41, 42, 16, 17, 18,
                      19, 21, 22, 29})
      for (int32_t o : {0, 1, 30}) r.insert({t, o});
    return r;
  }();
  return s;
}

TEST(VulkanPlugin, AdvertisesExactlyTheVerifiedPairs) {
  const LoadedPlugin &p = vulkan_plugin();
  ASSERT_NE(p.api, nullptr) << p.error;
  // A device that flushes f32 subnormals (NVIDIA; the init probe) takes Q8_K and MXFP4 away.
  const bool flushes = std::string(p.api->describe()).find("flushes f32 subnormals") != std::string::npos;
  for (int32_t t = -2; t < 64; ++t)
    for (int32_t o : {0, 1, 30, 2, -1}) {
      const bool refused = flushes && (t == 15 || t == 39);
      EXPECT_EQ(p.api->supports(t, o), verified_pairs().count({t, o}) && !refused ? 1 : 0)
          << "type " << t << " out " << o;
    }
}

// Every f32 bit pattern class that f16/bf16 rounding distinguishes: ties (even and odd),
// just above/below ties, f16 subnormals and their ties, the overflow boundary 65520, the
// smallest values that round to zero, infinities, and f32 subnormals (passed as bits).
TEST_F(VulkanDevice, F32ToHalfRoundsToNearestEvenExactly) {
  std::vector<uint32_t> bits = {0x00000000u, 0x80000000u, 0x00000001u, 0x807fffffu, 0x7f800000u, 0xff800000u,
                                0x477fefffu, 0x477ff000u, 0x477fe000u, 0x33000000u, 0x33000001u, 0x32ffffffu,
                                0x38800000u, 0x387fffffu, 0x3f801000u, 0x3f803000u, 0x3f801001u, 0x3f800fffu,
                                0x3f808000u, 0x3f818000u, 0x3f808001u, 0x7f7fffffu, 0x337fffffu, 0x33c00000u};
  for (uint32_t e = 100; e < 145; ++e)  // around the f16 subnormal range, with tie patterns
    for (uint32_t m : {0x000000u, 0x001000u, 0x002000u, 0x003000u, 0x400000u, 0x7fffffu, 0x0fffffu, 0x100000u})
      bits.push_back((e << 23) | m), bits.push_back(0x80000000u | (e << 23) | m);
  std::vector<uint8_t> src(bits.size() * 4);
  std::memcpy(src.data(), bits.data(), src.size());
  const int64_t n = static_cast<int64_t>(bits.size());
  for (int32_t out : {0, 1, 30}) {
    std::vector<uint8_t> got;
    ASSERT_EQ(dequantize_host(vk, 0, out, src, n, &got), DQ_OK) << vk->last_error();
    for (size_t i = 0; i < bits.size(); ++i) {
      float f;
      std::memcpy(&f, &bits[i], 4);
      uint32_t want = bits[i], have = 0;
      if (out == 1) want = dq::f32_to_f16(f);
      if (out == 30) want = dq::f32_to_bf16(f);
      std::memcpy(&have, got.data() + i * dq::output_type_size(out), dq::output_type_size(out));
      ASSERT_EQ(have, want) << "f32 bits 0x" << std::hex << bits[i] << " -> out " << std::dec << out;
    }
  }
}

// An odd element count of a 2-byte type (the shader writes outputs in pairs) and a tensor
// over one 64 MiB staging chunk, against the cpu reference.
TEST_F(VulkanDevice, OddCountsAndMultiChunkTensorsMatchTheCpuPlugin) {
  struct Case {
    int32_t type, out;
    int64_t n;
  };
  const int64_t big = (int64_t{1} << 24) + 5 * 32;  // Q4_0 to f32: just over one 64 MiB output chunk
  for (const Case c : {Case{1, 1, 7}, Case{30, 30, 1}, Case{1, 0, 12345}, Case{2, 0, big}, Case{8, 1, 1 << 21},
                       Case{12, 30, 1 << 20}}) {
    const auto bytes = dq::type_nbytes(c.type, c.n);
    ASSERT_TRUE(bytes.has_value());
    auto src = random_bytes(*bytes, 1234 + c.n);
    // Keep scales finite: zero the exponent-high bit of every f16 scale / value.
    if (c.type == 2)
      for (size_t b = 0; b + 18 <= src.size(); b += 18) src[b + 1] &= 0x3f;
    if (c.type == 8)
      for (size_t b = 0; b + 34 <= src.size(); b += 34) src[b + 1] &= 0x3f;
    if (c.type == 12)  // Q4_K: d and dmin
      for (size_t b = 0; b + 144 <= src.size(); b += 144) src[b + 1] &= 0x3f, src[b + 3] &= 0x3f;
    std::string why;
    const auto want = cpu_reference(c.type, c.out, src, c.n, &why);
    if (want.empty()) GTEST_SKIP() << why;
    std::vector<uint8_t> got;
    ASSERT_EQ(dequantize_host(vk, c.type, c.out, src, c.n, &got), DQ_OK) << vk->last_error();
    EXPECT_EQ(compare_outputs(got, want, c.out), "") << "type " << c.type << " out " << c.out << " n " << c.n;
  }
}

// Q8_K's scale is an f32: subnormal scales and subnormal products must survive (devices may
// flush denormals in float arithmetic: lavapipe reports shaderDenormPreserveFloat32 false).
// With the exact products forced (DQ_VULKAN_DENORM_EXACT=1) or the flush simulated
// (DQ_VULKAN_ASSUME_DENORM_FLUSH=1: the probe must pick the exact products), Q8_K and MXFP4
// must stay advertised: a refusal there would let the checks below skip.
bool exact_products_expected() {
  for (const char *name : {"DQ_VULKAN_DENORM_EXACT", "DQ_VULKAN_ASSUME_DENORM_FLUSH"})
    if (const char *v = std::getenv(name); v && std::strcmp(v, "1") == 0) return true;
  return false;
}

TEST_F(VulkanDevice, Q8KSubnormalScalesAreNotFlushed) {
  if (exact_products_expected()) {
    ASSERT_TRUE(vk->supports(15, 0)) << "Q8_K refused with the exact products";
  }
  if (!vk->supports(15, 0)) GTEST_SKIP() << "Q8_K not advertised";
  constexpr size_t kBlock = 292;
  const uint32_t scales[] = {0x00000001u, 0x00400000u, 0x807fffffu, 0x00800000u, 0x00ffffffu, 0x01000000u,
                             0x00000000u, 0x80000000u, 0x00012345u};
  std::vector<uint8_t> src(kBlock * std::size(scales), 0);
  for (size_t b = 0; b < std::size(scales); ++b) {
    std::memcpy(src.data() + b * kBlock, &scales[b], 4);
    for (int j = 0; j < 256; ++j) src[b * kBlock + 4 + j] = static_cast<uint8_t>(j);  // every int8
  }
  const int64_t n = 256 * static_cast<int64_t>(std::size(scales));
  for (int32_t out : {0, 1, 30}) {
    std::string why;
    const auto want = cpu_reference(15, out, src, n, &why);
    if (want.empty()) GTEST_SKIP() << why;
    std::vector<uint8_t> got;
    ASSERT_EQ(dequantize_host(vk, 15, out, src, n, &got), DQ_OK) << vk->last_error();
    EXPECT_EQ(compare_outputs(got, want, out), "") << "Q8_K out " << out;
  }
}

// MXFP4's E8M0 bytes 0 and 1 are subnormal scales (2^-128, 2^-127 after ggml's halving); the
// neighbours 2, 3 and the top bytes (254: 2^126 * 12 overflows to inf) check the float path
// around them. Every code in both nibbles of every block.
TEST_F(VulkanDevice, Mxfp4SubnormalScalesAreNotFlushed) {
  if (exact_products_expected()) {
    ASSERT_TRUE(vk->supports(39, 0)) << "MXFP4 refused with the exact products";
  }
  if (!vk->supports(39, 0)) GTEST_SKIP() << "MXFP4 not advertised";
  constexpr size_t kBlock = 17;
  const uint8_t scales[] = {0, 1, 2, 3, 127, 254, 255, 1, 0};
  std::vector<uint8_t> src(kBlock * std::size(scales), 0);
  for (size_t b = 0; b < std::size(scales); ++b) {
    src[b * kBlock] = scales[b];
    for (int j = 0; j < 16; ++j) src[b * kBlock + 1 + j] = static_cast<uint8_t>((j + b) % 16 | ((15 - j) << 4));
  }
  const int64_t n = 32 * static_cast<int64_t>(std::size(scales));
  for (int32_t out : {0, 1, 30}) {
    std::string why;
    const auto want = cpu_reference(39, out, src, n, &why);
    if (want.empty()) GTEST_SKIP() << why;
    std::vector<uint8_t> got;
    ASSERT_EQ(dequantize_host(vk, 39, out, src, n, &got), DQ_OK) << vk->last_error();
    EXPECT_EQ(compare_outputs(got, want, out), "") << "MXFP4 out " << out;
  }
}

TEST_F(VulkanDevice, RefusesAHostPointerAsDeviceMemory) {
  std::vector<uint8_t> src(34, 0), dst(32 * 4, 0xab);
  dq_plugin_dequantize_args a = make_args(8, 0, src.data(), src.size(), 32, dst.data(), dst.size());
  a.src_on_host = 0;
  a.dst_on_host = 1;
  EXPECT_EQ(vk->dequantize(&a), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vk->last_error()).find("is not memory of vulkan device 0"), std::string::npos)
      << vk->last_error();
  EXPECT_EQ(dst, std::vector<uint8_t>(32 * 4, 0xab));
}

// Run by the vulkan.cpu-driver-unloaded CTest with DQ_VULKAN_CPU=0: on a machine without a GPU
// device node the plugin reports no device and neither the loader nor lavapipe is loaded into
// the process (what keeps the core's sanitizer and valgrind runs clean); with a GPU, lavapipe
// is not among the devices.
TEST(VulkanCpuOnly, CpuDriversStayUnloadedUnlessAskedFor) {
  const char *cpu = std::getenv("DQ_VULKAN_CPU");
  if (!cpu || std::string(cpu) != "0") GTEST_SKIP() << "run by the vulkan.cpu-driver-unloaded test";
  const LoadedPlugin &p = vulkan_plugin();
  ASSERT_NE(p.api, nullptr) << p.error;
  for (int32_t d = 0; d < p.api->device_count(); ++d) {
    dq_plugin_device_props props{};
    props.struct_size = sizeof props;
    ASSERT_EQ(p.api->device_props(d, &props), DQ_OK);
    EXPECT_EQ(std::string(props.name).find("llvmpipe"), std::string::npos) << props.name;
  }
  if (p.api->device_count() > 0) GTEST_SKIP() << "this machine has a GPU: the loader was opened";
  EXPECT_NE(std::string(p.api->no_device_reason()).find("CPU Vulkan drivers (lavapipe) are left unloaded"),
            std::string::npos)
      << p.api->no_device_reason();
  EXPECT_EQ(dlopen("libvulkan.so.1", RTLD_NOW | RTLD_NOLOAD), nullptr) << "the Vulkan loader was opened";
  EXPECT_EQ(dlopen("libvulkan_lvp.so", RTLD_NOW | RTLD_NOLOAD), nullptr) << "lavapipe was loaded";
}

// Run by the vulkan.no-loader CTest with DQ_VULKAN_LOADER pointing at a missing file.
TEST(VulkanNoLoader, LoadsWithZeroDevicesAndSaysWhy) {
  const char *env = std::getenv("DQ_VULKAN_LOADER");
  if (!env || !*env) GTEST_SKIP() << "run by the vulkan.no-loader test (DQ_VULKAN_LOADER unset)";
  const LoadedPlugin &p = vulkan_plugin();
  ASSERT_NE(p.api, nullptr) << p.error;
  EXPECT_EQ(p.api->device_count(), 0);
  EXPECT_NE(std::string(p.api->no_device_reason()).find("no Vulkan loader"), std::string::npos)
      << p.api->no_device_reason();
  std::vector<uint8_t> src(34, 0), dst(32 * 4);
  dq_plugin_dequantize_args a = make_args(8, 0, src.data(), src.size(), 32, dst.data(), dst.size());
  a.src_on_host = a.dst_on_host = 1;
  EXPECT_EQ(p.api->dequantize(&a), DQ_ERR_NO_DEVICE);
  EXPECT_NE(std::string(p.api->last_error()).find("no Vulkan loader"), std::string::npos) << p.api->last_error();
}

}  // namespace
}  // namespace dq::test
