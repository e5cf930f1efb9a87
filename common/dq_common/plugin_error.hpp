// The calling thread's last-error message of a plugin, behind its last_error() entry: fail()
// records a message and returns a status, ok() clears it and returns DQ_OK. Header-only; one
// message per plugin library (hidden visibility keeps each .so's copy its own).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "dq/dq.h"

namespace dq::plugin_error {

// The default TLS model for the plugins: a dlopen'd library in initial-exec TLS takes from
// glibc's small static-TLS surplus, which a process that has loaded much already (Python with
// torch) can lack ("cannot allocate memory in static TLS block"). A test plugin run under
// GCC 12's ThreadSanitizer defines DQ_PLUGIN_ERROR_INITIAL_EXEC: initial-exec needs no
// __tls_get_addr, whose TSan interceptor dies ("failed to allocate 0x1f... bytes") when a
// thread it did not see the plugin loaded on first touches a dlopen'd module's TLS.
#if defined(DQ_PLUGIN_ERROR_INITIAL_EXEC)
#define DQ_PLUGIN_ERROR_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define DQ_PLUGIN_ERROR_TLS_MODEL
#endif

inline std::string &message() {
  DQ_PLUGIN_ERROR_TLS_MODEL static thread_local std::string t_message;
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
