// The metadata value model behind the public dq_value handle. Values point into the mapped
// file (zero-copy): scalars, strings and arrays of fixed-size numbers keep a pointer to their
// bytes. Arrays of strings or arrays hold parsed child values; arrays of numbers make their
// per-element values only when dq_value_array_get asks, a chunk of them at a time (a
// 1M-element array costs nothing until then, and reading one element costs one chunk).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
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

  dq_value() noexcept;
  dq_value(dq_value &&) noexcept;
  dq_value &operator=(dq_value &&) noexcept;
  ~dq_value();
};

namespace dq::gguf {

// The element records of an ARRAY of `count` numbers, made kChunk at a time the first time
// one of a chunk's elements is asked for: one record per element at once cost 56 bytes per
// byte of a u8 array (a 1 GB array asked for 56 GB). Readers of one model run concurrently,
// so the chunk table and each chunk are published by compare-and-swap (a loser frees its
// copy); chunks never move and live as long as the array, so returned pointers stay valid
// until the model is closed.
class LazyElements {
 public:
  static constexpr uint64_t kChunk = 4096;  // elements per chunk (~230 KB of records)

  explicit LazyElements(uint64_t count) : count_(count) {}
  ~LazyElements();
  LazyElements(const LazyElements &) = delete;
  LazyElements &operator=(const LazyElements &) = delete;

  // Record of element `index` (< count) of `array`; nullptr when memory for it cannot be had.
  const dq_value *get(const dq_value &array, uint64_t index) noexcept;

 private:
  uint64_t chunk_count() const { return count_ / kChunk + (count_ % kChunk != 0); }

  uint64_t count_;
  std::atomic<std::atomic<dq_value *> *> table_{nullptr};  // chunk_count() chunk pointers
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

// Element `index` of an array (nullptr when out of range, not an array, or when memory for
// the element's record cannot be had). Never throws.
const dq_value *array_element(const dq_value &array, uint64_t index) noexcept;

}  // namespace dq::gguf
