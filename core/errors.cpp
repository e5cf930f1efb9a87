// Per-thread, per-context texts behind dq_last_error() (and dq_last_backend()).
#include "context.hpp"

namespace {
// Thread-local so concurrent calls on one context never mix their messages.
thread_local dq::core::ThreadText t_last_error;
}  // namespace

namespace dq::core {

ThreadText::Slot &ThreadText::slot_of(const dq_context *ctx) {
  if (ctx != last_ctx_ || !last_slot_) {
    last_slot_ = &slots_[ctx];
    last_ctx_ = ctx;
  }
  return *last_slot_;
}

void ThreadText::set(const dq_context *ctx, std::string text) {
  Slot &slot = slot_of(ctx);
  slot.serial = ctx->serial;
  slot.text = std::move(text);
}

void ThreadText::set_if_changed(const dq_context *ctx, std::string_view text) {
  Slot &slot = slot_of(ctx);
  if (slot.serial == ctx->serial && slot.text == text) return;
  slot.serial = ctx->serial;
  slot.text.assign(text);
}

const char *ThreadText::get(const dq_context *ctx) const {
  auto it = slots_.find(ctx);
  return it == slots_.end() || it->second.serial != ctx->serial ? "" : it->second.text.c_str();
}

dq_status set_error(const dq_context *ctx, dq_status status, std::string message) {
  if (ctx) t_last_error.set(ctx, std::move(message));
  return status;
}

}  // namespace dq::core

extern "C" DQ_API const char *dq_last_error(const dq_context *ctx) {
  if (!ctx) return "ctx is NULL";
  return t_last_error.get(ctx);
}
