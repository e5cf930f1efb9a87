#include "status.hpp"

#include "dq/dq.h"

namespace dq::cuda {
namespace {
int32_t map_cuda_error(cudaError_t e) {
  switch (e) {
    case cudaErrorMemoryAllocation: return DQ_ERR_OUT_OF_MEMORY;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
    case cudaErrorDevicesUnavailable: return DQ_ERR_NO_DEVICE;
    case cudaErrorInvalidValue:
    case cudaErrorInvalidDevicePointer:
    case cudaErrorInvalidResourceHandle:
    case cudaErrorInvalidMemcpyDirection: return DQ_ERR_INVALID_ARGUMENT;
    default: return DQ_ERR_BACKEND;
  }
}
}  // namespace

int32_t fail_cuda(cudaError_t error, const std::string &what) {
  (void)cudaGetLastError();  // clear a non-sticky error so the device stays usable
  return fail(map_cuda_error(error), what + ": " + cudaGetErrorString(error) + " (" +
                                         cudaGetErrorName(error) + ")");
}

}  // namespace dq::cuda
