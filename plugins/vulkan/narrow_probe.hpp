// Hardware f16 narrowing (issue 15, the default since an H100 measured it 1.1-2x faster on
// every f16 row): f16 outputs narrowed by the device's f32 -> f16 conversion under SPIR-V
// RoundingModeRTE 16 (the *_hw modules, common.glsl DQ_NARROW_HW) instead of ~20 integer
// operations per element. Only on a device that offers
// shaderFloat16 and shaderRoundingModeRTEFloat16, and where a probe converts
// narrow_probe_inputs() (narrow_check.hpp) as an F32 tensor, and Q8_0 blocks whose products
// are ties, overflows and f16 subnormals (a block family's module), through those modules on
// the run path and the per-element path, bit for bit equal to dq_common/half.hpp. Any other device keeps the
// software narrowing silently: only the backend description (and DQ_LOG=debug) says why.
// The probe is lazy: init only checks the features; a device's probe runs once, on the thread
// of the first request that could take the hw modules there (an f16 output from a non-F16
// source, dequantize or dequantize_batch), before that request does any work; concurrent
// first requests wait for that one run. Until it has passed, nothing takes the hw modules;
// if it fails, the software narrowing serves the request that triggered it and every later
// one. A process that never asks for such an f16 output never probes.
// DQ_VULKAN_NARROW: unset, "hw" or "default": hardware where probed (the default); "sw": the
// branch-free software narrowing (the earlier default); "branches": the branching software
// one (dequantize.cpp); any other value: DQ_ERR_INVALID_ARGUMENT naming it at each dequantize
// and dequantize_batch entry (plugin.cpp), and the description says so.
// Same-width F16 -> f16 narrows nothing and never takes the hw modules (pipelines.cpp), so it
// never triggers the probe either.
// DQ_VULKAN_NARROW_PROBE_FAULT=1 (tests): the probe sees -2^-149 come back as +0 (a device
// that drops the sign of flushed f32 subnormals) and must refuse.
#pragma once

#include <cstdint>
#include <string>

#include "devices.hpp"
#include "dq/dq_plugin.h"

namespace dq::vulkan {

enum class NarrowMode { Hardware, Software, Branches };
// DQ_VULKAN_NARROW as above; DQ_ERR_INVALID_ARGUMENT (with the error text) for another value.
int32_t narrow_mode(NarrowMode *out);
// DQ_VULKAN_NARROW asks for the hardware narrowing (unset, "hw", "default"); read at init for
// the device feature and which devices may probe, at each request for the probe and modules.
bool hw_narrow_requested();
// DQ_VULKAN_NARROW=branches (the shaders' kFlagNarrowBranches).
bool branching_narrow_requested();
// "" where `c` offers what the hw modules need (shaderFloat16 enabled,
// shaderRoundingModeRTEFloat16, rounding modes settable per width), else what is missing.
std::string hw_narrow_missing(const DeviceContext &c);

// At init (after devices_init): which devices could take the hw modules (DQ_VULKAN_NARROW and
// the features; nothing is dequantized), and the note until their probes run.
void narrow_probe_init();
void narrow_probe_reset();
// Before request `a` does any work (the ABI entries, plugin.cpp): when it is an f16 output
// from a non-F16 source on a device still waiting for its probe, runs that probe on this
// thread, or waits while another thread runs it. Never fails: a failed probe leaves the
// device on the software narrowing. Not called by the probes' own dequantize calls.
void narrow_probe_before(const dq_plugin_dequantize_args &a);
// Whether `device`'s f16 outputs take the hw modules: its probe passed, or this thread is
// running that probe.
bool hw_narrow_active(int32_t device);
// "f16 narrowing: hardware RoundingModeRTE on <device> (probed bit-exact ...)" and/or
// "f16 narrowing: software on <device>: <why>" and/or, before a device's probe ran,
// "f16 narrowing: probed at the first f16 request on <device> (...)"; with
// DQ_VULKAN_NARROW=sw|branches "f16 narrowing: software (DQ_VULKAN_NARROW=sw)"; for an
// unknown value, that it is refused. Changes as probes finish (thread-safe).
std::string narrow_note();
// How many times `device`'s probe has run since init (0 or 1; tests read it through
// dq_vulkan_test_narrow_probe_runs, narrow_probe.cpp).
uint64_t narrow_probe_runs(int32_t device);

}  // namespace dq::vulkan

// narrow_probe_runs for tests, found by dlsym (the plugin exports nothing else but its entry).
extern "C" DQ_PLUGIN_EXPORT uint64_t dq_vulkan_test_narrow_probe_runs(int32_t device);
