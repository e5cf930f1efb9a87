// dq backends: placeholder until its issue lands; replaced by the owner of this subcommand.
#include <cstdio>

#include "commands.hpp"

namespace dq::tool {

Action register_backends(CLI::App &app) {
  app.add_subcommand("backends", "(not yet implemented)");
  return [] {
    std::fprintf(stderr, "dq backends: not implemented yet\n");
    return kExitFailure;
  };
}

}  // namespace dq::tool
