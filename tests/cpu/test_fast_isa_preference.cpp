// The automatic kernel choice per (type, output, store kind) of isa_preference.cpp: which set
// each entry runs on a Zen 4 (double-pumped AVX-512) CPU and on others, that the dispatcher
// runs exactly those kernels when DQ_CPU_ISA is unset, and that the mixed set's outputs are
// the scalar set's. The timings behind the table are in docs/PERFORMANCE.md, not tested here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cpu_features.hpp"
#include "dispatch.hpp"
#include "dq/dq.h"
#include "fast_random_blocks.hpp"
#include "isa_preference.hpp"
#include "kernel_table.hpp"

namespace {

using dq::cpu::Isa;

constexpr int32_t kOuts[] = {DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16};

dq::cpu::CpuFeatures zen4() {
  dq::cpu::CpuFeatures f;
  f.avx2 = f.avx512 = f.avx512_double_pumped = true;
  return f;
}

bool x86_build() { return dq::cpu::isa_supported(Isa::kAvx2, zen4()); }

TEST(CpuIsaPreference, TableNamesDequantizableTypesAndOutputs) {
  size_t n = 0;
  const dq::cpu::Avx2Preference *table = dq::cpu::avx2_preferences(&n);
  ASSERT_GT(n, 0u);
  for (size_t i = 0; i < n; ++i) {
    const dq::TypeTraits *t = dq::type_traits(table[i].type);
    ASSERT_NE(t, nullptr) << "entry " << i;
    EXPECT_TRUE(t->dequantizable) << t->name;
    EXPECT_TRUE(table[i].out >= 0 && table[i].out < dq::cpu::kOutCount) << t->name;
    EXPECT_TRUE(table[i].regular || table[i].streaming) << t->name << ": an entry for nothing";
  }
}

// The choices the table encodes for a Zen 4 CPU (the measurements are in its comments).
TEST(CpuIsaPreference, Zen4RunsTheMeasuredFasterSetPerKernel) {
  if (!x86_build()) GTEST_SKIP() << "no x86 kernel sets in this build";
  const dq::cpu::CpuFeatures f = zen4();
  auto pick = [&](int32_t type, int32_t out, bool streaming) {
    return dq::cpu::preferred_isa(f, Isa::kAvx512, type, out, streaming);
  };
  // Q2_K -> f32: avx2 in cache only.
  EXPECT_EQ(pick(DQ_TYPE_Q2_K, DQ_TYPE_F32, false), Isa::kAvx2);
  EXPECT_EQ(pick(DQ_TYPE_Q2_K, DQ_TYPE_F32, true), Isa::kAvx512);
  EXPECT_EQ(pick(DQ_TYPE_Q2_K, DQ_TYPE_F16, false), Isa::kAvx512);
  // Everything else stays on AVX-512, e.g. F32 (both sets run the same speed) and Q4_0.
  for (int32_t out : kOuts)
    for (bool streaming : {false, true}) {
      EXPECT_EQ(pick(DQ_TYPE_F32, out, streaming), Isa::kAvx512);
      EXPECT_EQ(pick(DQ_TYPE_Q4_0, out, streaming), Isa::kAvx512);
      EXPECT_EQ(pick(DQ_TYPE_Q6_K, out, streaming), Isa::kAvx512);
      // Not reproducible from run to run (the load or the buffers' placement decided).
      EXPECT_EQ(pick(DQ_TYPE_BF16, out, streaming), Isa::kAvx512);
      EXPECT_EQ(pick(DQ_TYPE_F16, out, streaming), Isa::kAvx512);
      // Q1_0 and Q5_K lost on AVX-512 until their kernels dropped k-register lane masks.
      EXPECT_EQ(pick(DQ_TYPE_Q1_0, out, streaming), Isa::kAvx512);
      EXPECT_EQ(pick(DQ_TYPE_Q5_K, out, streaming), Isa::kAvx512);
    }
}

// The table was measured on Zen 4 only: elsewhere the best set runs every kernel.
TEST(CpuIsaPreference, OtherCpusRunTheBestSetEverywhere) {
  dq::cpu::CpuFeatures full_width = zen4();
  full_width.avx512_double_pumped = false;
  dq::cpu::CpuFeatures avx2_only;
  avx2_only.avx2 = true;
  for (int32_t type = 0; type < dq::kTypeCount; ++type)
    for (int32_t out : kOuts)
      for (bool streaming : {false, true}) {
        EXPECT_EQ(dq::cpu::preferred_isa(full_width, Isa::kAvx512, type, out, streaming), Isa::kAvx512);
        EXPECT_EQ(dq::cpu::preferred_isa(avx2_only, Isa::kAvx2, type, out, streaming), Isa::kAvx2);
        EXPECT_EQ(dq::cpu::preferred_isa(zen4(), Isa::kScalar, type, out, streaming), Isa::kScalar);
      }
}

// The set the dispatcher builds runs, entry by entry, the preferred set's kernel.
TEST(CpuIsaPreference, AutoSetHoldsThePreferredKernels) {
  const dq::cpu::CpuFeatures &f = dq::cpu::cpu_features();
  const Isa best = dq::cpu::best_isa(f);
  const dq::cpu::KernelSet *set = dq::cpu::auto_kernel_set(best);
  ASSERT_NE(set, nullptr);
  int from_other = 0;
  for (int32_t type = 0; type < dq::kTypeCount; ++type)
    for (int32_t out : kOuts)
      for (bool streaming : {false, true}) {
        const dq::cpu::KernelSet *want = dq::cpu::kernel_set_for(dq::cpu::preferred_isa(f, best, type, out, streaming));
        ASSERT_NE(want, nullptr);
        const dq::cpu::KernelSet *have = set;
        if (streaming) {
          if (!want->streaming) continue;  // sets without non-temporal kernels (scalar)
          want = want->streaming;
          have = set->streaming;
          ASSERT_NE(have, nullptr);
        }
        const int oi = dq::cpu::out_index(out);
        EXPECT_EQ(have->fn[type][oi], want->fn[type][oi]) << "type " << type << " out " << out
                                                          << (streaming ? " streaming" : "");
        const dq::cpu::KernelSet *plain = dq::cpu::kernel_set_for(best);
        if (streaming) plain = plain->streaming;
        from_other += have->fn[type][oi] != plain->fn[type][oi];
      }
  if (f.avx512_double_pumped && x86_build()) {
    EXPECT_STREQ(set->isa, "avx512+avx2");
    EXPECT_GT(from_other, 0);
  } else {
    EXPECT_EQ(set, dq::cpu::kernel_set_for(best));
    EXPECT_EQ(from_other, 0);
  }
}

// Sets (or clears) DQ_CPU_ISA for one test and re-reads it in the dispatcher.
class IsaEnv {
 public:
  explicit IsaEnv(const char *value) {
    if (const char *old = std::getenv("DQ_CPU_ISA")) old_ = old, had_ = true;
    if (value) setenv("DQ_CPU_ISA", value, 1); else unsetenv("DQ_CPU_ISA");
    dq::cpu::dispatch_shutdown();
  }
  ~IsaEnv() {
    if (had_) setenv("DQ_CPU_ISA", old_.c_str(), 1); else unsetenv("DQ_CPU_ISA");
    dq::cpu::dispatch_shutdown();
  }

