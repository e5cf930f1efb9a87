// Options that take a file path: an empty one ("", a variable that was never set) is a usage
// error, not a file named "" that "cannot be opened".
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace dq::tool {

inline CLI::Validator non_empty_path() {
  return CLI::Validator(
      [](const std::string &s) { return s.empty() ? std::string("the path is empty") : ""; },
      "PATH", "non-empty path");
}

}  // namespace dq::tool
