// The line protocol from a child process to the parent over a pipe:
//   B <index>                      check <index> of the group begins
//   R <index> <verdict> <message>  its result
//   F <key> <value>                a fact learned by the handshake probe
//   C <text>                       crash detail written by the signal handler
// Fields are tab-separated; tabs, newlines and backslashes in text are escaped.
#pragma once

#include <string>
#include <vector>

namespace dq::conformance {

std::string escape_field(const std::string &text);
std::string unescape_field(const std::string &text);

// Writes one whole line with write(2) (atomic for lines under PIPE_BUF, and never buffered,
// so nothing is lost when the child dies right after).
void write_line(int fd, const std::vector<std::string> &fields);

// Splits complete lines off `buffer`, leaving a partial last line in it.
std::vector<std::vector<std::string>> take_lines(std::string &buffer);

}  // namespace dq::conformance
