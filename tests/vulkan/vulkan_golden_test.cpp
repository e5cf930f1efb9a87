// Every tensor of the shared test data whose type the vulkan plugin advertises, dequantized
// on the first Vulkan device: f32 output bit-identical to ggml's golden, f16/bf16 equal to
// the golden rounded to nearest-even.
#include <vector>

#include "golden_output.hpp"
#include "manifest.hpp"
#include "vulkan_fixture.hpp"

namespace dq::test {
namespace {

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
