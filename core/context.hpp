// The dq_context behind the public handle, and how API functions report errors on it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dq/dq.h"

namespace dq::core {
class Registry;  // registry/registry.hpp
}

struct dq_context {
  dq_context();
  ~dq_context();
  // Plugins are discovered on first use, not at creation (cheap contexts for GGUF-only users).
  std::once_flag registry_once;
  std::unique_ptr<dq::core::Registry> registry;
  // Unique per context ever made: per-thread texts of a destroyed context are not inherited
  // by a new context that happens to get the same address.
  const uint64_t serial;
};

namespace dq::core {

// Text kept per thread and per context (last error, last backend). Declare thread_local.
class ThreadText {
 public:
  void set(const dq_context *ctx, std::string text);
  // As set, but writes nothing when ctx already has that text: the success path of every
  // dequantize call records its backend, usually the same one as last time.
  void set_if_changed(const dq_context *ctx, std::string_view text);
  // The text set on ctx by this thread, "" when none.
  const char *get(const dq_context *ctx) const;

 private:
  struct Slot {
    uint64_t serial = 0;
    std::string text;
  };
  Slot &slot_of(const dq_context *ctx);

  std::unordered_map<const dq_context *, Slot> slots_;
  // The slot used last (a thread mostly calls one context): skips the hash lookup. Map nodes
  // never move and slots are never erased, so the pointer stays valid.
  const dq_context *last_ctx_ = nullptr;
  Slot *last_slot_ = nullptr;
};

// Records `message` as the calling thread's last error on ctx and returns `status`.
// ctx may be NULL (then only the status is returned). A successful call never clears it:
// dq_last_error is the message of the last FAILED call (dq.h).
dq_status set_error(const dq_context *ctx, dq_status status, std::string message);

// The context's registry, loading plugins on first call.
Registry &registry(dq_context *ctx);

}  // namespace dq::core
