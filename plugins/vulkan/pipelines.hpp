// The dequantize pipelines: one per (source type, output type, path, shader module variant),
// created on first use and kept in the device context. The path (run of 8 per invocation or
// per element, shaders/common.glsl) is a specialization constant; the module is the family's
// plain SPIR-V, or its DenormPreserve variant on devices that report
// shaderDenormPreserveFloat32 (NVIDIA otherwise flushes f32 subnormal products).
#pragma once

#include <cstdint>

#include "devices.hpp"

namespace dq::vulkan {

enum class ShaderPath : uint32_t { PerElement = 0, Run = 1 };

// DQ_VULKAN_PATH=per-element forces the per-element path everywhere (tests run the goldens
// through both); unset or "run": the run path wherever the output alignment allows it.
bool per_element_forced();

// Whether `c` gets the DenormPreserve modules: where the device reports
// shaderDenormPreserveFloat32, unless DQ_VULKAN_DENORM_PRESERVE=0; DQ_VULKAN_DENORM_PRESERVE=force
// uses them on any device (tests of the module on lavapipe, without validation: the
// capability is not allowed where the property is false).
bool uses_denorm_preserve(const DeviceContext &c);

// The pipeline for the pair on this path, created on first use.
int32_t dequantize_pipeline(DeviceContext &c, int32_t src_type, int32_t dst_type, ShaderPath path,
                            VkPipeline *out);

}  // namespace dq::vulkan
