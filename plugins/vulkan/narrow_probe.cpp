#include "narrow_probe.hpp"

#include <strings.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dequantize.hpp"
#include "dq/dq.h"
#include "dq_common/blocks.hpp"
#include "narrow_check.hpp"
#include "pipelines.hpp"
#include "status.hpp"

namespace dq::vulkan {
namespace {

std::vector<bool> g_hw;       // per device: the probe passed, f16 outputs take the hw modules
std::vector<bool> g_probing;  // per device: the probe is running there (hw modules forced)
std::string g_note;

bool env_is(const char *name, const char *value) {
  const char *v = std::getenv(name);
  return v && strcasecmp(v, value) == 0;
}

void log_debug(const std::string &line) {
  if (!env_is("DQ_LOG", "debug")) return;
  const std::string text = "dq: vulkan narrow probe: " + line + "\n";
  std::fputs(text.c_str(), stderr);
}

// One host-to-host dequantization to f16 through the device's normal path (per_element forces
// the per-element shaders on this thread); the plugin's status.
int32_t dequantize_to_f16(int32_t device, int32_t src_type, const void *src, size_t src_bytes,
                          std::vector<uint16_t> &got, bool per_element) {
  dq_plugin_dequantize_args a{};
  a.struct_size = sizeof a;
  a.src_type = src_type;
  a.dst_type = DQ_TYPE_F16;
  a.src = src;
  a.src_bytes = src_bytes;
  a.n_elements = static_cast<int64_t>(got.size());
  a.dst = got.data();
  a.dst_bytes = got.size() * sizeof(uint16_t);
  a.device = device;
  a.src_on_host = a.dst_on_host = 1;
  force_per_element_on_this_thread(per_element);
  const int32_t st = dequantize(&a);
  force_per_element_on_this_thread(false);
  return st;
}

// The inputs as an F32 tensor to F16 on `device` (host memory both ways: staged through the
// device like any request); "" when every result equals the reference.
std::string probe(int32_t device, const std::vector<uint32_t> &in, bool per_element) {
  std::vector<uint16_t> got(in.size(), 0xdeadu);
  const int32_t st = dequantize_to_f16(device, DQ_TYPE_F32, in.data(), in.size() * sizeof(uint32_t),
                                       got, per_element);
  const char *path = per_element ? "per-element path: " : "run path: ";
  if (st != DQ_OK) return std::string(path) + "dequantize failed: " + last_error_text();
  if (env_is("DQ_VULKAN_NARROW_PROBE_FAULT", "1"))
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i] == 0x80000001u) got[i] = 0x0000u;  // a flushed -2^-149 that lost its sign
  const std::string why = narrow_mismatch(in, got.data(), got.size());
  return why.empty() ? why : std::string(path) + why;
}

// The same through a block family's module (legacy.comp): Q8_0 blocks whose products d * q
// (exact in f32) are f16 ties at several exponents, overflow to inf, f16 subnormals and
// signed zeros; "" when every result is the reference's f32_to_f16(d * q).
std::string probe_q8_0(int32_t device, bool per_element) {
  static const uint16_t kScales[] = {0x3c01u, 0x4401u, 0x7bffu, 0x5bffu, 0x0001u,
                                     0x8001u, 0x0201u, 0x3555u, 0x0000u};
  constexpr size_t kBytes = sizeof(dq::blocks::block_q8_0);
  std::vector<uint8_t> src;
  std::vector<uint32_t> products;  // the f32 values the shader narrows
  for (uint16_t d : kScales)
    for (int b = 0; b < 8; ++b) {  // q = -128..127 over 8 blocks
      uint8_t blk[kBytes];
      std::memcpy(blk + offsetof(dq::blocks::block_q8_0, d), &d, sizeof d);
      for (int j = 0; j < 32; ++j) {
        const auto q = static_cast<int8_t>(b * 32 + j - 128);
        blk[offsetof(dq::blocks::block_q8_0, qs) + j] = static_cast<uint8_t>(q);
        products.push_back(dq::f32_bits(dq::f16_to_f32(d) * static_cast<float>(q)));
      }
      src.insert(src.end(), blk, blk + kBytes);
    }
  std::vector<uint16_t> got(products.size(), 0xdeadu);
  const int32_t st =
      dequantize_to_f16(device, DQ_TYPE_Q8_0, src.data(), src.size(), got, per_element);
  const std::string path = per_element ? "Q8_0 per-element path: " : "Q8_0 run path: ";
  if (st != DQ_OK) return path + "dequantize failed: " + last_error_text();
  const std::string why = narrow_mismatch(products, got.data(), got.size());
  return why.empty() ? why : path + why;
}

// DQ_VULKAN_NARROW without reporting (init and the module choice read it too); false for an
// unknown value, which the dequantize entries refuse (narrow_mode, plugin.cpp).
bool parse_narrow_mode(NarrowMode *out) {
  const char *v = std::getenv("DQ_VULKAN_NARROW");
  if (!v || !*v || strcasecmp(v, "hw") == 0 || strcasecmp(v, "default") == 0)
    *out = NarrowMode::Hardware;
  else if (strcasecmp(v, "sw") == 0)
    *out = NarrowMode::Software;
  else if (strcasecmp(v, "branches") == 0)
    *out = NarrowMode::Branches;
  else
    return false;
  return true;
}

}  // namespace

