#include "dequantize.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "devices.hpp"
#include "dq_common/type_traits.hpp"
#include "loader.hpp"
#include "status.hpp"

namespace dq::vulkan {
namespace {

// Bytes staged per chunk (source and output each): below lavapipe's 128 MiB
// maxStorageBufferRange and the 2^32-byte range a uint index of 32-bit words reaches.
constexpr uint64_t kChunkBytes = 64ull << 20;
constexpr uint32_t kGroupSize = 256;       // local_size_x of the shaders
constexpr uint32_t kMaxGroups = 65535;     // the minimum maxComputeWorkGroupCount[0]

std::string type_label(int32_t id) {
  const dq::TypeTraits *t = dq::type_traits(id);
  return "type id " + std::to_string(id) + (t ? std::string(" (") + t->name + ")" : "");
}

uint64_t round4(uint64_t n) { return (n + 3) & ~uint64_t{3}; }

// One chunk: the source bytes are in ctx.src already; dispatch and wait.
int32_t run_chunk(DeviceContext &c, VkPipeline pipeline, uint32_t n_elements) {
  const VulkanFunctions &f = vk();
  VkCommandBuffer cb = c.command_buffer;
  VkResult r = f.vkResetCommandBuffer(cb, 0);
  if (r != VK_SUCCESS) return fail_vk(r, "vkResetCommandBuffer");
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  if ((r = f.vkBeginCommandBuffer(cb, &bi)) != VK_SUCCESS) return fail_vk(r, "vkBeginCommandBuffer");
  f.vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
  f.vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, c.pipeline_layout, 0, 1, &c.descriptor_set, 0,
                            nullptr);
  f.vkCmdPushConstants(cb, c.pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof n_elements, &n_elements);
  const uint64_t pairs = (static_cast<uint64_t>(n_elements) + 1) / 2;
  const uint32_t groups = static_cast<uint32_t>(std::min<uint64_t>((pairs + kGroupSize - 1) / kGroupSize, kMaxGroups));
  f.vkCmdDispatch(cb, groups, 1, 1);
  // The shader's writes must be visible to the host's reads after the fence.
  VkMemoryBarrier mb{};
  mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  f.vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0,
                         nullptr, 0, nullptr);
  if ((r = f.vkEndCommandBuffer(cb)) != VK_SUCCESS) return fail_vk(r, "vkEndCommandBuffer");
  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  if ((r = f.vkQueueSubmit(c.queue, 1, &si, c.fence)) != VK_SUCCESS) return fail_vk(r, "vkQueueSubmit");
  r = f.vkWaitForFences(c.device, 1, &c.fence, VK_TRUE, UINT64_MAX);
  const VkResult reset = f.vkResetFences(c.device, 1, &c.fence);
  if (r != VK_SUCCESS) return fail_vk(r, "waiting for the dequantize dispatch");
  if (reset != VK_SUCCESS) return fail_vk(reset, "vkResetFences");
  return DQ_OK;
}

int32_t run_staged(DeviceContext &c, const dq_plugin_dequantize_args &a, const dq::TypeTraits &t, size_t out_size) {
  const int64_t block_elems = t.block_elements;
  const uint64_t block_bytes = t.block_bytes;
  const int64_t total_blocks = a.n_elements / block_elems;
  const int64_t by_src = std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / block_bytes));
  const int64_t by_out = std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / (out_size * block_elems)));
  const int64_t chunk_blocks = std::min({total_blocks, by_src, by_out});

  std::lock_guard<std::mutex> lock(c.mutex);
  VkPipeline pipeline = VK_NULL_HANDLE;
  if (int32_t st = get_pipeline(c, a.src_type, a.dst_type, &pipeline); st != DQ_OK) return st;
  if (int32_t st = ensure_buffers(c, round4(chunk_blocks * block_bytes), round4(chunk_blocks * block_elems * out_size));
      st != DQ_OK)
    return st;
  for (int64_t first = 0; first < total_blocks; first += chunk_blocks) {
    const int64_t blocks = std::min(chunk_blocks, total_blocks - first);
    const size_t src_len = static_cast<size_t>(blocks) * block_bytes;
    const size_t dst_len = static_cast<size_t>(blocks * block_elems) * out_size;
    std::memcpy(c.src.mapped, static_cast<const uint8_t *>(a.src) + static_cast<size_t>(first) * block_bytes, src_len);
    // The last word's padding bytes are never read as data; zero them for determinism.
    std::memset(static_cast<uint8_t *>(c.src.mapped) + src_len, 0, round4(src_len) - src_len);
    if (int32_t st = run_chunk(c, pipeline, static_cast<uint32_t>(blocks * block_elems)); st != DQ_OK)
      return fail(st, std::string(last_error_text()) + " (" + type_label(a.src_type) + ")");
    std::memcpy(static_cast<uint8_t *>(a.dst) + static_cast<size_t>(first * block_elems) * out_size, c.dst.mapped,
                dst_len);
  }
  return ok();
}

