#include "junit.hpp"

#include <fstream>
#include <map>

namespace dq::conformance {

namespace {

std::string xml_escape(const std::string &text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\n': out += "&#10;"; break;
      case '\t': out += "&#9;"; break;
      default:
        if (c < 0x20) out += '?';  // not allowed in XML 1.0
        else out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

std::string write_junit(const std::string &path, const std::vector<CheckResult> &results) {
  std::map<std::string, std::vector<const CheckResult *>> by_plugin;
  std::vector<std::string> order;
  for (const CheckResult &r : results) {
    if (!by_plugin.count(r.plugin)) order.push_back(r.plugin);
    by_plugin[r.plugin].push_back(&r);
  }
  int fails = 0, skips = 0;
  double total_time = 0;
  for (const CheckResult &r : results) {
    fails += r.verdict == Verdict::fail;
    skips += r.verdict == Verdict::skip;
    total_time += r.seconds;
  }
  std::ofstream f(path);
  if (!f) return "cannot write " + path;
  f << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  f << "<testsuites name=\"dq-conformance\" tests=\"" << results.size() << "\" failures=\""
    << fails << "\" skipped=\"" << skips << "\" time=\"" << total_time << "\">\n";
  for (const std::string &plugin : order) {
    const auto &rs = by_plugin[plugin];
    int pf = 0, ps = 0;
    double pt = 0;
    for (const CheckResult *r : rs) {
      pf += r->verdict == Verdict::fail;
      ps += r->verdict == Verdict::skip;
      pt += r->seconds;
    }
    f << "  <testsuite name=\"" << xml_escape(plugin) << "\" tests=\"" << rs.size()
      << "\" failures=\"" << pf << "\" errors=\"0\" skipped=\"" << ps << "\" time=\"" << pt
      << "\">\n";
    for (const CheckResult *r : rs) {
      f << "    <testcase classname=\"dq-conformance." << xml_escape(plugin) << "\" name=\""
        << xml_escape(r->name) << "\" time=\"" << r->seconds << "\">";
      const std::string msg = "[" + r->rule + "] " + r->message;
      if (r->verdict == Verdict::fail)
        f << "\n      <failure message=\"" << xml_escape(msg) << "\">" << xml_escape(msg)
          << "</failure>\n    ";
      else if (r->verdict == Verdict::skip)
        f << "\n      <skipped message=\"" << xml_escape(msg) << "\"/>\n    ";
      f << "</testcase>\n";
    }
    f << "  </testsuite>\n";
  }
  f << "</testsuites>\n";
  f.close();
  return f ? "" : "cannot write " + path;
}

}  // namespace dq::conformance
