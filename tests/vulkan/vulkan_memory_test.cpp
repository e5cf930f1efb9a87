// The vulkan plugin's device-memory ABI beyond dq-conformance: tensors at odd byte offsets
// inside allocations that span several buffer segments (vulkan.segments runs this binary with
// DQ_VULKAN_SEGMENT_BYTES=65536, so source blocks and outputs cross segment boundaries), f16
// outputs starting in the high half of a word next to live neighbours, stream ordering through
// events with pinned and registered host memory, and event timing.
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "vulkan_fixture.hpp"

namespace dq::test {
namespace {

[[maybe_unused]] ::testing::Environment *const g_shutdown =
    ::testing::AddGlobalTestEnvironment(new VulkanShutdown);

// A device allocation freed at scope end (mem_in_use must come back to where it was).
class DeviceBuffer {
 public:
  DeviceBuffer(const dq_plugin_api *api, size_t bytes) : api_(api) {
    status_ = api->mem_alloc(0, bytes, &ptr_);
  }
  ~DeviceBuffer() {
    if (ptr_) api_->mem_free(0, ptr_);
  }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  uint8_t *get() const { return static_cast<uint8_t *>(ptr_); }
  int32_t status() const { return status_; }

 private:
  const dq_plugin_api *api_;
  void *ptr_ = nullptr;
  int32_t status_;
};

struct Case {
  int32_t type;
  int64_t n;
};

// Blocks of 18, 34, 66, 144 and 210 bytes, f16, bf16 and f32 sources (float.comp's head and
// tail, word loads where the source is misaligned, F32 -> f32 as a copy), > 64 KiB each so
// that with 64 KiB segments a source block straddles a boundary at some odd offset.
const Case kCases[] = {{2, 32 * 4001}, {8, 32 * 2999}, {16, 256 * 1111}, {12, 256 * 701},
                       {14, 256 * 523}, {1, 77777},    {30, 77779},    {0, 40003}};

TEST_F(VulkanDevice, TensorsAtOddOffsetsInDeviceMemoryMatchTheCpuPlugin) {
  uint64_t allocs0 = 0, bytes0 = 0;
  ASSERT_EQ(vk->mem_in_use(0, &allocs0, &bytes0), DQ_OK);
  for (const Case &c : kCases)
    for (int32_t out : {0, 1, 30})
      for (size_t src_skew : {size_t{0}, size_t{1}, size_t{7}})
        for (size_t dst_skew_elems : {size_t{0}, size_t{1}, size_t{3}}) {
          const dq::TypeTraits *t = dq::type_traits(c.type);
          const size_t os = dq::output_type_size(out);
          const size_t src_bytes = static_cast<size_t>(c.n / t->block_elements) * t->block_bytes;
          const std::vector<uint8_t> src = random_bytes(src_bytes, c.type * 131 + src_skew);
          std::string why;
          const std::vector<uint8_t> want = cpu_reference(c.type, out, src, c.n, &why);
          ASSERT_FALSE(want.empty()) << why;
          // Guard bytes around the output inside the same allocation must survive.
          const size_t dst_off = 4096 + dst_skew_elems * os, dst_bytes = c.n * os;
          const size_t dst_total = dst_off + dst_bytes + 4096;
          DeviceBuffer dsrc(vk, src_skew + src_bytes), ddst(vk, dst_total);
          ASSERT_EQ(dsrc.status(), DQ_OK) << vk->last_error();
          ASSERT_EQ(ddst.status(), DQ_OK) << vk->last_error();
          ASSERT_EQ(vk->mem_copy(0, dsrc.get() + src_skew, src.data(), src_bytes, DQ_COPY_HOST_TO_DEVICE, nullptr),
                    DQ_OK)
              << vk->last_error();
          std::vector<uint8_t> guard(dst_total, 0x5a);
          ASSERT_EQ(vk->mem_copy(0, ddst.get(), guard.data(), dst_total, DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK);
          dq_plugin_dequantize_args a =
              make_args(c.type, out, dsrc.get() + src_skew, src_bytes, c.n, ddst.get() + dst_off, dst_bytes);
          a.src_on_host = a.dst_on_host = 0;
          ASSERT_EQ(vk->dequantize(&a), DQ_OK) << vk->last_error();
          std::vector<uint8_t> back(dst_total);
          ASSERT_EQ(vk->mem_copy(0, back.data(), ddst.get(), dst_total, DQ_COPY_DEVICE_TO_HOST, nullptr), DQ_OK);
          const std::vector<uint8_t> got(back.begin() + dst_off, back.begin() + dst_off + dst_bytes);
          const std::string label = std::string(t->name) + " -> out " + std::to_string(out) + ", src +" +
                                    std::to_string(src_skew) + ", dst +" + std::to_string(dst_skew_elems);
          EXPECT_EQ(compare_outputs(got, want, out), "") << label;
          for (size_t i = 0; i < dst_off; ++i) ASSERT_EQ(back[i], 0x5a) << label << ": guard byte " << i;
          for (size_t i = dst_off + dst_bytes; i < dst_total; ++i)
            ASSERT_EQ(back[i], 0x5a) << label << ": guard byte " << i;
          // Host source into device output and device source into host output: the same.
          std::vector<uint8_t> host_out(dst_bytes);
          a.dst = host_out.data();
          a.dst_on_host = 1;
          ASSERT_EQ(vk->dequantize(&a), DQ_OK) << vk->last_error();
          EXPECT_EQ(compare_outputs(host_out, want, out), "") << label << " (device -> host)";
        }
  uint64_t allocs = 0, bytes = 0;
  ASSERT_EQ(vk->mem_in_use(0, &allocs, &bytes), DQ_OK);
  EXPECT_EQ(allocs, allocs0);
  EXPECT_EQ(bytes, bytes0);
}

// Upload on one stream, dequantize on another after an event, download on the second: the
// loader's pattern, with pinned memory and with registered (imported or staged) pages.
TEST_F(VulkanDevice, StreamsOrderedByEventsWithPinnedAndRegisteredMemory) {
  const int32_t type = 12;  // Q4_K
  const int64_t n = 256 * 4096;
  const size_t src_bytes = static_cast<size_t>(n / 256) * 144, dst_bytes = n * 2;
  const std::vector<uint8_t> src = random_bytes(src_bytes, 99);
  std::string why;
  const std::vector<uint8_t> want = cpu_reference(type, 1, src, n, &why);
  ASSERT_FALSE(want.empty()) << why;

  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t reg_bytes = (src_bytes + page - 1) / page * page;
  void *reg = mmap(nullptr, reg_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(reg, MAP_FAILED);
  std::memcpy(reg, src.data(), src_bytes);
  void *handle = nullptr;
  ASSERT_EQ(vk->host_register(reg, reg_bytes, DQ_HOST_REGISTER_READ_ONLY, &handle), DQ_OK) << vk->last_error();

  void *pinned_in = nullptr, *pinned_out = nullptr;
  ASSERT_EQ(vk->host_alloc_pinned(src_bytes, &pinned_in), DQ_OK) << vk->last_error();
  ASSERT_EQ(vk->host_alloc_pinned(dst_bytes, &pinned_out), DQ_OK) << vk->last_error();
  std::memcpy(pinned_in, src.data(), src_bytes);
  void *copy_stream = nullptr, *compute_stream = nullptr, *uploaded = nullptr, *done = nullptr, *start = nullptr;
  ASSERT_EQ(vk->stream_create(0, &copy_stream), DQ_OK);
  ASSERT_EQ(vk->stream_create(0, &compute_stream), DQ_OK);
  for (void **e : {&uploaded, &done, &start}) ASSERT_EQ(vk->event_create(0, e), DQ_OK);
  {
    DeviceBuffer dsrc(vk, src_bytes), ddst(vk, dst_bytes);
    for (const void *host_src : {static_cast<const void *>(pinned_in), static_cast<const void *>(reg)}) {
      std::memset(pinned_out, 0, dst_bytes);
      ASSERT_EQ(vk->event_record(0, start, copy_stream), DQ_OK);
      ASSERT_EQ(vk->mem_copy(0, dsrc.get(), host_src, src_bytes, DQ_COPY_HOST_TO_DEVICE, copy_stream), DQ_OK)
          << vk->last_error();
      ASSERT_EQ(vk->event_record(0, uploaded, copy_stream), DQ_OK);
      ASSERT_EQ(vk->stream_wait_event(0, compute_stream, uploaded), DQ_OK);
      dq_plugin_dequantize_args a = make_args(type, 1, dsrc.get(), src_bytes, n, ddst.get(), dst_bytes);
      a.src_on_host = a.dst_on_host = 0;
      a.stream = compute_stream;
      ASSERT_EQ(vk->dequantize(&a), DQ_OK) << vk->last_error();
      ASSERT_EQ(vk->mem_copy(0, pinned_out, ddst.get(), dst_bytes, DQ_COPY_DEVICE_TO_HOST, compute_stream), DQ_OK);
      ASSERT_EQ(vk->event_record(0, done, compute_stream), DQ_OK);
      ASSERT_EQ(vk->event_synchronize(0, done), DQ_OK);
      const std::vector<uint8_t> got(static_cast<uint8_t *>(pinned_out), static_cast<uint8_t *>(pinned_out) + dst_bytes);
      EXPECT_EQ(compare_outputs(got, want, 1), "") << (host_src == reg ? "registered" : "pinned");
      float ms = -1;
      ASSERT_EQ(vk->event_elapsed_ms(0, start, done, &ms), DQ_OK) << vk->last_error();
      EXPECT_GE(ms, 0.0f);
    }
  }
  for (void *e : {uploaded, done, start}) EXPECT_EQ(vk->event_destroy(0, e), DQ_OK);
  EXPECT_EQ(vk->stream_destroy(0, copy_stream), DQ_OK);
  EXPECT_EQ(vk->stream_destroy(0, compute_stream), DQ_OK);
  EXPECT_EQ(vk->host_free_pinned(pinned_in), DQ_OK);
  EXPECT_EQ(vk->host_free_pinned(pinned_out), DQ_OK);
  EXPECT_EQ(vk->host_unregister(handle), DQ_OK);
  munmap(reg, reg_bytes);
}

// host_unregister on one thread while another thread's copy from the registration has been
// resolved but not yet queued (DQ_VULKAN_TEST_COPY_DELAY_MS widens that window): the
// unregister waits for the copy, so the copy reads the pages as they were before the caller
// reused them. It used to free the import at once: the copy then read a destroyed buffer.
TEST_F(VulkanDevice, UnregisterWaitsForACopyFromTheRegistrationBeingQueued) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t bytes = 16 * page;
  void *reg = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(reg, MAP_FAILED);
  std::memset(reg, 0xA5, bytes);
  void *handle = nullptr, *stream = nullptr;
  ASSERT_EQ(vk->host_register(reg, bytes, DQ_HOST_REGISTER_READ_ONLY, &handle), DQ_OK) << vk->last_error();
  ASSERT_EQ(vk->stream_create(0, &stream), DQ_OK);
  {
    DeviceBuffer d(vk, bytes);
    ASSERT_EQ(d.status(), DQ_OK);
    setenv("DQ_VULKAN_TEST_COPY_DELAY_MS", "400", 1);
    int32_t copy_status = -1;
    std::thread copier([&] {
      copy_status = vk->mem_copy(0, d.get(), reg, bytes, DQ_COPY_HOST_TO_DEVICE, stream);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the copier is in its delay
    EXPECT_EQ(vk->host_unregister(handle), DQ_OK) << vk->last_error();
    std::memset(reg, 0x5A, bytes);  // the caller's pages again once unregistered
    copier.join();
    unsetenv("DQ_VULKAN_TEST_COPY_DELAY_MS");
    EXPECT_EQ(copy_status, DQ_OK) << vk->last_error();
    ASSERT_EQ(vk->synchronize(0, stream), DQ_OK);
    std::vector<uint8_t> got(bytes);
    ASSERT_EQ(vk->mem_copy(0, got.data(), d.get(), bytes, DQ_COPY_DEVICE_TO_HOST, nullptr), DQ_OK);
    size_t wrong = 0;
    for (uint8_t b : got) wrong += b != 0xA5;
    EXPECT_EQ(wrong, 0u) << "bytes copied from the registration after host_unregister returned";
  }
  EXPECT_EQ(vk->stream_destroy(0, stream), DQ_OK);
  munmap(reg, bytes);
}

TEST_F(VulkanDevice, BadDevicePointersAreRefusedWithTheirProblem) {
  DeviceBuffer d(vk, 1000);
  ASSERT_EQ(d.status(), DQ_OK);
  std::vector<uint8_t> host(2000);
  EXPECT_EQ(vk->mem_copy(0, d.get() + 500, host.data(), 501, DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vk->last_error()).find("run past the end of its 1000-byte allocation"), std::string::npos)
      << vk->last_error();
  EXPECT_EQ(vk->mem_free(0, d.get() + 1), DQ_ERR_INVALID_ARGUMENT);
  void *p = nullptr;
  EXPECT_EQ(vk->mem_alloc(0, size_t{1} << 50, &p), DQ_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(p, nullptr);
}

}  // namespace
}  // namespace dq::test
