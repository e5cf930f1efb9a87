// The dispatcher around the fast kernels: DQ_CPU_ISA / DQ_THREADS handling (never a silent
// fallback), the thread pool, and concurrent callers.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cpu_features.hpp"
#include "dispatch.hpp"
#include "dq/dq.h"
#include "fast_random_blocks.hpp"
#include "kernel_table.hpp"
#include "thread_pool.hpp"

namespace {

using dq::cpu::Isa;

// Sets (or clears) an environment variable for one test and re-reads it in the dispatcher.
class EnvVar {
 public:
  EnvVar(const char *name, const char *value) : name_(name) {
    if (const char *old = std::getenv(name)) old_ = old, had_ = true;
    if (value) setenv(name, value, 1); else unsetenv(name);
    dq::cpu::dispatch_shutdown();
  }
  ~EnvVar() {
    if (had_) setenv(name_.c_str(), old_.c_str(), 1); else unsetenv(name_.c_str());
    dq::cpu::dispatch_shutdown();
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

TEST(CpuIsaChoice, AutoPicksTheBestSupportedSet) {
  const dq::cpu::CpuFeatures &f = dq::cpu::cpu_features();
  const dq::cpu::IsaChoice c = dq::cpu::choose_isa(nullptr, f);
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_FALSE(c.forced);
  EXPECT_EQ(c.isa, dq::cpu::best_isa(f));
  if (f.avx512) {
    EXPECT_EQ(c.isa, Isa::kAvx512);
  }
  EXPECT_TRUE(dq::cpu::isa_supported(c.isa, f));
}

TEST(CpuIsaChoice, UnknownNameIsAnErrorNamingIt) {
  const dq::cpu::IsaChoice c = dq::cpu::choose_isa("sse9", dq::cpu::cpu_features());
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.error.find("DQ_CPU_ISA=sse9"), std::string::npos) << c.error;
  EXPECT_NE(c.error.find("unknown"), std::string::npos) << c.error;
}

TEST(CpuIsaChoice, UnsupportedSetIsAnErrorNotAFallback) {
  dq::cpu::CpuFeatures no_avx512;
  no_avx512.avx2 = true;  // a CPU with AVX2 only
  const dq::cpu::IsaChoice c = dq::cpu::choose_isa("avx512", no_avx512);
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.error.find("DQ_CPU_ISA=avx512"), std::string::npos) << c.error;
  const dq::cpu::IsaChoice forced = dq::cpu::choose_isa("scalar", no_avx512);
  EXPECT_TRUE(forced.ok);
  EXPECT_TRUE(forced.forced);
  EXPECT_EQ(forced.isa, Isa::kScalar);
}

TEST(CpuDispatch, DescribeShowsTheActiveSetAndHowItWasChosen) {
  {
    EnvVar isa("DQ_CPU_ISA", nullptr);
    std::string error;
    ASSERT_EQ(dq::cpu::dispatch_init(&error), DQ_OK) << error;
    const std::string d = dq::cpu::dispatch_describe();
    EXPECT_EQ(d.rfind(dq::cpu::isa_name(dq::cpu::best_isa(dq::cpu::cpu_features())), 0), 0u) << d;
    EXPECT_NE(d.find("(auto)"), std::string::npos) << d;
  }
  {
    EnvVar isa("DQ_CPU_ISA", "scalar");
    const std::string d = dq::cpu::dispatch_describe();
    EXPECT_EQ(d.rfind("scalar (DQ_CPU_ISA)", 0), 0u) << d;
  }
}

TEST(CpuDispatch, BadIsaMakesInitAndEveryCallFail) {
  EnvVar isa("DQ_CPU_ISA", "avx9000");
  std::string error;
  EXPECT_NE(dq::cpu::dispatch_init(&error), DQ_OK);
  EXPECT_NE(error.find("DQ_CPU_ISA=avx9000"), std::string::npos) << error;
  std::vector<uint8_t> src = dq::test::random_blocks(DQ_TYPE_Q4_0, 4, 1);
  std::vector<float> dst(4 * 32);
  EXPECT_NE(dq::cpu::run_dequantize(DQ_TYPE_Q4_0, DQ_TYPE_F32, src.data(), dst.data(), 4), DQ_OK);
  EXPECT_NE(std::string(dq::cpu::dispatch_last_error()).find("DQ_CPU_ISA=avx9000"), std::string::npos);
  EXPECT_NE(std::string(dq::cpu::dispatch_describe()).find("avx9000"), std::string::npos);
}

TEST(CpuDispatch, BadThreadCountMakesInitFail) {
  for (const char *bad : {"0", "-3", "two", "99999"}) {
    EnvVar threads("DQ_THREADS", bad);
    std::string error;
    EXPECT_NE(dq::cpu::dispatch_init(&error), DQ_OK) << bad;
    EXPECT_NE(error.find("DQ_THREADS"), std::string::npos) << error;
  }
  EnvVar threads("DQ_THREADS", "3");
  std::string error;
  EXPECT_EQ(dq::cpu::configured_threads(&error), 3);
  EXPECT_NE(std::string(dq::cpu::dispatch_describe()).find("3 threads"), std::string::npos);
}

TEST(CpuDispatch, RefusesBadTypesAndOutputs) {
  std::string error;
  const dq::cpu::KernelSet &set = dq::cpu::scalar_kernels();
  std::vector<uint8_t> src(64);
  std::vector<float> dst(64);
  EXPECT_EQ(dq::cpu::run_dequantize_with(set, 1, 4, DQ_TYPE_F32, src.data(), dst.data(), 1, &error),
            DQ_ERR_UNKNOWN_TYPE);  // retired Q4_2
  EXPECT_EQ(dq::cpu::run_dequantize_with(set, 1, DQ_TYPE_I8, DQ_TYPE_F32, src.data(), dst.data(), 1, &error),
            DQ_ERR_UNKNOWN_TYPE);
  EXPECT_EQ(dq::cpu::run_dequantize_with(set, 1, DQ_TYPE_Q4_0, DQ_TYPE_Q8_0, src.data(), dst.data(), 1, &error),
            DQ_ERR_UNSUPPORTED);
  EXPECT_NE(error.find("output type"), std::string::npos) << error;
  EXPECT_EQ(dq::cpu::run_dequantize_with(set, 1, DQ_TYPE_Q4_0, DQ_TYPE_F32, nullptr, dst.data(), 1, &error),
            DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq::cpu::run_dequantize_with(set, 1, DQ_TYPE_Q4_0, DQ_TYPE_F32, src.data(), dst.data(), 0, &error),
            DQ_OK);
}

TEST(CpuThreadPool, EveryChunkRunsExactlyOnceWithConcurrentCallers) {
  dq::cpu::ThreadPool pool(3);
  constexpr int kCallers = 4, kChunks = 1000;
  std::vector<std::atomic<int>> hits(kCallers * kChunks);
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c)
    callers.emplace_back([&, c] {
      for (int round = 0; round < 20; ++round)
        pool.parallel_for(kChunks, 4, [&](int64_t i) { hits[c * kChunks + i].fetch_add(1); });
    });
  for (auto &t : callers) t.join();
  for (auto &h : hits) ASSERT_EQ(h.load(), 20);
}

