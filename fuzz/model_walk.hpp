// Shared by the GGUF fuzz targets: walks everything an accepted model lets callers read
// (every value, array element and tensor byte range) so ASan/UBSan see each access, and
// checks the promises the reader makes about what it accepted.
#pragma once

#include <cstdint>

#include "dq/dq.h"
#include "gguf/error.hpp"
#include "gguf/model.hpp"

namespace dq::fuzz {

inline volatile uint64_t g_sink;

inline void walk_value(const dq_value *v) {
  if (!v) __builtin_trap();
  int64_t i;
  uint64_t u;
  double d;
  int32_t b;
  const char *s;
  uint64_t len;
  dq_value_get_i64(v, &i);
  dq_value_get_u64(v, &u);
  dq_value_get_f64(v, &d);
  dq_value_get_bool(v, &b);
  if (dq_value_get_string(v, &s, &len) == DQ_OK && len) g_sink = g_sink + s[0] + s[len - 1];
  if (dq_value_get_type(v) != DQ_VALUE_ARRAY) return;
  const void *raw;
  uint64_t bytes;
  if (dq_value_array_data(v, &raw, &bytes) == DQ_OK && bytes)
    g_sink = g_sink + static_cast<const uint8_t *>(raw)[bytes - 1];
  const uint64_t n = dq_value_array_count(v);
  for (uint64_t j = 0; j < n; ++j) walk_value(dq_value_array_get(v, j));
  if (dq_value_array_get(v, n) != nullptr) __builtin_trap();
}

// Every value and tensor of `model`; `lo`/`hi` bound where tensor bytes may lie (nullptr:
// not checked, e.g. for mapped parts).
inline void walk_model(const dq_model &model, const uint8_t *lo = nullptr,
                       const uint8_t *hi = nullptr) {
  for (const auto *kv : model.kvs) walk_value(&kv->value);
  for (const auto &t : model.tensors) {
    // The reader promised this range is inside the file; touching its ends proves it.
    const uint8_t *p = t.data;
    if (lo && (p < lo || p + t.info->n_bytes > hi)) __builtin_trap();
    if (t.info->n_bytes) g_sink = g_sink + p[0] + p[t.info->n_bytes - 1];
  }
}

// Refusals must explain themselves.
inline void check_refusal(const dq::gguf::Error &e) {
  if (e.what()[0] == '\0' || e.status() == DQ_OK) __builtin_trap();
}

}  // namespace dq::fuzz
