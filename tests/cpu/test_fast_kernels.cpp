// Fast kernel sets (AVX2, AVX-512, NEON) against the scalar specification: byte-identical
// output for every type and output type, at 1 block, odd block counts and a few million
// elements (the threaded path), plus the golden files through the fast path.
#include <gtest/gtest.h>

#include <cstring>
#include <ostream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "dispatch.hpp"
#include "dq/dq.h"
#include "dq_common/half.hpp"
#include "fast_random_blocks.hpp"
#include "kernel_table.hpp"
#include "manifest.hpp"

namespace dq::cpu {
// Readable parameters in test listings ("avx2" rather than a byte dump).
inline void PrintTo(Isa isa, std::ostream *os) { *os << isa_name(isa); }
}  // namespace dq::cpu

namespace {

using dq::cpu::Isa;
using dq::cpu::KernelSet;

constexpr Isa kFastIsas[] = {Isa::kAvx2, Isa::kAvx512, Isa::kNeon};
constexpr int32_t kOutTypes[] = {DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16};

const char *out_name(int32_t out) { return out == DQ_TYPE_F32 ? "f32" : out == DQ_TYPE_F16 ? "f16" : "bf16"; }

// The set for `isa`, or a reason to skip.
const KernelSet *set_or_reason(Isa isa, std::string *reason) {
  const KernelSet *set = dq::cpu::kernel_set_for(isa);
  if (!set) *reason = std::string(dq::cpu::isa_name(isa)) + " is not supported by this CPU or build";
  return set;
}

// Enough threads to exercise the pool even on a 1-core machine.
int test_threads() { return std::max(2u, std::thread::hardware_concurrency()); }

// ------------------------------------------------------------------ fast == scalar
using Case = std::tuple<Isa, int32_t, int32_t>;  // isa, src type, out type

class FastMatchesScalar : public testing::TestWithParam<Case> {};

TEST_P(FastMatchesScalar, ByteIdenticalOnRandomBlocks) {
  const auto [isa, type, out] = GetParam();
  std::string reason;
  const KernelSet *set = set_or_reason(isa, &reason);
  if (!set) GTEST_SKIP() << reason;
  const int oi = dq::cpu::out_index(out);
  const dq::cpu::BlockFn ref = dq::cpu::scalar_kernels().fn[type][oi];
  const dq::cpu::BlockFn fast = set->fn[type][oi];
  if (!ref) GTEST_SKIP() << "no scalar kernel for " << dq::type_traits(type)->name << " yet";
  if (!fast) GTEST_SKIP() << dq::cpu::isa_name(isa) << " has no kernel for " << dq::type_traits(type)->name
                          << " (dispatch uses scalar)";

  const dq::TypeTraits *t = dq::type_traits(type);
  const size_t out_size = dq::output_type_size(out);
  // Several million elements (odd block count) go through the thread pool.
  const int64_t big = ((int64_t{9} << 19) / t->block_elements) | 1;  // 4.5M elements: > 8 MiB of f16
  for (int64_t n_blocks : {int64_t{1}, int64_t{7}, int64_t{33}, big}) {
    SCOPED_TRACE(testing::Message() << n_blocks << " blocks");
    // One spare leading byte so block fields sit at odd addresses, as in real files.
    std::vector<uint8_t> src = dq::test::random_blocks(type, n_blocks, static_cast<uint64_t>(n_blocks));
    src.insert(src.begin(), 0x5a);
    const size_t n_out = static_cast<size_t>(n_blocks * t->block_elements) * out_size;
    std::vector<uint8_t> want(n_out, 0xee), got_storage(n_out + 64 + out_size);
    ref(src.data() + 1, want.data(), n_blocks);
    // The big case runs twice through the threaded dispatcher: into a 64-byte-aligned
    // destination (non-temporal stores) and into a misaligned one (regular stores).
    for (size_t misalign : n_blocks == big ? std::vector<size_t>{0, out_size} : std::vector<size_t>{0}) {
      SCOPED_TRACE(testing::Message() << "destination misaligned by " << misalign << " bytes");
      uint8_t *got = got_storage.data() + (64 - reinterpret_cast<uintptr_t>(got_storage.data()) % 64) + misalign;
      std::memset(got, 0x11, n_out);
      if (n_blocks == big) {
        std::string error;
        ASSERT_EQ(dq::cpu::run_dequantize_with(*set, test_threads(), type, out, src.data() + 1, got, n_blocks,
                                               &error), DQ_OK) << error;
      } else {
        fast(src.data() + 1, got, n_blocks);
      }
      if (std::memcmp(want.data(), got, n_out) != 0) {
        size_t i = 0;
        while (want[i] == got[i]) ++i;
        const size_t elem = i / out_size;
        FAIL() << "first difference at element " << elem << " (block " << elem / t->block_elements << ")";
      }
    }
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (Isa isa : kFastIsas)
    for (int32_t type = 0; type < dq::kTypeCount; ++type)
      if (dq::type_is_dequantizable(type))
        for (int32_t out : kOutTypes) cases.emplace_back(isa, type, out);
  return cases;
}

std::string case_name(const testing::TestParamInfo<Case> &info) {
  const auto [isa, type, out] = info.param;
  return std::string(dq::cpu::isa_name(isa)) + "_" + dq::type_traits(type)->name + "_to_" + out_name(out);
}

INSTANTIATE_TEST_SUITE_P(Cpu, FastMatchesScalar, testing::ValuesIn(all_cases()), case_name);

// ------------------------------------------------------------------ golden files, fast path
class FastGolden : public testing::TestWithParam<Isa> {};

TEST_P(FastGolden, EveryGoldenTensorThroughTheFastPath) {
  std::string reason;
  const KernelSet *set = set_or_reason(GetParam(), &reason);
  if (!set) GTEST_SKIP() << reason;
  DQ_REQUIRE_TESTDATA(dir);
  int checked = 0;
  for (const dq::test::ManifestRow &row : dq::test::golden_rows(dir)) {
    SCOPED_TRACE(row.file + " " + row.tensor);
    const dq::TypeTraits *t = dq::type_traits(row.type_id);
    ASSERT_NE(t, nullptr);
    if (!dq::cpu::scalar_kernels().fn[row.type_id][0] && !set->fn[row.type_id][0]) continue;  // not written yet
    const std::vector<unsigned char> bytes = dq::test::read_tensor_bytes(dir, row);
    ASSERT_EQ(bytes.size(), row.nbytes) << "short read";
    const std::vector<float> golden = dq::test::read_golden_f32(dir, row);
    ASSERT_EQ(golden.size(), static_cast<size_t>(row.n_elements));
    const int64_t n_blocks = row.n_elements / t->block_elements;
    std::vector<float> f32(static_cast<size_t>(row.n_elements));
    std::vector<uint16_t> f16(f32.size()), bf16(f32.size());
    std::string error;
    for (int32_t out : kOutTypes) {
      void *dst = out == DQ_TYPE_F32 ? static_cast<void *>(f32.data())
                  : out == DQ_TYPE_F16 ? static_cast<void *>(f16.data()) : static_cast<void *>(bf16.data());
      ASSERT_EQ(dq::cpu::run_dequantize_with(*set, test_threads(), row.type_id, out, bytes.data(), dst,
                                             n_blocks, &error), DQ_OK) << error;
    }
    ASSERT_EQ(std::memcmp(f32.data(), golden.data(), golden.size() * sizeof(float)), 0)
        << "f32 differs from golden";
    for (size_t i = 0; i < f32.size(); ++i) {
      ASSERT_EQ(f16[i], dq::f32_to_f16(golden[i])) << "f16 element " << i;
      ASSERT_EQ(bf16[i], dq::f32_to_bf16(golden[i])) << "bf16 element " << i;
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
  RecordProperty("tensors_checked", checked);
}

INSTANTIATE_TEST_SUITE_P(Cpu, FastGolden, testing::ValuesIn(kFastIsas),
                         [](const testing::TestParamInfo<Isa> &info) { return dq::cpu::isa_name(info.param); });

}  // namespace
