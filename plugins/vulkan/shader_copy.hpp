// Device-to-device copies on the compute units instead of vkCmdCopyBuffer, for devices whose
// copy command is slower than their memory (DQ_VULKAN_COPY=shader; the default stays
// vkCmdCopyBuffer, the reference of issue 15's "vs copy" ratio, until the H200 says which is
// faster: tests/vulkan/probe). Pieces whose offsets and size are multiples of 16 bytes go
// through copy/copy_words.comp; any other piece through vkCmdCopyBuffer.
#pragma once

#include <cstdint>

#include "devices.hpp"

namespace dq::vulkan {

// True when DQ_VULKAN_COPY=shader (read at init).
bool shader_copy_enabled();
void shader_copy_configure();

// Records a copy of `bytes` from (src, src_offset) to (dst, dst_offset) into cb: with a
// descriptor pool (sets from make_copy_pool), dispatches for the 16-byte-aligned part and
// vkCmdCopyBuffer for the rest; without one, vkCmdCopyBuffer. DQ_OK or the failure.
int32_t record_device_copy(DeviceContext &c, VkCommandBuffer cb, VkBuffer src, uint64_t src_offset, VkBuffer dst,
                           uint64_t dst_offset, uint64_t bytes, VkDescriptorPool pool);

// The descriptor sets record_device_copy takes for a piece of `bytes`.
uint32_t shader_copy_sets(const DeviceContext &c, uint64_t bytes);
// A descriptor pool with room for `sets` of them.
int32_t make_copy_pool(DeviceContext &c, uint32_t sets, VkDescriptorPool *out);

// Destroys the device's copy pipeline (before the device).
void shader_copy_shutdown(DeviceContext &c);

}  // namespace dq::vulkan
