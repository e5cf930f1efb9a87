#include "device_arg.hpp"

#include <algorithm>
#include <limits>

#include "terminal_text.hpp"

namespace dq::tool {

std::optional<DeviceArg> parse_device_arg(const std::string &text,
                                          const std::vector<std::string> &found,
                                          std::string *error) {
  const std::string shown = "--device '" + terminal_safe(text) + "'";
  if (text == "cpu" || text == "host") return DeviceArg{};
  const size_t colon = text.find(':');
  DeviceArg d;
  d.backend = text.substr(0, colon);
  if (d.backend.empty()) {
    *error = shown + ": expected BACKEND or BACKEND:INDEX, e.g. cuda:0 or cpu";
    return std::nullopt;
  }
  if (colon != std::string::npos) {
    const std::string index = text.substr(colon + 1);
    const bool digits = !index.empty() && index.size() <= 10 &&
                        std::all_of(index.begin(), index.end(),
                                    [](char c) { return c >= '0' && c <= '9'; });
    const long long v = digits ? std::stoll(index) : -1;
    if (v < 0 || v > std::numeric_limits<int32_t>::max()) {
      *error = shown + ": the device index must be a whole number from 0 to 2147483647";
      return std::nullopt;
    }
    d.index = static_cast<int32_t>(v);
  }
  // Host memory is one device, named cpu or host with or without :0 (dq.h: a host location
  // with another index is refused, which the load reported as a failure rather than a mistake).
  if (d.backend == "cpu" || d.backend == "host") {
    if (d.index == 0) return DeviceArg{};
    *error = shown + ": host memory is one device: cpu, host, cpu:0 or host:0";
    return std::nullopt;
  }
  if (std::find(found.begin(), found.end(), d.backend) == found.end()) {
    std::string names = "cpu";
    for (const std::string &n : found)
      if (n != "cpu") names += ", " + n;
    *error = shown + ": no such backend (found: " + names + ")";
    return std::nullopt;
  }
  return d;
}

}  // namespace dq::tool
