#include "dequantize.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

#include "devices.hpp"
#include "dq_common/plugin_args.hpp"
#include "dq_common/type_traits.hpp"
#include "kernels/batch_launch.hpp"
#include "kernels/launch.hpp"
#include "status.hpp"

namespace dq::cuda {
namespace {

// Host staging moves at most this many source bytes (and the matching output) per chunk,
// so a host tensor of any size needs only bounded device memory.
constexpr uint64_t kChunkSourceBytes = 64ull << 20;
constexpr uint64_t kChunkOutputBytes = 256ull << 20;

using plugin_args::type_label;

// A pointer the caller says is device memory must be memory this device can address:
// a plain host pointer passed as device memory would fault inside the kernel and leave
// the CUDA context unusable, so it is refused here.
int32_t check_device_pointer(const void *p, int32_t device, const char *which) {
  cudaPointerAttributes attr{};
  const cudaError_t e = cudaPointerGetAttributes(&attr, p);
  if (e != cudaSuccess) return fail_cuda(e, std::string("dequantize: ") + which + " pointer");
  switch (attr.type) {
    case cudaMemoryTypeDevice:
      if (attr.device != device)
        return fail(DQ_ERR_INVALID_ARGUMENT, std::string("dequantize: ") + which +
                                                 " is memory of device " + std::to_string(attr.device) +
                                                 ", the request names device " + std::to_string(device));
      return DQ_OK;
    case cudaMemoryTypeManaged:
    case cudaMemoryTypeHost:  // pinned host memory is mapped into the device's address space
      return DQ_OK;
    default:
      return fail(DQ_ERR_INVALID_ARGUMENT,
                  std::string("dequantize: ") + which + " is not device memory (set " + which +
                      "_on_host for a host buffer)");
  }
}

// Puts the calling thread in relaxed stream-capture mode for its lifetime. Under a caller's
// global or thread-local capture (torch.cuda.graph's default is global), calls that queue no
// work but count as "potentially unsafe" (cudaPointerGetAttributes, a kernel's first
// cudaFuncSetAttribute / occupancy query, cudaGetSymbolAddress) would fail and invalidate
// the capture; relaxed mode permits them. Launches inside are still captured, and calls that
// conflict with capture (synchronizing a capturing stream) still fail.
class RelaxedCapture {
 public:
  RelaxedCapture() { ok_ = cudaThreadExchangeStreamCaptureMode(&mode_) == cudaSuccess; }
  ~RelaxedCapture() {
    if (ok_) cudaThreadExchangeStreamCaptureMode(&mode_);
  }
  RelaxedCapture(const RelaxedCapture &) = delete;
  RelaxedCapture &operator=(const RelaxedCapture &) = delete;

