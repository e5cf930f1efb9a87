#include "narrow_probe.hpp"

#include <strings.h>

#include <atomic>
#include <cfenv>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dequantize.hpp"
#include "dq/dq.h"
#include "dq_common/blocks.hpp"
#include "narrow_check.hpp"
#include "pipelines.hpp"
#include "status.hpp"
#include "streams.hpp"

namespace dq::vulkan {
namespace {

enum class State { Pending, Probing, Hardware, Software };

// One device's choice: Software from init when the features are missing, else Pending until
// its probe's one run (std::call_once: concurrent first requests wait for it) sets Hardware
// or Software.
struct DeviceNarrow {
  std::string name;
  std::once_flag once;
  std::atomic<State> state{State::Pending};
  std::string why;                        // Software: why; written before `state` is stored
  std::atomic<std::thread::id> prober{};  // the thread running the probe (hw_narrow_active)
  std::atomic<uint64_t> runs{0};
};

// Per device, built by init only when DQ_VULKAN_NARROW asked for the hardware narrowing then
// (the feature is enabled at vkCreateDevice from the same value); read-only after init but
// for the atomics and what the probe's once-callable writes.
std::vector<std::unique_ptr<DeviceNarrow>> g_narrow;
std::string g_fixed_note;  // the note of the other modes (software asked, value refused)

bool env_is(const char *name, const char *value) {
  const char *v = std::getenv(name);
  return v && strcasecmp(v, value) == 0;
}

void log_debug(const std::string &line) {
  if (!env_is("DQ_LOG", "debug")) return;
  const std::string text = "dq: vulkan narrow probe: " + line + "\n";
  std::fputs(text.c_str(), stderr);
}

// One host-to-host dequantization to f16 through the device's normal path on `stream`
// (per_element forces the per-element shaders on this thread); the plugin's status.
int32_t dequantize_to_f16(int32_t device, void *stream, int32_t src_type, const void *src, size_t src_bytes,
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
  a.stream = stream;
  force_per_element_on_this_thread(per_element);
  const int32_t st = dequantize(&a);
  force_per_element_on_this_thread(false);
  return st;
}

// The inputs as an F32 tensor to F16 on `device` (host memory both ways: staged through the
// device like any request); "" when every result equals the reference.
std::string probe(int32_t device, void *stream, const std::vector<uint32_t> &in, bool per_element) {
  std::vector<uint16_t> got(in.size(), 0xdeadu);
  const int32_t st = dequantize_to_f16(device, stream, DQ_TYPE_F32, in.data(), in.size() * sizeof(uint32_t),
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
std::string probe_q8_0(int32_t device, void *stream, bool per_element) {
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
      dequantize_to_f16(device, stream, DQ_TYPE_Q8_0, src.data(), src.size(), got, per_element);
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

namespace {

std::string probed_count() {
  return std::to_string(narrow_probe_inputs().size()) + " f32 inputs and Q8_0 products";
}

// The probe's one run on `device` (call_once), on the thread of the request that needs it,
// inside that ABI entry's FpEnvGuard.
void run_probe(int32_t device, DeviceNarrow &d) {
  d.runs.fetch_add(1);
  d.prober.store(std::this_thread::get_id());
  d.state.store(State::Probing);
  // The host reference's float work keeps subnormals whatever the caller set (the entry's
  // guard restores the caller's environment).
  std::fesetenv(FE_DFL_ENV);
  std::string why;
  // A stream of its own: the NULL stream would also wait for the caller's work on every other
  // stream, which may be running by now (at init nothing was).
  void *stream = nullptr;
  try {
    if (stream_create(device, &stream) != DQ_OK) {
      why = std::string("stream_create failed: ") + last_error_text();
    } else {
      const std::vector<uint32_t> in = narrow_probe_inputs();
      why = probe(device, stream, in, false);
      if (why.empty()) why = probe(device, stream, in, true);
      if (why.empty()) why = probe_q8_0(device, stream, false);
      if (why.empty()) why = probe_q8_0(device, stream, true);
    }
  } catch (const std::exception &e) {  // no verdict (std::bad_alloc, ...): keep software
    force_per_element_on_this_thread(false);
    why = std::string("probe failed: ") + e.what();
  }
  if (stream) stream_destroy(device, stream);  // waits for its work (the requests waited already)
  d.why = why;
  d.state.store(why.empty() ? State::Hardware : State::Software);
  d.prober.store(std::thread::id{});
  if (why.empty())
    log_debug(d.name + ": hardware f16 narrowing chosen (RoundingModeRTE 16, " + probed_count() + " bit-exact)");
  else
    log_debug(d.name + ": software f16 narrowing kept: " + why);
}

}  // namespace

void narrow_probe_init() {
  narrow_probe_reset();
  const int32_t n = device_count();
  NarrowMode mode = NarrowMode::Hardware;
  if (!parse_narrow_mode(&mode)) {
    g_fixed_note = std::string("f16 narrowing: DQ_VULKAN_NARROW=") + std::getenv("DQ_VULKAN_NARROW") +
                   " is not an f16 narrowing (hw (default), sw, branches): every request refused";
    return;
  }
  if (n < 1) return;
  if (mode != NarrowMode::Hardware) {
    g_fixed_note = std::string("f16 narrowing: software (DQ_VULKAN_NARROW=") + std::getenv("DQ_VULKAN_NARROW") + ")";
    return;
  }
  for (int32_t i = 0; i < n; ++i) {
    auto d = std::make_unique<DeviceNarrow>();
    DeviceContext *c = nullptr;
    if (device_context(i, "narrow probe", &c) != DQ_OK) c = nullptr;
    d->name = c ? std::string(c->props.deviceName) : "vulkan device " + std::to_string(i);
    // Without the features there is nothing to probe: decided now.
    const std::string missing = c ? hw_narrow_missing(*c) : "no device context";
    if (!missing.empty()) {
      log_debug(d->name + ": software f16 narrowing kept: " + missing);
      d->why = missing;
      d->state.store(State::Software);
    }
    g_narrow.push_back(std::move(d));
  }
}

void narrow_probe_reset() {
  g_narrow.clear();
  g_fixed_note.clear();
}

void narrow_probe_before(const dq_plugin_dequantize_args &a) {
  if (a.dst_type != DQ_TYPE_F16 || a.src_type == DQ_TYPE_F16) return;  // never the hw modules
  if (a.device < 0 || static_cast<size_t>(a.device) >= g_narrow.size() || !hw_narrow_requested()) return;
  DeviceNarrow &d = *g_narrow[static_cast<size_t>(a.device)];
  const State s = d.state.load();
  if (s == State::Hardware || s == State::Software) return;
  if (d.prober.load() == std::this_thread::get_id()) return;  // the probe's own requests
  std::call_once(d.once, [&] { run_probe(a.device, d); });
}

bool hw_narrow_active(int32_t device) {
  if (device < 0 || static_cast<size_t>(device) >= g_narrow.size() || !hw_narrow_requested()) return false;
  const DeviceNarrow &d = *g_narrow[static_cast<size_t>(device)];
  const State s = d.state.load();
  return s == State::Hardware || (s == State::Probing && d.prober.load() == std::this_thread::get_id());
}

std::string narrow_note() {
  if (g_narrow.empty()) return g_fixed_note;
  std::string hw_devices, sw_devices, pending_devices;
  auto add = [](std::string &to, const char *sep, const std::string &what) {
    to += (to.empty() ? "" : sep) + what;
  };
  for (const auto &d : g_narrow) {
    const State s = d->state.load();
    if (s == State::Hardware)
      add(hw_devices, ", ", d->name);
    else if (s == State::Software)
      add(sw_devices, "; ", d->name + ": " + d->why);
    else
      add(pending_devices, ", ", d->name);
  }
  std::string note;
  if (!hw_devices.empty())
    add(note, "; ",
        "f16 narrowing: hardware RoundingModeRTE on " + hw_devices + " (probed bit-exact: " + probed_count() +
            ", run and per-element paths; DQ_VULKAN_NARROW=sw: software)");
  if (!sw_devices.empty()) add(note, "; ", "f16 narrowing: software on " + sw_devices);
  if (!pending_devices.empty())
    add(note, "; ",
        "f16 narrowing: probed at the first f16 request on " + pending_devices +
            " (hardware RoundingModeRTE where bit-exact, else software; DQ_VULKAN_NARROW=sw: software)");
  return note;
}

uint64_t narrow_probe_runs(int32_t device) {
  if (device < 0 || static_cast<size_t>(device) >= g_narrow.size()) return 0;
  return g_narrow[static_cast<size_t>(device)]->runs.load();
}

}  // namespace dq::vulkan

// Tests only (tests/vulkan/vulkan_narrow_test.cpp, through dlsym): how many times the probe
// has run on `device` since init, so a test can tell that f32/bf16 requests never probe and
// that concurrent first f16 requests probe once.
extern "C" DQ_PLUGIN_EXPORT uint64_t dq_vulkan_test_narrow_probe_runs(int32_t device) {
  return dq::vulkan::narrow_probe_runs(device);
}
