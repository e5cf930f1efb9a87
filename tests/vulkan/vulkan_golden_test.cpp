// Every tensor of the shared test data whose type the vulkan plugin advertises, dequantized
// on the first Vulkan device: f32 output bit-identical to ggml's golden, f16/bf16 equal to
// the golden rounded to nearest-even.
#include <cstring>
#include <vector>

#include "dq_common/half.hpp"
#include "manifest.hpp"
#include "vulkan_fixture.hpp"

namespace dq::test {
namespace {

std::vector<uint8_t> expected_from_golden(const std::vector<float> &golden, int32_t out) {
  if (out == 0) {
    std::vector<uint8_t> e(golden.size() * 4);
    std::memcpy(e.data(), golden.data(), e.size());
    return e;
  }
  std::vector<uint8_t> e(golden.size() * 2);
  for (size_t i = 0; i < golden.size(); ++i) {
    const uint16_t h = out == 1 ? dq::f32_to_f16(golden[i]) : dq::f32_to_bf16(golden[i]);
    std::memcpy(e.data() + 2 * i, &h, 2);
  }
  return e;
}

const char *out_name(int32_t out) { return out == 0 ? "f32" : out == 1 ? "f16" : "bf16"; }

TEST_F(VulkanDevice, MatchesEveryGoldenFileOfTheAdvertisedTypes) {
  DQ_REQUIRE_TESTDATA(dir);
  const auto rows = golden_rows(dir);
  ASSERT_FALSE(rows.empty());
  int checked = 0;
  for (const ManifestRow &r : rows) {
    for (int32_t out : {0, 1, 30}) {
      if (!vk->supports(r.type_id, out)) continue;
      const auto src = read_tensor_bytes(dir, r);
      ASSERT_EQ(src.size(), r.nbytes) << r.file << " " << r.tensor;
      const auto golden = read_golden_f32(dir, r);
      ASSERT_EQ(golden.size(), static_cast<size_t>(r.n_elements)) << r.golden;
      std::vector<uint8_t> got;
      ASSERT_EQ(dequantize_host(vk, r.type_id, out, src, r.n_elements, &got), DQ_OK)
          << r.file << " " << r.tensor << " -> " << out_name(out) << ": " << vk->last_error();
      EXPECT_EQ(compare_outputs(got, expected_from_golden(golden, out), out), "")
          << r.file << " " << r.tensor << " (" << r.type << ") -> " << out_name(out);
      ++checked;
    }
  }
  // Every dequantizable type (29) x 3 outputs, each in two files at least.
  EXPECT_GE(checked, 2 * 29 * 3);
}

}  // namespace
}  // namespace dq::test
