// dq load: placeholder until its issue lands; replaced by the owner of this subcommand.
#include <cstdio>

#include "commands.hpp"

namespace dq::tool {

Action register_load(CLI::App &app) {
  app.add_subcommand("load", "(not yet implemented)");
  return [] {
    std::fprintf(stderr, "dq load: not implemented yet\n");
    return kExitFailure;
  };
}

}  // namespace dq::tool
