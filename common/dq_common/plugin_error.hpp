// The calling thread's last-error message of a plugin, behind its last_error() entry: fail()
// records a message and returns a status, ok() clears it and returns DQ_OK. Header-only; one
// message per plugin library (hidden visibility keeps each .so's copy its own).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "dq/dq.h"

namespace dq::plugin_error {

// initial-exec: no __tls_get_addr. GCC 12's ThreadSanitizer dies in its __tls_get_addr
// interceptor ("failed to allocate 0x1f... bytes") when a thread it did not see the plugin
// loaded on (the loader's background pinning) first touches a dlopen'd module's TLS.
inline std::string &message() {
  __attribute__((tls_model("initial-exec"))) static thread_local std::string t_message;
  return t_message;
}

// Records `text` for the calling thread and returns `status`.
inline int32_t fail(int32_t status, std::string text) {
  message() = std::move(text);
  return status;
}

// Clears the calling thread's message and returns DQ_OK.
inline int32_t ok() {
  message().clear();
  return DQ_OK;
}

inline const char *last_error() {
  return message().c_str();
}

}  // namespace dq::plugin_error
