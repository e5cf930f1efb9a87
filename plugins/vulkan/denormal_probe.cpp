#include "denormal_probe.hpp"

#include <cfenv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <strings.h>
#include <vector>

#include "dequantize.hpp"
#include "devices.hpp"
#include "dq/dq.h"
#include "dq_common/blocks.hpp"
#include "dq_common/grids.hpp"
#include "pipelines.hpp"
#include "status.hpp"

namespace dq::vulkan {
namespace {

bool g_refused = false;
std::vector<bool> g_exact;  // per device: the exact products were probed and chosen
std::string g_note;

// One block (or two) of each probed type, its source bytes and the exact host result.
struct ProbeBlock {
  int32_t type;
  const char *name;
  std::vector<uint8_t> src;
  std::vector<float> want;
};

// Q8_K: d = 1e-40f (subnormal) times q = -128..127: subnormal and small normal outputs,
// the case NVIDIA wrote as zero against the goldens; then d = -(2^-126 - 2^-149), the largest
// subnormal, whose products with odd q round (ties included) into the normal range.
ProbeBlock q8_k_blocks() {
  constexpr size_t kBytes = sizeof(dq::blocks::block_q8_K);
  ProbeBlock b{DQ_TYPE_Q8_K, "Q8_K", std::vector<uint8_t>(2 * kBytes, 0), {}};
  const uint32_t d_bits[2] = {0x000116c2u, 0x807fffffu};  // 1e-40f, -0x1.fffffcp-127
  for (size_t k = 0; k < 2; ++k) {
    uint8_t *blk = b.src.data() + k * kBytes;
    float d;
    std::memcpy(&d, &d_bits[k], sizeof d);
    std::memcpy(blk + offsetof(dq::blocks::block_q8_K, d), &d, sizeof d);
    for (int i = 0; i < 256; ++i) {
      const auto q = static_cast<int8_t>(i - 128);
      blk[offsetof(dq::blocks::block_q8_K, qs) + i] = static_cast<uint8_t>(q);
      b.want.push_back(d * static_cast<float>(q));
    }
  }
  return b;
}

// MXFP4 with E8M0 bytes 0 and 1 (scales 2^-128, 2^-127 after ggml's halving), every nibble
// once per half of each block.
ProbeBlock mxfp4_blocks() {
  constexpr size_t kBytes = sizeof(dq::blocks::block_mxfp4);
  ProbeBlock b{DQ_TYPE_MXFP4, "MXFP4", std::vector<uint8_t>(2 * kBytes, 0), std::vector<float>(64)};
  for (uint8_t e = 0; e < 2; ++e) {
    uint8_t *blk = b.src.data() + e * kBytes;
    blk[offsetof(dq::blocks::block_mxfp4, e)] = e;
    const float d = dq::blocks::e8m0_to_f32_half(e);
    float *want = b.want.data() + 32 * e;
    for (int j = 0; j < 16; ++j) {
      const auto byte = static_cast<uint8_t>(j | ((15 - j) << 4));
      blk[offsetof(dq::blocks::block_mxfp4, qs) + j] = byte;
      want[j] = dq::grids::kvalues_mxfp4[byte & 0x0F] * d;
      want[j + 16] = dq::grids::kvalues_mxfp4[byte >> 4] * d;
    }
  }
  return b;
}

std::string hex(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", u);
  return buf;
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
  if (dequantize(&a) != DQ_OK) return std::string(b.name) + " probe failed: " + last_error_text();
  size_t wrong = 0, first = 0;
  for (size_t i = got.size(); i-- > 0;)
    if (std::memcmp(&got[i], &b.want[i], sizeof(float)) != 0) ++wrong, first = i;
  if (wrong == 0) return "";
  return std::string(b.name) + " got " + hex(got[first]) + " want " + hex(b.want[first]) + " at element " +
         std::to_string(first) + ", " + std::to_string(wrong) + " of " + std::to_string(got.size()) + " differ";
}

std::string probe_all(int32_t device) {
  static const ProbeBlock blocks[] = {q8_k_blocks(), mxfp4_blocks()};
  std::string why;  // every type's outcome: both are evidence for the next report
  for (const ProbeBlock &b : blocks)
    if (std::string w = probe(device, b); !w.empty()) why += (why.empty() ? "" : "; ") + w;
  return why;
}

bool env_is(const char *name, const char *value) {
  const char *v = std::getenv(name);
  return v && strcasecmp(v, value) == 0;
}

void log_debug(const std::string &line) {
  if (!env_is("DQ_LOG", "debug")) return;
  const std::string text = "dq: vulkan denormal probe: " + line + "\n";
  std::fputs(text.c_str(), stderr);
}

void append(std::string &to, const std::string &what) {
  if (!what.empty()) to += (to.empty() ? "" : ", ") + what;
}

}  // namespace

void denormal_probe_run() {
  denormal_probe_reset();
  const int32_t n = device_count();
  if (n < 1) return;
  // The host reference needs subnormals kept (the caller's environment is restored by init).
  std::fesetenv(FE_DFL_ENV);
  const bool exact_forced = env_is("DQ_VULKAN_DENORM_EXACT", "1");
  const bool exact_disabled = env_is("DQ_VULKAN_DENORM_EXACT", "0");
  g_exact.assign(static_cast<size_t>(n), false);
  std::string exact_devices, refused_devices;
  for (int32_t i = 0; i < n; ++i) {
    DeviceContext *c = nullptr;
    if (device_context(i, "denormal probe", &c) != DQ_OK) c = nullptr;
    const std::string name = c ? std::string(c->props.deviceName) : "vulkan device " + std::to_string(i);
    // What was probed: the float-controls properties and the modules, for the next report.
    std::string setup = c ? float_controls_text(*c) : "no device context";
    setup += std::string("; ") + (c && uses_denorm_preserve(*c) ? "DenormPreserve" : "plain") + " modules";
    if (simulates_denorm_flush()) setup += ", flush simulated (DQ_VULKAN_ASSUME_DENORM_FLUSH=1)";
    std::string float_why = exact_forced ? "not probed (DQ_VULKAN_DENORM_EXACT=1)" : probe_all(i);
    if (float_why.empty()) {
      log_debug(name + ": " + setup + "; float products keep f32 subnormals");
      continue;
    }
    std::string exact_why = "disabled (DQ_VULKAN_DENORM_EXACT=0)";
    if (!exact_disabled) {
      g_exact[static_cast<size_t>(i)] = true;
      exact_why = probe_all(i);
      if (!exact_why.empty()) g_exact[static_cast<size_t>(i)] = false;
    }
    const std::string detail = "float products: " + float_why + "; " + setup;
    if (exact_why.empty()) {
      log_debug(name + ": " + setup + "; float products: " + float_why + "; exact products chosen (bit-exact)");
      append(exact_devices, name + " (" + detail + ")");
    } else {
      log_debug(name + ": " + setup + "; float products: " + float_why + "; exact products: " + exact_why +
                "; Q8_K, MXFP4 refused");
      append(refused_devices, name + " flushes f32 subnormals (" + detail + "; exact products: " + exact_why + ")");
    }
  }
  if (!exact_devices.empty())
    g_note = "Q8_K, MXFP4 use exact integer products for subnormal scales on " + exact_devices;
  if (!refused_devices.empty()) {
    g_refused = true;
    g_note += std::string(g_note.empty() ? "" : "; ") + "Q8_K, MXFP4 refused (the cpu plugin serves them): " +
              refused_devices;
  }
}

void denormal_probe_reset() {
  g_refused = false;
  g_exact.clear();
  g_note.clear();
}

bool denormal_exact_chosen(int32_t device) {
  return device >= 0 && static_cast<size_t>(device) < g_exact.size() && g_exact[static_cast<size_t>(device)];
}

bool denormal_refused(int32_t src_type) {
  return g_refused && (src_type == DQ_TYPE_Q8_K || src_type == DQ_TYPE_MXFP4);
}

const std::string &denormal_note() { return g_note; }

}  // namespace dq::vulkan
