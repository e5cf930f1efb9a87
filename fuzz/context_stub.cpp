// The two context functions core/gguf/model_api.cpp calls, for fuzz targets that use the
// dq_model_* C API on models from memory without the whole core (registry, plugins).
// Declared here rather than through context.hpp so that this builds whether clear_error is
// an out-of-line function or an inline no-op there.
#include <string>

#include "dq/dq.h"

namespace dq::core {

dq_status set_error(const dq_context *, dq_status status, std::string) { return status; }
[[gnu::weak]] void clear_error(const dq_context *) {}

}  // namespace dq::core
