// The vulkan plugin's shader paths (plugins/vulkan/shaders/common.glsl): the run path
// (8 outputs of one block per invocation, the default), the per-element path
// (DQ_VULKAN_PATH=per-element) and the staged modules' run path (DQ_VULKAN_SHADER=staged,
// prefetch)
// give the cpu plugin's bytes, including where they differ in
// code: every 16-bit pattern through F16 and BF16 (the run path's F16 -> f16 and BF16 -> bf16
// skip the widen/narrow round trip and must still quiet NaNs as it does), and chunks whose
// first or last 8-element group is cut, for every family.
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "dq_common/half.hpp"
#include "vulkan_fixture.hpp"

namespace dq::test {
namespace {

[[maybe_unused]] ::testing::Environment *const g_shutdown =
    ::testing::AddGlobalTestEnvironment(new VulkanShutdown);

// Sets (or with nullptr unsets) one environment variable for a scope; the plugin reads
// DQ_VULKAN_PATH, DQ_VULKAN_SHADER and DQ_VULKAN_STAGE_* at each call.
class EnvScope {
 public:
  EnvScope(const char *name, const char *value) : name_(name) {
    if (const char *old = std::getenv(name)) old_ = old, had_ = true;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~EnvScope() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char *name_;
  std::string old_;
  bool had_ = false;
};

// The shader paths and variants: the unstaged run path (DQ_VULKAN_SHADER=run), the
// per-element path, and the staged modules' run path (DQ_VULKAN_SHADER=staged / prefetch)
// with the default tile, with one block per tile (every tile boundary a block boundary, the
// most tiles), prefetch as shipped (nothing set), and prefetch with 3 workgroups (each takes
// many tiles, the next one loaded while one is decoded).
struct Variant {
  const char *name;
  const char *path;            // DQ_VULKAN_PATH
  const char *shader;          // DQ_VULKAN_SHADER
  const char *stage_elements;  // DQ_VULKAN_STAGE_ELEMENTS
  const char *stage_groups;    // DQ_VULKAN_STAGE_GROUPS
};
constexpr Variant kVariants[] = {{"run", "run", "run", nullptr, nullptr},
                                 {"per-element", "per-element", nullptr, nullptr, nullptr},
                                 {"staged", "run", "staged", nullptr, nullptr},
                                 {"staged, one block per tile", "run", "staged", "1", nullptr},
                                 {"default (prefetch)", nullptr, nullptr, nullptr, nullptr},
                                 {"prefetch, 3 workgroups", "run", "prefetch", "300", "3"}};

class VariantScope {
 public:
  explicit VariantScope(const Variant &v)
      : path_("DQ_VULKAN_PATH", v.path), shader_("DQ_VULKAN_SHADER", v.shader),
        elements_("DQ_VULKAN_STAGE_ELEMENTS", v.stage_elements), groups_("DQ_VULKAN_STAGE_GROUPS", v.stage_groups) {}

