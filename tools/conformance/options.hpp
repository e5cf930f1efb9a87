// Command-line options of dq-conformance, shared by every part of the runner.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dq::conformance {

struct Options {
  std::vector<std::string> plugins;  // --plugin; empty: discovery
  std::vector<std::string> filters;  // --filter (glob or substring on check names)
  std::string junit_path;            // --junit
  std::string reference_path;        // --reference; empty: discover libdq-cpu.so
  std::string testdata_dir;          // resolved: DQ_TESTDATA, --testdata or the baked path
  bool list_only = false;            // --list
  bool verbose = false;              // --verbose: print PASS lines' details too
  uint64_t seed = 0x64712d636f6e66ULL;  // --seed
  int check_timeout_s = 300;         // --timeout: per check, in seconds
  int linger_ms = 50;                // --linger-ms: a group's child lives on after its last check
  int64_t large_elements = int64_t{1} << 22;  // --large-elements (4M)
};

// True when `name` passes the --filter patterns (no patterns: everything passes).
bool filter_accepts(const Options &opts, const std::string &name);

}  // namespace dq::conformance
