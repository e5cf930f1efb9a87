// dq: command-line front end of libdq-core.
#include <cstdio>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "dq/dq.h"

int main(int argc, char **argv) {
  CLI::App app{"dq: dequantize GGUF tensors on the best backend of this machine"};
  app.set_version_flag("--version", dq_version_string());
  app.require_subcommand(1);

  std::vector<std::pair<CLI::App *, dq::tool::Action>> actions;
  auto add = [&](dq::tool::Action (*reg)(CLI::App &)) {
    size_t before = app.get_subcommands({}).size();
    dq::tool::Action act = reg(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) actions.emplace_back(subs.back(), std::move(act));
  };
  add(dq::tool::register_backends);
  add(dq::tool::register_dequant);
  add(dq::tool::register_info);
  add(dq::tool::register_bench);
  add(dq::tool::register_load);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);  // prints help or the usage error
    return rc == 0 ? dq::tool::kExitOk : dq::tool::kExitUsage;
  }
  for (auto &[sub, act] : actions)
    if (sub->parsed()) return act();
  return dq::tool::kExitUsage;
}
