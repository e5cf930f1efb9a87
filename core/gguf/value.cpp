// dq_value storage and lazily made array elements.
#include "gguf/value.hpp"

#include <limits>

#include "gguf/cursor.hpp"

dq_value::dq_value() = default;
dq_value::dq_value(dq_value &&) noexcept = default;
dq_value &dq_value::operator=(dq_value &&) noexcept = default;
dq_value::~dq_value() = default;

namespace dq::gguf {

namespace {

// An integer or bool value as a sign flag plus magnitude bits, so both getters can range-check.
struct Integer {
  bool negative;
  uint64_t bits;  // the value itself when !negative; the two's-complement value otherwise
};

bool read_integer(const dq_value &v, Integer *out) {
  const uint8_t *p = v.bytes;
  switch (v.type) {
    case DQ_VALUE_BOOL: *out = {false, p[0] != 0 ? 1u : 0u}; return true;
    case DQ_VALUE_UINT8: *out = {false, p[0]}; return true;
    case DQ_VALUE_UINT16: *out = {false, load_le<uint16_t>(p)}; return true;
    case DQ_VALUE_UINT32: *out = {false, load_le<uint32_t>(p)}; return true;
    case DQ_VALUE_UINT64: *out = {false, load_le<uint64_t>(p)}; return true;
    case DQ_VALUE_INT8: {
      int64_t x = static_cast<int8_t>(p[0]);
      *out = {x < 0, static_cast<uint64_t>(x)};
      return true;
    }
    case DQ_VALUE_INT16: {
      int64_t x = load_le<int16_t>(p);
      *out = {x < 0, static_cast<uint64_t>(x)};
      return true;
    }
    case DQ_VALUE_INT32: {
      int64_t x = load_le<int32_t>(p);
      *out = {x < 0, static_cast<uint64_t>(x)};
      return true;
    }
    case DQ_VALUE_INT64: {
      int64_t x = load_le<int64_t>(p);
      *out = {x < 0, static_cast<uint64_t>(x)};
      return true;
    }
    default: return false;
  }
}

}  // namespace

dq_status value_to_i64(const dq_value &v, int64_t *out) {
  Integer x;
  if (!read_integer(v, &x)) return DQ_ERR_TYPE_MISMATCH;
  if (!x.negative && x.bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return DQ_ERR_SIZE;
  *out = static_cast<int64_t>(x.bits);
  return DQ_OK;
}

dq_status value_to_u64(const dq_value &v, uint64_t *out) {
  Integer x;
  if (!read_integer(v, &x)) return DQ_ERR_TYPE_MISMATCH;
  if (x.negative) return DQ_ERR_SIZE;
  *out = x.bits;
  return DQ_OK;
}

dq_status value_to_f64(const dq_value &v, double *out) {
  if (v.type == DQ_VALUE_FLOAT32) {
    *out = static_cast<double>(load_le<float>(v.bytes));
    return DQ_OK;
  }
  if (v.type == DQ_VALUE_FLOAT64) {
    *out = load_le<double>(v.bytes);
    return DQ_OK;
  }
  return DQ_ERR_TYPE_MISMATCH;
}

const dq_value *array_element(const dq_value &array, uint64_t index) {
  if (array.type != DQ_VALUE_ARRAY || index >= array.count) return nullptr;
  if (!array.lazy) return index < array.items.size() ? &array.items[index] : nullptr;
  LazyElements &lazy = *array.lazy;
  // Thread-safe one-time construction: readers of one model may run concurrently.
  std::call_once(lazy.once, [&] {
    const uint64_t size = value_type_size(array.array_type);
    lazy.items.resize(array.count);
    for (uint64_t i = 0; i < array.count; ++i) {
      lazy.items[i].type = array.array_type;
      lazy.items[i].bytes = array.bytes + i * size;
    }
  });
  return &lazy.items[index];
}

}  // namespace dq::gguf
