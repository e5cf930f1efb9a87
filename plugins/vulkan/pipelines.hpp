// The dequantize pipelines: one per (source type, output type, path, shader module variant),
// created on first use and kept in the device context. The path (run of 8 per invocation or
// per element, shaders/common.glsl) is a specialization constant; the module is the family's
// plain SPIR-V, or its DenormPreserve variant on devices that report
// shaderDenormPreserveFloat32 (NVIDIA otherwise flushes f32 subnormal products); f16 outputs
// take the *_hw modules where the narrow probe chose them (the default, narrow_probe.hpp).
// Q8_K and MXFP4 pipelines also carry the DENORM_MODE specialization constant (exact products for
// subnormal scales where the device flushes anyway).
#pragma once

#include <cstdint>
#include <string>

#include "devices.hpp"
#include "dq/dq_plugin.h"

namespace dq::vulkan {

enum class ShaderPath : uint32_t { PerElement = 0, Run = 1 };

// DQ_VULKAN_PATH=per-element forces the per-element path everywhere (tests run the goldens
// through both); unset or "run": the run path wherever the output alignment allows it.
bool per_element_forced();
// The same for requests made by this thread until called with false (the narrow probe).
void force_per_element_on_this_thread(bool on);

// Whether `c` gets the DenormPreserve modules: where the device reports
// shaderDenormPreserveFloat32, unless DQ_VULKAN_DENORM_PRESERVE=0; DQ_VULKAN_DENORM_PRESERVE=force
// uses them on any device (tests of the module on lavapipe, without validation: the
// capability is not allowed where the property is false).
bool uses_denorm_preserve(const DeviceContext &c);

// The device's VkPhysicalDeviceFloatControlsProperties for f32 denormals, as
// "shaderDenormPreserveFloat32=1, shaderDenormFlushToZeroFloat32=1, denormBehaviorIndependence=ALL"
// ("float controls not queried" without vkGetPhysicalDeviceProperties2).
std::string float_controls_text(const DeviceContext &c);
// VkPhysicalDeviceFloatControlsProperties (Vulkan 1.2 core); false when it cannot be read.
bool float_controls_properties(const DeviceContext &c, VkPhysicalDeviceFloatControlsProperties *fc);

// common.glsl's DENORM_MODE bits for Q8_K and MXFP4 (0 for every other type):
// kDenormModeExact where uses_denorm_exact, kDenormModeSimulateFlush with
// DQ_VULKAN_ASSUME_DENORM_FLUSH=1 (the float products flush f32 subnormals in the shader, as
// NVIDIA does: tests of the fallback on devices that keep them, such as lavapipe).
constexpr uint32_t kDenormModeExact = 1, kDenormModeSimulateFlush = 2;
uint32_t denorm_mode(const DeviceContext &c, int32_t src_type);
// Whether Q8_K and MXFP4 take the exact integer product for zero/subnormal scales on `c`:
// DQ_VULKAN_DENORM_EXACT=1 on every device, =0 never, unset: where the denormal probe found
// the float product flushing (denormal_probe.hpp).
bool uses_denorm_exact(const DeviceContext &c);
bool simulates_denorm_flush();

// DQ_VULKAN_SHADER: the modules the run path uses for an output of `dst_type`. Unset or
// "default": prefetch to f16 and bf16, run to f32 (on an H100 through NVIDIA's driver,
// 2026-12-06, prefetch was 1.1-2.2x faster to f16 and 1.05-1.13x to bf16, run 1.1-1.4x faster to
// f32 and 2.7x for F16 -> f32). "prefetch": prefetch for every output; block families take DQ_VULKAN_STAGE_GROUPS (1024) workgroups, each taking several tiles of blocks
// copied to shared memory with 16-byte loads (shaders/common.glsl DQ_STAGED), the next tile's
// loads issued before the current one is decoded; float takes 8-element units, 16-byte loads
// and stores (float.comp). Staged ("staged"): as prefetch, one workgroup per tile, no
// prefetch. Run ("run", the earlier default): block families decode 8 elements per
// invocation from the binding; float streams 4-element units. The per-element path always
// takes the unstaged modules. Any other value: DQ_ERR_INVALID_ARGUMENT naming it.
enum class ShaderVariant { Prefetch, Staged, Unstaged };
int32_t shader_variant(int32_t dst_type, ShaderVariant *out);
// Whether DQ_VULKAN_SHADER is unset or "default" (the variant then depends on the output).
bool shader_variant_is_default();
// Whether a dispatch on `path` to `dst_type` runs the staged modules (the per-element path
// never does).
bool staged_run(ShaderPath path, int32_t dst_type);
// For tests (found by dlsym, as dq_vulkan_test_narrow_probe_runs): whether the run path to
// `dst_type` takes staged modules under the current DQ_VULKAN_SHADER (1, 0; -1: a bad value).
extern "C" DQ_PLUGIN_EXPORT int32_t dq_vulkan_test_staged_run(int32_t dst_type);
// The staged modules' shape: workgroup size (DQ_VULKAN_STAGE_THREADS, default 256) and, for
// block types, whole blocks per tile (DQ_VULKAN_STAGE_ELEMENTS, default 8192 elements, at
// least one block, halved until the shared array fits the device) and the shared array's
// words (the tile's bytes from the 16-byte boundary below it, plus slack). Zeros for float.
// Also the uvec4 registers per invocation that hold a tile (the tile halved until
// kMaxPrefetch hold it), whether they hold the next tile (prefetch), and the workgroups of a
// dispatch (DQ_VULKAN_STAGE_GROUPS; prefetch 1024, staged one per tile).
constexpr uint32_t kMaxPrefetch = 8;  // common.glsl kMaxPrefetch
struct StageShape {
  uint32_t threads = 256;
  uint32_t block_elements = 0;
  uint32_t block_bytes = 0;
  uint32_t tile_blocks = 0;
  uint32_t words = 0;
  uint32_t regs = 0;
  uint32_t pipelined = 0;
  uint32_t groups = 0;  // 0: one per tile
};
StageShape stage_shape(const DeviceContext &c, int32_t src_type, int32_t dst_type);

// The pipeline for the pair on this path, created on first use.
int32_t dequantize_pipeline(DeviceContext &c, int32_t src_type, int32_t dst_type, ShaderPath path,
                            VkPipeline *out);

}  // namespace dq::vulkan
