#include "denormal_probe.hpp"

#include <cfenv>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dequantize.hpp"
#include "devices.hpp"
#include "dq/dq.h"
#include "dq_common/blocks.hpp"
#include "dq_common/grids.hpp"
#include "status.hpp"

namespace dq::vulkan {
namespace {

bool g_flushes = false;
std::string g_note;

// One block of each probed type, its source bytes and the exact host result.
struct ProbeBlock {
  int32_t type;
  std::vector<uint8_t> src;
  std::vector<float> want;
};

// Q8_K: d = 1e-40f (subnormal) times q = -128..127: subnormal and small normal outputs,
// the case NVIDIA wrote as zero against the goldens.
ProbeBlock q8_k_block() {
  ProbeBlock b{DQ_TYPE_Q8_K, std::vector<uint8_t>(sizeof(dq::blocks::block_q8_K), 0), {}};
  const float d = 1e-40f;
  std::memcpy(b.src.data() + offsetof(dq::blocks::block_q8_K, d), &d, sizeof d);
  for (int i = 0; i < 256; ++i) {
    const auto q = static_cast<int8_t>(i - 128);
    b.src[offsetof(dq::blocks::block_q8_K, qs) + i] = static_cast<uint8_t>(q);
    b.want.push_back(static_cast<float>(q) * d);
  }
  return b;
}

// MXFP4 with E8M0 byte 0 (scale 2^-128 after ggml's halving): every nibble once per half.
ProbeBlock mxfp4_block() {
  ProbeBlock b{DQ_TYPE_MXFP4, std::vector<uint8_t>(sizeof(dq::blocks::block_mxfp4), 0), {}};
  b.want.resize(32);
  const float d = dq::blocks::e8m0_to_f32_half(0);
  for (int j = 0; j < 16; ++j) {
    const auto byte = static_cast<uint8_t>(j | ((15 - j) << 4));
    b.src[offsetof(dq::blocks::block_mxfp4, qs) + j] = byte;
    b.want[j] = dq::grids::kvalues_mxfp4[byte & 0x0F] * d;
    b.want[j + 16] = dq::grids::kvalues_mxfp4[byte >> 4] * d;
  }
  return b;
}

// "" when `device` returns the block bit for bit, else what went wrong.
std::string probe(int32_t device, const ProbeBlock &b) {
  std::vector<float> got(b.want.size(), -1.0f);
  dq_plugin_dequantize_args a{};
  a.struct_size = sizeof a;
  a.src_type = b.type;
  a.dst_type = DQ_TYPE_F32;
  a.src = b.src.data();
  a.src_bytes = b.src.size();
  a.n_elements = static_cast<int64_t>(b.want.size());
  a.dst = got.data();
  a.dst_bytes = got.size() * sizeof(float);
  a.device = device;
  a.src_on_host = a.dst_on_host = 1;
  if (dequantize(&a) != DQ_OK) return std::string("probe failed: ") + last_error_text();
  if (std::memcmp(got.data(), b.want.data(), got.size() * sizeof(float)) != 0) return "flushes f32 subnormals";
  return "";
}

}  // namespace

void denormal_probe_run() {
  denormal_probe_reset();
  const int32_t n = device_count();
  if (n < 1) return;
  const char *forced = std::getenv("DQ_VULKAN_ASSUME_DENORM_FLUSH");
  const bool force = forced && std::strcmp(forced, "1") == 0;
  // The host reference needs subnormals kept (the caller's environment is restored by init).
  std::fesetenv(FE_DFL_ENV);
  const ProbeBlock blocks[] = {q8_k_block(), mxfp4_block()};
  std::string why;
  for (int32_t i = 0; i < n; ++i) {
    DeviceContext *c = nullptr;
    const std::string name = device_context(i, "denormal probe", &c) == DQ_OK
                                 ? std::string(c->props.deviceName)
                                 : "vulkan device " + std::to_string(i);
    std::string dev_why = force ? "flushes f32 subnormals (DQ_VULKAN_ASSUME_DENORM_FLUSH=1)" : "";
    for (const ProbeBlock &b : blocks)
      if (dev_why.empty()) dev_why = probe(i, b);
    if (!dev_why.empty()) why += std::string(why.empty() ? "" : ", ") + name + " " + dev_why;
  }
  if (why.empty()) return;
  g_flushes = true;
  g_note = "Q8_K, MXFP4 refused (the cpu plugin serves them): " + why;
}

void denormal_probe_reset() {
  g_flushes = false;
  g_note.clear();
}

bool denormal_refused(int32_t src_type) {
  return g_flushes && (src_type == DQ_TYPE_Q8_K || src_type == DQ_TYPE_MXFP4);
}

const std::string &denormal_note() { return g_note; }

}  // namespace dq::vulkan
