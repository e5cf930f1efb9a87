#include "report.hpp"

namespace dq::conformance {

const char *verdict_name(Verdict v) {
  return v == Verdict::pass ? "PASS" : v == Verdict::fail ? "FAIL" : "SKIP";
}

namespace {

// One line per check: long messages are cut in the table (JUnit keeps them whole).
std::string one_line(std::string text, size_t max) {
  for (char &c : text)
    if (c == '\n' || c == '\t') c = ' ';
  if (text.size() > max) text = text.substr(0, max - 3) + "...";
  return text;
}

}  // namespace

void TableReport::plugin_header(const std::string &path, const std::string &reference_note) {
  std::fprintf(out_, "== %s\n   reference: %s\n", path.c_str(), reference_note.c_str());
  std::fflush(out_);
}

void TableReport::row(const CheckResult &r) {
  const bool show = r.verdict != Verdict::pass || verbose_;
  std::fprintf(out_, "%s  %-46s %-4s %7.3fs%s%s\n", verdict_name(r.verdict), r.name.c_str(),
               r.rule.c_str(), r.seconds, show && !r.message.empty() ? "  " : "",
               show ? one_line(r.message, verbose_ ? 2000 : 300).c_str() : "");
  std::fflush(out_);
}

void TableReport::plugin_summary(const std::string &plugin, const Tally &t) {
  std::fprintf(out_, "-- %s: %d checks: %d passed, %d failed, %d skipped\n", plugin.c_str(),
               t.total(), t.pass, t.fail, t.skip);
  std::fflush(out_);
}

void TableReport::final_summary(int plugins, const Tally &t) {
  std::fprintf(out_, "dq-conformance: %d plugin%s, %d checks: %d passed, %d failed, %d skipped: %s\n",
               plugins, plugins == 1 ? "" : "s", t.total(), t.pass, t.fail, t.skip,
               t.fail ? "FAILED" : "OK");
  std::fflush(out_);
}

}  // namespace dq::conformance
