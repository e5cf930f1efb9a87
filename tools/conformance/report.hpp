// The human-readable table: one line per check as it finishes, a summary per plugin and for
// the whole run.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "isolation.hpp"

namespace dq::conformance {

struct Tally {
  int pass = 0, fail = 0, skip = 0;
  void add(Verdict v) { (v == Verdict::pass ? pass : v == Verdict::fail ? fail : skip)++; }
  int total() const { return pass + fail + skip; }
};

class TableReport {
 public:
  TableReport(std::FILE *out, bool verbose) : out_(out), verbose_(verbose) {}
  void plugin_header(const std::string &path, const std::string &reference_note);
  void row(const CheckResult &r);
  void plugin_summary(const std::string &plugin, const Tally &t);
  void final_summary(int plugins, const Tally &t);

 private:
  std::FILE *out_;
  bool verbose_;
};

}  // namespace dq::conformance
