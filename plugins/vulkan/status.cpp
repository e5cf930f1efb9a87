#include "status.hpp"

#include "dq/dq.h"

namespace dq::vulkan {
namespace {
thread_local std::string t_last_error;
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
  t_last_error = std::move(message);
  return status;
}

int32_t fail_vk(VkResult r, const std::string &what) {
  const int32_t status = (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
                             ? DQ_ERR_OUT_OF_MEMORY
                             : DQ_ERR_BACKEND;
  return fail(status, what + ": " + vk_result_name(r) + " (" + std::to_string(static_cast<int>(r)) + ")");
}

int32_t ok() {
  t_last_error.clear();
  return DQ_OK;
}

const char *last_error_text() { return t_last_error.c_str(); }

}  // namespace dq::vulkan
