// Chooses the kernel set for this CPU and splits large tensors over a persistent thread pool.
#include "dispatch.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dq/dq.h"
#include "isa_preference.hpp"
#include "thread_pool.hpp"

namespace dq::cpu {
namespace {

// Per-chunk output elements: large enough to amortize scheduling, small enough to balance.
constexpr int64_t kChunkElements = int64_t{1} << 16;
// Outputs at least this large use the set's non-temporal (streaming) kernels.
constexpr uint64_t kStreamMinBytes = uint64_t{8} << 20;

struct DispatchState {
  std::mutex mutex;
  bool initialized = false;
  int32_t init_status = DQ_OK;
  std::string init_error;
  const KernelSet *set = nullptr;
  std::string description;
  int threads = 1;
  // Created on the first parallel run; callers hold a reference while they use it, so a
  // replacement (more threads wanted) or shutdown never pulls it from under them.
  std::shared_ptr<ThreadPool> pool;
};

DispatchState &state() {
  static DispatchState s;
  return s;
}

thread_local std::string t_last_error;

int32_t init_locked(DispatchState &s, std::string *error) {
  if (!s.initialized) {
    s.initialized = true;
    const CpuFeatures &f = cpu_features();
    IsaChoice choice = choose_isa(std::getenv("DQ_CPU_ISA"), f);
    std::string thread_error;
    s.threads = configured_threads(&thread_error);
    if (!choice.ok) {
      s.init_status = DQ_ERR_UNSUPPORTED;
      s.init_error = choice.error;
    } else if (s.threads <= 0) {
      s.init_status = DQ_ERR_INVALID_ARGUMENT;
      s.init_error = thread_error;
    } else {
      // Unforced: the best set, with the kernels another set runs faster taken from it.
      s.set = choice.forced ? kernel_set_for(choice.isa) : auto_kernel_set(choice.isa);
      if (!s.set) {
        s.init_status = DQ_ERR_INTERNAL;
        s.init_error = std::string("kernel set ") + isa_name(choice.isa) + " missing from build";
      }
    }
    if (s.init_status == DQ_OK)
      s.description = std::string(s.set->isa) +
                      (choice.forced ? " (DQ_CPU_ISA)" : " (auto)") + ", " +
                      std::to_string(s.threads) + (s.threads == 1 ? " thread" : " threads");
    else
      s.description = "unusable: " + s.init_error;
  }
  if (s.init_status != DQ_OK && error) *error = s.init_error;
  return s.init_status;
}

std::shared_ptr<ThreadPool> pool_for(int n_threads) {
  DispatchState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  int want = std::max(n_threads, s.threads) - 1;
  if (!s.pool || s.pool->workers() < want) s.pool = std::make_shared<ThreadPool>(want);
  return s.pool;
}

}  // namespace

const KernelSet *kernel_set_for(Isa isa) {
  if (!isa_supported(isa, cpu_features())) return nullptr;
  switch (isa) {
    case Isa::kScalar: return &scalar_kernels();
    case Isa::kAvx2: return avx2_kernels();
    case Isa::kAvx512: return avx512_kernels();
    case Isa::kNeon: return neon_kernels();
  }
  return nullptr;
}

int configured_threads(std::string *error) {
  const char *env = std::getenv("DQ_THREADS");
  if (env && *env) {
    char *end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (*end != '\0' || n < 1 || n > 1024) {
      if (error) *error = std::string("DQ_THREADS=") + env + ": expected a thread count 1..1024";
      return 0;
    }
    return static_cast<int>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

namespace {

// The kernel for one tensor: the set's (streaming when the output is large and 64-byte
// aligned), else scalar. Null with *error and *status set when there is none.
BlockFn resolve_kernel(const KernelSet &set, int32_t type, int32_t out_type, const void *dst,
                       int64_t n_blocks, std::string *error, int32_t *status) {
  const int oi = out_index(out_type);
  const TypeTraits *t = type_traits(type);
  if (!t || !t->dequantizable) {
    if (error) *error = "type id " + std::to_string(type) + " is not dequantizable by the cpu backend";
    *status = DQ_ERR_UNKNOWN_TYPE;
    return nullptr;
  }
  if (oi < 0) {
    if (error) *error = "output type id " + std::to_string(out_type) + " is not f32, f16 or bf16";
    *status = DQ_ERR_UNSUPPORTED;
    return nullptr;
  }
  const int64_t elements = n_blocks * t->block_elements;
  // Outputs far larger than the caches go around them (non-temporal stores): the caller
  // will not read them back before they are evicted anyway, and it saves the
  // read-for-ownership traffic.
  const bool stream = set.streaming && reinterpret_cast<uintptr_t>(dst) % 64 == 0 &&
                      static_cast<uint64_t>(elements) * output_type_size(out_type) >= kStreamMinBytes;
  BlockFn fn = stream && set.streaming->fn[type][oi] ? set.streaming->fn[type][oi] : set.fn[type][oi];
  if (!fn) fn = scalar_kernels().fn[type][oi];
  if (!fn) {
    if (error) *error = std::string("cpu backend has no kernel for ") + t->name;
    *status = DQ_ERR_UNSUPPORTED;
  }
  return fn;
}

}  // namespace

int32_t run_dequantize_with(const KernelSet &set, int n_threads, int32_t type, int32_t out_type,
                            const void *src, void *dst, int64_t n_blocks, std::string *error) {
  if (n_blocks < 0 || (n_blocks > 0 && (!src || !dst))) {
    if (error) *error = "null buffer or negative block count";
    return DQ_ERR_INVALID_ARGUMENT;
  }
  int32_t status = DQ_OK;
  const BlockFn fn = resolve_kernel(set, type, out_type, dst, n_blocks, error, &status);
  if (!fn) return status;
  const TypeTraits *t = type_traits(type);
  const int64_t elements = n_blocks * t->block_elements;
  if (n_threads <= 1 || elements < kParallelMinElements) {
    fn(static_cast<const uint8_t *>(src), dst, n_blocks);
    return DQ_OK;
  }
  // Block-aligned chunks of about kChunkElements outputs, at least a few per thread.
  int64_t blocks_per_chunk = std::max<int64_t>(1, kChunkElements / t->block_elements);
  int64_t n_chunks = (n_blocks + blocks_per_chunk - 1) / blocks_per_chunk;
  if (n_chunks < int64_t{4} * n_threads) {
    n_chunks = std::min<int64_t>(n_blocks, int64_t{4} * n_threads);
    blocks_per_chunk = (n_blocks + n_chunks - 1) / n_chunks;
  }
  // Every chunk's output starts 64-byte aligned when dst is (streaming stores need it).
  const int64_t align_blocks = std::max<int64_t>(1, 64 / t->block_elements);
  blocks_per_chunk = (blocks_per_chunk + align_blocks - 1) / align_blocks * align_blocks;
  n_chunks = (n_blocks + blocks_per_chunk - 1) / blocks_per_chunk;
  const auto *in = static_cast<const uint8_t *>(src);
  auto *out = static_cast<uint8_t *>(dst);
  const size_t in_block = t->block_bytes;
  const size_t out_block = static_cast<size_t>(t->block_elements) * output_type_size(out_type);
  std::shared_ptr<ThreadPool> pool = pool_for(n_threads);
  pool->parallel_for(n_chunks, n_threads, [&](int64_t c) {
    int64_t first = c * blocks_per_chunk;
    int64_t count = std::min(blocks_per_chunk, n_blocks - first);
    fn(in + first * in_block, out + first * out_block, count);
  });
  return DQ_OK;
}

namespace {

// A run of consecutive blocks of one tensor with its kernel.
struct Piece {
  BlockFn fn;
  const uint8_t *in;
  uint8_t *out;
  int64_t blocks;
  int64_t elements;
};

// Cuts item into pieces of about `target` output elements, each output 64-byte aligned
// when the item's is (streaming stores need it).
void cut(const BatchItem &item, BlockFn fn, int64_t target, std::vector<Piece> *pieces) {
  const TypeTraits &t = *type_traits(item.type);
  const int64_t align_blocks = std::max<int64_t>(1, 64 / t.block_elements);
  int64_t per = std::max<int64_t>(1, target / t.block_elements);
  per = (per + align_blocks - 1) / align_blocks * align_blocks;
  const size_t out_block = static_cast<size_t>(t.block_elements) * output_type_size(item.out_type);
  for (int64_t first = 0; first < item.n_blocks; first += per)
    pieces->push_back({fn, static_cast<const uint8_t *>(item.src) + first * t.block_bytes,
                       static_cast<uint8_t *>(item.dst) + first * out_block,
                       std::min(per, item.n_blocks - first),
                       std::min(per, item.n_blocks - first) * t.block_elements});
}

}  // namespace

int32_t run_dequantize_batch_with(const KernelSet &set, int n_threads, const BatchItem *items,
                                  size_t n, std::string *error) {
  std::vector<BlockFn> fns(n);
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const BatchItem &it = items[i];
    if (it.n_blocks < 0 || (it.n_blocks > 0 && (!it.src || !it.dst))) {
      if (error) *error = "tensor " + std::to_string(i) + ": null buffer or negative block count";
      return DQ_ERR_INVALID_ARGUMENT;
    }
    int32_t status = DQ_OK;
    std::string why;
    fns[i] = resolve_kernel(set, it.type, it.out_type, it.dst, it.n_blocks, &why, &status);
    if (!fns[i]) {
      if (error) *error = "tensor " + std::to_string(i) + ": " + why;
      return status;
    }
    total += it.n_blocks * type_traits(it.type)->block_elements;
  }
  if (n_threads <= 1 || total < kParallelMinElements) {
    for (size_t i = 0; i < n; ++i)
      fns[i](static_cast<const uint8_t *>(items[i].src), items[i].dst, items[i].n_blocks);
    return DQ_OK;
  }
  // One pool dispatch for the whole batch: tensors cut into pieces of about `target`
  // elements, and consecutive small pieces (small tensors) packed into one unit of work, so
  // a small tensor never pays a dispatch of its own. At least ~4 units per thread balance.
  const int64_t target =
      std::clamp<int64_t>(total / (int64_t{4} * n_threads), int64_t{4096}, kChunkElements);
  std::vector<Piece> pieces;
  for (size_t i = 0; i < n; ++i) cut(items[i], fns[i], target, &pieces);
  std::vector<size_t> unit_start;  // first piece of each unit
  int64_t filled = target;
  for (size_t p = 0; p < pieces.size(); ++p) {
    if (filled >= target) {
      unit_start.push_back(p);
      filled = 0;
    }
    filled += pieces[p].elements;
  }
  unit_start.push_back(pieces.size());
  std::shared_ptr<ThreadPool> pool = pool_for(n_threads);
  pool->parallel_for(static_cast<int64_t>(unit_start.size() - 1), n_threads, [&](int64_t u) {
    for (size_t p = unit_start[u]; p < unit_start[u + 1]; ++p)
      pieces[p].fn(pieces[p].in, pieces[p].out, pieces[p].blocks);
  });
  return DQ_OK;
}

int32_t run_dequantize_batch(const BatchItem *items, size_t n) {
  DispatchState &s = state();
  const KernelSet *set = nullptr;
  int threads = 1;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    int32_t st = init_locked(s, &t_last_error);
    if (st != DQ_OK) return st;
    set = s.set;
    threads = s.threads;
  }
  int32_t st = run_dequantize_batch_with(*set, threads, items, n, &t_last_error);
  if (st == DQ_OK) t_last_error.clear();
  return st;
}

int32_t dispatch_init(std::string *error) {
  DispatchState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return init_locked(s, error);
}

const char *dispatch_describe() {
  DispatchState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  init_locked(s, nullptr);
  return s.description.c_str();
}

int32_t run_dequantize(int32_t type, int32_t out_type, const void *src, void *dst,
                       int64_t n_blocks) {
  DispatchState &s = state();
  const KernelSet *set = nullptr;
  int threads = 1;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    int32_t st = init_locked(s, &t_last_error);
    if (st != DQ_OK) return st;
    set = s.set;
    threads = s.threads;
  }
  int32_t st = run_dequantize_with(*set, threads, type, out_type, src, dst, n_blocks, &t_last_error);
  if (st == DQ_OK) t_last_error.clear();
  return st;
}

const char *dispatch_last_error() { return t_last_error.c_str(); }

void dispatch_shutdown() {
  DispatchState &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.pool.reset();
  s.initialized = false;  // a later init re-reads DQ_CPU_ISA and DQ_THREADS
  s.init_status = DQ_OK;
  s.init_error.clear();
  s.set = nullptr;
}

}  // namespace dq::cpu
