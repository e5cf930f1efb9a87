// Hardware f16 narrowing (issue 15, the default since an H100 measured it 1.1-2x faster on
// every f16 row): f16 outputs narrowed by the device's f32 -> f16 conversion under SPIR-V
// RoundingModeRTE 16 (the *_hw modules, common.glsl DQ_NARROW_HW) instead of ~20 integer
// operations per element. Only on a device that offers
// shaderFloat16 and shaderRoundingModeRTEFloat16, and where an init-time probe converts
// narrow_probe_inputs() (narrow_check.hpp) as an F32 tensor, and Q8_0 blocks whose products
// are ties, overflows and f16 subnormals (a block family's module), through those modules on
// the run path and the per-element path, bit for bit equal to dq_common/half.hpp. Any other device keeps the
// software narrowing silently: only the backend description (and DQ_LOG=debug) says why.
// DQ_VULKAN_NARROW: unset, "hw" or "default": hardware where probed (the default); "sw": the
// branch-free software narrowing (the earlier default); "branches": the branching software
// one (dequantize.cpp); any other value: DQ_ERR_INVALID_ARGUMENT naming it at each dequantize
// and dequantize_batch entry (plugin.cpp), and the description says so.
// Same-width F16 -> f16 narrows nothing and never takes the hw modules (pipelines.cpp).
// DQ_VULKAN_NARROW_PROBE_FAULT=1 (tests): the probe sees -2^-149 come back as +0 (a device
// that drops the sign of flushed f32 subnormals) and must refuse.
#pragma once

#include <cstdint>
#include <string>

#include "devices.hpp"

namespace dq::vulkan {

enum class NarrowMode { Hardware, Software, Branches };
// DQ_VULKAN_NARROW as above; DQ_ERR_INVALID_ARGUMENT (with the error text) for another value.
int32_t narrow_mode(NarrowMode *out);
// DQ_VULKAN_NARROW asks for the hardware narrowing (unset, "hw", "default"); read at init for
// the device feature and the probe, at each request for the modules.
bool hw_narrow_requested();
// DQ_VULKAN_NARROW=branches (the shaders' kFlagNarrowBranches).
bool branching_narrow_requested();
// "" where `c` offers what the hw modules need (shaderFloat16 enabled,
// shaderRoundingModeRTEFloat16, rounding modes settable per width), else what is missing.
std::string hw_narrow_missing(const DeviceContext &c);

// Runs the probe on every device (after devices_init) unless DQ_VULKAN_NARROW says software.
void narrow_probe_run();
void narrow_probe_reset();
// Whether `device`'s f16 outputs take the hw modules: the probe passed there (or is running).
bool hw_narrow_active(int32_t device);
// "f16 narrowing: hardware RoundingModeRTE on <device> (probed bit-exact)" and/or
// "f16 narrowing: software on <device>: <why>"; with DQ_VULKAN_NARROW=sw|branches
// "f16 narrowing: software (DQ_VULKAN_NARROW=sw)"; for an unknown value, that it is refused.
const std::string &narrow_note();

}  // namespace dq::vulkan
