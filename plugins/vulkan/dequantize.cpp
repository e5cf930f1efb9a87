#include "dequantize.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "denormal_probe.hpp"
#include "devices.hpp"
#include "dq_common/plugin_args.hpp"
#include "dq_common/type_traits.hpp"
#include "loader.hpp"
#include "memory.hpp"
#include "narrow_probe.hpp"
#include "pipelines.hpp"
#include "shader_copy.hpp"
#include "streams.hpp"
#include "status.hpp"
#include "vk_objects.hpp"

namespace dq::vulkan {
namespace {

constexpr uint32_t kGroupSize = 256;       // local_size_x of the shaders
constexpr uint32_t kMaxGroups = 65535;     // the minimum maxComputeWorkGroupCount[0]

using plugin_args::type_label;

uint64_t round4(uint64_t n) { return (n + 3) & ~uint64_t{3}; }

// Where the span list covering a tensor holds byte `pos`: the span and the offset in it.
struct SpanAt {
  const BufferSpan *span;
  uint64_t offset;  // inside the span
};

SpanAt span_at(const std::vector<BufferSpan> &spans, uint64_t pos) {
  for (const auto &s : spans) {
    if (pos < s.bytes) return {&s, pos};
    pos -= s.bytes;
  }
  return {&spans.back(), spans.back().bytes};
}

// One dispatch: outputs [first, first + count) of the tensor.
struct Chunk {
  int64_t first = 0;
  int64_t count = 0;
  bool straddles = false;  // its one source block crosses a segment boundary: copied to scratch
};

// Cuts the tensor into chunks whose source blocks and outputs each lie in one span (device
// memory) and fit kChunkBytes; host sides are staged per chunk, so they impose no boundary.
std::vector<Chunk> plan_chunks(const dq::TypeTraits &t, int64_t n, size_t out_size, const std::vector<BufferSpan> *src,
                               const std::vector<BufferSpan> *dst) {
  const int64_t be = t.block_elements;
  const int64_t bb = static_cast<int64_t>(t.block_bytes);
  const int64_t max_elems =
      std::max<int64_t>(be, std::min<int64_t>(kChunkBytes / out_size, (kChunkBytes / bb) * be) - be);
  std::vector<Chunk> chunks;
  for (int64_t e = 0; e < n;) {
    const int64_t blk = e / be;
    Chunk c;
    c.first = e;
    int64_t end = std::min(n, e + max_elems);
    if (src) {
      const SpanAt at = span_at(*src, static_cast<uint64_t>(blk * bb));
      const int64_t whole = static_cast<int64_t>((at.span->bytes - at.offset) / bb);
      if (whole == 0)
        c.straddles = true, end = std::min(end, (blk + 1) * be);
      else
        end = std::min(end, (blk + whole) * be);
    }
    if (dst) {
      const SpanAt at = span_at(*dst, static_cast<uint64_t>(e) * out_size);
      end = std::min(end, e + static_cast<int64_t>((at.span->bytes - at.offset) / out_size));
    }
    c.count = end - e;
    chunks.push_back(c);
    e = end;
  }
  return chunks;
}

// The descriptor pool of one submission: `sets` sets of three storage buffers.
int32_t make_pool(DeviceContext &c, uint32_t sets, VkDescriptorPool *out) {
  if (VkResult r = create_storage_pool(c.device, sets, 3, 0, out); r != VK_SUCCESS)
    return fail_vk(r, "vkCreateDescriptorPool");
  return DQ_OK;
}

// A binding of `bytes` at byte `offset` of `buffer`, started at the aligned offset below it:
// the descriptor range and how far into it `offset` is.
struct Binding {
  VkDescriptorBufferInfo info{};
  uint32_t skew = 0;
};

Binding bind(const DeviceContext &c, VkBuffer buffer, uint64_t offset, uint64_t bytes) {
  const uint64_t align = std::max<uint64_t>(4, c.storage_alignment);
  const uint64_t base = offset / align * align;
  Binding b;
  b.info = {buffer, base, round4(offset - base + bytes)};
  b.skew = static_cast<uint32_t>(offset - base);
  return b;
}

// The pair of a request; each chunk picks its path (pick_path).
struct Shader {
  int32_t src_type;
  int32_t dst_type;
  bool per_element_forced;
};

bool is_float_source(int32_t type) { return type == DQ_TYPE_F32 || type == DQ_TYPE_F16 || type == DQ_TYPE_BF16; }

// The run path pairs 16-bit outputs as (even, odd) elements of a block (shaders/common.glsl):
// it needs the output's half position and the source element to have the same parity.
// float.comp's run path takes any alignment (its head and tail are stored element by element).
ShaderPath pick_path(const Shader &sh, const DispatchParams &p, size_t out_size) {
  if (sh.per_element_forced) return ShaderPath::PerElement;
  if (is_float_source(sh.src_type)) return ShaderPath::Run;
  if (out_size == 2 && ((p.dst_half_shift + p.first_in_block) & 1u) != 0) return ShaderPath::PerElement;
  return ShaderPath::Run;
}

// Invocations a dispatch needs: one per 8-element group (run) or per output pair/word.
uint64_t dispatch_items(ShaderPath path, const DispatchParams &p, size_t out_size) {
  if (path == ShaderPath::Run) return (uint64_t{p.first_in_block} + p.n_elements + 7) / 8 - p.first_in_block / 8;
  return out_size == 4 ? (p.n_elements + 1ull) / 2 : (p.n_elements + 2ull) / 2;
}

// Workgroups of a staged dispatch (DQ_VULKAN_SHADER=staged|prefetch): one per tile of blocks
// (prefetch: at most DQ_VULKAN_STAGE_GROUPS), or for float sources one invocation per
// 8-element unit.
uint64_t staged_groups(const DeviceContext &c, int32_t src_type, int32_t dst_type, const DispatchParams &p) {
  const StageShape shape = stage_shape(c, src_type, dst_type);
  // At least one: invocation 0 stores the head and tail even when there is no whole unit.
  if (shape.tile_blocks == 0) return std::max<uint64_t>(1, (p.n_elements / 8 + shape.threads - 1) / shape.threads);
  const uint64_t be = shape.block_elements;
  const uint64_t blocks = (uint64_t{p.first_in_block} + p.n_elements + be - 1) / be;
  const uint64_t tiles = (blocks + shape.tile_blocks - 1) / shape.tile_blocks;
  return shape.groups ? std::min<uint64_t>(tiles, shape.groups) : tiles;
}

// DQ_VULKAN_NARROW=branches: f32 -> f16 with the branching f32_bits_to_f16 instead of the
// branch-free one (shaders/common.glsl kFlagNarrowBranches), to compare the two on a device.
// (The default hardware narrowing picks other modules instead, not a flag: narrow_probe.hpp.)
uint32_t shader_flags() { return branching_narrow_requested() ? 1u : 0u; }

// Records one chunk's dispatch; its descriptor set comes from `pool`.
int32_t record_dispatch(DeviceContext &c, VkCommandBuffer cb, VkDescriptorPool pool, const Shader &shader,
                        const Binding &src, const Binding &dst, uint32_t count, uint32_t first_in_block,
                        size_t out_size) {
  const VkDescriptorBufferInfo infos[3] = {src.info, dst.info, {c.grids.buffer, 0, VK_WHOLE_SIZE}};
  VkDescriptorSet set = VK_NULL_HANDLE;
  if (VkResult r = allocate_storage_set(c.device, pool, c.set_layout, infos, 3, &set); r != VK_SUCCESS)
    return fail_vk(r, "vkAllocateDescriptorSets");
  DispatchParams p{};
  p.n_elements = count;
  p.first_in_block = first_in_block;
  p.src_byte_offset = src.skew;
  p.dst_word_offset = dst.skew / 4;
  p.dst_half_shift = out_size == 2 ? (dst.skew % 4) / 2 : 0;
  p.flags = shader_flags();
  const ShaderPath path = pick_path(shader, p, out_size);
  VkPipeline pipeline = VK_NULL_HANDLE;
  if (int32_t st = dequantize_pipeline(c, shader.src_type, shader.dst_type, path, &pipeline); st != DQ_OK)
    return st;
  vk().vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
  vk().vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, c.pipeline_layout, 0, 1, &set, 0, nullptr);
  vk().vkCmdPushConstants(cb, c.pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof p, &p);
  const uint64_t groups_needed = staged_run(path, shader.dst_type)
                                    ? staged_groups(c, shader.src_type, shader.dst_type, p)
                                    : (dispatch_items(path, p, out_size) + kGroupSize - 1) / kGroupSize;
  const uint32_t groups = static_cast<uint32_t>(std::min<uint64_t>(groups_needed, kMaxGroups));
  vk().vkCmdDispatch(cb, groups, 1, 1);
  return DQ_OK;
}

struct Request {
  const dq_plugin_dequantize_args &a;
  const dq::TypeTraits &t;
  size_t out_size;
  uint64_t src_bytes;  // of the whole tensor
};

uint64_t chunk_src_offset(const Request &q, const Chunk &k) {
  return static_cast<uint64_t>(k.first / q.t.block_elements) * q.t.block_bytes;
}
uint64_t chunk_src_bytes(const Request &q, const Chunk &k) {
  const int64_t be = q.t.block_elements;
  return static_cast<uint64_t>((k.first + k.count + be - 1) / be - k.first / be) * q.t.block_bytes;
}

// Both sides in device memory: every chunk in one submission on the stream (asynchronous).
int32_t run_on_device(DeviceContext &c, Stream &s, const Shader &pipeline, const Request &q,
                      const std::vector<BufferSpan> &src, const std::vector<BufferSpan> &dst) {
  const std::vector<Chunk> chunks = plan_chunks(q.t, q.a.n_elements, q.out_size, &src, &dst);
  VkDescriptorPool pool = VK_NULL_HANDLE;
  if (int32_t st = make_pool(c, static_cast<uint32_t>(chunks.size()), &pool); st != DQ_OK) return st;
  std::vector<MappedBuffer> keep;  // scratch blocks copied across a segment boundary
  for (const Chunk &k : chunks)
    if (k.straddles) {
      MappedBuffer b;
      if (int32_t st = alloc_buffer(c, b, round4(q.t.block_bytes), c.device_memory_type, "scratch block");
          st != DQ_OK) {
        for (auto &x : keep) free_buffer(c, x);
        vk().vkDestroyDescriptorPool(c.device, pool, nullptr);
        return st;
      }
      keep.push_back(b);
    }
  std::vector<VkBuffer> scratch_buffers;  // `keep` moves into the submission before recording
  for (const auto &b : keep) scratch_buffers.push_back(b.buffer);
  size_t next_scratch = 0;
  auto record = [&](VkCommandBuffer cb) -> int32_t {
    for (const Chunk &k : chunks) {
      const uint64_t so = chunk_src_offset(q, k), sb = chunk_src_bytes(q, k);
      Binding sbind;
      if (k.straddles) {
        const VkBuffer scratch = scratch_buffers[next_scratch++];
        uint64_t done = 0;
        while (done < sb) {
          const SpanAt at = span_at(src, so + done);
          const uint64_t n = std::min(sb - done, at.span->bytes - at.offset);
          VkBufferCopy r{at.span->offset + at.offset, done, n};
          vk().vkCmdCopyBuffer(cb, at.span->buffer, scratch, 1, &r);
          done += n;
        }
        VkMemoryBarrier mb{};
        mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
        mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
        vk().vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb,
                                  0, nullptr, 0, nullptr);
        sbind = bind(c, scratch, 0, sb);
      } else {
        const SpanAt at = span_at(src, so);
        sbind = bind(c, at.span->buffer, at.span->offset + at.offset, sb);
      }
      const SpanAt d = span_at(dst, static_cast<uint64_t>(k.first) * q.out_size);
      const Binding dbind =
          bind(c, d.span->buffer, d.span->offset + d.offset, static_cast<uint64_t>(k.count) * q.out_size);
      if (int32_t st = record_dispatch(c, cb, pool, pipeline, sbind, dbind, static_cast<uint32_t>(k.count),
                                       static_cast<uint32_t>(k.first % q.t.block_elements), q.out_size);
          st != DQ_OK)
        return st;
    }
    return DQ_OK;
  };
  return s.submit(record, std::move(keep), pool, nullptr);
}

