// The CPU reference: the cpu plugin's scalar kernels, loaded from a private copy of
// libdq-cpu.so with DQ_CPU_ISA=scalar, independent of any cpu plugin under test.
#pragma once

#include <optional>
#include <string>

#include "plugin_loader.hpp"

namespace dq::conformance {

// Path of the reference plugin (--reference, else discovery of libdq-cpu.so); "" if none.
std::string reference_plugin_path(const std::string &requested);

// Loads and initializes the reference; nullopt with *why set when it cannot be used.
std::optional<LoadedPlugin> load_reference(const std::string &path, std::string *why);

}  // namespace dq::conformance
