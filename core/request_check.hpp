// Validation of a dq_dequantize_request before any plugin sees it. Pure: no registry.
#pragma once

#include <string>

#include "dq/dq.h"

namespace dq::core {

// Smallest struct_size accepted: every field through dst_bytes (dq.h). Fields past the
// caller's size (locations, stream, backend) read as zero: host memory, no stream, no force.
inline constexpr size_t kRequestRequiredSize = DQ_DEQUANTIZE_REQUEST_MIN_SIZE;

struct Verdict {
  dq_status status = DQ_OK;
  std::string message;  // names the field and the problem; "" when fine
};

// True when `where` names host memory: backend NULL, "", "host" or "cpu" (the cpu plugin's
// memory is host memory). The device of a host location must be 0 (location_problem).
bool is_host(const dq_location &where);

// Why `where` cannot be a location ("host memory has only device 0, not 3"), "" when fine.
// Named backends are checked against the registry by the caller.
std::string location_problem(const dq_location &where);

// The caller's request widened to the current struct: fields past req.struct_size are zero.
// check_request must have accepted req.
dq_dequantize_request widened(const dq_dequantize_request &req);

// Checks pointers, struct_size (at least kRequestRequiredSize), types, counts, sizes (overflow-safe), overlap and that the
// locations and the forced backend agree. Does not check that named backends exist.
Verdict check_request(const dq_dequantize_request *req);
// As above; when accepted, *widened_out is widened(*req) (saves the API a second copy).
Verdict check_request(const dq_dequantize_request *req, dq_dequantize_request *widened_out);

// The backend a request's memory forces (src or dst on a device), or nullptr for host/host.
const char *device_backend_of(const dq_dequantize_request &req);

}  // namespace dq::core
