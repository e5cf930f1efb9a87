// Child-process isolation: every group of checks runs in a forked child that loads the
// plugin itself, so a plugin that crashes, hangs or exits takes down only that child. The
// check that was running is reported as FAIL (crashed: SIGSEGV / timed out) and a new child
// carries on with the next check.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "check.hpp"

namespace dq::conformance {

struct CheckResult {
  std::string plugin;  // file-derived plugin name
  std::string name;
  std::string rule;
  Verdict verdict = Verdict::skip;
  std::string message;
  double seconds = 0;
};

struct RunContext {
  const Options &opts;
  const Testdata &testdata;
  std::string reference_path;  // "" when no reference plugin was found
};

// Runs `group` for the plugin file `path`. `facts` are the probe's (ignored for the probe
// itself, which fills *probe_facts instead). `on_result` sees each result as it arrives.
std::vector<CheckResult> run_group(const RunContext &ctx, const std::string &path,
                                   const PluginFacts &facts, const Group &group,
                                   PluginFacts *probe_facts,
                                   const std::function<void(const CheckResult &)> &on_result);

}  // namespace dq::conformance
