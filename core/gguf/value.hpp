// The metadata value model behind the public dq_value handle. Values point into the mapped
// file (zero-copy): scalars, strings and arrays of fixed-size numbers keep a pointer to their
// bytes. Arrays of strings or arrays hold parsed child values; arrays of numbers make their
// per-element values only when dq_value_array_get first asks (a 1M-element array costs
// nothing until then).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "dq/dq.h"
#include "dq_common/value_type_name.hpp"  // value_type_name, shared with `dq info`

namespace dq::gguf {
struct LazyElements;
}

struct dq_value {
  dq_value_type type = DQ_VALUE_UINT8;
  dq_value_type array_type = DQ_VALUE_UINT8;  // element type (ARRAY only)
  const uint8_t *bytes = nullptr;  // scalar bytes, string text, or fixed-size array elements
  uint64_t count = 0;              // STRING: byte length; ARRAY: element count
  std::vector<dq_value> items;     // ARRAY of STRING or ARRAY: the parsed elements
  mutable std::unique_ptr<dq::gguf::LazyElements> lazy;  // ARRAY of numbers: see above

  dq_value();
  dq_value(dq_value &&) noexcept;
  dq_value &operator=(dq_value &&) noexcept;
  ~dq_value();
};

namespace dq::gguf {

struct LazyElements {
  std::once_flag once;
  std::vector<dq_value> items;
};

// Bytes of one element of a fixed-size type; 0 for STRING, ARRAY and unknown ids.
constexpr uint64_t value_type_size(uint32_t type) {
  switch (type) {
    case DQ_VALUE_UINT8: case DQ_VALUE_INT8: case DQ_VALUE_BOOL: return 1;
    case DQ_VALUE_UINT16: case DQ_VALUE_INT16: return 2;
    case DQ_VALUE_UINT32: case DQ_VALUE_INT32: case DQ_VALUE_FLOAT32: return 4;
    case DQ_VALUE_UINT64: case DQ_VALUE_INT64: case DQ_VALUE_FLOAT64: return 8;
    default: return 0;
  }
}

constexpr bool value_type_known(uint32_t type) { return type <= DQ_VALUE_FLOAT64; }

// Typed reads behind the dq_value_get_* getters (see dq.h for the rules).
dq_status value_to_i64(const dq_value &v, int64_t *out);
dq_status value_to_u64(const dq_value &v, uint64_t *out);
dq_status value_to_f64(const dq_value &v, double *out);

// Element `index` of an array (nullptr when out of range or not an array).
const dq_value *array_element(const dq_value &array, uint64_t index);

}  // namespace dq::gguf
