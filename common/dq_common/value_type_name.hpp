// The short name of a GGUF metadata value type, as the core's error messages and `dq info`
// both print it: one table, so the two never disagree. Header-only.
#pragma once

#include <cstdint>

#include "dq/dq.h"

namespace dq {

// "u8", "i32", "f64", "bool", "string", "array"; "?" for unknown ids.
inline const char *value_type_name(uint32_t type) {
  switch (type) {
    case DQ_VALUE_UINT8: return "u8";
    case DQ_VALUE_INT8: return "i8";
    case DQ_VALUE_UINT16: return "u16";
    case DQ_VALUE_INT16: return "i16";
    case DQ_VALUE_UINT32: return "u32";
    case DQ_VALUE_INT32: return "i32";
    case DQ_VALUE_FLOAT32: return "f32";
    case DQ_VALUE_BOOL: return "bool";
    case DQ_VALUE_STRING: return "string";
    case DQ_VALUE_ARRAY: return "array";
    case DQ_VALUE_UINT64: return "u64";
    case DQ_VALUE_INT64: return "i64";
    case DQ_VALUE_FLOAT64: return "f64";
    default: return "?";
  }
}

}  // namespace dq
