// Per-tensor backend choice as a pure function of what was found, the request and the
// policy (DQ_BACKEND, DQ_GPU_MIN_BYTES). No I/O: the registry logs the returned text.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dq/dq.h"
#include "registry/backend.hpp"
#include "registry/internal_api.hpp"

namespace dq::core {

// One backend as the selection sees it for one (type, output) pair.
struct Candidate {
  std::string_view name;
  BackendState state = BackendState::failed;
  dq_status load_status = DQ_ERR_NO_BACKEND;
  std::string_view status;  // load failure or no-device reason
  int32_t device_count = 0;
  bool is_gpu = false;    // has memory of its own: host->host work pays two transfers
  bool supports = false;  // does (src_type -> dst_type)
  // As the plugin reports them ("NVIDIA H200", "NVIDIA H200 (NVIDIA 550.54, Vulkan 1.3.277)").
  std::span<const std::string> device_names;
};

enum class ForcedBy { none, request, environment, device_memory };

struct SelectionQuery {
  std::string_view src_type_name;  // "q6_K"
  std::string_view dst_type_name;  // "f32"
  uint64_t src_bytes = 0;
  ForcedBy forced_by = ForcedBy::none;
  std::string_view forced;  // backend name when forced_by != none
};

struct SelectionPolicy {
  std::vector<std::string> order;  // DQ_BACKEND split; empty: GPUs then the rest
  std::string order_text;          // DQ_BACKEND as given
  uint64_t gpu_min_bytes = 0;      // host->host work below this prefers non-GPU backends
  std::string searched;            // folders searched, for "not found" messages
};

struct Selection {
  int index = -1;  // into the candidates; -1 when none
  dq_status status = DQ_OK;
  std::string reason;              // why this backend, or (on failure) the error message
  std::vector<std::string> notes;  // candidates passed over and why (debug log)
};

// A single name in DQ_BACKEND forces that backend; without DQ_BACKEND, GPU backends come
// first, and cuda goes before any other GPU backend that sees the same GPU (a device name
// that begins with one of cuda's: the plugin ABI carries no UUID or bus id), with a note; a list is an order of preference in
// which unusable entries are skipped. The threshold demotes GPU backends below
// gpu_min_bytes (they are still used when nothing else can do the work).
DQ_INTERNAL_API Selection select_backend(std::span<const Candidate> candidates,
                                         const SelectionQuery &query,
                                         const SelectionPolicy &policy);

}  // namespace dq::core
