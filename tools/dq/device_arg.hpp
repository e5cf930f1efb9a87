// The --device value of dq load: "cpu", "host", "cpu:0" or "host:0" for host memory (any other
// index of them is refused), else "BACKEND" or "BACKEND:INDEX" (INDEX a decimal 0..2147483647). Parsed strictly so that "cuda:99999999999"
// is refused rather than truncated, and an unknown backend name is reported as such rather
// than as a backend "with no usable device".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dq::tool {

struct DeviceArg {
  std::string backend;  // empty: host memory
  int32_t index = 0;
};

// nullopt with *error (one line naming the value) when `text` is not of that form or names a
// backend not in `found` (the names of the backends the registry found).
std::optional<DeviceArg> parse_device_arg(const std::string &text,
                                          const std::vector<std::string> &found,
                                          std::string *error);

}  // namespace dq::tool
