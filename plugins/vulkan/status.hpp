// The plugin's error reporting: a per-thread message for last_error() and the mapping from
// VkResult to dq status codes.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>

namespace dq::vulkan {

// Records `message` for the calling thread and returns `status`.
int32_t fail(int32_t status, std::string message);

// Records "<what>: <VkResult name>" and returns the mapped status (out of memory,
// DQ_ERR_BACKEND for the rest: device loss, initialization failure, ...).
int32_t fail_vk(VkResult result, const std::string &what);

// Clears the calling thread's message and returns DQ_OK.
int32_t ok();

const char *last_error_text();
const char *vk_result_name(VkResult result);

}  // namespace dq::vulkan
