// The per-tensor selection rules, on hand-made candidates (no plugins involved).
#include "registry/selection.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "registry/settings.hpp"

namespace dq::core {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

Candidate cpu() {
  Candidate c;
  c.name = "cpu";
  c.state = BackendState::loaded;
  c.load_status = DQ_OK;
  c.device_count = 1;
  c.supports = true;
  return c;
}

Candidate gpu(std::string_view name = "cuda") {
  Candidate c = cpu();
  c.name = name;
  c.is_gpu = true;
  return c;
}

Candidate without_device(Candidate c, std::string_view reason) {
  c.device_count = 0;
  c.status = reason;
  return c;
}

SelectionQuery query(uint64_t bytes) {
  SelectionQuery q;
  q.src_type_name = "q6_K";
  q.dst_type_name = "f32";
  q.src_bytes = bytes;
  return q;
}

SelectionPolicy policy(uint64_t min_bytes = 64 * kMiB, std::vector<std::string> order = {}) {
  SelectionPolicy p;
  p.gpu_min_bytes = min_bytes;
  p.order = order;
  for (const auto &n : order) p.order_text += (p.order_text.empty() ? "" : ",") + n;
  p.searched = "/plugins (test)";
  return p;
}

std::string joined(const std::vector<std::string> &notes) {
  std::string s;
  for (const auto &n : notes) s += n + "\n";
  return s;
}

TEST(CoreSelection, SmallHostTensorStaysOnCpu) {
  const std::vector<Candidate> cs{cpu(), gpu()};
  Selection s = select_backend(cs, query(53760), policy());
  ASSERT_EQ(s.status, DQ_OK);
  EXPECT_EQ(cs[s.index].name, "cpu");
  EXPECT_EQ(s.reason, "below DQ_GPU_MIN_BYTES=67108864");
}

TEST(CoreSelection, TensorAtThresholdGoesToGpu) {
  const std::vector<Candidate> cs{cpu(), gpu()};
  Selection at = select_backend(cs, query(64 * kMiB), policy());
  EXPECT_EQ(cs[at.index].name, "cuda");
  EXPECT_EQ(at.reason, "at least DQ_GPU_MIN_BYTES=67108864");
  Selection below = select_backend(cs, query(64 * kMiB - 1), policy());
  EXPECT_EQ(cs[below.index].name, "cpu");
}

TEST(CoreSelection, DefaultThresholdNeverSendsHostWorkToGpu) {
  const std::vector<Candidate> cs{cpu(), gpu()};
  Selection s = select_backend(cs, query(uint64_t(1) << 40), policy(kDefaultGpuMinBytes));
  EXPECT_EQ(cs[s.index].name, "cpu");
  EXPECT_EQ(s.reason, "host->host work stays off GPUs (DQ_GPU_MIN_BYTES=off)");
}

TEST(CoreSelection, ZeroThresholdAlwaysPrefersGpu) {
  const std::vector<Candidate> cs{cpu(), gpu()};
  Selection s = select_backend(cs, query(1), policy(0));
  EXPECT_EQ(cs[s.index].name, "cuda");
}

TEST(CoreSelection, GpuWithoutDeviceIsSkippedWithReason) {
  const std::vector<Candidate> cs{cpu(), without_device(gpu(), "no CUDA device: driver missing")};
  Selection s = select_backend(cs, query(1 << 30), policy());
  ASSERT_EQ(s.status, DQ_OK);
  EXPECT_EQ(cs[s.index].name, "cpu");
  EXPECT_NE(joined(s.notes).find("skipped cuda: no device: no CUDA device: driver missing"),
            std::string::npos)
      << joined(s.notes);
}

TEST(CoreSelection, GpuThatLacksTheTypeIsSkipped) {
  Candidate g = gpu();
  g.supports = false;
  const std::vector<Candidate> cs{cpu(), g};
  Selection s = select_backend(cs, query(1 << 30), policy());
  EXPECT_EQ(cs[s.index].name, "cpu");
  EXPECT_NE(joined(s.notes).find("cuda: does not dequantize q6_K to f32"), std::string::npos);
}

TEST(CoreSelection, SmallTensorUsesGpuWhenNothingElseCan) {
  Candidate c = cpu();
  c.supports = false;
  const std::vector<Candidate> cs{c, gpu()};
  Selection s = select_backend(cs, query(100), policy());
  EXPECT_EQ(cs[s.index].name, "cuda");
  EXPECT_NE(s.reason.find("no host backend"), std::string::npos);
}

TEST(CoreSelection, SingleNameInEnvironmentForcesIgnoringThreshold) {
  const std::vector<Candidate> cs{cpu(), gpu()};
  Selection s = select_backend(cs, query(100), policy(64 * kMiB, {"cuda"}));
  ASSERT_EQ(s.status, DQ_OK);
  EXPECT_EQ(cs[s.index].name, "cuda");
  EXPECT_EQ(s.reason, "DQ_BACKEND=cuda");
}

TEST(CoreSelection, ForcedBackendWithoutDeviceFailsWithItsReason) {
  const std::vector<Candidate> cs{cpu(), without_device(gpu(), "no CUDA device: driver missing")};
  Selection s = select_backend(cs, query(100), policy(64 * kMiB, {"cuda"}));
  EXPECT_EQ(s.status, DQ_ERR_NO_DEVICE);
  EXPECT_EQ(s.index, -1);
  EXPECT_NE(s.reason.find("backend 'cuda' has no device: no CUDA device: driver missing"),
            std::string::npos)
      << s.reason;
}

TEST(CoreSelection, ForcedUnknownBackendFailsNamingItAndTheSearch) {
  const std::vector<Candidate> cs{cpu()};
  Selection s = select_backend(cs, query(100), policy(64 * kMiB, {"nosuch"}));
  EXPECT_EQ(s.status, DQ_ERR_NO_BACKEND);
  EXPECT_NE(s.reason.find("backend 'nosuch' not found (searched: /plugins (test)"),
            std::string::npos)
      << s.reason;
}

TEST(CoreSelection, ForcedRefusedBackendReportsItsLoadStatus) {
  Candidate old = gpu("old");
  old.state = BackendState::refused;
  old.load_status = DQ_ERR_ABI;
  old.status = "libdq-old.so: plugin ABI 2.0, core expects 1.x";
  const std::vector<Candidate> cs{cpu(), old};
  Selection s = select_backend(cs, query(100), policy(64 * kMiB, {"old"}));
  EXPECT_EQ(s.status, DQ_ERR_ABI);
  EXPECT_NE(s.reason.find("plugin ABI 2.0, core expects 1.x"), std::string::npos) << s.reason;
}

TEST(CoreSelection, ForcedBackendWithoutTheTypeIsUnsupported) {
  Candidate c = cpu();
  c.supports = false;
  const std::vector<Candidate> cs{c};
  Selection s = select_backend(cs, query(100), policy(64 * kMiB, {"cpu"}));
  EXPECT_EQ(s.status, DQ_ERR_UNSUPPORTED);
}

TEST(CoreSelection, ListIsAnOrderOfPreferenceSkippingUnusable) {
  const std::vector<Candidate> cs{cpu(), without_device(gpu(), "none here")};
  Selection s = select_backend(cs, query(1 << 30), policy(0, {"nosuch", "cuda", "cpu"}));
  ASSERT_EQ(s.status, DQ_OK);
  EXPECT_EQ(cs[s.index].name, "cpu");
  const std::string notes = joined(s.notes);
  EXPECT_NE(notes.find("skipped nosuch: not found"), std::string::npos) << notes;
  EXPECT_NE(notes.find("skipped cuda: no device: none here"), std::string::npos) << notes;
}

TEST(CoreSelection, ListOrderBeatsGpuFirst) {
  const std::vector<Candidate> cs{cpu(), gpu()};
  Selection s = select_backend(cs, query(1 << 30), policy(0, {"cpu", "cuda"}));
  EXPECT_EQ(cs[s.index].name, "cpu");
  EXPECT_EQ(s.reason, "first usable in DQ_BACKEND=cpu,cuda");
}

TEST(CoreSelection, ListStillHonoursTheThreshold) {
  const std::vector<Candidate> cs{cpu(), gpu()};
  Selection s = select_backend(cs, query(100), policy(64 * kMiB, {"cuda", "cpu"}));
  EXPECT_EQ(cs[s.index].name, "cpu");
}

TEST(CoreSelection, ListWithNothingUsableFails) {
  const std::vector<Candidate> cs{cpu()};
  Selection s = select_backend(cs, query(100), policy(0, {"cuda", "vulkan"}));
  EXPECT_EQ(s.status, DQ_ERR_NO_BACKEND);
  EXPECT_NE(s.reason.find("DQ_BACKEND=cuda,vulkan"), std::string::npos) << s.reason;
}

TEST(CoreSelection, DeviceMemoryImpliesItsBackendEvenWhenSmall) {
  const std::vector<Candidate> cs{cpu(), gpu()};
  SelectionQuery q = query(100);
  q.forced_by = ForcedBy::device_memory;
  q.forced = "cuda";
  Selection s = select_backend(cs, q, policy(64 * kMiB, {"cpu"}));
  ASSERT_EQ(s.status, DQ_OK);
  EXPECT_EQ(cs[s.index].name, "cuda");
  EXPECT_NE(s.reason.find("device memory"), std::string::npos);
}

TEST(CoreSelection, NothingCanDoTheJob) {
  Candidate c = cpu();
  c.supports = false;
  Candidate failed = gpu();
  failed.state = BackendState::failed;
  failed.status = "libdq-cuda.so: libcudart.so.13: cannot open shared object file";
  const std::vector<Candidate> cs{c, failed};
  Selection s = select_backend(cs, query(100), policy());
  EXPECT_EQ(s.status, DQ_ERR_NO_BACKEND);
  EXPECT_NE(s.reason.find("no backend can dequantize q6_K to f32"), std::string::npos) << s.reason;
  EXPECT_NE(s.reason.find("libcudart.so.13"), std::string::npos) << s.reason;
}

TEST(CoreSelection, NoPluginsAtAll) {
  const std::vector<Candidate> none;
  Selection s = select_backend(none, query(100), policy());
  EXPECT_EQ(s.status, DQ_ERR_NO_BACKEND);
  EXPECT_NE(s.reason.find("no plugin found"), std::string::npos);
}

TEST(CoreSelection, SkippedDuplicateIsNeverChosenByName) {
  Candidate dup = cpu();
  dup.state = BackendState::skipped;
  dup.status = "skipped";
  Candidate first = gpu("cpu");  // the earlier plugin of that name, which won
  first.is_gpu = false;
  const std::vector<Candidate> cs{dup, first};
  Selection s = select_backend(cs, query(100), policy(64 * kMiB, {"cpu"}));
  ASSERT_EQ(s.status, DQ_OK);
  EXPECT_EQ(s.index, 1);
}

TEST(CoreSelection, AutomaticOrderPutsEveryGpuBeforeHostBackends) {
  const std::vector<Candidate> cs{cpu(), gpu("vulkan"), gpu("cuda")};
  Selection s = select_backend(cs, query(1 << 30), policy());
  EXPECT_EQ(cs[s.index].name, "vulkan");  // search order among GPUs
}

}  // namespace
}  // namespace dq::core

