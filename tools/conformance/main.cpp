// dq-conformance: judges backend plugins against the plugin rules of docs/PLUGINS.md.
//   dq-conformance [--plugin PATH.so]... [--filter PATTERN]... [--junit FILE] [--list]
// Exit status: 0 when no check failed, 1 when one did (or nothing could be judged), 2 on a
// usage error.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "discovery.hpp"
#include "isolation.hpp"
#include "junit.hpp"
#include "plan.hpp"
#include "plugin_loader.hpp"
#include "reference.hpp"
#include "report.hpp"

#ifndef DQ_CONFORMANCE_TESTDATA
#define DQ_CONFORMANCE_TESTDATA ""
#endif

using namespace dq::conformance;

namespace {

std::string resolve_testdata(const std::string &requested) {
  if (!requested.empty()) return requested;
  if (const char *env = std::getenv("DQ_TESTDATA"); env && *env) return env;
  std::error_code ec;
  if (*DQ_CONFORMANCE_TESTDATA &&
      std::filesystem::exists(std::string(DQ_CONFORMANCE_TESTDATA) + "/manifest.tsv", ec))
    return DQ_CONFORMANCE_TESTDATA;
  return "";
}

std::string joined(const std::vector<std::string> &items) {
  std::string s;
  for (const std::string &i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

}  // namespace

int main(int argc, char **argv) {
  Options opts;
  std::string testdata_arg;
  CLI::App app{"dq-conformance: checks dq backend plugins against docs/PLUGINS.md"};
  app.add_option("--plugin", opts.plugins,
                 "plugin file to judge (repeatable); default: every plugin the core would find");
  app.add_option("--filter", opts.filters,
                 "run only checks whose name matches (glob, or substring without wildcards; "
                 "repeatable)");
  app.add_option("--junit", opts.junit_path, "write JUnit XML results to this file");
  app.add_flag("--list", opts.list_only, "list the checks that would run, run nothing else");
  app.add_option("--reference", opts.reference_path,
                 "cpu plugin used as the reference (default: libdq-cpu.so found by the search)");
  app.add_option("--testdata", testdata_arg,
                 "test-data folder (default: DQ_TESTDATA, else the configured path)");
  app.add_option("--seed", opts.seed, "seed of the random inputs");
  app.add_option("--timeout", opts.check_timeout_s, "seconds one check may run")
      ->check(CLI::PositiveNumber);
  app.add_option("--linger-ms", opts.linger_ms,
                 "milliseconds each group's child lives on after its last check, so that a "
                 "plugin thread dying later fails the group (default 50)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--large-elements", opts.large_elements, "elements of the large-tensor checks")
      ->check(CLI::PositiveNumber);
  app.add_flag("-v,--verbose", opts.verbose, "print details of passing checks too");
  CLI11_PARSE(app, argc, argv);

  opts.testdata_dir = resolve_testdata(testdata_arg);
  const Testdata testdata = Testdata::open(opts.testdata_dir);
  // The registry's search runs at most once: for the plugins to judge, or for the reference.
  std::optional<PluginList> found;
  auto discovered = [&]() -> const PluginList & {
    if (!found) {
      found = discover_plugins();
      if (!found->warning.empty())
        std::fprintf(stderr, "dq-conformance: %s\n", found->warning.c_str());
    }
    return *found;
  };
  std::vector<std::string> paths = opts.plugins;
  if (paths.empty()) {
    if (discovered().paths.empty()) {
      std::fprintf(stderr, "dq-conformance: no plugins found (searched: %s)\n",
                   discovered().searched.c_str());
      return 1;
    }
    paths = discovered().paths;
  }
  const RunContext ctx{opts, testdata,
                       reference_plugin_path(opts.reference_path, paths,
                                             [&] { return discovered().paths; })};
  const std::string reference_note =
      ctx.reference_path.empty() ? "none: libdq-cpu.so not found (value checks skip)"
                                 : ctx.reference_path + " (DQ_CPU_ISA=scalar)";

  TableReport table(stdout, opts.verbose);
  std::vector<CheckResult> all;
  Tally total;
  for (const std::string &path : paths) {
    const std::string plugin = plugin_name_from_path(path).empty()
                                   ? std::filesystem::path(path).filename().string()
                                   : plugin_name_from_path(path);
    Tally tally;
    auto record = [&](const CheckResult &r) {
      if (!filter_accepts(opts, r.name)) return;
      all.push_back(r);
      tally.add(r.verdict);
      total.add(r.verdict);
      if (!opts.list_only) table.row(r);
    };
    if (!opts.list_only) table.plugin_header(path, reference_note);
    PluginFacts facts;
    const Group handshake = plan_handshake(plugin);
    run_group(ctx, path, facts, handshake, &facts, record);
    std::vector<Group> groups;
    if (facts.table_usable) groups = plan_groups(plugin, facts, opts);
    if (opts.list_only) {
      for (const CheckSpec &s : handshake.checks)
        if (filter_accepts(opts, s.name)) std::printf("%s  [%s]\n", s.name.c_str(), s.rule.id);
      for (const Group &g : groups)
        for (const CheckSpec &s : g.checks) std::printf("%s  [%s]\n", s.name.c_str(), s.rule.id);
      continue;
    }
    for (const Group &g : groups) run_group(ctx, path, facts, g, nullptr, record);
    table.plugin_summary(plugin, tally);
  }
  if (opts.list_only) return 0;
  table.final_summary(static_cast<int>(paths.size()), total);
  if (!opts.junit_path.empty())
    if (std::string e = write_junit(opts.junit_path, all); !e.empty()) {
      std::fprintf(stderr, "dq-conformance: %s\n", e.c_str());
      return 1;
    }
  if (total.total() == 0) {
    std::fprintf(stderr, "dq-conformance: no check matches --filter %s\n",
                 joined(opts.filters).c_str());
    return 1;
  }
  return total.fail ? 1 : 0;
}
