// The scalar kernel set called directly (no plugin): every type has all three outputs, the
// f16 / bf16 entries equal the f32 entry rounded to nearest-even (NaN stays NaN), and
// kernels read exactly their blocks (buffers sized to the byte, so ASan sees any overread)
// from any byte address, for block counts that straddle the narrowing chunk.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "dq_common/type_traits.hpp"
#include "kernel_table.hpp"
#include "rne_reference.hpp"

namespace {

using dq::cpu::scalar_kernels;

std::vector<int32_t> dequantizable_types() {
  std::vector<int32_t> ids;
  for (const auto &t : dq::kTypeTable)
    if (t.dequantizable) ids.push_back(t.id);
  return ids;
}

TEST(ScalarKernels, EveryDequantizableTypeHasAllOutputs) {
  EXPECT_STREQ(scalar_kernels().isa, "scalar");
  EXPECT_EQ(dequantizable_types().size(), 29u);
  for (const auto &t : dq::kTypeTable)
    for (int o = 0; o < dq::cpu::kOutCount; ++o)
      EXPECT_EQ(scalar_kernels().fn[t.id][o] != nullptr, t.dequantizable) << t.name << " " << o;
}

class ScalarRandomBlocks : public ::testing::TestWithParam<int32_t> {};

TEST_P(ScalarRandomBlocks, NarrowOutputsAreRoundedF32) {
  const dq::TypeTraits &t = *dq::type_traits(GetParam());
  std::mt19937 rng(1234 + t.id);
  for (int64_t n_blocks : {int64_t{1}, int64_t{3}, int64_t{7}, int64_t{300}, int64_t{1031}}) {
    const size_t bytes = static_cast<size_t>(n_blocks) * t.block_bytes;
    const size_t n = static_cast<size_t>(n_blocks * t.block_elements);
    // Exact-size heap buffers at an odd address: unaligned and overread-detectable.
    std::unique_ptr<uint8_t[]> storage(new uint8_t[bytes + 1]);
    uint8_t *src = storage.get() + 1;
    for (size_t i = 0; i < bytes; ++i) src[i] = static_cast<uint8_t>(rng());
    std::unique_ptr<float[]> f32(new float[n]);
    std::unique_ptr<uint16_t[]> f16(new uint16_t[n]), bf16(new uint16_t[n]);
    scalar_kernels().fn[t.id][dq::cpu::kOutF32](src, f32.get(), n_blocks);
    scalar_kernels().fn[t.id][dq::cpu::kOutF16](src, f16.get(), n_blocks);
    scalar_kernels().fn[t.id][dq::cpu::kOutBF16](src, bf16.get(), n_blocks);
    size_t bad = 0;
    for (size_t i = 0; i < n && bad < 5; ++i) {
      if (std::isnan(f32[i])) {  // random scale bytes can be f16 NaN
        if ((f16[i] & 0x7c00) != 0x7c00 || (f16[i] & 0x3ff) == 0 || (bf16[i] & 0x7f80) != 0x7f80 ||
            (bf16[i] & 0x7f) == 0)
          ++bad, ADD_FAILURE() << t.name << " element " << i << ": NaN not kept";
        continue;
      }
      if (f16[i] != dq::test::reference_f16(f32[i]) || bf16[i] != dq::test::reference_bf16(f32[i]))
        ++bad, ADD_FAILURE() << t.name << " blocks " << n_blocks << " element " << i << ": f32 "
                             << f32[i] << " f16 " << f16[i] << " bf16 " << bf16[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, ScalarRandomBlocks, ::testing::ValuesIn(dequantizable_types()),
                         [](const ::testing::TestParamInfo<int32_t> &info) {
                           return std::string(dq::type_traits(info.param)->name);
                         });

}  // namespace
