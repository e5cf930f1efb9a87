// Which tensors a load covers, which rows, and the output type of each: a pure function of
// the model's tensor table and the caller's options, so it is tested without any backend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dq/dq.h"

namespace dq::loader {

// How a tensor reaches its destination.
enum class Route {
  device,  // quantized bytes uploaded, dequantized by the device backend
  cpu,     // dequantized by the CPU plugin on the host (then uploaded for device loads)
  copy,    // bytes kept as they are
};

const char *route_name(Route r);

struct TensorJob {
  std::string name;
  int64_t model_index = 0;
  int32_t src_type = 0;
  int32_t out_type = 0;  // F32/F16/BF16, or src_type when kept
  bool keep = false;     // bytes copied unchanged
  uint32_t n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};  // shape of the loaded part
  int64_t row_begin = 0, row_end = 0;
  int64_t row_elements = 0;      // ne[0] of the file's tensor
  int64_t n_elements = 0;        // loaded
  const uint8_t *src = nullptr;  // first loaded byte in the mapped file
  uint32_t split = 0;            // part file holding it
  uint64_t file_offset = 0;      // offset of `src` in that file
  uint64_t src_bytes = 0;
  uint64_t out_bytes = 0;
  Route route = Route::copy;
  void *dst = nullptr;
  bool caller_owned = false;
  // A column part (dq_load_part): the loaded source is `rows` runs of src_row_bytes, one
  // every src_row_stride bytes of the file from `src`, gathered back to back. 0: contiguous.
  uint64_t src_row_stride = 0;
  uint64_t src_row_bytes = 0;
  int64_t col_begin = 0, col_end = 0;  // elements of ne[0] loaded
  int32_t device_slot = 0;             // index into dq_load_options.devices
};

// Whether `j`'s source is gathered from strided rows (a column part).
inline bool is_strided(const TensorJob &j) {
  return j.src_row_stride != 0;
}

// Staging budgets below this are refused (dq_loader.h), for host and device loads alike.
inline constexpr uint64_t kMinStagingBudget = 1ull << 20;

// The defaults of dq_load_options_init: host, f16, DQ_LOAD_DEFAULT_BUDGET, gpu_min_bytes -1.
dq_load_options default_load_options();

// The caller's options over the defaults, reading only the fields its struct_size covers
// (NULL: the defaults); a staging_budget of 0 becomes the default. Throws LoadError:
// DQ_ERR_INVALID_ARGUMENT for struct_size under DQ_LOAD_OPTIONS_MIN_SIZE or a negative
// copy_threads. The destination is checked where it is resolved (loader_api.cpp).
dq_load_options read_load_options(const dq_load_options *in);

// Throws LoadError(DQ_ERR_SIZE) for a budget under kMinStagingBudget. Checked by the calls
// that set up staging (dq_load, dq_loader_create), not by dq_loader_load, which ignores it.
void check_staging_budget(uint64_t budget);

// Output type proposed for a tensor before overrides: what nothing can dequantize is kept.
int32_t default_output_type(int32_t src_type, int32_t requested);

// Reads the caller's parts (dq_load_options.parts) with the stride of parts[0].struct_size.
// Throws LoadError(DQ_ERR_INVALID_ARGUMENT) for a NULL array, names or differing sizes.
std::vector<dq_load_part> read_parts(const dq_load_options &options);

// Number of destinations: n_devices, or 1 (the single `device`).
inline size_t device_slots(const dq_load_options &o) {
  return o.n_devices > 0 ? o.n_devices : 1;
}

// Builds the jobs for `tensors` (the model's table, in file order), from the names and row
// ranges or from the parts (each part's job carries its device slot and columns). Throws LoadError:
// DQ_ERR_NOT_FOUND for an unknown name, DQ_ERR_SIZE for a row range outside the tensor or
// rows not made of whole blocks, DQ_ERR_INVALID_ARGUMENT for bad output types or duplicates.
// Routes are left as `copy` for kept tensors and `device` otherwise; route.cpp decides.
std::vector<TensorJob> build_plan(const std::vector<dq_tensor_info> &tensors,
                                  const dq_load_options &options);

}  // namespace dq::loader