 private:
  cudaStreamCaptureMode mode_ = cudaStreamCaptureModeRelaxed;
  bool ok_ = false;
};

// Frees stream-ordered temporaries on every exit path.
struct AsyncBuffer {
  void *ptr = nullptr;
  cudaStream_t stream = nullptr;
  explicit AsyncBuffer(cudaStream_t s) : stream(s) {}
  AsyncBuffer(const AsyncBuffer &) = delete;
  AsyncBuffer &operator=(const AsyncBuffer &) = delete;
  ~AsyncBuffer() {
    if (ptr) cudaFreeAsync(ptr, stream);
  }
};

int32_t run_staged(const dq_plugin_dequantize_args &a, int64_t block_elems, size_t block_bytes,
                   size_t out_size, const LaunchEnv &env) {
  // Blocks per chunk, bounded by both the source and the output budget.
  const int64_t total_blocks = a.n_elements / block_elems;
  const int64_t by_src = std::max<int64_t>(1, static_cast<int64_t>(kChunkSourceBytes / block_bytes));
  const int64_t by_out =
      std::max<int64_t>(1, static_cast<int64_t>(kChunkOutputBytes / (out_size * block_elems)));
  const int64_t chunk_blocks = std::min({total_blocks, by_src, by_out});

  AsyncBuffer src_tmp(env.stream), dst_tmp(env.stream);
  if (a.src_on_host) {
    const cudaError_t e = cudaMallocAsync(&src_tmp.ptr, chunk_blocks * block_bytes, env.stream);
    if (e != cudaSuccess) return fail_cuda(e, "dequantize: staging buffer for the host source");
  }
  if (a.dst_on_host) {
    const cudaError_t e =
        cudaMallocAsync(&dst_tmp.ptr, chunk_blocks * block_elems * out_size, env.stream);
    if (e != cudaSuccess) return fail_cuda(e, "dequantize: staging buffer for the host destination");
  }

  for (int64_t first = 0; first < total_blocks; first += chunk_blocks) {
    const int64_t blocks = std::min(chunk_blocks, total_blocks - first);
    const size_t src_off = static_cast<size_t>(first) * block_bytes;
    const size_t src_len = static_cast<size_t>(blocks) * block_bytes;
    const size_t dst_off = static_cast<size_t>(first * block_elems) * out_size;
    const size_t dst_len = static_cast<size_t>(blocks * block_elems) * out_size;
    const void *src = static_cast<const uint8_t *>(a.src) + src_off;
    void *dst = static_cast<uint8_t *>(a.dst) + dst_off;
    if (a.src_on_host) {
      const cudaError_t e = cudaMemcpyAsync(src_tmp.ptr, src, src_len, cudaMemcpyHostToDevice, env.stream);
      if (e != cudaSuccess) return fail_cuda(e, "dequantize: upload of the host source");
      src = src_tmp.ptr;
    }
    void *kernel_dst = a.dst_on_host ? dst_tmp.ptr : dst;
    cudaError_t e = launch_dequantize(a.src_type, a.dst_type, src, kernel_dst, blocks * block_elems, env);
    if (e != cudaSuccess) return fail_cuda(e, "dequantize: kernel launch for " + type_label(a.src_type));
    if (a.dst_on_host) {
      e = cudaMemcpyAsync(dst, kernel_dst, dst_len, cudaMemcpyDeviceToHost, env.stream);
      if (e != cudaSuccess) return fail_cuda(e, "dequantize: download to the host destination");
    }
  }
  const cudaError_t e = cudaStreamSynchronize(env.stream);
  if (e != cudaSuccess) return fail_cuda(e, "dequantize: waiting for " + type_label(a.src_type));
  return ok();
}

// Tuning knobs, read once. DQ_CUDA_STREAMING_STORES=0 drops the evict-first hint from the
// output stores (on by default: 1-3% faster on the H100, and nothing reads the output back
// in the kernel). DQ_CUDA_BLOCKS_PER_SM=N sets the persistent grid to N blocks per
// multiprocessor (0: as many as fit; unset: 2, docs/PERFORMANCE.md). Only the HIP build, which
// compiles this file too, has a persistent grid: the CUDA build's tile kernels launch one block
// per tile (tile_kernel.cuh's kOneShot), so there the knob changes nothing.
struct Tuning {
  bool streaming_stores = true;
  int blocks_per_sm_cap = -1;  // -1: the kernel's default
};

const Tuning &tuning() {
  static const Tuning t = [] {
    Tuning r;
    if (const char *s = std::getenv("DQ_CUDA_STREAMING_STORES")) r.streaming_stores = std::atoi(s) != 0;
    if (const char *s = std::getenv("DQ_CUDA_BLOCKS_PER_SM")) r.blocks_per_sm_cap = std::max(0, std::atoi(s));
    return r;
  }();
  return t;
}

}  // namespace

int32_t supports(int32_t src_type, int32_t dst_type) {
  if (!dq::type_is_dequantizable(src_type) || !dq::is_output_type(dst_type)) return 0;
  return kernel_available(src_type, dst_type) ? 1 : 0;
}

namespace {

// Every check of one request, in a fixed order, before any work: types, counts, sizes,
// buffers, the device (made current) and that device pointers belong to it. `what` prefixes
// the messages ("dequantize", "dequantize_batch: tensor 3").
int32_t validate(const dq_plugin_dequantize_args &a, const std::string &what) {
  const std::string prefix = what + ": ";
  if (int32_t st = plugin_args::check_request_types(a, prefix, fail); st != DQ_OK) return st;
  if (!supports(a.src_type, a.dst_type))
    return fail(DQ_ERR_UNSUPPORTED, what + ": cuda backend has no kernel for " + type_label(a.src_type));
  plugin_args::RequestBytes bytes;
  if (int32_t st = plugin_args::check_request_sizes(a, prefix, &bytes, fail); st != DQ_OK)
    return st;
  if (!a.src || !a.dst) return fail(DQ_ERR_INVALID_ARGUMENT, what + ": null buffer");
  if (reinterpret_cast<uintptr_t>(a.dst) % bytes.out_size != 0)
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": destination is not aligned to its " +
                                             std::to_string(bytes.out_size) + "-byte elements");
  if (a.src_on_host == a.dst_on_host &&
      plugin_args::ranges_overlap(a.src, bytes.src, a.dst, bytes.dst))
    return fail(DQ_ERR_INVALID_ARGUMENT, what + ": source and destination overlap");

