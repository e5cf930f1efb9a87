// A Q8_0 tensor past 2^31 elements to f16 (4 GiB+ of output): 64-bit indexing end to end.
// Sampled ranges (the start, around 2^31, the end, and spread between) are compared with
// the cpu plugin on the same blocks.
#include "device_fixture.hpp"

namespace dq::test {
namespace {

TEST_F(CudaDevice, Q8_0PastTwoToThe31ElementsToF16) {
  if (quick_mode()) GTEST_SKIP() << "DQ_CUDA_TEST_QUICK: the 2^31-element tensor is skipped";
  const int32_t type = 8, out = 1;
  const int64_t n = (int64_t(1) << 31) + (int64_t(3) << 20) + 32 * 5;  // not a tile multiple
  const size_t src_bytes = static_cast<size_t>(*dq::type_nbytes(type, n));
  const size_t dst_bytes = static_cast<size_t>(n) * 2;

  dq_plugin_device_props props{};
  props.struct_size = sizeof props;
  ASSERT_EQ(cuda->device_props(0, &props), DQ_OK);
  if (props.free_memory < src_bytes + dst_bytes + (1ull << 30))
    GTEST_SKIP() << "device has " << props.free_memory << " bytes free, test needs " << src_bytes + dst_bytes;

  const auto src = random_bytes(src_bytes, 2024);
  DeviceBuffer dsrc(cuda, src_bytes), ddst(cuda, dst_bytes);
  ASSERT_NE(dsrc.get(), nullptr) << dsrc.error();
  ASSERT_NE(ddst.get(), nullptr) << ddst.error();
  ASSERT_EQ(cuda->mem_copy(0, dsrc.get(), src.data(), src_bytes, DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK);
  dq_plugin_dequantize_args a = make_args(type, out, dsrc.get(), src_bytes, n, ddst.get(), dst_bytes);
  ASSERT_EQ(cuda->dequantize(&a), DQ_OK) << cuda->last_error();
  ASSERT_EQ(cuda->synchronize(0, nullptr), DQ_OK) << cuda->last_error();

  // Ranges of 64Ki elements (2048 blocks) starting at these element offsets.
  const int64_t len = 1 << 16;
  std::vector<int64_t> starts = {0, (int64_t(1) << 31) - len / 2, (int64_t(1) << 31) - 32 * 7, n - len};
  for (int k = 1; k < 12; ++k) starts.push_back((n / 12 * k) / 32 * 32);
  for (int64_t s : starts) {
    SCOPED_TRACE("elements from " + std::to_string(s));
    const size_t block0 = static_cast<size_t>(s / 32);
    const std::vector<uint8_t> sub(src.begin() + block0 * 34, src.begin() + (block0 + len / 32) * 34);
    std::string why;
    const auto want = cpu_reference(type, out, sub, len, &why);
    if (want.empty()) GTEST_SKIP() << why;
    std::vector<uint8_t> got(static_cast<size_t>(len) * 2);
    ASSERT_EQ(cuda->mem_copy(0, got.data(), ddst.get() + static_cast<size_t>(s) * 2, got.size(),
                             DQ_COPY_DEVICE_TO_HOST, nullptr),
              DQ_OK);
    EXPECT_EQ(compare_outputs(got, want, out), "");
  }
}

}  // namespace
}  // namespace dq::test
