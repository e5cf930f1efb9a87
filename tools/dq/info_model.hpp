// What `dq info` reads from an opened model, shared by its text and JSON output: metadata
// values as scalars (array elements decoded from the raw bytes, so a huge numeric array is
// never materialized as per-element values), the tensor table and per-type totals.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dq/dq.h"
#include "dq_common/value_type_name.hpp"  // value_type_name, shared with the core's messages

namespace dq::tool {

// One non-array metadata value.
struct Scalar {
  dq_value_type type = DQ_VALUE_UINT8;
  int64_t i = 0;          // signed integer types
  uint64_t u = 0;         // unsigned integer types
  double f = 0;           // FLOAT32, FLOAT64
  bool b = false;         // BOOL
  std::string_view s;     // STRING (points into the model)
};

Scalar scalar_of(const dq_value *v);

// "[n, m]" of an array type, e.g. "array[i32; 1000]"; the type name otherwise.
std::string type_text(const dq_value *v);

// Calls on_scalar(const Scalar &) or, for nested arrays, on_array(const dq_value *) for the
// first `limit` elements of an array, in order.
template <typename OnScalar, typename OnArray>
void visit_elements(const dq_value *array, uint64_t limit, OnScalar &&on_scalar,
                    OnArray &&on_array);

// Shortest text that reads back as the same float / double.
std::string shortest_float(float x);
std::string shortest_double(double x);

// The ggml type's name; "type N" for an id the type table does not know.
std::string tensor_type_name(int32_t type);

std::vector<dq_tensor_info> tensors_of(const dq_model *m);

struct TypeTotal {
  uint64_t count = 0;
  uint64_t elements = 0;
  uint64_t bytes = 0;
};
double bits_per_weight(const TypeTotal &t);
// Totals per type in type-id order.
std::map<int32_t, TypeTotal> totals_of(const std::vector<dq_tensor_info> &tensors);

// Decodes element `j` of a fixed-size numeric array from its raw little-endian bytes.
Scalar array_scalar(dq_value_type element_type, const uint8_t *raw, uint64_t j);

template <typename OnScalar, typename OnArray>
void visit_elements(const dq_value *array, uint64_t limit, OnScalar &&on_scalar,
                    OnArray &&on_array) {
  const uint64_t n = dq_value_array_count(array);
  const uint64_t shown = n < limit ? n : limit;
  const dq_value_type et = dq_value_array_type(array);
  const void *raw = nullptr;
  uint64_t bytes = 0;
  if (dq_value_array_data(array, &raw, &bytes) == DQ_OK) {
    for (uint64_t j = 0; j < shown; ++j)
      on_scalar(array_scalar(et, static_cast<const uint8_t *>(raw), j));
    return;
  }
  for (uint64_t j = 0; j < shown; ++j) {
    const dq_value *e = dq_value_array_get(array, j);
    if (dq_value_get_type(e) == DQ_VALUE_ARRAY)
      on_array(e);
    else
      on_scalar(scalar_of(e));
  }
}

}  // namespace dq::tool
