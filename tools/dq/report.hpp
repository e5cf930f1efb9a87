// How dq commands end: one line on stderr per problem, and the exit codes of commands.hpp.
#pragma once

#include <string>

namespace dq::tool {

// Prints "dq: WHERE: PROBLEM" (just "dq: PROBLEM" when PROBLEM already starts with WHERE, as
// the library's messages that name the file do) and returns `code`.
int report_failure(const std::string &where, const std::string &problem, int code);

// Flushes standard output; when that or any earlier write to it failed (a full disk, a closed
// pipe, /dev/full), prints "dq: cannot write to standard output: REASON" and returns 1 (or
// `rc` when that already says the command failed). Otherwise returns `rc`. Quiet when the
// command failed and only an earlier write failed: the command reported that itself.
int finish_standard_output(int rc);

}  // namespace dq::tool
