// dq info: placeholder until its issue lands; replaced by the owner of this subcommand.
#include <cstdio>

#include "commands.hpp"

namespace dq::tool {

Action register_info(CLI::App &app) {
  app.add_subcommand("info", "(not yet implemented)");
  return [] {
    std::fprintf(stderr, "dq info: not implemented yet\n");
    return kExitFailure;
  };
}

}  // namespace dq::tool
