// Whether each device keeps f32 subnormal results, and what the plugin does where it does not.
// NVIDIA flushes f32 denormals (observed even where the DenormPreserve modules should keep
// them); Q8_K (an f32 scale) and MXFP4 (an E8M0 scale down to 2^-128) then write subnormals as
// zero. A tiny probe per device at init dequantizes blocks with subnormal scales and compares
// with the host, first with the float products; where they flush, again with the exact integer
// products for subnormal scales (common.glsl DENORM_MODE), which that device then uses. Only
// where those fail too does the plugin refuse the two types everywhere (supports() has no
// device argument), so the core routes them to the cpu plugin: never a silently wrong tensor.
#pragma once

#include <cstdint>
#include <string>

namespace dq::vulkan {

// Runs the probe on every device (after devices_init). Each device's float-controls
// properties, modules and outcomes go to stderr under DQ_LOG=debug.
// DQ_VULKAN_ASSUME_DENORM_FLUSH=1 makes the float products flush in the shader (pipelines.hpp),
// DQ_VULKAN_DENORM_EXACT=1 / 0 forces the exact products / never tries them.
void denormal_probe_run();
void denormal_probe_reset();
// True when the probe chose the exact products for `device`.
bool denormal_exact_chosen(int32_t device);
// True when `src_type` depends on f32 subnormals and some device gets them wrong either way.
bool denormal_refused(int32_t src_type);
// For the backend description: "Q8_K, MXFP4 use exact integer products for subnormal scales on
// <device> (...)" and/or "Q8_K, MXFP4 refused (the cpu plugin serves them): <device> flushes
// f32 subnormals (...)", each naming the float-controls properties and the modules probed;
// "" where every device keeps subnormals with the float products.
const std::string &denormal_note();

}  // namespace dq::vulkan
