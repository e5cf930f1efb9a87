// The loader's internal error: a status plus a message naming the tensor and the problem.
// Thrown inside core/loader, turned into dq_last_error() at the C API boundary.
#pragma once

#include <stdexcept>
#include <string>

#include "dq/dq.h"

namespace dq::loader {

class LoadError : public std::runtime_error {
 public:
  LoadError(dq_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}
  dq_status status() const { return status_; }

 private:
  dq_status status_;
};

}  // namespace dq::loader
