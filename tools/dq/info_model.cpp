// What `dq info` reads from an opened model (see info_model.hpp).
#include "info_model.hpp"

#include <charconv>
#include <cstring>

namespace dq::tool {
namespace {

template <typename T>
T load(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // unaligned in the file
  return v;
}

template <typename F>
std::string shortest(F x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

}  // namespace

Scalar scalar_of(const dq_value *v) {
  Scalar s;
  s.type = dq_value_get_type(v);
  switch (s.type) {
    case DQ_VALUE_BOOL: {
      int32_t b = 0;
      dq_value_get_bool(v, &b);
      s.b = b != 0;
      break;
    }
    case DQ_VALUE_FLOAT32:
    case DQ_VALUE_FLOAT64: dq_value_get_f64(v, &s.f); break;
    case DQ_VALUE_STRING: {
      const char *p = nullptr;
      uint64_t len = 0;
      if (dq_value_get_string(v, &p, &len) == DQ_OK) s.s = {p, static_cast<size_t>(len)};
      break;
    }
    case DQ_VALUE_UINT8:
    case DQ_VALUE_UINT16:
    case DQ_VALUE_UINT32:
    case DQ_VALUE_UINT64: dq_value_get_u64(v, &s.u); break;
    default: dq_value_get_i64(v, &s.i); break;
  }
  return s;
}

Scalar array_scalar(dq_value_type et, const uint8_t *raw, uint64_t j) {
  Scalar s;
  s.type = et;
  switch (et) {
    case DQ_VALUE_UINT8: s.u = raw[j]; break;
    case DQ_VALUE_INT8: s.i = static_cast<int8_t>(raw[j]); break;
    case DQ_VALUE_BOOL: s.b = raw[j] != 0; break;
    case DQ_VALUE_UINT16: s.u = load<uint16_t>(raw + 2 * j); break;
    case DQ_VALUE_INT16: s.i = load<int16_t>(raw + 2 * j); break;
    case DQ_VALUE_UINT32: s.u = load<uint32_t>(raw + 4 * j); break;
    case DQ_VALUE_INT32: s.i = load<int32_t>(raw + 4 * j); break;
    case DQ_VALUE_FLOAT32: s.f = load<float>(raw + 4 * j); break;
    case DQ_VALUE_UINT64: s.u = load<uint64_t>(raw + 8 * j); break;
    case DQ_VALUE_INT64: s.i = load<int64_t>(raw + 8 * j); break;
    case DQ_VALUE_FLOAT64: s.f = load<double>(raw + 8 * j); break;
    default: break;  // strings and arrays have no raw element bytes
  }
  return s;
}

std::string type_text(const dq_value *v) {
  const dq_value_type t = dq_value_get_type(v);
  if (t != DQ_VALUE_ARRAY) return value_type_name(t);
  return std::string("array[") + value_type_name(dq_value_array_type(v)) + "; " +
         std::to_string(dq_value_array_count(v)) + "]";
}

std::string shortest_float(float x) { return shortest(x); }
std::string shortest_double(double x) { return shortest(x); }

std::string tensor_type_name(int32_t type) {
  const char *name = dq_type_name(type);
  return name ? name : "type " + std::to_string(type);
}

std::vector<dq_tensor_info> tensors_of(const dq_model *m) {
  std::vector<dq_tensor_info> out(static_cast<size_t>(dq_model_tensor_count(m)));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].struct_size = sizeof(dq_tensor_info);
    dq_model_tensor_info(m, static_cast<int64_t>(i), &out[i]);
  }
  return out;
}

double bits_per_weight(const TypeTotal &t) {
  return t.elements ? static_cast<double>(t.bytes) * 8.0 / static_cast<double>(t.elements) : 0.0;
}

std::map<int32_t, TypeTotal> totals_of(const std::vector<dq_tensor_info> &tensors) {
  std::map<int32_t, TypeTotal> totals;
  for (const auto &t : tensors) {
    TypeTotal &tt = totals[t.type];
    ++tt.count;
    tt.elements += static_cast<uint64_t>(t.n_elements);
    tt.bytes += t.n_bytes;
  }
  return totals;
}

}  // namespace dq::tool
