// Every (type, output) pair of the cuda plugin against the cpu plugin, byte for byte, on
// random blocks: 1 block, odd block counts (partial tiles), a few million elements;
// unaligned buffers; host-staged source and destination; a caller's stream.
#include <algorithm>

#include "device_fixture.hpp"

namespace dq::test {
namespace {

struct RunOptions {
  size_t src_offset = 0;  // bytes added to the device source address
  size_t dst_offset = 0;  // elements added to the device destination address
  bool host_src = false;
  bool host_dst = false;
  bool own_stream = false;  // a stream made with stream_create instead of the plugin's
};

// Dequantizes host bytes `src` on the device and returns the output bytes. Poisons the
// destination first, so unwritten elements show up as 0xFF bytes.
std::vector<uint8_t> run_on_device(const dq_plugin_api *cuda, int32_t type, int32_t out,
                                   const std::vector<uint8_t> &src, int64_t n, const RunOptions &o,
                                   std::string *error) {
  const size_t es = dq::output_type_size(out);
  const size_t out_bytes = static_cast<size_t>(n) * es;
  std::vector<uint8_t> result(out_bytes, 0xff);
  DeviceBuffer dsrc(cuda, src.size() + o.src_offset + 16);
  DeviceBuffer ddst(cuda, out_bytes + o.dst_offset * es + 16);
  if (!dsrc.get() || !ddst.get()) {
    *error = "mem_alloc: " + dsrc.error() + ddst.error();
    return {};
  }
  void *stream = nullptr;
  if (o.own_stream && cuda->stream_create(0, &stream) != DQ_OK) {
    *error = std::string("stream_create: ") + cuda->last_error();
    return {};
  }
  uint8_t *dev_src = dsrc.get() + o.src_offset;
  uint8_t *dev_dst = ddst.get() + o.dst_offset * es;
  bool ok = cuda->mem_copy(0, dev_src, src.data(), src.size(), DQ_COPY_HOST_TO_DEVICE, nullptr) == DQ_OK &&
            cuda->mem_copy(0, dev_dst, result.data(), out_bytes, DQ_COPY_HOST_TO_DEVICE, nullptr) == DQ_OK;
  dq_plugin_dequantize_args a =
      make_args(type, out, o.host_src ? static_cast<const void *>(src.data()) : dev_src, src.size(), n,
                o.host_dst ? static_cast<void *>(result.data()) : dev_dst, out_bytes);
  a.src_on_host = o.host_src;
  a.dst_on_host = o.host_dst;
  a.stream = stream;
  ok = ok && cuda->dequantize(&a) == DQ_OK;
  if (ok && !o.host_dst)
    ok = cuda->mem_copy(0, result.data(), dev_dst, out_bytes, DQ_COPY_DEVICE_TO_HOST, stream) == DQ_OK &&
         cuda->synchronize(0, stream) == DQ_OK;
  if (!ok) *error = cuda->last_error();
  if (stream) cuda->stream_destroy(0, stream);
  return ok ? result : std::vector<uint8_t>{};
}

std::vector<int32_t> cuda_types() {
  std::vector<int32_t> ids;
  for (const auto &t : dq::kTypeTable)
    if (t.dequantizable) ids.push_back(t.id);
  return ids;
}

class CudaEveryType : public CudaDevice, public ::testing::WithParamInterface<int32_t> {
 protected:
  // Checks `blocks` random blocks for every output type under options `o`.
  void check_blocks(int64_t blocks, const RunOptions &o, uint64_t seed) {
    const int32_t type = GetParam();
    const dq::TypeTraits &t = *dq::type_traits(type);
    const int64_t n = blocks * t.block_elements;
    const auto src = random_bytes(static_cast<size_t>(*dq::type_nbytes(type, n)), seed);
    for (int32_t out : {0, 1, 30}) {
      SCOPED_TRACE(std::string(t.name) + " -> " + (out == 0 ? "f32" : out == 1 ? "f16" : "bf16") + ", " +
                   std::to_string(blocks) + " blocks");
      ASSERT_EQ(cuda->supports(type, out), 1);
      std::string why;
      const auto want = cpu_reference(type, out, src, n, &why);
      if (want.empty()) GTEST_SKIP() << why;
      std::string error;
      const auto got = run_on_device(cuda, type, out, src, n, o, &error);
      ASSERT_FALSE(got.empty()) << error;
      EXPECT_EQ(compare_outputs(got, want, out), "");
    }
  }
};

TEST_P(CudaEveryType, OneBlock) { check_blocks(1, {}, 1); }

TEST_P(CudaEveryType, OddBlockCounts) {
  // Partial tiles, a tile plus one block, several tiles with a ragged end.
  for (int64_t blocks : {3, 17, 129, 4099}) check_blocks(blocks, {}, 100 + blocks);
}

TEST_P(CudaEveryType, MillionsOfElements) {
  const int64_t be = dq::type_traits(GetParam())->block_elements;
  // ~9.4M elements = ~1150 tiles: more blocks than a GPU holds at once (6 per SM), so the
  // one-shot grid runs in waves (HIP: the persistent grid's blocks walk several tiles and the
  // shared-memory ring wraps around).
  const int64_t target = quick_mode() ? (1 << 16) : (9 << 20) + 12345;
  check_blocks(std::max<int64_t>(1, target / be) | 1, {}, 7);
}

TEST_P(CudaEveryType, UnalignedBuffers) {
  RunOptions o;
  for (size_t src_off : {1, 2, 4, 8}) {
    o.src_offset = src_off;
    o.dst_offset = src_off;  // elements: 2- to 32-byte shifts, none 16-byte aligned for f16
    check_blocks(37, o, 200 + src_off);
  }
}

// The one mix UnalignedBuffers leaves out: a 16-byte aligned source (the kernels' cp.async
// tile copies) with a destination that is not (their element-wise stores), over ragged tiles.
TEST_P(CudaEveryType, AlignedSourceUnalignedDestination) {
  RunOptions o;
  for (size_t dst_off : {1, 3}) {
    o.src_offset = 16 * dst_off;
    o.dst_offset = dst_off;
    for (int64_t blocks : {37, 4099}) check_blocks(blocks, o, 300 + blocks + dst_off);
  }
}

TEST_P(CudaEveryType, HostStagingAndCallerStream) {
  RunOptions o;
  o.host_src = true;
  check_blocks(33, o, 300);
  o = {};
  o.host_dst = true;
  check_blocks(33, o, 301);
  o.host_src = true;
  check_blocks(33, o, 302);
  o = {};
  o.own_stream = true;
  check_blocks(33, o, 303);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, CudaEveryType, ::testing::ValuesIn(cuda_types()),
                         [](const ::testing::TestParamInfo<int32_t> &info) {
                           return std::string(dq::type_traits(info.param)->name);
                         });

// Host staging splits large host tensors into chunks; cover a chunk boundary.
TEST_F(CudaDevice, HostStagingAcrossChunks) {
  if (quick_mode()) GTEST_SKIP() << "DQ_CUDA_TEST_QUICK: large staging test skipped";
  const int32_t type = 8;                     // q8_0
  const int64_t n = (int64_t(70) << 20) / 34 * 32;  // ~70 MB of source: two 64 MiB chunks
  const auto src = random_bytes(static_cast<size_t>(*dq::type_nbytes(type, n)), 5);
  std::string why;
  const auto want = cpu_reference(type, 1, src, n, &why);
  if (want.empty()) GTEST_SKIP() << why;
  RunOptions o;
  o.host_src = o.host_dst = true;
  std::string error;
  const auto got = run_on_device(cuda, type, 1, src, n, o, &error);
  ASSERT_FALSE(got.empty()) << error;
  EXPECT_EQ(compare_outputs(got, want, 1), "");
}

}  // namespace
}  // namespace dq::test
