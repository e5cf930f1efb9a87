// Streaming JSON writer (see json_writer.hpp).
#include "json_writer.hpp"

#include <charconv>
#include <cmath>

#include "terminal_text.hpp"

namespace dq::tool {
namespace {

constexpr size_t kFlushBytes = 1 << 16;

template <typename T>
std::string to_text(T v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

void append_json_string(std::string &out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const Utf8Char u = decode_utf8(s, i);
    if (u.length == 0) {
      out += "\\ufffd";  // not UTF-8: JSON text must be
      ++i;
      continue;
    }
    const char32_t c = u.code_point;
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (is_terminal_control(c)) {
      char buf[8];  // every control is in the BMP, so one \uXXXX
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out.append(s.substr(i, u.length));
    }
    i += u.length;
  }
  out += '"';
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (levels_.empty()) return;
  Level &l = levels_.back();
  if (!l.empty) buf_ += ',';
  if (l.one_line) {
    if (!l.empty) buf_ += ' ';
  } else {
    buf_ += '\n';
    buf_.append(2 * levels_.size(), ' ');
  }
  l.empty = false;
}

void JsonWriter::open(char bracket, bool one_line) {
  before_value();
  buf_ += bracket;
  const bool parent_one_line = !levels_.empty() && levels_.back().one_line;
  levels_.push_back({one_line || parent_one_line});
}

void JsonWriter::close(char bracket) {
  const Level l = levels_.back();
  levels_.pop_back();
  if (!l.empty && !l.one_line) {
    buf_ += '\n';
    buf_.append(2 * levels_.size(), ' ');
  }
  buf_ += bracket;
  flush_if_full();
}

void JsonWriter::key(std::string_view k) {
  before_value();
  append_json_string(buf_, k);
  buf_ += ": ";
  after_key_ = true;
}

void JsonWriter::string(std::string_view s) {
  before_value();
  append_json_string(buf_, s);
  flush_if_full();
}

void JsonWriter::number(int64_t v) {
  before_value();
  buf_ += to_text(v);
  flush_if_full();
}

void JsonWriter::number(uint64_t v) {
  before_value();
  buf_ += to_text(v);
  flush_if_full();
}

void JsonWriter::number_text(const std::string &t, bool is_float) {
  before_value();
  buf_ += t;
  // Keep floats recognizable as floats ("3.0", not "3") for typed readers.
  if (is_float && t.find_first_of(".e") == std::string::npos) buf_ += ".0";
  flush_if_full();
}

void JsonWriter::number_f64(double v) {
  if (!std::isfinite(v)) {
    before_value();
    buf_ += "null";
    return;
  }
  number_text(to_text(v), true);
}

void JsonWriter::number_f32(float v) {
  if (!std::isfinite(v)) {
    before_value();
    buf_ += "null";
    return;
  }
  number_text(to_text(v), true);
}

void JsonWriter::boolean(bool v) {
  before_value();
  buf_ += v ? "true" : "false";
}

void JsonWriter::flush_if_full() {
  if (!file_ || buf_.size() < kFlushBytes) return;
  if (std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) write_failed_ = true;
  buf_.clear();
}

bool JsonWriter::finish() {
  buf_ += '\n';
  if (file_) {
    if (std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) write_failed_ = true;
    buf_.clear();
  }
  return !write_failed_;
}

}  // namespace dq::tool
