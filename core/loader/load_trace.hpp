// DQ_LOAD_TRACE=1: the loader prints where a load's time went on stderr (the pipeline's host
// thread, the set-up pieces). Read at each call: tests switch it per load.
#pragma once

#include <chrono>
#include <cstdlib>

namespace dq::loader {

inline bool load_trace_enabled() {
  const char *e = std::getenv("DQ_LOAD_TRACE");
  return e && *e && *e != '0';
}

inline double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace dq::loader