  // Capture-safe from here on: cudaSetDevice and cudaPointerGetAttributes queue no work.
  if (int32_t st = select_device(a.device, what.c_str()); st != DQ_OK) return st;
  const RelaxedCapture relaxed;
  if (!a.src_on_host)
    if (int32_t st = check_device_pointer(a.src, a.device, "src"); st != DQ_OK) return st;
  if (!a.dst_on_host)
    if (int32_t st = check_device_pointer(a.dst, a.device, "dst"); st != DQ_OK) return st;
  return DQ_OK;
}

// The launch settings for `device` (current) and the request's stream (NULL: the plugin's).
int32_t launch_env(int32_t device, void *stream, LaunchEnv *env) {
  env->sm_count = sm_count(device);  // cached at probe time: no device query per call
  env->streaming_stores = tuning().streaming_stores;
  env->blocks_per_sm_cap = tuning().blocks_per_sm_cap;
  return resolve_stream(device, stream, &env->stream);
}

// Runs one validated request. Device memory: one kernel launch queued on the stream, nothing
// else (no allocation, no synchronization: legal during stream capture). Host memory: staged
// through stream-ordered buffers, then waits.
int32_t run_one(const dq_plugin_dequantize_args &a) {
  if (int32_t st = select_device(a.device, "dequantize"); st != DQ_OK) return st;
  LaunchEnv env;
  if (int32_t st = launch_env(a.device, a.stream, &env); st != DQ_OK) return st;
  const dq::TypeTraits &t = *dq::type_traits(a.src_type);
  if (a.src_on_host || a.dst_on_host)
    return run_staged(a, t.block_elements, t.block_bytes, dq::output_type_size(a.dst_type), env);
  const RelaxedCapture relaxed;
  const cudaError_t e = launch_dequantize(a.src_type, a.dst_type, a.src, a.dst, a.n_elements, env);
  if (e != cudaSuccess) return fail_cuda(e, "dequantize: kernel launch for " + type_label(a.src_type));
  return ok();
}

// Device-memory tensors that one batch launch can serve: same device, stream and pair.
struct Group {
  int32_t device, src_type, dst_type;
  void *stream;
  std::vector<BatchTensor> tensors;
};

}  // namespace

int32_t dequantize(const dq_plugin_dequantize_args *args) {
  if (int32_t st = plugin_args::check_args_struct(args, "dequantize", fail); st != DQ_OK) return st;
  if (int32_t st = validate(*args, "dequantize"); st != DQ_OK) return st;
  return run_one(*args);
}

int32_t dequantize_batch(const dq_plugin_dequantize_args *args, size_t n) {
  if (n == 0) return ok();
  // Everything is checked before anything is queued: a refusal writes nothing.
  if (int32_t st = plugin_args::check_batch_args(args, n, fail, validate); st != DQ_OK) return st;
  const size_t stride = args->struct_size;  // the caller's element size (dq_plugin.h)
  // Device-memory tensors grouped by (device, stream, pair), in order of first appearance:
  // one launch per group (per kMaxBatchTensors tensors), queued on the group's stream.
  std::vector<Group> groups;
  for (size_t i = 0; i < n; ++i) {
    const dq_plugin_dequantize_args &a = plugin_args::batch_element(args, stride, i);
    if (a.src_on_host || a.dst_on_host) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group &g) {
      return g.device == a.device && g.stream == a.stream && g.src_type == a.src_type &&
             g.dst_type == a.dst_type;
    });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{a.device, a.src_type, a.dst_type, a.stream, {}});
    it->tensors.push_back({a.src, a.dst, a.n_elements});
  }
  for (const Group &g : groups) {
    if (int32_t st = select_device(g.device, "dequantize_batch"); st != DQ_OK) return st;
    LaunchEnv env;
    if (int32_t st = launch_env(g.device, g.stream, &env); st != DQ_OK) return st;
    const RelaxedCapture relaxed;
    const cudaError_t e = launch_dequantize_batch(g.src_type, g.dst_type, g.tensors.data(),
                                                  g.tensors.size(), env);
    if (e != cudaSuccess)
      return fail_cuda(e, "dequantize_batch: kernel launch for " + std::to_string(g.tensors.size()) +
                              " tensors of " + type_label(g.src_type));
  }
  // Host memory goes through the staged single path (which waits), after the device work
  // is queued.
  for (size_t i = 0; i < n; ++i) {
    const dq_plugin_dequantize_args &a = plugin_args::batch_element(args, stride, i);
    if (a.src_on_host || a.dst_on_host)
      if (int32_t st = run_one(a); st != DQ_OK) return st;
  }
  return ok();
}

}  // namespace dq::cuda
