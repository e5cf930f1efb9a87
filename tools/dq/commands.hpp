// Subcommands of the dq tool. Each lives in its own cmd_*.cpp and registers itself here.
//
// Exit codes (relied upon by scripts): 0 success, 1 bad input or failed work (one line on
// stderr naming the file and the problem), 2 usage error.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace dq::tool {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Each register_* adds a subcommand to `app` and returns the action to run when it is chosen.
using Action = std::function<int()>;
Action register_backends(CLI::App &app);
Action register_dequant(CLI::App &app);
Action register_info(CLI::App &app);
Action register_bench(CLI::App &app);
Action register_load(CLI::App &app);

}  // namespace dq::tool