 private:
  std::string old_;
  bool had_ = false;
};

TEST(CpuIsaPreference, OnlyTheAutomaticChoiceIsMixed) {
  const Isa best = dq::cpu::best_isa(dq::cpu::cpu_features());
  {
    IsaEnv isa(nullptr);
    const std::string d = dq::cpu::dispatch_describe();
    EXPECT_EQ(d.rfind(std::string(dq::cpu::auto_kernel_set(best)->isa) + " (auto)", 0), 0u) << d;
  }
  {
    IsaEnv isa(dq::cpu::isa_name(best));  // forced: that one set, unmixed
    const std::string d = dq::cpu::dispatch_describe();
    EXPECT_EQ(d.rfind(std::string(dq::cpu::isa_name(best)) + " (DQ_CPU_ISA)", 0), 0u) << d;
  }
}

// The mixed set's outputs equal the scalar set's, for the table's kernels and a few others,
// in cache and streaming (16 MiB outputs, 64-byte aligned).
TEST(CpuIsaPreference, AutoSetIsByteIdenticalToScalar) {
  const dq::cpu::KernelSet *set = dq::cpu::auto_kernel_set(dq::cpu::best_isa(dq::cpu::cpu_features()));
  ASSERT_NE(set, nullptr);
  size_t n = 0;
  const dq::cpu::Avx2Preference *table = dq::cpu::avx2_preferences(&n);
  std::vector<int32_t> types = {DQ_TYPE_F32, DQ_TYPE_Q4_0};
  for (size_t i = 0; i < n; ++i)
    if (std::find(types.begin(), types.end(), table[i].type) == types.end()) types.push_back(table[i].type);
  for (int32_t type : types)
    for (int32_t out : kOuts)
      for (int64_t elements : {int64_t{1} << 16, int64_t{1} << 22}) {
        const dq::TypeTraits &t = *dq::type_traits(type);
        const int64_t blocks = elements / t.block_elements;
        const std::vector<uint8_t> src = dq::test::random_blocks(type, blocks, 7);
        const size_t bytes = static_cast<size_t>(elements) * dq::output_type_size(out);
        auto *fast = static_cast<uint8_t *>(std::aligned_alloc(64, bytes));
        auto *ref = static_cast<uint8_t *>(std::aligned_alloc(64, bytes));
        std::string error;
        ASSERT_EQ(dq::cpu::run_dequantize_with(*set, 1, type, out, src.data(), fast, blocks, &error), DQ_OK) << error;
        ASSERT_EQ(dq::cpu::run_dequantize_with(dq::cpu::scalar_kernels(), 1, type, out, src.data(), ref, blocks, &error), DQ_OK) << error;
        EXPECT_EQ(std::memcmp(fast, ref, bytes), 0) << t.name << " out " << out << ", " << elements << " elements";
        std::free(fast);
        std::free(ref);
      }
}

}  // namespace
