// Every tensor of the shared test data with a golden file, dequantized by the cuda plugin:
// f32 output bit-identical to ggml's golden, f16/bf16 equal to the golden rounded to
// nearest-even.
#include <vector>

#include "device_fixture.hpp"
#include "golden_output.hpp"
#include "manifest.hpp"

namespace dq::test {
namespace {

TEST_F(CudaDevice, MatchesEveryGoldenFile) {
  DQ_REQUIRE_TESTDATA(dir);
  const auto rows = golden_rows(dir);
  ASSERT_FALSE(rows.empty());
  int checked = 0;
  for (const ManifestRow &r : rows) {
    if (!cuda->supports(r.type_id, 0)) continue;
    const auto src = read_tensor_bytes(dir, r);
    ASSERT_EQ(src.size(), r.nbytes) << r.file << " " << r.tensor;
    const auto golden = read_golden_f32(dir, r);
    ASSERT_EQ(golden.size(), static_cast<size_t>(r.n_elements)) << r.golden;
    DeviceBuffer dsrc(cuda, src.size());
    ASSERT_NE(dsrc.get(), nullptr) << dsrc.error();
    ASSERT_EQ(cuda->mem_copy(0, dsrc.get(), src.data(), src.size(), DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK);
    for (int32_t out : {0, 1, 30}) {
      const size_t out_bytes = static_cast<size_t>(r.n_elements) * dq::output_type_size(out);
      DeviceBuffer ddst(cuda, out_bytes);
      ASSERT_NE(ddst.get(), nullptr) << ddst.error();
      dq_plugin_dequantize_args a =
          make_args(r.type_id, out, dsrc.get(), src.size(), r.n_elements, ddst.get(), out_bytes);
      ASSERT_EQ(cuda->dequantize(&a), DQ_OK) << cuda->last_error();
      std::vector<uint8_t> got(out_bytes);
      ASSERT_EQ(cuda->mem_copy(0, got.data(), ddst.get(), out_bytes, DQ_COPY_DEVICE_TO_HOST, nullptr), DQ_OK);
      EXPECT_EQ(compare_outputs(got, expected_from_golden(golden, out), out), "")
          << r.file << " " << r.tensor << " -> " << (out == 0 ? "f32" : out == 1 ? "f16" : "bf16");
      ++checked;
    }
  }
  EXPECT_GE(checked, 3 * 29) << "expected every type of all-types, random-blocks and extra-types";
}

}  // namespace
}  // namespace dq::test
