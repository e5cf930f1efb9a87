// Validation of a dq_dequantize_request before any plugin sees it. Pure: no registry.
#pragma once

#include <string>

#include "dq/dq.h"

namespace dq::core {

// Bytes of dq_dequantize_request as of dq 0.1 (every field through `backend`).
inline constexpr size_t kRequestRequiredSize =
    offsetof(dq_dequantize_request, backend) + sizeof(dq_dequantize_request::backend);

struct Verdict {
  dq_status status = DQ_OK;
  std::string message;  // names the field and the problem; "" when fine
};

// True when `where` names host memory (backend NULL or "host").
bool is_host(const dq_location &where);

// Checks pointers, struct_size, types, counts, sizes (overflow-safe), overlap and that the
// locations and the forced backend agree. Does not check that named backends exist.
Verdict check_request(const dq_dequantize_request *req);

// The backend a request's memory forces (src or dst on a device), or nullptr for host/host.
const char *device_backend_of(const dq_dequantize_request &req);

}  // namespace dq::core
