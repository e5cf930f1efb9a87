// run_dequantize_batch_with: one pool dispatch for many tensors gives the bytes of one
// run_dequantize_with per tensor, whatever the thread count (tiny tensors packed together,
// large ones split), and a bad tensor is named by its index.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dispatch.hpp"
#include "dq/dq.h"
#include "fast_random_blocks.hpp"
#include "kernel_table.hpp"

namespace {

struct Tensor {
  int32_t type, out;
  int64_t n_blocks;
  std::vector<uint8_t> src, batch, single;
};

std::vector<Tensor> mixed_tensors() {
  const struct {
    int32_t type, out;
    int64_t n_blocks;
  } shapes[] = {{DQ_TYPE_Q4_K, DQ_TYPE_F16, 700},   {DQ_TYPE_Q8_0, DQ_TYPE_F32, 1},
                {DQ_TYPE_Q8_0, DQ_TYPE_F32, 3},     {DQ_TYPE_F16, DQ_TYPE_BF16, 5},
                {DQ_TYPE_Q6_K, DQ_TYPE_BF16, 33},   {DQ_TYPE_Q4_0, DQ_TYPE_F32, 9000},
                {DQ_TYPE_IQ2_XS, DQ_TYPE_F16, 17},  {DQ_TYPE_Q5_1, DQ_TYPE_F16, 2}};
  std::vector<Tensor> ts;
  uint64_t seed = 1;
  for (const auto &s : shapes) {
    const dq::TypeTraits &t = *dq::type_traits(s.type);
    const size_t out_bytes = static_cast<size_t>(s.n_blocks * t.block_elements) * dq::output_type_size(s.out);
    ts.push_back({s.type, s.out, s.n_blocks, dq::test::random_blocks(s.type, s.n_blocks, seed++),
                  std::vector<uint8_t>(out_bytes, 0xAB), std::vector<uint8_t>(out_bytes, 0xCD)});
  }
  return ts;
}

std::vector<dq::cpu::BatchItem> items_of(std::vector<Tensor> &ts) {
  std::vector<dq::cpu::BatchItem> items;
  for (Tensor &t : ts) items.push_back({t.type, t.out, t.src.data(), t.batch.data(), t.n_blocks});
  return items;
}

TEST(CpuBatch, EqualsSingleCallsForAnyThreadCount) {
  const dq::cpu::KernelSet &set = dq::cpu::scalar_kernels();
  for (int threads : {1, 2, 4, 7}) {
    std::vector<Tensor> ts = mixed_tensors();
    std::vector<dq::cpu::BatchItem> items = items_of(ts);
    std::string error;
    ASSERT_EQ(dq::cpu::run_dequantize_batch_with(set, threads, items.data(), items.size(), &error), DQ_OK)
        << error;
    for (size_t i = 0; i < ts.size(); ++i) {
      ASSERT_EQ(dq::cpu::run_dequantize_with(set, 1, ts[i].type, ts[i].out, ts[i].src.data(),
                                             ts[i].single.data(), ts[i].n_blocks, &error),
                DQ_OK)
          << error;
      EXPECT_EQ(ts[i].batch, ts[i].single) << threads << " threads, tensor " << i;
    }
  }
}

TEST(CpuBatch, BadTensorIsNamedByIndex) {
  const dq::cpu::KernelSet &set = dq::cpu::scalar_kernels();
  std::vector<Tensor> ts = mixed_tensors();
  std::vector<dq::cpu::BatchItem> items = items_of(ts);
  items[3].out_type = DQ_TYPE_Q8_0;
  std::string error;
  EXPECT_EQ(dq::cpu::run_dequantize_batch_with(set, 4, items.data(), items.size(), &error), DQ_ERR_UNSUPPORTED);
  EXPECT_NE(error.find("tensor 3: output type"), std::string::npos) << error;
  for (const Tensor &t : ts)
    for (uint8_t b : t.batch) ASSERT_EQ(b, 0xAB) << "a tensor was written before the batch was refused";
}

}  // namespace