// F32 -> f32 with both sides in device memory is a copy of the bytes: the compute-shader copy
// (shader_copy.cpp, 16 bytes per invocation, copy rate) instead of a float.comp dispatch.
// submit_span_copy (streams.hpp), the piece-cutting mem_copy uses too. DQ_VULKAN_F32_IDENTITY=shader
// keeps it on float.comp (to compare the two on a device).
bool identity_copy(int32_t src_type, int32_t dst_type) {
  if (src_type != DQ_TYPE_F32 || dst_type != DQ_TYPE_F32) return false;
  const char *e = std::getenv("DQ_VULKAN_F32_IDENTITY");
  return !(e && std::strcmp(e, "shader") == 0);
}

// A host side: one chunk at a time through staging, waiting for each (the call returns with
// the output complete).
int32_t run_staged(DeviceContext &c, Stream &s, const Shader &pipeline, const Request &q,
                   const std::vector<BufferSpan> *src, const std::vector<BufferSpan> *dst) {
  const std::vector<Chunk> chunks = plan_chunks(q.t, q.a.n_elements, q.out_size, src, dst);
  for (const Chunk &k : chunks) {
    const uint64_t so = chunk_src_offset(q, k), sb = chunk_src_bytes(q, k);
    const uint64_t db = static_cast<uint64_t>(k.count) * q.out_size;
    std::vector<MappedBuffer> keep;
    auto cleanup = [&](int32_t st) {
      for (auto &b : keep) free_buffer(c, b);
      return st;
    };
    MappedBuffer src_stage, dst_stage;
    if (!src || k.straddles) {
      if (int32_t st = alloc_buffer(c, src_stage, round4(sb), c.host_memory_type, "source staging"); st != DQ_OK)
        return cleanup(st);
      keep.push_back(src_stage);
      if (!src) {
        std::memcpy(src_stage.mapped, static_cast<const uint8_t *>(q.a.src) + so, sb);
        // The last word's padding bytes are never read as data; zero them for determinism.
        std::memset(static_cast<uint8_t *>(src_stage.mapped) + sb, 0, round4(sb) - sb);
      }
    }
    // The output staging stays ours (read after the wait); the rest goes with the submission.
    if (!dst) {
      if (int32_t st = alloc_buffer(c, dst_stage, round4(db), c.host_memory_type, "output staging"); st != DQ_OK)
        return cleanup(st);
    }
    VkDescriptorPool pool = VK_NULL_HANDLE;
    if (int32_t st = make_pool(c, 1, &pool); st != DQ_OK) {
      free_buffer(c, dst_stage);
      return cleanup(st);
    }
    auto record = [&](VkCommandBuffer cb) -> int32_t {
      Binding sbind, dbind;
      if (src && k.straddles) {
        uint64_t done = 0;
        while (done < sb) {
          const SpanAt at = span_at(*src, so + done);
          const uint64_t n = std::min(sb - done, at.span->bytes - at.offset);
          VkBufferCopy r{at.span->offset + at.offset, done, n};
          vk().vkCmdCopyBuffer(cb, at.span->buffer, src_stage.buffer, 1, &r);
          done += n;
        }
        VkMemoryBarrier mb{};
        mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
        mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
        vk().vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb,
                                  0, nullptr, 0, nullptr);
      }
      if (src && !k.straddles) {
        const SpanAt at = span_at(*src, so);
        sbind = bind(c, at.span->buffer, at.span->offset + at.offset, sb);
      } else {
        sbind = bind(c, src_stage.buffer, 0, sb);
      }
      if (dst) {
        const SpanAt d = span_at(*dst, static_cast<uint64_t>(k.first) * q.out_size);
        dbind = bind(c, d.span->buffer, d.span->offset + d.offset, db);
      } else {
        dbind = bind(c, dst_stage.buffer, 0, db);
      }
      return record_dispatch(c, cb, pool, pipeline, sbind, dbind, static_cast<uint32_t>(k.count),
                             static_cast<uint32_t>(k.first % q.t.block_elements), q.out_size);
    };
    uint64_t value = 0;
    int32_t st = s.submit(record, keep, pool, &value);  // frees keep and pool on failure
    if (st == DQ_OK) st = s.wait_for(value);
    if (st == DQ_OK && !dst)
      std::memcpy(static_cast<uint8_t *>(q.a.dst) + static_cast<uint64_t>(k.first) * q.out_size, dst_stage.mapped,
                  db);
    free_buffer(c, dst_stage);
    if (st != DQ_OK) return st;
  }
  return DQ_OK;
}

}  // namespace

