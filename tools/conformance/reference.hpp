// The CPU reference: the cpu plugin's scalar kernels, loaded from a private copy of
// libdq-cpu.so with DQ_CPU_ISA=scalar, independent of any cpu plugin under test.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "plugin_loader.hpp"

namespace dq::conformance {

// Path of the reference plugin: --reference, else a judged plugin named libdq-cpu.so, else
// the cpu plugin the search finds (`discovered` is called only then); "" if none.
std::string reference_plugin_path(const std::string &requested,
                                  const std::vector<std::string> &judged,
                                  const std::function<std::vector<std::string>()> &discovered);

// Loads and initializes the reference; nullopt with *why set when it cannot be used.
std::optional<LoadedPlugin> load_reference(const std::string &path, std::string *why);

}  // namespace dq::conformance
