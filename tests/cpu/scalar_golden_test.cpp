// The scalar path (DQ_CPU_ISA=scalar) through the plugin ABI against every golden file in
// testdata: f32 byte-identical; f16 / bf16 equal to the golden rounded to nearest-even.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "cpu_plugin_loader.hpp"
#include "dq_common/type_traits.hpp"
#include "manifest.hpp"
#include "rne_reference.hpp"

namespace {

using dq::test::ManifestRow;

const dq_plugin_api *plugin() {
  static const dq::test::LoadedPlugin loaded = dq::test::load_cpu_plugin("scalar");
  return loaded.api;
}

// Every type the CPU plugin must dequantize (issue 4's list).
const int32_t kTypes[] = {0,  1,  30, 2,  3,  6,  7,  8,  10, 11, 12, 13, 14, 15, 16,
                          17, 22, 18, 21, 19, 29, 20, 23, 34, 35, 39, 40, 41, 42};

std::string describe(const ManifestRow &r) { return r.file + ":" + r.tensor; }

// Index of the first differing element, or -1.
template <typename T>
int64_t first_difference(const std::vector<T> &a, const std::vector<T> &b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) return static_cast<int64_t>(i);
  return a.size() == b.size() ? -1 : static_cast<int64_t>(std::min(a.size(), b.size()));
}

template <typename T>
std::vector<T> run(const ManifestRow &r, int32_t dst_type, const unsigned char *src) {
  std::vector<T> out(static_cast<size_t>(r.n_elements));
  auto args = dq::test::host_args(r.type_id, dst_type, src, r.nbytes, r.n_elements, out.data(),
                                  out.size() * sizeof(T));
  const int32_t st = plugin()->dequantize(&args);
  EXPECT_EQ(st, DQ_OK) << describe(r) << ": " << plugin()->last_error();
  return out;
}

class ScalarGolden : public ::testing::TestWithParam<int32_t> {};

TEST_P(ScalarGolden, MatchesEveryGoldenOfItsType) {
  DQ_REQUIRE_TESTDATA(dir);
  ASSERT_NE(plugin(), nullptr) << dq::test::load_cpu_plugin("scalar").error;
  const int32_t type = GetParam();
  int rows_checked = 0;
  for (const ManifestRow &r : dq::test::golden_rows(dir)) {
    if (r.type_id != type) continue;
    SCOPED_TRACE(describe(r));
    ++rows_checked;
    const std::vector<unsigned char> bytes = dq::test::read_tensor_bytes(dir, r);
    ASSERT_EQ(bytes.size(), r.nbytes) << "tensor bytes missing from " << r.file;
    const std::vector<float> golden = dq::test::read_golden_f32(dir, r);
    ASSERT_EQ(golden.size(), static_cast<size_t>(r.n_elements)) << r.golden;

    // f32: byte-identical.
    const std::vector<float> f32 = run<float>(r, DQ_TYPE_F32, bytes.data());
    const int64_t bad = first_difference(f32, golden);
    EXPECT_EQ(bad, -1) << "f32 differs from the golden first at element " << bad
                       << (bad >= 0 && bad < r.n_elements
                               ? ": got " + std::to_string(f32[bad]) + ", want " +
                                     std::to_string(golden[bad])
                               : std::string());

    // Same result from an odd source address (fields must be read unaligned-safely).
    std::vector<unsigned char> shifted(bytes.size() + 1);
    std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
    EXPECT_EQ(first_difference(run<float>(r, DQ_TYPE_F32, shifted.data() + 1), golden), -1)
        << "f32 from an unaligned source differs";

    // f16 and bf16: the golden rounded to nearest-even.
    std::vector<uint16_t> want16(golden.size()), wantbf(golden.size());
    for (size_t i = 0; i < golden.size(); ++i) {
      want16[i] = dq::test::reference_f16(golden[i]);
      wantbf[i] = dq::test::reference_bf16(golden[i]);
    }
    const int64_t bad16 = first_difference(run<uint16_t>(r, DQ_TYPE_F16, bytes.data()), want16);
    EXPECT_EQ(bad16, -1) << "f16 output differs from RNE(golden) first at element " << bad16;
    const int64_t badbf = first_difference(run<uint16_t>(r, DQ_TYPE_BF16, bytes.data()), wantbf);
    EXPECT_EQ(badbf, -1) << "bf16 output differs from RNE(golden) first at element " << badbf;
  }
  EXPECT_GT(rows_checked, 0) << "no golden tensor of type " << dq::type_traits(type)->name
                             << " in manifest.tsv";
}

INSTANTIATE_TEST_SUITE_P(AllTypes, ScalarGolden, ::testing::ValuesIn(kTypes),
                         [](const ::testing::TestParamInfo<int32_t> &info) {
                           return std::string(dq::type_traits(info.param)->name);
                         });

}  // namespace
