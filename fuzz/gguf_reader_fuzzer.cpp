// libFuzzer target: the GGUF reader over arbitrary bytes (the in-memory entry point, no mmap).
// Accepted inputs are walked completely (every value, array element and tensor byte range),
// so ASan/UBSan see every read the reader lets callers make.
#include <cstdint>
#include <cstring>

#include "dq/dq.h"
#include "gguf/error.hpp"
#include "gguf/model.hpp"
#include "gguf/split.hpp"

namespace {

volatile uint64_t g_sink;

void walk(const dq_value *v, int depth) {
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
  for (uint64_t j = 0; j < n; ++j) walk(dq_value_array_get(v, j), depth + 1);
  if (dq_value_array_get(v, n) != nullptr) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    auto model = dq::gguf::model_from_memory(data, size);
    for (const auto *kv : model->kvs) walk(&kv->value, 0);
    for (const auto &t : model->tensors) {
      // The reader promised this range is inside the input; touching its ends proves it.
      const uint8_t *p = t.data;
      if (p < data || p + t.info->n_bytes > data + size) __builtin_trap();
      g_sink = g_sink + p[0] + p[t.info->n_bytes - 1];
    }
    (void)dq::gguf::read_split_keys(model->parts[0]->file);
  } catch (const dq::gguf::Error &e) {
    if (e.what()[0] == '\0' || e.status() == DQ_OK) __builtin_trap();  // refusals must explain
  }
  return 0;
}
