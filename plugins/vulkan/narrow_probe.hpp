// DQ_VULKAN_NARROW=hw (issue 15, off by default): f16 outputs narrowed by the device's
// f32 -> f16 conversion under SPIR-V RoundingModeRTE 16 (the *_hw modules, common.glsl
// DQ_NARROW_HW) instead of ~20 integer operations per element. Only on a device that offers
// shaderFloat16 and shaderRoundingModeRTEFloat16, and where an init-time probe converts
// narrow_probe_inputs() (narrow_check.hpp) as an F32 tensor, and Q8_0 blocks whose products
// are ties, overflows and f16 subnormals (a block family's module), through those modules on
// the run path and the per-element path, bit for bit equal to dq_common/half.hpp. Any other device keeps the
// software narrowing, and the backend description (and DQ_LOG=debug) says why.
// DQ_VULKAN_NARROW_PROBE_FAULT=1 (tests): the probe sees -2^-149 come back as +0 (a device
// that drops the sign of flushed f32 subnormals) and must refuse.
#pragma once

#include <cstdint>
#include <string>

#include "devices.hpp"

namespace dq::vulkan {

// DQ_VULKAN_NARROW=hw (read at init: the device feature and the probe are decided then).
bool hw_narrow_requested();
// "" where `c` offers what the hw modules need (shaderFloat16 enabled,
// shaderRoundingModeRTEFloat16, rounding modes settable per width), else what is missing.
std::string hw_narrow_missing(const DeviceContext &c);

// Runs the probe on every device (after devices_init) when DQ_VULKAN_NARROW=hw.
void narrow_probe_run();
void narrow_probe_reset();
// Whether `device`'s f16 outputs take the hw modules: the probe passed there (or is running).
bool hw_narrow_active(int32_t device);
// "f16 narrowing: hardware RoundingModeRTE on <device> (probed bit-exact)" and/or
// "f16 narrowing: software on <device>: <why>"; "" unless DQ_VULKAN_NARROW=hw.
const std::string &narrow_note();

}  // namespace dq::vulkan
