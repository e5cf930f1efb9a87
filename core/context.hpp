// The dq_context behind the public handle, and how API functions report errors on it.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "dq/dq.h"

namespace dq::core {
class Registry;  // registry/registry.hpp
}

struct dq_context {
  // Plugins are discovered on first use, not at creation (cheap contexts for GGUF-only users).
  std::once_flag registry_once;
  std::unique_ptr<dq::core::Registry> registry;
  ~dq_context();
};

namespace dq::core {

// Records `message` as the calling thread's last error on ctx and returns `status`.
// ctx may be NULL (then only the status is returned).
dq_status set_error(const dq_context *ctx, dq_status status, std::string message);
// Clears the calling thread's last error on ctx (call at the start of API functions).
void clear_error(const dq_context *ctx);

// The context's registry, loading plugins on first call.
Registry &registry(dq_context *ctx);

}  // namespace dq::core
