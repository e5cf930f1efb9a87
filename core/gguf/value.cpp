// dq_value storage and lazily made array elements.
#include "gguf/value.hpp"

#include <limits>
#include <new>

#include "gguf/cursor.hpp"

dq_value::dq_value() noexcept = default;
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

LazyElements::~LazyElements() {
  std::atomic<dq_value *> *table = table_.load(std::memory_order_acquire);
  if (!table) return;
  for (uint64_t c = 0; c < chunk_count(); ++c) delete[] table[c].load(std::memory_order_acquire);
  delete[] table;
}

const dq_value *LazyElements::get(const dq_value &array, uint64_t index) noexcept {
  std::atomic<dq_value *> *table = table_.load(std::memory_order_acquire);
  if (!table) {
    // The table itself is made on first use too: 8 bytes per chunk, nothing for unread arrays.
    auto *made = new (std::nothrow) std::atomic<dq_value *>[chunk_count()]();
    if (!made) return nullptr;
    if (table_.compare_exchange_strong(table, made, std::memory_order_acq_rel,
                                       std::memory_order_acquire))
      table = made;
    else
      delete[] made;  // another reader published first; `table` now holds its table
  }
  const uint64_t c = index / kChunk;
  dq_value *chunk = table[c].load(std::memory_order_acquire);
  if (!chunk) {
    const uint64_t first = c * kChunk;
    const uint64_t n = count_ - first < kChunk ? count_ - first : kChunk;
    dq_value *made = new (std::nothrow) dq_value[n];
    if (!made) return nullptr;
    const uint64_t size = value_type_size(array.array_type);
    for (uint64_t i = 0; i < n; ++i) {
      made[i].type = array.array_type;
      made[i].bytes = array.bytes + (first + i) * size;
    }
    if (table[c].compare_exchange_strong(chunk, made, std::memory_order_acq_rel,
                                         std::memory_order_acquire))
      chunk = made;
    else
      delete[] made;
  }
  return &chunk[index % kChunk];
}

const dq_value *array_element(const dq_value &array, uint64_t index) noexcept {
  if (array.type != DQ_VALUE_ARRAY || index >= array.count) return nullptr;
  if (!array.lazy) return index < array.items.size() ? &array.items[index] : nullptr;
  return array.lazy->get(array, index);
}

}  // namespace dq::gguf