TEST(CpuThreadPool, NoWorkersRunsOnTheCaller) {
  dq::cpu::ThreadPool pool(0);
  const auto caller = std::this_thread::get_id();
  int count = 0;
  pool.parallel_for(10, 8, [&](int64_t) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    ++count;
  });
  EXPECT_EQ(count, 10);
}

// Several threads dequantizing large tensors at once through the shared pool get the same
// bytes as the scalar path.
TEST(CpuDispatch, ConcurrentLargeCallsMatchScalar) {
  EnvVar threads("DQ_THREADS", "3");
  const int32_t types[] = {DQ_TYPE_Q4_K, DQ_TYPE_Q8_0, DQ_TYPE_IQ2_XS, DQ_TYPE_F16};
  std::vector<std::thread> callers;
  std::atomic<int> mismatches{0}, failures{0};
  for (int32_t type : types)
    callers.emplace_back([&, type] {
      const dq::TypeTraits *t = dq::type_traits(type);
      const int64_t n_blocks = (int64_t{1} << 20) / t->block_elements;
      const std::vector<uint8_t> src = dq::test::random_blocks(type, n_blocks, 7);
      std::vector<float> want(static_cast<size_t>(n_blocks * t->block_elements)), got(want.size());
      dq::cpu::scalar_kernels().fn[type][dq::cpu::kOutF32](src.data(), want.data(), n_blocks);
      for (int round = 0; round < 3; ++round) {
        std::fill(got.begin(), got.end(), 0.0f);
        if (dq::cpu::run_dequantize(type, DQ_TYPE_F32, src.data(), got.data(), n_blocks) != DQ_OK) ++failures;
        if (std::memcmp(want.data(), got.data(), want.size() * 4) != 0) ++mismatches;
      }
    });
  for (auto &t : callers) t.join();
  EXPECT_EQ(failures.load(), 0) << dq::cpu::dispatch_last_error();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
