// Selection, row ranges and output types of a load (see load_plan.hpp).
#include "loader/load_plan.hpp"

#include <cstring>
#include <string_view>
#include <unordered_map>

#include "dq_common/type_traits.hpp"
#include "loader/load_error.hpp"

namespace dq::loader {

const char *route_name(Route r) {
  switch (r) {
    case Route::device:
      return "device";
    case Route::cpu:
      return "cpu";
    case Route::copy:
      return "copy";
  }
  return "?";
}

namespace {

std::string type_text(int32_t t) {
  if (t == DQ_LOAD_KEEP) return "keep";
  const TypeTraits *tt = type_traits(t);
  return tt ? tt->name : "type " + std::to_string(t);
}

bool valid_output(int32_t t) {
  return t == DQ_LOAD_KEEP || is_output_type(t);
}

// Applies default, per-name override and callback; validates the result.
int32_t resolve_output_type(const dq_tensor_info &info, const dq_load_options &o,
                            const std::unordered_map<std::string_view, int32_t> &overrides) {
  const std::string name = info.name;
  int32_t t = default_output_type(info.type, o.output_type);
  bool explicit_choice = false;
  if (auto it = overrides.find(name); it != overrides.end()) {
    t = it->second;
    explicit_choice = true;
  }
  if (o.type_fn) {
    const int32_t from_fn = o.type_fn(o.type_user, &info, t);
    explicit_choice = explicit_choice || from_fn != t;
    t = from_fn;
  }
  if (!valid_output(t))
    throw LoadError(DQ_ERR_INVALID_ARGUMENT, "tensor " + name + ": output type " + type_text(t) +
                                                 " is not one of f32, f16, bf16 or keep");
  if (t != DQ_LOAD_KEEP && !type_is_dequantizable(info.type)) {
    if (explicit_choice)
      throw LoadError(DQ_ERR_UNSUPPORTED, "tensor " + name + " is " + type_text(info.type) +
                                              ", which cannot be converted to " + type_text(t) +
                                              "; load it with DQ_LOAD_KEEP");
    t = DQ_LOAD_KEEP;
  }
  return t;
}

}  // namespace

dq_load_options default_load_options() {
  dq_load_options o;
  std::memset(&o, 0, sizeof o);  // padding too: the struct is copied byte-wise to callers
  o.struct_size = sizeof o;
  o.device.backend = "host";
  o.output_type = DQ_TYPE_F16;
  o.staging_budget = DQ_LOAD_DEFAULT_BUDGET;
  o.gpu_min_bytes = -1;
  return o;
}

dq_load_options read_load_options(const dq_load_options *in) {
  dq_load_options o = default_load_options();
  if (!in) return o;
  if (in->struct_size < DQ_LOAD_OPTIONS_MIN_SIZE)
    throw LoadError(DQ_ERR_INVALID_ARGUMENT,
                    "dq_load_options.struct_size " + std::to_string(in->struct_size) +
                        " is less than DQ_LOAD_OPTIONS_MIN_SIZE (" +
                        std::to_string(DQ_LOAD_OPTIONS_MIN_SIZE) +
                        " bytes: device and output_type); call dq_load_options_init first");
  std::memcpy(&o, in, in->struct_size < sizeof o ? in->struct_size : sizeof o);
  o.struct_size = sizeof o;
  if (o.staging_budget == 0) o.staging_budget = DQ_LOAD_DEFAULT_BUDGET;
  if (o.copy_threads < 0)
    throw LoadError(DQ_ERR_INVALID_ARGUMENT,
                    "copy_threads is " + std::to_string(o.copy_threads) + ", must be >= 0");
  return o;
}

void check_staging_budget(uint64_t budget) {
  if (budget < kMinStagingBudget)
    throw LoadError(DQ_ERR_SIZE, "staging_budget of " + std::to_string(budget) +
                                     " bytes is under the 1 MiB minimum (0: the default)");
}

std::vector<dq_load_part> read_parts(const dq_load_options &o) {
  if (!o.parts || !o.n_parts)
    throw LoadError(DQ_ERR_INVALID_ARGUMENT, "parts and n_parts must be given together");
  const size_t stride = o.parts[0].struct_size;
  if (stride < DQ_LOAD_PART_MIN_SIZE)
    throw LoadError(DQ_ERR_INVALID_ARGUMENT,
                    "dq_load_part.struct_size " + std::to_string(stride) +
                        " is less than DQ_LOAD_PART_MIN_SIZE (" +
                        std::to_string(DQ_LOAD_PART_MIN_SIZE) + " bytes)");
  std::vector<dq_load_part> out(o.n_parts);
  const auto *base = reinterpret_cast<const char *>(o.parts);
  for (size_t i = 0; i < o.n_parts; ++i) {
    std::memcpy(&out[i], base + i * stride, sizeof(dq_load_part));
    if (out[i].struct_size != stride)
      throw LoadError(DQ_ERR_INVALID_ARGUMENT,
                      "part " + std::to_string(i) + ": struct_size " +
                          std::to_string(out[i].struct_size) + " differs from part 0's " +
                          std::to_string(stride) + " (one array, one element size)");
    if (!out[i].name)
      throw LoadError(DQ_ERR_INVALID_ARGUMENT, "part " + std::to_string(i) + ": name is NULL");
  }
  return out;
}

int32_t default_output_type(int32_t src_type, int32_t requested) {
  if (requested != DQ_LOAD_KEEP && !type_is_dequantizable(src_type)) return DQ_LOAD_KEEP;
  return requested;
}

std::vector<TensorJob> build_plan(const std::vector<dq_tensor_info> &tensors,
                                  const dq_load_options &o) {
  if (!valid_output(o.output_type))
    throw LoadError(DQ_ERR_INVALID_ARGUMENT, "output type " + type_text(o.output_type) +
                                                 " is not one of f32, f16, bf16 or keep");
  std::unordered_map<std::string_view, int64_t> by_name;
  for (size_t i = 0; i < tensors.size(); ++i) by_name.emplace(tensors[i].name, (int64_t)i);

  std::unordered_map<std::string_view, int32_t> overrides;
  if (o.n_overrides && (!o.override_names || !o.override_types))
    throw LoadError(DQ_ERR_INVALID_ARGUMENT, "n_overrides > 0 but override arrays are NULL");
  for (size_t i = 0; i < o.n_overrides; ++i) {
    const char *n = o.override_names[i];
    if (!n)
      throw LoadError(DQ_ERR_INVALID_ARGUMENT, "override name " + std::to_string(i) + " is NULL");
    if (!by_name.count(n))
      throw LoadError(DQ_ERR_NOT_FOUND, std::string("output type override names tensor ") + n +
                                            ", which the model does not have");
    overrides[n] = o.override_types[i];
  }

  // The selection: indices plus optional row and column ranges and device slots.
  struct Want {
    int64_t index;
    int64_t begin;
    int64_t end;
    bool ranged;
    int64_t col_begin = 0;
    int64_t col_end = -1;
    int32_t slot = 0;
  };
  std::vector<Want> wants;
  if (o.parts || o.n_parts) {
    if (o.names)
      throw LoadError(DQ_ERR_INVALID_ARGUMENT, "parts and names cannot be given together");
    if (o.row_begin || o.row_end)
      throw LoadError(DQ_ERR_INVALID_ARGUMENT, "row ranges belong to names, not to parts");
    const size_t slots = device_slots(o);
    // One tensor twice on one device would be two outputs of one name at one place.
    std::unordered_map<std::string, size_t> seen;
    for (const dq_load_part &p : read_parts(o)) {
      auto it = by_name.find(p.name);
      if (it == by_name.end())
        throw LoadError(DQ_ERR_NOT_FOUND, std::string("tensor ") + p.name + " not found in the model");
      if (p.device < 0 || static_cast<size_t>(p.device) >= slots)
        throw LoadError(DQ_ERR_INVALID_ARGUMENT,
                        std::string("tensor ") + p.name + ": part for device index " +
                            std::to_string(p.device) + ", but the load has " +
                            std::to_string(slots) + " device(s)");
      const std::string key = std::string(p.name) + '\n' + std::to_string(p.device);
      if (!seen.emplace(key, 0).second)
        throw LoadError(DQ_ERR_INVALID_ARGUMENT, std::string("tensor ") + p.name +
                                                     " has two parts for device index " +
                                                     std::to_string(p.device));
      wants.push_back({it->second, p.row_begin, p.row_end, true, p.col_begin, p.col_end, p.device});
    }
  } else if (o.names) {
    if (o.n_names == 0) throw LoadError(DQ_ERR_INVALID_ARGUMENT, "names given but n_names is 0");
    if ((o.row_begin == nullptr) != (o.row_end == nullptr))
      throw LoadError(DQ_ERR_INVALID_ARGUMENT, "row_begin and row_end must be given together");
    std::unordered_map<std::string_view, size_t> seen;
    for (size_t i = 0; i < o.n_names; ++i) {
      const char *n = o.names[i];
      if (!n)
        throw LoadError(DQ_ERR_INVALID_ARGUMENT, "tensor name " + std::to_string(i) + " is NULL");
      auto it = by_name.find(n);
      if (it == by_name.end())
        throw LoadError(DQ_ERR_NOT_FOUND, std::string("tensor ") + n + " not found in the model");
      if (!seen.emplace(n, i).second)
        throw LoadError(DQ_ERR_INVALID_ARGUMENT, std::string("tensor ") + n + " requested twice");
      if (o.row_begin)
        wants.push_back({it->second, o.row_begin[i], o.row_end[i], true});
      else
        wants.push_back({it->second, 0, -1, false});
    }
  } else {
    if (o.row_begin || o.row_end)
      throw LoadError(DQ_ERR_INVALID_ARGUMENT, "row ranges need the names they apply to");
    for (size_t i = 0; i < tensors.size(); ++i) wants.push_back({(int64_t)i, 0, -1, false});
  }

  std::vector<TensorJob> jobs;
  jobs.reserve(wants.size());
  for (const Want &w : wants) {
    const dq_tensor_info &info = tensors[w.index];
    const TypeTraits *tt = type_traits(info.type);
    const std::string name = info.name;
    if (!tt || !type_has_layout(info.type))
      throw LoadError(DQ_ERR_UNKNOWN_TYPE,
                      "tensor " + name + " has unknown type " + std::to_string(info.type));
    TensorJob j;
    j.name = name;
    j.model_index = w.index;
    j.src_type = info.type;
    j.device_slot = w.slot;
    j.row_elements = info.ne[0];
    const int64_t rows = info.ne[0] > 0 ? info.n_elements / info.ne[0] : 0;
    int64_t begin = w.begin, end = w.end < 0 ? rows : w.end;
    if (w.ranged) {
      if (begin < 0 || begin >= end || end > rows)
        throw LoadError(DQ_ERR_SIZE, "tensor " + name + ": row range [" + std::to_string(w.begin) +
                                         ", " + std::to_string(w.end) + ") is outside its " +
                                         std::to_string(rows) + " rows (or empty)");
      const bool whole = begin == 0 && end == rows;
      if (!whole && info.ne[0] % tt->block_elements != 0)
        throw LoadError(DQ_ERR_SIZE, "tensor " + name + ": a row of " + std::to_string(info.ne[0]) +
                                         " elements is not a whole number of " + tt->name +
                                         " blocks (" + std::to_string(tt->block_elements) +
                                         " elements), so rows cannot be cut at block boundaries");
    }
    const int64_t c0 = w.col_begin, c1 = w.col_end < 0 ? info.ne[0] : w.col_end;
    if (c0 < 0 || c0 >= c1 || c1 > info.ne[0])
      throw LoadError(DQ_ERR_SIZE, "tensor " + name + ": column range [" +
                                       std::to_string(w.col_begin) + ", " +
                                       std::to_string(w.col_end) + ") is outside its " +
                                       std::to_string(info.ne[0]) + " columns (or empty)");
    const bool all_columns = c0 == 0 && c1 == info.ne[0];
    if (!all_columns && (c0 % tt->block_elements != 0 || c1 % tt->block_elements != 0))
      throw LoadError(DQ_ERR_SIZE, "tensor " + name + ": columns [" + std::to_string(c0) + ", " +
                                       std::to_string(c1) + ") do not cut at whole " + tt->name +
                                       " blocks (block size " +
                                       std::to_string(tt->block_elements) + " elements)");
    j.col_begin = c0;
    j.col_end = c1;
    j.row_begin = begin;
    j.row_end = end;
    j.n_elements = (end - begin) * (c1 - c0);
    const bool whole = begin == 0 && end == rows && all_columns;
    j.n_dims = info.n_dims;
    for (int d = 0; d < 4; ++d) j.ne[d] = info.ne[d];
    if (!whole) {
      j.n_dims = 2;
      j.ne[0] = c1 - c0;
      j.ne[1] = end - begin;
      j.ne[2] = j.ne[3] = 1;
    }
    // Byte offset of the first row: whole blocks by the check above (or the whole tensor).
    const uint64_t row_bytes = static_cast<uint64_t>(info.ne[0]) /
                               static_cast<uint64_t>(tt->block_elements) * tt->block_bytes;
    const uint64_t first = static_cast<uint64_t>(begin) * row_bytes +
                           static_cast<uint64_t>(c0) / tt->block_elements * tt->block_bytes;
    auto nb = type_nbytes(info.type, j.n_elements);
    const uint64_t last_end = first + static_cast<uint64_t>(end - begin - 1) * row_bytes +
                              (nb ? *nb / static_cast<uint64_t>(end - begin) : 0);
    if (!nb || (all_columns && first + *nb > info.n_bytes) ||
        (!all_columns && (info.ne[0] % tt->block_elements != 0 || last_end > info.n_bytes)))
      throw LoadError(DQ_ERR_SIZE, "tensor " + name + ": size does not match its type and shape");
    if (!all_columns) {
      j.src_row_stride = row_bytes;
      j.src_row_bytes = *nb / static_cast<uint64_t>(end - begin);
    }
    j.src = static_cast<const uint8_t *>(info.data) + first;
    j.split = info.split;
    j.file_offset = info.file_offset + first;
    j.src_bytes = *nb;

    int32_t out = resolve_output_type(info, o, overrides);
    if (out == info.type) out = DQ_LOAD_KEEP;  // f16 -> f16 is a copy
    j.keep = out == DQ_LOAD_KEEP;
    j.out_type = j.keep ? info.type : out;
    j.out_bytes =
        j.keep ? j.src_bytes : static_cast<uint64_t>(j.n_elements) * output_type_size(out);
    j.route = j.keep ? Route::copy : Route::device;
    jobs.push_back(std::move(j));
  }
  return jobs;
}

}  // namespace dq::loader
