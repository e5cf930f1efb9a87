// dq: command-line front end of libdq-core.
#include <cstdio>
#include <exception>
#include <new>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "dq/dq.h"
#include "report.hpp"

namespace {

// Usage errors are one line; "dq SUBCOMMAND --help" tells the rest.
std::string usage_line(const CLI::App *, const CLI::Error &e) {
  return std::string("dq: ") + e.what() + " (see --help)\n";
}

int parse_and_run(int argc, char **argv) {
  CLI::App app{"dq: dequantize GGUF tensors on the best backend of this machine"};
  app.set_version_flag("--version", dq_version_string());
  app.require_subcommand(1);
  app.failure_message(usage_line);

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

}  // namespace

int main(int argc, char **argv) {
  int rc = dq::tool::kExitFailure;
  // No command ends on an uncaught exception (abort, exit 134): each becomes one line.
  try {
    rc = parse_and_run(argc, argv);
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "dq: out of memory\n");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "dq: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "dq: unexpected error\n");
  }
  return dq::tool::finish_standard_output(rc);
}
