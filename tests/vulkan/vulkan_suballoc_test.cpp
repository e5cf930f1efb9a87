// Device allocations carved out of shared memory blocks (memory.cpp) and dequantize_batch
// (batch.cpp). vulkan.blocks runs these with DQ_VULKAN_BLOCK_BYTES=1048576 (several blocks,
// allocations filling a block exactly, others larger than a block with memory of their own),
// vulkan.segments with 64 KiB segments (batch sources straddling segment boundaries).
#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "vulkan_fixture.hpp"

namespace dq::test {
namespace {

[[maybe_unused]] ::testing::Environment *const g_shutdown =
    ::testing::AddGlobalTestEnvironment(new VulkanShutdown);

struct InUse {
  uint64_t allocations = 0, bytes = 0;
};

InUse in_use(const dq_plugin_api *vk) {
  InUse u;
  EXPECT_EQ(vk->mem_in_use(0, &u.allocations, &u.bytes), DQ_OK) << vk->last_error();
  return u;
}

struct Live {
  void *ptr;
  size_t bytes;
  uint64_t seed;
};

std::vector<uint8_t> download(const dq_plugin_api *vk, const void *dev, size_t bytes) {
  std::vector<uint8_t> out(bytes);
  EXPECT_EQ(vk->mem_copy(0, out.data(), dev, bytes, DQ_COPY_DEVICE_TO_HOST, nullptr), DQ_OK) << vk->last_error();
  return out;
}

TEST_F(VulkanDevice, SubAllocationsKeepTheirBytesThroughFreeAndReuse) {
  const InUse base = in_use(vk);
  // Odd sizes, one exactly 1 MiB (a whole block under vulkan.blocks), some larger than a block.
  const size_t sizes[] = {1,      3,      4,      255,     256,           257,          4095,   4096,
                          65535,  65536,  65537,  300001,  size_t{1} << 20, 1572865,    700001, 12345};
  std::vector<Live> live;
  std::set<void *> seen;
  uint64_t seed = 1;
  auto allocate = [&](size_t bytes) {
    Live l{nullptr, bytes, seed++};
    ASSERT_EQ(vk->mem_alloc(0, bytes, &l.ptr), DQ_OK) << vk->last_error();
    EXPECT_TRUE(seen.insert(l.ptr).second) << "address " << l.ptr << " handed out twice";
    const std::vector<uint8_t> fill = random_bytes(bytes, l.seed);
    ASSERT_EQ(vk->mem_copy(0, l.ptr, fill.data(), bytes, DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK) << vk->last_error();
    live.push_back(l);
  };
  auto check_all = [&](const char *when) {
    uint64_t bytes = 0;
    for (const Live &l : live) {
      EXPECT_EQ(download(vk, l.ptr, l.bytes), random_bytes(l.bytes, l.seed))
          << when << ": the " << l.bytes << "-byte allocation at " << l.ptr << " lost its bytes";
      bytes += l.bytes;
    }
    const InUse u = in_use(vk);
    EXPECT_EQ(u.allocations, base.allocations + live.size()) << when;
    EXPECT_EQ(u.bytes, base.bytes + bytes) << when;
  };
  for (size_t b : sizes) ASSERT_NO_FATAL_FAILURE(allocate(b));
  check_all("after the first allocations");
  // Free every other one: the holes are reused by the next allocations.
  std::vector<Live> kept;
  for (size_t i = 0; i < live.size(); ++i) {
    if (i % 2 == 0) {
      kept.push_back(live[i]);
      continue;
    }
    ASSERT_EQ(vk->mem_free(0, live[i].ptr), DQ_OK) << vk->last_error();
  }
  live = kept;
  check_all("after freeing every other allocation");
  for (auto it = std::rbegin(sizes); it != std::rend(sizes); ++it) ASSERT_NO_FATAL_FAILURE(allocate(*it / 2 + 1));
  check_all("after reusing the freed ranges");
  // A copy between two allocations that may share a block.
  const Live &a = live[2], &b = live.back();
  const size_t n = std::min(a.bytes, b.bytes);
  ASSERT_EQ(vk->mem_copy(0, b.ptr, a.ptr, n, DQ_COPY_DEVICE_TO_DEVICE, nullptr), DQ_OK) << vk->last_error();
  std::vector<uint8_t> want = random_bytes(b.bytes, b.seed);
  const std::vector<uint8_t> from_a = random_bytes(a.bytes, a.seed);
  std::copy(from_a.begin(), from_a.begin() + static_cast<std::ptrdiff_t>(n), want.begin());
  EXPECT_EQ(download(vk, b.ptr, b.bytes), want);
  live.pop_back();
  EXPECT_EQ(vk->mem_free(0, b.ptr), DQ_OK);
  check_all("after the device-to-device copy");
  for (const Live &l : live) EXPECT_EQ(vk->mem_free(0, l.ptr), DQ_OK) << vk->last_error();
  const InUse end = in_use(vk);
  EXPECT_EQ(end.allocations, base.allocations);
  EXPECT_EQ(end.bytes, base.bytes);
  // Freed blocks come back: a second round of the same allocations still fits.
  live.clear();
  for (size_t b2 : sizes) ASSERT_NO_FATAL_FAILURE(allocate(b2));
  check_all("after a second round");
  for (const Live &l : live) EXPECT_EQ(vk->mem_free(0, l.ptr), DQ_OK) << vk->last_error();
}

// Device-to-device copies at aligned and unaligned offsets, of sizes around 16 bytes and over
// segments (vulkan.shader-copy runs this with DQ_VULKAN_COPY=shader and 64 KiB segments: the
// 16-byte-aligned parts on the compute units, the rest through vkCmdCopyBuffer).
TEST_F(VulkanDevice, DeviceToDeviceCopiesAtAnyOffsetAndSize) {
  const size_t total = 300000;
  void *a = nullptr, *b = nullptr;
  ASSERT_EQ(vk->mem_alloc(0, total, &a), DQ_OK) << vk->last_error();
  ASSERT_EQ(vk->mem_alloc(0, total, &b), DQ_OK) << vk->last_error();
  const std::vector<uint8_t> from = random_bytes(total, 21);
  std::vector<uint8_t> want = random_bytes(total, 22);
  ASSERT_EQ(vk->mem_copy(0, a, from.data(), total, DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK);
  ASSERT_EQ(vk->mem_copy(0, b, want.data(), total, DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK);
  void *stream = nullptr;
  ASSERT_EQ(vk->stream_create(0, &stream), DQ_OK);
  int copies = 0;
  for (size_t src_off : {0, 1, 16, 48, 4099})
    for (size_t dst_off : {0, 16, 3, 64})
      for (size_t n : {1, 15, 16, 17, 1000, 65536 + 48, 200000}) {
        // Alternate the NULL stream and a caller stream: the NULL stream waits for the other
        // streams' work and is synchronous, so the overlapping copies land in call order.
        void *on = (copies++ % 2) ? stream : nullptr;
        ASSERT_EQ(vk->mem_copy(0, static_cast<uint8_t *>(b) + dst_off, static_cast<uint8_t *>(a) + src_off, n,
                               DQ_COPY_DEVICE_TO_DEVICE, on),
                  DQ_OK)
            << vk->last_error();
        std::memcpy(want.data() + dst_off, from.data() + src_off, n);
        // Each copy checked where it landed (later copies overwrite earlier ones), with a
        // neighbour byte on each side.
        const size_t lo = dst_off > 0 ? dst_off - 1 : 0, hi = std::min(total, dst_off + n + 1);
        const std::vector<uint8_t> got = download(vk, static_cast<uint8_t *>(b) + lo, hi - lo);
        ASSERT_TRUE(std::equal(got.begin(), got.end(), want.begin() + static_cast<std::ptrdiff_t>(lo)))
            << n << " bytes from offset " << src_off << " to offset " << dst_off << (on ? " on a stream" : "");
      }
  ASSERT_EQ(vk->synchronize(0, nullptr), DQ_OK);
  EXPECT_EQ(download(vk, b, total), want);
  EXPECT_EQ(vk->stream_destroy(0, stream), DQ_OK);
  EXPECT_EQ(vk->mem_free(0, a), DQ_OK);
  EXPECT_EQ(vk->mem_free(0, b), DQ_OK);
}

// DQ_VULKAN_ASYNC_ALLOC=1 with 64 KiB segments (vulkan.async-alloc): calls wait for the
// segments they touch; a segment whose background allocation failed makes the calls touching
// it fail with the reason, the others work, and the allocation frees normally.
TEST_F(VulkanDevice, AsyncAllocationWaitsForItsSegmentsAndReportsAFailedOne) {
  const char *async = std::getenv("DQ_VULKAN_ASYNC_ALLOC");
  if (!async || std::string(async) != "1") GTEST_SKIP() << "run with DQ_VULKAN_ASYNC_ALLOC=1 (vulkan.async-alloc)";
  const InUse base = in_use(vk);
  const size_t bytes = (size_t{4} << 20) + 5;
  const std::vector<uint8_t> data = random_bytes(bytes, 31);
  void *p = nullptr;
  ASSERT_EQ(vk->mem_alloc(0, bytes, &p), DQ_OK) << vk->last_error();
  ASSERT_EQ(vk->mem_copy(0, p, data.data(), bytes, DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK) << vk->last_error();
  EXPECT_EQ(download(vk, p, bytes), data);
  EXPECT_EQ(in_use(vk).bytes, base.bytes + bytes);
  EXPECT_EQ(vk->mem_free(0, p), DQ_OK);

  setenv("DQ_VULKAN_TEST_FAIL_SEGMENT", "5", 1);
  const int32_t st = vk->mem_alloc(0, bytes, &p);
  unsetenv("DQ_VULKAN_TEST_FAIL_SEGMENT");
  ASSERT_EQ(st, DQ_OK) << vk->last_error();
  EXPECT_EQ(vk->mem_copy(0, p, data.data(), 65536, DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK) << vk->last_error();
  EXPECT_EQ(vk->mem_copy(0, static_cast<uint8_t *>(p) + 5 * 65536 + 7, data.data(), 100, DQ_COPY_HOST_TO_DEVICE,
                         nullptr),
            DQ_ERR_OUT_OF_MEMORY);
  const std::string why = vk->last_error();
  EXPECT_NE(why.find("segment 5"), std::string::npos) << why;
  EXPECT_NE(why.find("simulated"), std::string::npos) << why;
  EXPECT_EQ(download(vk, p, 65536), std::vector<uint8_t>(data.begin(), data.begin() + 65536));
  EXPECT_EQ(vk->mem_free(0, p), DQ_OK) << vk->last_error();
  const InUse end = in_use(vk);
  EXPECT_EQ(end.allocations, base.allocations);
  EXPECT_EQ(end.bytes, base.bytes);
}

// A batch request with its device buffers and the cpu plugin's answer.
struct BatchTensor {
  int32_t type, out;
  int64_t n;
  void *stream;
  std::vector<uint8_t> src, want;
  void *dsrc = nullptr, *ddst = nullptr;
  size_t dst_bytes = 0;
};

class VulkanBatch : public VulkanDevice {
 protected:
  void TearDown() override {
    for (auto &t : tensors) {
      if (t.dsrc) vk->mem_free(0, t.dsrc);
      if (t.ddst) vk->mem_free(0, t.ddst);
    }
    for (void *s : streams) vk->stream_destroy(0, s);
  }
  void add(int32_t type, int32_t out, int64_t n, void *stream, uint64_t seed) {
    BatchTensor t{type, out, n, stream, {}, {}};
    const TypeTraits *tt = type_traits(type);
    t.src = random_bytes(static_cast<size_t>(n / tt->block_elements) * tt->block_bytes, seed);
    if (type == 1)  // f16 sources: finite values only, so NaN payloads do not matter
      for (size_t i = 1; i < t.src.size(); i += 2) t.src[i] &= 0x3b;
    std::string why;
    t.want = cpu_reference(type, out, t.src, n, &why);
    ASSERT_FALSE(t.want.empty()) << why;
    t.dst_bytes = t.want.size();
    ASSERT_EQ(vk->mem_alloc(0, t.src.size(), &t.dsrc), DQ_OK) << vk->last_error();
    ASSERT_EQ(vk->mem_alloc(0, t.dst_bytes, &t.ddst), DQ_OK) << vk->last_error();
    ASSERT_EQ(vk->mem_copy(0, t.dsrc, t.src.data(), t.src.size(), DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK);
    const std::vector<uint8_t> canary(t.dst_bytes, 0xab);
    ASSERT_EQ(vk->mem_copy(0, t.ddst, canary.data(), t.dst_bytes, DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK);
    tensors.push_back(std::move(t));
  }
  std::vector<dq_plugin_dequantize_args> args() const {
    std::vector<dq_plugin_dequantize_args> v;
    for (const auto &t : tensors) {
      v.push_back(make_args(t.type, t.out, t.dsrc, t.src.size(), t.n, t.ddst, t.dst_bytes));
      v.back().src_on_host = v.back().dst_on_host = 0;
      v.back().stream = t.stream;
    }
    return v;
  }
  void *new_stream() {
    void *s = nullptr;
    EXPECT_EQ(vk->stream_create(0, &s), DQ_OK) << vk->last_error();
    streams.push_back(s);
    return s;
  }
  std::vector<BatchTensor> tensors;
  std::vector<void *> streams;
};

TEST_F(VulkanBatch, DeviceTensorsOnSeveralStreamsMatchTheCpuPlugin) {
  void *a = new_stream(), *b = new_stream();
  // Q4_0, Q4_K, Q6_K, F16 sources over 64 KiB (straddling blocks under vulkan.segments),
  // odd counts, to f16 and f32, on two caller streams and the NULL stream.
  ASSERT_NO_FATAL_FAILURE(add(2, 1, 32 * 4001, a, 1));
  ASSERT_NO_FATAL_FAILURE(add(12, 0, 256 * 701, a, 2));
  ASSERT_NO_FATAL_FAILURE(add(14, 1, 256 * 523, b, 3));
  ASSERT_NO_FATAL_FAILURE(add(1, 1, 77777, b, 4));
  ASSERT_NO_FATAL_FAILURE(add(2, 30, 32 * 3, nullptr, 5));
  ASSERT_NO_FATAL_FAILURE(add(12, 1, 256 * 3, a, 6));
  const std::vector<dq_plugin_dequantize_args> v = args();
  ASSERT_NE(vk->dequantize_batch, nullptr);
  ASSERT_EQ(vk->dequantize_batch(v.data(), v.size()), DQ_OK) << vk->last_error();
  ASSERT_EQ(vk->synchronize(0, nullptr), DQ_OK) << vk->last_error();
  for (size_t i = 0; i < tensors.size(); ++i)
    EXPECT_EQ(compare_outputs(download(vk, tensors[i].ddst, tensors[i].dst_bytes), tensors[i].want,
                              tensors[i].out),
              "")
        << "tensor " << i;
}

TEST_F(VulkanBatch, ABadDeviceTensorRefusesTheBatchAndNothingIsWritten) {
  void *a = new_stream();
  for (uint64_t i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(add(2, 1, 32 * 1001, i == 2 ? nullptr : a, 10 + i));
  std::vector<dq_plugin_dequantize_args> v = args();
  v[1].dst_bytes -= 2;  // a short destination in the middle
  ASSERT_EQ(vk->dequantize_batch(v.data(), v.size()), DQ_ERR_SIZE);
  EXPECT_NE(std::string(vk->last_error()).find("tensor 1"), std::string::npos) << vk->last_error();
  v = args();
  v[2].dst = static_cast<uint8_t *>(v[2].dst) + 1;  // unaligned, at the end
  EXPECT_EQ(vk->dequantize_batch(v.data(), v.size()), DQ_ERR_INVALID_ARGUMENT);
  ASSERT_EQ(vk->synchronize(0, nullptr), DQ_OK);
  for (size_t i = 0; i < tensors.size(); ++i)
    EXPECT_EQ(download(vk, tensors[i].ddst, tensors[i].dst_bytes), std::vector<uint8_t>(tensors[i].dst_bytes, 0xab))
        << "tensor " << i << " was written by a refused batch";
}

}  // namespace
}  // namespace dq::test
