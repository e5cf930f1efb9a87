#include "status.hpp"

#include <pthread.h>

#include <mutex>
#include <string>
#include <unordered_set>

#include "dq/dq.h"

namespace dq::vulkan {
namespace {

// The calling thread's message, in a pthread key rather than a thread_local: the core unloads
// plugins, and LeakSanitizer's thread scan crashed on the dynamic-TLS slot an unloaded
// plugin's thread_local left behind (the core's ASan suite with this plugin in lib/dq). A
// thread's message is freed when it exits while the plugin is loaded; every message still
// held (by threads alive at unload, whose key destructor will no longer run) is freed when
// the plugin is unloaded. Without that list, a thread that outlived the unload leaked its
// string (valgrind's "definitely lost" in the Rust batch test, when another thread unloaded).
class ThreadMessage {
 public:
  ThreadMessage() { ok_ = pthread_key_create(&key_, &thread_exit) == 0; }
  ~ThreadMessage() {
    if (!ok_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    pthread_key_delete(key_);
    for (std::string *s : live_) delete s;
    live_.clear();
  }
  ThreadMessage(const ThreadMessage &) = delete;
  ThreadMessage &operator=(const ThreadMessage &) = delete;
  // The calling thread's string (created on first use), or a shared fallback without a key.
  std::string &get() {
    if (!ok_) return fallback_;
    auto *s = static_cast<std::string *>(pthread_getspecific(key_));
    if (!s) {
      s = new std::string;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        live_.insert(s);
      }
      pthread_setspecific(key_, s);
    }
    return *s;
  }

 private:
  // A thread's exit while the plugin is loaded: its message leaves the list and is freed
  // (only if still listed, so an unload that got there first is not freed twice).
  static void thread_exit(void *p);

  pthread_key_t key_{};
  bool ok_ = false;
  std::string fallback_;
  std::mutex mutex_;
  std::unordered_set<std::string *> live_;
};

ThreadMessage g_messages;

void ThreadMessage::thread_exit(void *p) {
  auto *s = static_cast<std::string *>(p);
  std::lock_guard<std::mutex> lock(g_messages.mutex_);
  if (g_messages.live_.erase(s)) delete s;
}

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
