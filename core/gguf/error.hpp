// How the GGUF reader reports a refused file: an exception carrying a dq_status and a message
// that names the field and its byte offset. It never crosses the C API (model_api.cpp
// catches it and hands it to dq::core::set_error).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "dq/dq.h"

namespace dq::gguf {

class Error : public std::runtime_error {
 public:
  Error(dq_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}
  dq_status status() const noexcept { return status_; }

 private:
  dq_status status_;
};

// printf-style formatting into a std::string (GCC 12 has no <format>).
std::string strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// A name or key from the file made safe to print: control and non-ASCII bytes escaped as
// \xNN, long text cut with "...", so hostile names cannot garble a one-line message.
std::string printable(std::string_view text, size_t max_chars = 64);

[[noreturn]] void fail(dq_status status, const std::string &message);

}  // namespace dq::gguf
