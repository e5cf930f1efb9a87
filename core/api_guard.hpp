// Shared pieces of the public API functions: no exception crosses the C boundary, and
// caller-sized structs are written only as far as the caller's struct_size reaches.
#pragma once

#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "context.hpp"

namespace dq::core {

// Runs `body` (returning dq_status); allocation failures and stray exceptions become status.
template <class Body>
dq_status guarded(const dq_context *ctx, Body &&body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return set_error(ctx, DQ_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception &e) {
    return set_error(ctx, DQ_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return set_error(ctx, DQ_ERR_INTERNAL, "internal error");
  }
}

// "dq_backend_info.struct_size 4 is less than DQ_BACKEND_INFO_MIN_SIZE (8 bytes)".
inline std::string too_small_text(const char *type, size_t size, size_t minimum,
                                  const char *macro) {
  return std::string(type) + ".struct_size " + std::to_string(size) + " is less than " + macro +
         " (" + std::to_string(minimum) + " bytes)";
}

// Copies `full` into `*out`, limited to out->struct_size bytes (fields the caller knows).
// The caller's struct_size is kept. False when struct_size cannot even hold itself (every
// output struct's *_MIN_SIZE in dq.h is sizeof(size_t)).
template <class Struct>
bool write_sized(Struct *out, const Struct &full) {
  const size_t caller = out->struct_size;
  if (caller < sizeof(size_t)) return false;
  std::memcpy(out, &full, caller < sizeof(Struct) ? caller : sizeof(Struct));
  out->struct_size = caller;
  return true;
}

}  // namespace dq::core
