// dq dequant: placeholder until its issue lands; replaced by the owner of this subcommand.
#include <cstdio>

#include "commands.hpp"

namespace dq::tool {

Action register_dequant(CLI::App &app) {
  app.add_subcommand("dequant", "(not yet implemented)");
  return [] {
    std::fprintf(stderr, "dq dequant: not implemented yet\n");
    return kExitFailure;
  };
}

}  // namespace dq::tool
