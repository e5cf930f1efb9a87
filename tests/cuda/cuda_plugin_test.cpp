// The cuda plugin's table and its non-kernel entries: loading with or without a device,
// device properties, memory accounting, events, and error paths that must leave the
// device usable.
#include "device_fixture.hpp"

namespace dq::test {
namespace {

TEST(CudaPlugin, LoadsAndReportsDevicesOrWhyNot) {
  const LoadedPlugin &p = cuda_plugin();
  if (!p.api) GTEST_SKIP() << "cuda plugin not built here: " << p.error;
  EXPECT_STREQ(p.api->name, "cuda");
  EXPECT_EQ(p.api->abi_major, static_cast<uint32_t>(DQ_PLUGIN_ABI_MAJOR));
  EXPECT_GE(p.api->struct_size, sizeof(dq_plugin_api));
  const int32_t n = p.api->device_count();
  ASSERT_GE(n, 0);
  if (n == 0) {
    const std::string reason = p.api->no_device_reason();
    EXPECT_EQ(reason.rfind("no CUDA device", 0), 0u) << reason;
    // Device calls fail cleanly, naming the reason.
    void *ptr = nullptr;
    EXPECT_EQ(p.api->mem_alloc(0, 16, &ptr), DQ_ERR_NO_DEVICE);
    EXPECT_NE(std::string(p.api->last_error()).find("no CUDA device"), std::string::npos);
  } else {
    EXPECT_STREQ(p.api->no_device_reason(), "");
  }
  // Supports every dequantizable type to every output, nothing else.
  for (const auto &t : dq::kTypeTable)
    for (int32_t out : {0, 1, 30}) EXPECT_EQ(p.api->supports(t.id, out), t.dequantizable ? 1 : 0) << t.name;
  EXPECT_EQ(p.api->supports(8, 2), 0);
}

TEST_F(CudaDevice, DeviceProps) {
  dq_plugin_device_props props{};
  props.struct_size = sizeof props;
  ASSERT_EQ(cuda->device_props(0, &props), DQ_OK) << cuda->last_error();
  EXPECT_GT(std::strlen(props.name), 0u);
  EXPECT_GT(props.total_memory, 0u);
  EXPECT_LE(props.free_memory, props.total_memory);
  EXPECT_EQ(props.is_gpu, 1);
  EXPECT_EQ(cuda->device_props(cuda->device_count(), &props), DQ_ERR_INVALID_ARGUMENT);
}

TEST_F(CudaDevice, MemoryAccountingAndCopies) {
  uint64_t allocs0 = 0, bytes0 = 0;
  ASSERT_EQ(cuda->mem_in_use(0, &allocs0, &bytes0), DQ_OK);
  const auto data = random_bytes(1 << 20, 3);
  {
    DeviceBuffer a(cuda, data.size()), b(cuda, data.size());
    ASSERT_NE(a.get(), nullptr);
    ASSERT_NE(b.get(), nullptr);
    uint64_t allocs = 0, bytes = 0;
    ASSERT_EQ(cuda->mem_in_use(0, &allocs, &bytes), DQ_OK);
    EXPECT_EQ(allocs, allocs0 + 2);
    EXPECT_EQ(bytes, bytes0 + 2 * data.size());
    ASSERT_EQ(cuda->mem_copy(0, a.get(), data.data(), data.size(), DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK);
    ASSERT_EQ(cuda->mem_copy(0, b.get(), a.get(), data.size(), DQ_COPY_DEVICE_TO_DEVICE, nullptr), DQ_OK);
    std::vector<uint8_t> back(data.size());
    ASSERT_EQ(cuda->mem_copy(0, back.data(), b.get(), back.size(), DQ_COPY_DEVICE_TO_HOST, nullptr), DQ_OK);
    EXPECT_EQ(back, data);
  }
  uint64_t allocs1 = 0, bytes1 = 0;
  ASSERT_EQ(cuda->mem_in_use(0, &allocs1, &bytes1), DQ_OK);
  EXPECT_EQ(allocs1, allocs0);
  EXPECT_EQ(bytes1, bytes0);
}

TEST_F(CudaDevice, PinnedMemoryStreamsAndEvents) {
  const size_t bytes = 64 << 20;
  void *pinned = nullptr;
  ASSERT_EQ(cuda->host_alloc_pinned(bytes, &pinned), DQ_OK) << cuda->last_error();
  std::memset(pinned, 0x5a, bytes);
  DeviceBuffer a(cuda, bytes), b(cuda, bytes);
  void *stream = nullptr, *e0 = nullptr, *e1 = nullptr;
  ASSERT_EQ(cuda->stream_create(0, &stream), DQ_OK);
  ASSERT_EQ(cuda->event_create(0, &e0), DQ_OK);
  ASSERT_EQ(cuda->event_create(0, &e1), DQ_OK);
  ASSERT_EQ(cuda->mem_copy(0, a.get(), pinned, bytes, DQ_COPY_HOST_TO_DEVICE, stream), DQ_OK);
  ASSERT_EQ(cuda->event_record(0, e0, stream), DQ_OK);
  ASSERT_EQ(cuda->mem_copy(0, b.get(), a.get(), bytes, DQ_COPY_DEVICE_TO_DEVICE, stream), DQ_OK);
  ASSERT_EQ(cuda->event_record(0, e1, stream), DQ_OK);
  ASSERT_EQ(cuda->stream_wait_event(0, nullptr, e1), DQ_OK);
  ASSERT_EQ(cuda->event_synchronize(0, e1), DQ_OK);
  float ms = -1;
  ASSERT_EQ(cuda->event_elapsed_ms(0, e0, e1, &ms), DQ_OK) << cuda->last_error();
  EXPECT_GT(ms, 0.0f);
  std::vector<uint8_t> back(bytes);
  ASSERT_EQ(cuda->mem_copy(0, back.data(), b.get(), bytes, DQ_COPY_DEVICE_TO_HOST, nullptr), DQ_OK);
  EXPECT_EQ(std::memcmp(back.data(), pinned, bytes), 0);
  EXPECT_EQ(cuda->event_destroy(0, e0), DQ_OK);
  EXPECT_EQ(cuda->event_destroy(0, e1), DQ_OK);
  EXPECT_EQ(cuda->stream_destroy(0, stream), DQ_OK);
  EXPECT_EQ(cuda->host_free_pinned(pinned), DQ_OK);
}

// After each refused or failed call a good call must still work, with the right result.
class CudaErrors : public CudaDevice {
 protected:
  void SetUp() override {
    CudaDevice::SetUp();
    if (IsSkipped()) return;
    src_host = random_bytes(34 * 64, 11);  // 64 q8_0 blocks
    src = std::make_unique<DeviceBuffer>(cuda, src_host.size());
    dst = std::make_unique<DeviceBuffer>(cuda, 64 * 32 * 4);
    ASSERT_EQ(cuda->mem_copy(0, src->get(), src_host.data(), src_host.size(), DQ_COPY_HOST_TO_DEVICE, nullptr),
              DQ_OK);
  }
  dq_plugin_dequantize_args good() const {
    return make_args(8, 1, src->get(), src_host.size(), 64 * 32, dst->get(), 64 * 32 * 2);
  }
  void expect_usable() {
    dq_plugin_dequantize_args a = good();
    ASSERT_EQ(cuda->dequantize(&a), DQ_OK) << cuda->last_error();
    std::vector<uint8_t> got(64 * 32 * 2);
    ASSERT_EQ(cuda->mem_copy(0, got.data(), dst->get(), got.size(), DQ_COPY_DEVICE_TO_HOST, nullptr), DQ_OK);
    std::string why;
    const auto want = cpu_reference(8, 1, src_host, 64 * 32, &why);
    if (!want.empty()) {
      EXPECT_EQ(compare_outputs(got, want, 1), "");
    }
    EXPECT_STREQ(cuda->last_error(), "");
  }
  void expect_refused(dq_plugin_dequantize_args a, int32_t status, const char *words) {
    EXPECT_EQ(cuda->dequantize(&a), status);
    EXPECT_NE(std::string(cuda->last_error()).find(words), std::string::npos) << cuda->last_error();
    expect_usable();
  }
  std::vector<uint8_t> src_host;
  std::unique_ptr<DeviceBuffer> src, dst;
};

TEST_F(CudaErrors, BadRequestsLeaveTheDeviceUsable) {
  auto a = good();
  a.dst_bytes -= 1;
  expect_refused(a, DQ_ERR_SIZE, "destination holds");
  a = good();
  a.src_bytes = 33;
  expect_refused(a, DQ_ERR_SIZE, "source holds");
  a = good();
  a.n_elements = 31;
  expect_refused(a, DQ_ERR_SIZE, "not a multiple");
  a = good();
  a.src_type = 4;
  expect_refused(a, DQ_ERR_UNKNOWN_TYPE, "retired");
  a.src_type = 99;
  expect_refused(a, DQ_ERR_UNKNOWN_TYPE, "unknown");
  a.src_type = 9;
  expect_refused(a, DQ_ERR_UNSUPPORTED, "q8_1");
  a = good();
  a.dst_type = 2;
  expect_refused(a, DQ_ERR_INVALID_ARGUMENT, "output type");
  a = good();
  a.device = cuda->device_count();
  expect_refused(a, DQ_ERR_INVALID_ARGUMENT, "does not exist");
  // A host pointer passed as device memory is refused before any kernel touches it.
  a = good();
  a.src = src_host.data();
  expect_refused(a, DQ_ERR_INVALID_ARGUMENT, "not device memory");
  std::vector<uint8_t> host_out(64 * 32 * 2);
  a = good();
  a.dst = host_out.data();
  expect_refused(a, DQ_ERR_INVALID_ARGUMENT, "not device memory");
  a = good();
  a.dst = dst->get() + 1;
  expect_refused(a, DQ_ERR_INVALID_ARGUMENT, "aligned");
  a = good();
  a.dst = src->get();
  a.dst_bytes = src_host.size();
  a.n_elements = 32;
  expect_refused(a, DQ_ERR_INVALID_ARGUMENT, "overlap");
  expect_refused(a = good(), DQ_OK, "");  // sanity: the good request itself
}

TEST_F(CudaErrors, RuntimeFailuresCarryTheCudaText) {
  void *p = nullptr;
  EXPECT_EQ(cuda->mem_alloc(0, size_t(1) << 50, &p), DQ_ERR_OUT_OF_MEMORY);
  EXPECT_NE(std::string(cuda->last_error()).find("out of memory"), std::string::npos) << cuda->last_error();
  EXPECT_EQ(p, nullptr);
  expect_usable();
  int local = 0;
  EXPECT_EQ(cuda->mem_free(0, &local), DQ_ERR_INVALID_ARGUMENT);
  expect_usable();
  EXPECT_EQ(cuda->mem_copy(0, dst->get(), src->get(), 16, 42, nullptr), DQ_ERR_INVALID_ARGUMENT);
  expect_usable();
  float ms = 0;
  void *e0 = nullptr, *e1 = nullptr;
  ASSERT_EQ(cuda->event_create(0, &e0), DQ_OK);
  ASSERT_EQ(cuda->event_create(0, &e1), DQ_OK);
  // Never-recorded events: CUDA refuses, the plugin reports its text.
  EXPECT_NE(cuda->event_elapsed_ms(0, e0, e1, &ms), DQ_OK);
  EXPECT_NE(std::string(cuda->last_error()).find("cudaEventElapsedTime"), std::string::npos);
  cuda->event_destroy(0, e0);
  cuda->event_destroy(0, e1);
  expect_usable();
}

}  // namespace
}  // namespace dq::test
