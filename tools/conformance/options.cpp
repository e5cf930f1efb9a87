#include "options.hpp"

#include <fnmatch.h>

namespace dq::conformance {

bool filter_accepts(const Options &opts, const std::string &name) {
  if (opts.filters.empty()) return true;
  for (const std::string &pattern : opts.filters) {
    const bool glob = pattern.find_first_of("*?[") != std::string::npos;
    if (glob ? fnmatch(pattern.c_str(), name.c_str(), 0) == 0
             : name.find(pattern) != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace dq::conformance
