#include "status.hpp"

#include <pthread.h>

#include "dq/dq.h"

namespace dq::vulkan {
namespace {

// The calling thread's message, in a pthread key rather than a thread_local: the core unloads
// plugins, and LeakSanitizer's thread scan crashed on the dynamic-TLS slot an unloaded
// plugin's thread_local left behind (the core's ASan suite with this plugin in lib/dq). The
// key is deleted when the plugin is unloaded, after freeing the unloading thread's message;
// other threads' messages are freed when they exit while the plugin is loaded.
class ThreadMessage {
 public:
  ThreadMessage() { ok_ = pthread_key_create(&key_, [](void *p) { delete static_cast<std::string *>(p); }) == 0; }
  ~ThreadMessage() {
    if (!ok_) return;
    delete static_cast<std::string *>(pthread_getspecific(key_));
    pthread_key_delete(key_);
  }
  ThreadMessage(const ThreadMessage &) = delete;
  ThreadMessage &operator=(const ThreadMessage &) = delete;
  // The calling thread's string (created on first use), or a shared fallback without a key.
  std::string &get() {
    if (!ok_) return fallback_;
    auto *s = static_cast<std::string *>(pthread_getspecific(key_));
    if (!s) {
      s = new std::string;
      pthread_setspecific(key_, s);
    }
    return *s;
  }

 private:
  pthread_key_t key_{};
  bool ok_ = false;
  std::string fallback_;
};

ThreadMessage g_messages;

}  // namespace

const char *vk_result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    default: return "VkResult error";
  }
}

int32_t fail(int32_t status, std::string message) {
  g_messages.get() = std::move(message);
  return status;
}

int32_t fail_vk(VkResult r, const std::string &what) {
  const int32_t status = (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
                             ? DQ_ERR_OUT_OF_MEMORY
                             : DQ_ERR_BACKEND;
  return fail(status, what + ": " + vk_result_name(r) + " (" + std::to_string(static_cast<int>(r)) + ")");
}

int32_t ok() {
  g_messages.get().clear();
  return DQ_OK;
}

const char *last_error_text() { return g_messages.get().c_str(); }

}  // namespace dq::vulkan
