// dq_context lifetime and its lazily built registry.
#include "context.hpp"

#include <atomic>
#include <new>

#include "registry/registry.hpp"

namespace {
std::atomic<uint64_t> g_next_serial{1};
}  // namespace

dq_context::dq_context() : serial(g_next_serial.fetch_add(1, std::memory_order_relaxed)) {}
dq_context::~dq_context() = default;  // Registry is complete here: its destructor unloads

namespace dq::core {

// Exported for in-tree users of the C++ registry (tools, tests); declared in context.hpp.
DQ_INTERNAL_API Registry &registry(dq_context *ctx) {
  std::call_once(ctx->registry_once, [ctx] {
    ctx->registry = std::make_unique<Registry>(settings_from_environment());
  });
  return *ctx->registry;
}

}  // namespace dq::core

extern "C" {

DQ_API dq_status dq_context_create(dq_context **out) {
  if (!out) return DQ_ERR_INVALID_ARGUMENT;
  *out = new (std::nothrow) dq_context();
  return *out ? DQ_OK : DQ_ERR_OUT_OF_MEMORY;
}

DQ_API void dq_context_destroy(dq_context *ctx) {
  delete ctx;
}

}  // extern "C"
