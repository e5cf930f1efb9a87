// Public C API: dq_value_* (typed getters, strings, arrays).
#include "gguf/value.hpp"

extern "C" {

// NULL has no type; UINT8 is returned so C callers never see an out-of-range enum value.
DQ_API dq_value_type dq_value_get_type(const dq_value *value) {
  return value ? value->type : DQ_VALUE_UINT8;
}

DQ_API dq_status dq_value_get_i64(const dq_value *value, int64_t *out) {
  if (!value || !out) return DQ_ERR_INVALID_ARGUMENT;
  return dq::gguf::value_to_i64(*value, out);
}

DQ_API dq_status dq_value_get_u64(const dq_value *value, uint64_t *out) {
  if (!value || !out) return DQ_ERR_INVALID_ARGUMENT;
  return dq::gguf::value_to_u64(*value, out);
}

DQ_API dq_status dq_value_get_f64(const dq_value *value, double *out) {
  if (!value || !out) return DQ_ERR_INVALID_ARGUMENT;
  return dq::gguf::value_to_f64(*value, out);
}

DQ_API dq_status dq_value_get_bool(const dq_value *value, int32_t *out) {
  if (!value || !out) return DQ_ERR_INVALID_ARGUMENT;
  if (value->type != DQ_VALUE_BOOL) return DQ_ERR_TYPE_MISMATCH;
  *out = value->bytes[0] != 0 ? 1 : 0;
  return DQ_OK;
}

DQ_API dq_status dq_value_get_string(const dq_value *value, const char **out, uint64_t *len) {
  if (!value || !out || !len) return DQ_ERR_INVALID_ARGUMENT;
  if (value->type != DQ_VALUE_STRING) return DQ_ERR_TYPE_MISMATCH;
  *out = reinterpret_cast<const char *>(value->bytes);
  *len = value->count;
  return DQ_OK;
}

// Not an array (or NULL): UINT8, like dq_value_get_type(NULL).
DQ_API dq_value_type dq_value_array_type(const dq_value *value) {
  return value && value->type == DQ_VALUE_ARRAY ? value->array_type : DQ_VALUE_UINT8;
}

DQ_API uint64_t dq_value_array_count(const dq_value *value) {
  return value && value->type == DQ_VALUE_ARRAY ? value->count : 0;
}

// NULL when out of range, or when memory for the element's record cannot be had
// (array_element never throws: records are made a chunk at a time with nothrow new).
DQ_API const dq_value *dq_value_array_get(const dq_value *value, uint64_t index) {
  if (!value) return nullptr;
  return dq::gguf::array_element(*value, index);
}

DQ_API dq_status dq_value_array_data(const dq_value *value, const void **out, uint64_t *bytes) {
  if (!value || !out || !bytes) return DQ_ERR_INVALID_ARGUMENT;
  const uint64_t size = dq::gguf::value_type_size(value->array_type);
  if (value->type != DQ_VALUE_ARRAY || size == 0) return DQ_ERR_TYPE_MISMATCH;
  *out = value->bytes;
  *bytes = value->count * size;  // checked against the file size when parsed
  return DQ_OK;
}

}  // extern "C"
