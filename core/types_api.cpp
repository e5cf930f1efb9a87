// Version, status and type-table functions of the public API.
#include <strings.h>

#include <array>
#include <cctype>
#include <cstring>
#include <string>

#include "dq/dq.h"
#include "dq_common/type_traits.hpp"

#define DQ_STR2(x) #x
#define DQ_STR(x) DQ_STR2(x)

namespace {

// dq.h promises "retired(Q4_2)" for retired ids: ggml's GGML_TYPE_ spelling of the old type
// inside retired(...), so a listing never shows a retired id as if it were a usable type.
const char *retired_name(int32_t type) {
  static const std::array<std::string, dq::kTypeCount> names = [] {
    std::array<std::string, dq::kTypeCount> out;
    for (const auto &t : dq::kTypeTable) {
      if (!t.retired) continue;
      std::string upper = t.name;
      for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out[t.id] = "retired(" + upper + ")";
    }
    return out;
  }();
  return names[type].c_str();
}

}  // namespace

extern "C" {

DQ_API uint32_t dq_version_number(void) { return DQ_VERSION_NUMBER; }

DQ_API const char *dq_version_string(void) {
  return DQ_STR(DQ_VERSION_MAJOR) "." DQ_STR(DQ_VERSION_MINOR) "." DQ_STR(DQ_VERSION_PATCH);
}

DQ_API const char *dq_status_string(dq_status status) {
  switch (status) {
    case DQ_OK: return "ok";
    case DQ_ERR_INVALID_ARGUMENT: return "invalid argument";
    case DQ_ERR_UNKNOWN_TYPE: return "unknown or retired tensor type";
    case DQ_ERR_UNSUPPORTED: return "unsupported by this backend";
    case DQ_ERR_SIZE: return "size mismatch";
    case DQ_ERR_NO_BACKEND: return "no usable backend";
    case DQ_ERR_NO_DEVICE: return "no device";
    case DQ_ERR_OUT_OF_MEMORY: return "out of memory";
    case DQ_ERR_IO: return "i/o error";
    case DQ_ERR_BAD_FILE: return "malformed GGUF file";
    case DQ_ERR_NOT_FOUND: return "not found";
    case DQ_ERR_ABI: return "plugin ABI mismatch";
    case DQ_ERR_BACKEND: return "backend runtime error";
    case DQ_ERR_TYPE_MISMATCH: return "value type mismatch";
    case DQ_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

DQ_API const char *dq_type_name(int32_t type) {
  const dq::TypeTraits *t = dq::type_traits(type);
  if (!t) return nullptr;
  return t->retired ? retired_name(type) : t->name;
}

DQ_API int32_t dq_type_from_name(const char *name) {
  if (!name) return -1;
  for (const auto &t : dq::kTypeTable) {
    if (t.retired) continue;
    if (strcasecmp(t.name, name) == 0) return t.id;
  }
  return -1;
}

DQ_API int64_t dq_type_block_elements(int32_t type) {
  return dq::type_has_layout(type) ? dq::type_traits(type)->block_elements : 0;
}

DQ_API size_t dq_type_block_bytes(int32_t type) {
  return dq::type_has_layout(type) ? dq::type_traits(type)->block_bytes : 0;
}

DQ_API dq_status dq_type_nbytes(int32_t type, int64_t n_elements, uint64_t *out_bytes) {
  if (!out_bytes) return DQ_ERR_INVALID_ARGUMENT;
  if (!dq::type_has_layout(type)) return DQ_ERR_UNKNOWN_TYPE;
  auto bytes = dq::type_nbytes(type, n_elements);
  if (!bytes) return DQ_ERR_SIZE;
  *out_bytes = *bytes;
  return DQ_OK;
}

}  // extern "C"
