#include "report.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "commands.hpp"

namespace dq::tool {

int report_failure(const std::string &where, const std::string &problem, int code) {
  const bool named = where.empty() || problem.rfind(where + ":", 0) == 0;
  if (named)
    std::fprintf(stderr, "dq: %s\n", problem.c_str());
  else
    std::fprintf(stderr, "dq: %s: %s\n", where.c_str(), problem.c_str());
  return code;
}

int finish_standard_output(int rc) {
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int err = errno;
  if (flushed && !std::ferror(stdout)) return rc;
  // A command that failed and left nothing unwritten has said why already (dq info reports
  // its own output errors): one line per problem.
  if (flushed && rc != kExitOk) return rc;
  // glibc keeps unwritten bytes buffered, so a failed write is retried by the flush and
  // errno names the reason; without it the reason is unknown.
  if (!flushed && err != 0)
    std::fprintf(stderr, "dq: cannot write to standard output: %s\n", std::strerror(err));
  else
    std::fprintf(stderr, "dq: cannot write to standard output\n");
  return rc == kExitOk ? kExitFailure : rc;
}

}  // namespace dq::tool
