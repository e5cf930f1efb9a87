#include "protocol.hpp"

#include <unistd.h>

#include <cerrno>

namespace dq::conformance {

std::string escape_field(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string unescape_field(const std::string &text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char c = text[++i];
    out += c == 't' ? '\t' : c == 'n' ? '\n' : c;
  }
  return out;
}

void write_line(int fd, const std::vector<std::string> &fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) line += (i ? "\t" : "") + escape_field(fields[i]);
  line += '\n';
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone; nothing useful left to do
    done += static_cast<size_t>(n);
  }
}

std::vector<std::vector<std::string>> take_lines(std::string &buffer) {
  std::vector<std::vector<std::string>> lines;
  size_t start = 0;
  for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::vector<std::string> fields;
    size_t f = start;
    for (size_t tab; (tab = buffer.find('\t', f)) != std::string::npos && tab < nl; f = tab + 1)
      fields.push_back(unescape_field(buffer.substr(f, tab - f)));
    fields.push_back(unescape_field(buffer.substr(f, nl - f)));
    lines.push_back(std::move(fields));
  }
  buffer.erase(0, start);
  return lines;
}

}  // namespace dq::conformance
