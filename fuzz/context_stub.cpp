// The context function core/gguf/model_api.cpp calls, for fuzz targets that use the
// dq_model_* C API on models from memory without the whole core (registry, plugins).
#include <string>

#include "context.hpp"

namespace dq::core {

dq_status set_error(const dq_context *, dq_status status, std::string) { return status; }

}  // namespace dq::core
