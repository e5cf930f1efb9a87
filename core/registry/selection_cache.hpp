// Memo of the registry's per-call work that only depends on the (source type, output type)
// pair: which backend the automatic order (or a DQ_BACKEND list) picks, and whether a backend
// supports the pair. dq_dequantize is called for every weight matrix on every forward pass;
// rebuilding the candidates, the policy and the reason texts each time cost ~0.6 us a call.
//
// No invalidation is needed: a Registry's backends, devices and settings (DQ_BACKEND,
// DQ_GPU_MIN_BYTES, read once from the environment) never change after it is built, and the
// cache lives and dies with it. A context made later reads the environment again and gets a
// fresh registry and cache. Only successful choices are remembered: failures take the full
// path every time, so their messages stay exactly as before.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace dq::core {

class SelectionCache {
 public:
  explicit SelectionCache(size_t backend_count);

  // Index of the backend chosen for host->host work of that pair and size class, or -1 when
  // not known yet (or the pair is out of range).
  int automatic(int32_t src_type, int32_t dst_type, bool below_gpu_threshold) const;
  void remember_automatic(int32_t src_type, int32_t dst_type, bool below_gpu_threshold,
                          int backend);

  enum class Support : uint8_t { unknown = 0, yes = 1, no = 2 };
  Support supports(size_t backend, int32_t src_type, int32_t dst_type) const;
  void remember_supports(size_t backend, int32_t src_type, int32_t dst_type, bool yes);

 private:
  // Slot of a (src, dst) pair, or -1: src is a type id, dst one of the three output types.
  static int pair_slot(int32_t src_type, int32_t dst_type);

  size_t backend_count_;
  // Relaxed atomics: calls on one context may run on many threads; every writer stores the
  // same value (selection is a pure function of immutable inputs), so any read is fine.
  std::unique_ptr<std::atomic<int16_t>[]> automatic_;  // backend index + 1; 0: unknown
  std::unique_ptr<std::atomic<uint8_t>[]> supports_;   // Support per backend and pair
};

}  // namespace dq::core