 private:
  EnvScope path_, shader_, elements_, groups_;
};

TEST_F(VulkanDevice, EveryHalfPatternThroughF16AndBF16MatchesTheCpuPluginOnEveryPath) {
  // 65536 patterns and 5 more, so the last 8-element group is cut.
  const int64_t n = 65536 + 5;
  std::vector<uint8_t> src(static_cast<size_t>(n) * 2);
  for (int64_t i = 0; i < n; ++i) {
    src[static_cast<size_t>(2 * i)] = static_cast<uint8_t>(i & 0xff);
    src[static_cast<size_t>(2 * i + 1)] = static_cast<uint8_t>((i >> 8) & 0xff);
  }
  for (int32_t type : {1, 30})
    for (int32_t out : {0, 1, 30}) {
      std::string why;
      const auto want = cpu_reference(type, out, src, n, &why);
      if (want.empty()) GTEST_SKIP() << why;
      std::vector<uint8_t> by_path[std::size(kVariants)];
      for (size_t p = 0; p < std::size(kVariants); ++p) {
        VariantScope scope(kVariants[p]);
        ASSERT_EQ(dequantize_host(vk, type, out, src, n, &by_path[p]), DQ_OK) << vk->last_error();
        EXPECT_EQ(compare_outputs(by_path[p], want, out), "")
            << "type " << type << " out " << out << " path " << kVariants[p].name;
      }
      // compare_outputs lets any NaN match any NaN; the paths must agree bit for bit, NaN
      // payloads included, and same-width outputs must be half.hpp's round trip exactly.
      for (size_t p = 1; p < std::size(kVariants); ++p)
        EXPECT_TRUE(by_path[0] == by_path[p])
            << "type " << type << " out " << out << ": run and " << kVariants[p].name << " differ";
      if (type == out) {
        size_t bad = 0;
        for (int64_t i = 0; i < n; ++i) {
          const auto h = static_cast<uint16_t>(i & 0xffff);
          const uint16_t want_bits = type == 1 ? dq::f32_to_f16(dq::f16_to_f32(h)) : dq::f32_to_bf16(dq::bf16_to_f32(h));
          uint16_t got_bits = 0;
          std::memcpy(&got_bits, by_path[0].data() + 2 * i, 2);
          if (got_bits != want_bits && bad++ == 0)
            ADD_FAILURE() << "type " << type << ": 0x" << std::hex << h << " -> 0x" << got_bits << ", want 0x" << want_bits;
        }
        EXPECT_EQ(bad, 0u) << "type " << type;
      }
    }
}

// One type per family and code branch of decode8; element counts that end inside an
// 8-element group where the block allows (block of 1), and whole blocks otherwise; random
// bytes with finite f16 scales.
TEST_F(VulkanDevice, EveryFamilyMatchesTheCpuPluginOnEveryPath) {
  struct Case {
    int32_t type;
    int64_t n;
  };
  const Case cases[] = {{0, 8 * 1000 + 3}, {1, 8 * 1000 + 7}, {30, 8 * 1000 + 1},          // float
                        {2, 32 * 300},     {3, 32 * 300},     {6, 32 * 300},   {7, 32 * 300},  // legacy
                        {8, 32 * 300},     {10, 256 * 40},    {11, 256 * 40},  {12, 256 * 40},
                        {13, 256 * 40},    {14, 256 * 40},    {15, 256 * 40},                  // k-quants
                        {20, 32 * 300},    {23, 256 * 40},    {39, 32 * 300},  {40, 64 * 150},
                        {41, 128 * 80},    {42, 64 * 150},    {34, 256 * 40},  {35, 256 * 40},  // low-bit
                        {16, 256 * 40},    {17, 256 * 40},    {22, 256 * 40},  {18, 256 * 40},
                        {21, 256 * 40},    {19, 256 * 40},    {29, 256 * 40}};                 // i-quants
  for (const Case c : cases) {
    if (!vk->supports(c.type, 0)) continue;  // e.g. Q8_K/MXFP4 on a device that flushes subnormals
    const auto bytes = dq::type_nbytes(c.type, c.n);
    ASSERT_TRUE(bytes.has_value()) << c.type;
    auto src = random_bytes(*bytes, 77 + c.type);
    // Finite values: clear the top exponent bit of every 16-bit word (f16 scales, F16/BF16
    // values); F32 keeps its random bits (the copy is exact for any of them).
    if (c.type != 0)
      for (size_t i = 1; i < src.size(); i += 2) src[i] &= 0x3f;
    for (int32_t out : {0, 1, 30}) {
      std::string why;
      const auto want = cpu_reference(c.type, out, src, c.n, &why);
      if (want.empty()) GTEST_SKIP() << why;
      for (const Variant &v : kVariants) {
        VariantScope scope(v);
        std::vector<uint8_t> got;
        ASSERT_EQ(dequantize_host(vk, c.type, out, src, c.n, &got), DQ_OK) << vk->last_error();
        EXPECT_EQ(compare_outputs(got, want, out), "") << "type " << c.type << " out " << out << " path " << v.name;
      }
    }
  }
}

// A misspelt variant is refused with its name, not silently run as the default.
TEST_F(VulkanDevice, AnUnknownShaderVariantIsRefusedNamingIt) {
  EnvScope scope("DQ_VULKAN_SHADER", "stagged");
  const std::vector<uint8_t> src(18 * 4, 0);
  std::vector<uint8_t> got;
  EXPECT_NE(dequantize_host(vk, 2, 1, src, 128, &got), DQ_OK);
  const std::string error = vk->last_error();
  EXPECT_NE(error.find("DQ_VULKAN_SHADER=stagged is not a shader variant"), std::string::npos) << error;
}

}  // namespace
}  // namespace dq::test
