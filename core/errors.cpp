// Per-thread, per-context error messages behind dq_last_error().
#include <unordered_map>

#include "context.hpp"

namespace {
// Thread-local so concurrent calls on one context never mix their messages.
thread_local std::unordered_map<const dq_context *, std::string> t_last_error;
}  // namespace

namespace dq::core {

dq_status set_error(const dq_context *ctx, dq_status status, std::string message) {
  if (ctx) t_last_error[ctx] = std::move(message);
  return status;
}

void clear_error(const dq_context *ctx) {
  if (!ctx) return;
  auto it = t_last_error.find(ctx);
  if (it != t_last_error.end()) it->second.clear();
}

}  // namespace dq::core

extern "C" DQ_API const char *dq_last_error(const dq_context *ctx) {
  if (!ctx) return "null context";
  auto it = t_last_error.find(ctx);
  return it == t_last_error.end() ? "" : it->second.c_str();
}
