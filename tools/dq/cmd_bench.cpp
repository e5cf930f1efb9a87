// dq bench: placeholder until its issue lands; replaced by the owner of this subcommand.
#include <cstdio>

#include "commands.hpp"

namespace dq::tool {

Action register_bench(CLI::App &app) {
  app.add_subcommand("bench", "(not yet implemented)");
  return [] {
    std::fprintf(stderr, "dq bench: not implemented yet\n");
    return kExitFailure;
  };
}

}  // namespace dq::tool
