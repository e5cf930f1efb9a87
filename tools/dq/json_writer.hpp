// A streaming, indented JSON writer: output goes to a FILE* in chunks as it is produced (or
// collects in a string), so printing a model's metadata costs memory for one chunk, not for
// a document tree. Strings from the file are escaped so that the output is valid JSON and
// safe on a terminal: invalid UTF-8 becomes U+FFFD, controls (C0, DEL, C1) and Unicode bidi
// controls are written as \uXXXX escapes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace dq::tool {

// Appends `s` as a quoted JSON string literal to `out` (escaping described above).
void append_json_string(std::string &out, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::FILE *out) : file_(out) {}  // flushes to `out` as it goes
  JsonWriter() = default;                              // collects; see text()

  void begin_object() { open('{', false); }
  void end_object() { close('}'); }
  // A one-line array puts its elements on the line of its key (for short ones like shapes).
  void begin_array(bool one_line = false) { open('[', one_line); }
  void end_array() { close(']'); }
  void key(std::string_view k);

  void string(std::string_view s);
  void number(int64_t v);
  void number(uint64_t v);
  void number(uint32_t v) { number(static_cast<uint64_t>(v)); }
  void number(int32_t v) { number(static_cast<int64_t>(v)); }
  void number_f64(double v);  // non-finite values become null (JSON has no NaN or Inf)
  void number_f32(float v);   // shortest text of the float, not of its double widening
  void boolean(bool v);

  // Ends the document with a newline and writes what is buffered; false when writing failed.
  bool finish();
  // The collected text (writers without a FILE*).
  const std::string &text() const { return buf_; }

 private:
  struct Level {
    bool one_line;
    bool empty = true;
  };
  void open(char bracket, bool one_line);
  void close(char bracket);
  void before_value();
  void number_text(const std::string &t, bool is_float);
  void flush_if_full();

  std::FILE *file_ = nullptr;
  std::string buf_;
  std::vector<Level> levels_;
  bool after_key_ = false;
  bool write_failed_ = false;
};

}  // namespace dq::tool