bool overlaps(const void *a, uint64_t a_bytes, const void *b, uint64_t b_bytes) {
  const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return pa < pb + b_bytes && pb < pa + a_bytes;
}

}  // namespace

// Only pairs whose shaders are verified bit-exact against the goldens on lavapipe.
int32_t supports(int32_t src_type, int32_t dst_type) {
  if (!dq::type_is_dequantizable(src_type) || !dq::is_output_type(dst_type)) return 0;
  return shader_family(src_type) ? 1 : 0;
}

int32_t dequantize(const dq_plugin_dequantize_args *args) {
  if (!args) return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: null arguments");
  if (args->struct_size < offsetof(dq_plugin_dequantize_args, stream) + sizeof(void *))
    return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: arguments struct too small");
  const dq_plugin_dequantize_args &a = *args;

  const dq::TypeTraits *t = dq::type_traits(a.src_type);
  if (!t) return fail(DQ_ERR_UNKNOWN_TYPE, type_label(a.src_type) + " is unknown");
  if (t->retired) return fail(DQ_ERR_UNKNOWN_TYPE, type_label(a.src_type) + " is retired");
  if (!t->dequantizable) return fail(DQ_ERR_UNSUPPORTED, type_label(a.src_type) + " has no dequantization");
  if (!dq::is_output_type(a.dst_type))
    return fail(DQ_ERR_INVALID_ARGUMENT, "output type id " + std::to_string(a.dst_type) +
                                             " is not f32 (0), f16 (1) or bf16 (30)");
  if (!supports(a.src_type, a.dst_type))
    return fail(DQ_ERR_UNSUPPORTED, "vulkan backend has no shader for " + type_label(a.src_type) + " yet");
  DeviceContext *ctx = nullptr;
  if (int32_t st = device_context(a.device, "dequantize", &ctx); st != DQ_OK) return st;
  if (!a.src_on_host || !a.dst_on_host)
    return fail(DQ_ERR_INVALID_ARGUMENT,
                "dequantize: the vulkan plugin takes host memory only for now (src_on_host and dst_on_host must be 1)");
  if (a.n_elements <= 0)
    return fail(DQ_ERR_INVALID_ARGUMENT, "element count " + std::to_string(a.n_elements) + " is not positive");
  const auto src_needed = dq::type_nbytes(a.src_type, a.n_elements);
  if (!src_needed)
    return fail(DQ_ERR_SIZE, "element count " + std::to_string(a.n_elements) + " is not a multiple of " + t->name +
                                 "'s block of " + std::to_string(t->block_elements));
  if (a.src_bytes < *src_needed)
    return fail(DQ_ERR_SIZE, "source holds " + std::to_string(a.src_bytes) + " bytes, " +
                                 std::to_string(a.n_elements) + " " + t->name + " elements need " +
                                 std::to_string(*src_needed));
  const size_t out_size = dq::output_type_size(a.dst_type);
  uint64_t dst_needed = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(a.n_elements), static_cast<uint64_t>(out_size), &dst_needed) ||
      a.dst_bytes < dst_needed)
    return fail(DQ_ERR_SIZE, "destination holds " + std::to_string(a.dst_bytes) + " bytes, " +
                                 std::to_string(a.n_elements) + " outputs need " + std::to_string(dst_needed));
  if (!a.src || !a.dst) return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: null buffer");
  if (overlaps(a.src, *src_needed, a.dst, dst_needed))
    return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: source and destination overlap");
  const uint64_t errors_before = validation_error_count();
  const int32_t st = run_staged(*ctx, a, *t, out_size);
  if (st == DQ_OK && validation_error_count() != errors_before)
    return fail(DQ_ERR_BACKEND, "Vulkan validation error during dequantize of " + type_label(a.src_type) + ": " +
                                    first_validation_error());
  return st;
}

}  // namespace dq::vulkan