// Issue 15: cuda and vulkan on the same NVIDIA GPU: cuda is preferred and a note says why,
// whichever order the plugins were found in; a different GPU is left where it was.
namespace dq::core {
namespace {

const std::vector<std::string> kCudaDevices{"NVIDIA H200"};
const std::vector<std::string> kVulkanSame{"NVIDIA H200 (NVIDIA 550.54.15, Vulkan 1.3.277)", "llvmpipe (LLVM 15)"};
const std::vector<std::string> kVulkanOther{"AMD Radeon RX 7900 XTX (radv Mesa 23, Vulkan 1.3.255)"};

Candidate named_gpu(std::string_view name, const std::vector<std::string> &devices) {
  Candidate c = gpu(name);
  c.device_names = devices;
  return c;
}

TEST(CoreSelection, CudaPreferredOverVulkanOnTheSameGpu) {
  for (bool vulkan_first : {false, true}) {
    std::vector<Candidate> cs{cpu(), named_gpu("cuda", kCudaDevices), named_gpu("vulkan", kVulkanSame)};
    if (vulkan_first) std::swap(cs[1], cs[2]);
    Selection s = select_backend(cs, query(64 * kMiB), policy());
    ASSERT_EQ(s.status, DQ_OK);
    EXPECT_EQ(cs[s.index].name, "cuda") << "vulkan found first: " << vulkan_first;
    EXPECT_NE(joined(s.notes).find("preferring cuda over vulkan: both see NVIDIA H200"), std::string::npos)
        << joined(s.notes);
  }
}

TEST(CoreSelection, VulkanOnAnotherGpuKeepsItsPlaceAndDqBackendForcesIt) {
  const std::vector<Candidate> cs{cpu(), named_gpu("amdvk", kVulkanOther), named_gpu("cuda", kCudaDevices)};
  Selection s = select_backend(cs, query(64 * kMiB), policy());
  EXPECT_EQ(cs[s.index].name, "amdvk");
  EXPECT_EQ(joined(s.notes).find("preferring cuda"), std::string::npos) << joined(s.notes);
  // A prefix that is not a whole name ("NVIDIA H2" of "NVIDIA H200") is no match.
  const std::vector<std::string> prefix{"NVIDIA H2"};
  const std::vector<Candidate> cs2{named_gpu("cuda", prefix), named_gpu("vulkan", kVulkanSame)};
  EXPECT_EQ(joined(select_backend(cs2, query(64 * kMiB), policy()).notes).find("preferring"), std::string::npos);
  const std::vector<Candidate> cs3{cpu(), named_gpu("cuda", kCudaDevices), named_gpu("vulkan", kVulkanSame)};
  Selection forced = select_backend(cs3, query(1), policy(64 * kMiB, {"vulkan"}));
  EXPECT_EQ(cs3[forced.index].name, "vulkan");
}

}  // namespace
}  // namespace dq::core