int32_t narrow_mode(NarrowMode *out) {
  if (parse_narrow_mode(out)) return DQ_OK;
  return fail(DQ_ERR_INVALID_ARGUMENT, std::string("DQ_VULKAN_NARROW=") +
                                           std::getenv("DQ_VULKAN_NARROW") +
                                           " is not an f16 narrowing (hw (default), sw, branches)");
}

bool hw_narrow_requested() {
  NarrowMode mode = NarrowMode::Software;
  return parse_narrow_mode(&mode) && mode == NarrowMode::Hardware;
}

bool branching_narrow_requested() {
  NarrowMode mode = NarrowMode::Hardware;
  return parse_narrow_mode(&mode) && mode == NarrowMode::Branches;
}

std::string hw_narrow_missing(const DeviceContext &c) {
  std::string missing;
  auto add = [&](const char *what) {
    missing += (missing.empty() ? "" : ", ") + std::string(what);
  };
  if (!c.float16_enabled) add(c.float16_offered ? "shaderFloat16 not enabled" : "no shaderFloat16");
  VkPhysicalDeviceFloatControlsProperties fc;
  if (!float_controls_properties(c, &fc)) {
    add("float controls not queried");
  } else {
    if (!fc.shaderRoundingModeRTEFloat16) add("no shaderRoundingModeRTEFloat16");
    // NONE: every width would need the same rounding mode; the modules set only 16.
    if (fc.roundingModeIndependence == VK_SHADER_FLOAT_CONTROLS_INDEPENDENCE_NONE)
      add("roundingModeIndependence=NONE");
  }
  return missing;
}

void narrow_probe_run() {
  narrow_probe_reset();
  const int32_t n = device_count();
  NarrowMode mode = NarrowMode::Hardware;
  if (!parse_narrow_mode(&mode)) {
    g_note = std::string("f16 narrowing: DQ_VULKAN_NARROW=") + std::getenv("DQ_VULKAN_NARROW") +
             " is not an f16 narrowing (hw (default), sw, branches): every request refused";
    return;
  }
  if (n < 1) return;
  if (mode != NarrowMode::Hardware) {
    g_note = std::string("f16 narrowing: software (DQ_VULKAN_NARROW=") +
             std::getenv("DQ_VULKAN_NARROW") + ")";
    return;
  }
  g_hw.assign(static_cast<size_t>(n), false);
  g_probing.assign(static_cast<size_t>(n), false);
  const std::vector<uint32_t> in = narrow_probe_inputs();
  std::string hw_devices, sw_devices;
  for (int32_t i = 0; i < n; ++i) {
    DeviceContext *c = nullptr;
    if (device_context(i, "narrow probe", &c) != DQ_OK) c = nullptr;
    const std::string name =
        c ? std::string(c->props.deviceName) : "vulkan device " + std::to_string(i);
    std::string why = c ? hw_narrow_missing(*c) : "no device context";
    if (why.empty()) {
      g_probing[static_cast<size_t>(i)] = true;
      why = probe(i, in, false);
      if (why.empty()) why = probe(i, in, true);
      if (why.empty()) why = probe_q8_0(i, false);
      if (why.empty()) why = probe_q8_0(i, true);
      g_probing[static_cast<size_t>(i)] = false;
    }
    const std::string count = std::to_string(in.size()) + " f32 inputs and Q8_0 products";
    if (why.empty()) {
      g_hw[static_cast<size_t>(i)] = true;
      log_debug(name + ": hardware f16 narrowing chosen (RoundingModeRTE 16, " + count +
                " bit-exact)");
      hw_devices += (hw_devices.empty() ? "" : ", ") + name;
    } else {
      log_debug(name + ": software f16 narrowing kept: " + why);
      sw_devices += (sw_devices.empty() ? "" : "; ") + name + ": " + why;
    }
  }
  if (!hw_devices.empty())
    g_note =
        "f16 narrowing: hardware RoundingModeRTE on " + hw_devices +
        " (probed bit-exact: " + std::to_string(in.size()) +
        " f32 inputs and Q8_0 products, run and per-element paths; DQ_VULKAN_NARROW=sw: software)";
  if (!sw_devices.empty())
    g_note += std::string(g_note.empty() ? "" : "; ") + "f16 narrowing: software on " + sw_devices;
}

void narrow_probe_reset() {
  g_hw.clear();
  g_probing.clear();
  g_note.clear();
}

bool hw_narrow_active(int32_t device) {
  if (device < 0 || static_cast<size_t>(device) >= g_hw.size() || !hw_narrow_requested())
    return false;
  return g_hw[static_cast<size_t>(device)] || g_probing[static_cast<size_t>(device)];
}

const std::string &narrow_note() {
  return g_note;
}

}  // namespace dq::vulkan
