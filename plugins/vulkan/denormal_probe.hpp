// Whether each device keeps f32 subnormal results. NVIDIA's shader compiler flushes f32
// denormals unless a shader asks for DenormPreserve; Q8_K (an f32 scale) and MXFP4 (an E8M0
// scale down to 2^-128) then write subnormals as zero. A tiny probe per device at init
// finds this, and the plugin refuses those types everywhere (supports() has no device
// argument), so the core routes them to the cpu plugin: never a silently wrong tensor.
#pragma once

#include <cstdint>
#include <string>

namespace dq::vulkan {

// Runs the probe on every device (after devices_init). DQ_VULKAN_ASSUME_DENORM_FLUSH=1
// forces the "flushes" outcome (tests of the refusal on lavapipe).
void denormal_probe_run();
void denormal_probe_reset();
// True when `src_type` depends on f32 subnormals and some device flushes them.
bool denormal_refused(int32_t src_type);
// "Q8_K, MXFP4 refused (...): <device> flushes f32 subnormals", or "" when nothing is refused.
const std::string &denormal_note();

}  // namespace dq::vulkan