// Only pairs whose shaders are verified bit-exact against the goldens on lavapipe, less the
// types a device would get wrong by flushing f32 subnormals (denormal_probe.hpp).
int32_t supports(int32_t src_type, int32_t dst_type) {
  if (!dq::type_is_dequantizable(src_type) || !dq::is_output_type(dst_type)) return 0;
  if (denormal_refused(src_type)) return 0;
  return shader_family(src_type) ? 1 : 0;
}

int32_t dequantize(const dq_plugin_dequantize_args *args) {
  if (int32_t st = plugin_args::check_args_struct(args, "dequantize", fail); st != DQ_OK) return st;
  const dq_plugin_dequantize_args &a = *args;

  // Prefix "": this entry has always reported type and size refusals without a call name.
  if (int32_t st = plugin_args::check_request_types(a, "", fail); st != DQ_OK) return st;
  const dq::TypeTraits *t = dq::type_traits(a.src_type);
  if (denormal_refused(a.src_type))
    return fail(DQ_ERR_UNSUPPORTED, "vulkan backend refuses " + type_label(a.src_type) + ": " + denormal_note());
  if (!supports(a.src_type, a.dst_type))
    return fail(DQ_ERR_UNSUPPORTED, "vulkan backend has no shader for " + type_label(a.src_type) + " yet");
  DeviceContext *ctx = nullptr;
  if (int32_t st = device_context(a.device, "dequantize", &ctx); st != DQ_OK) return st;
  plugin_args::RequestBytes bytes;
  if (int32_t st = plugin_args::check_request_sizes(a, "", &bytes, fail); st != DQ_OK) return st;
  const size_t out_size = bytes.out_size;
  if (!a.src || !a.dst) return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: null buffer");
  if (a.src_on_host == a.dst_on_host && plugin_args::ranges_overlap(a.src, bytes.src, a.dst, bytes.dst))
    return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: source and destination overlap");
  if (!a.dst_on_host && reinterpret_cast<uintptr_t>(a.dst) % out_size != 0)
    return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: device destination is not aligned to its element size");
  std::vector<BufferSpan> src_spans, dst_spans;
  if (!a.src_on_host)
    if (int32_t st = resolve_device(*ctx, a.src, bytes.src, "dequantize source", &src_spans); st != DQ_OK) return st;
  if (!a.dst_on_host)
    if (int32_t st = resolve_device(*ctx, a.dst, bytes.dst, "dequantize destination", &dst_spans); st != DQ_OK)
      return st;
  Stream *stream = stream_of(*ctx, a.stream);
  if (!stream) return fail(DQ_ERR_INVALID_ARGUMENT, "dequantize: not a stream of vulkan device " + std::to_string(a.device));
  // The run pipeline now, so a creation failure is reported before anything is submitted; a
  // chunk that needs the per-element one creates it when recorded.
  const Shader pipeline{a.src_type, a.dst_type, per_element_forced()};
  VkPipeline first = VK_NULL_HANDLE;
  if (int32_t st = dequantize_pipeline(*ctx, a.src_type, a.dst_type,
                                       pipeline.per_element_forced ? ShaderPath::PerElement : ShaderPath::Run, &first);
      st != DQ_OK)
    return st;
  const uint64_t errors_before = validation_error_count();
  const Request q{a, *t, out_size, bytes.src};
  int32_t st = DQ_OK;
  if (!a.src_on_host && !a.dst_on_host) {
    st = identity_copy(a.src_type, a.dst_type) ? submit_span_copy(*ctx, *stream, bytes.dst, src_spans, dst_spans, true)
                                               : run_on_device(*ctx, *stream, pipeline, q, src_spans, dst_spans);
    // With the NULL stream the call is synchronous, as the host calls are.
    if (st == DQ_OK && !a.stream) st = stream->wait();
  } else {
    st = run_staged(*ctx, *stream, pipeline, q, a.src_on_host ? nullptr : &src_spans,
                    a.dst_on_host ? nullptr : &dst_spans);
  }
  if (st != DQ_OK) return fail(st, std::string(last_error_text()) + " (" + type_label(a.src_type) + ")");
  if (validation_error_count() != errors_before)
    return fail(DQ_ERR_BACKEND, "Vulkan validation error during dequantize of " + type_label(a.src_type) + ": " +
                                    first_validation_error());
  return ok();
}

}  // namespace dq::vulkan
