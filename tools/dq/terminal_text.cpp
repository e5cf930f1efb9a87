// Terminal-safe escaping of untrusted text (see terminal_text.hpp).
#include "terminal_text.hpp"

#include <cstdio>

namespace dq::tool {

Utf8Char decode_utf8(std::string_view s, size_t pos) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[pos + k]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {lead, 1};
  size_t n = 0;
  char32_t cp = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2;
    cp = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3;
    cp = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4;
    cp = lead & 0x07;
  } else {
    return {};  // continuation byte, overlong 2-byte lead (c0, c1) or f5..ff
  }
  if (pos + n > s.size()) return {};
  for (size_t k = 1; k < n; ++k) {
    if ((byte(k) & 0xc0) != 0x80) return {};
    cp = (cp << 6) | (byte(k) & 0x3f);
  }
  // Overlong forms and surrogates could smuggle a control past a byte-level check.
  const char32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_length[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {};
  return {cp, n};
}

bool is_terminal_control(char32_t c) {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

size_t append_terminal_safe(std::string &out, std::string_view text,
                            const EscapeOptions &options) {
  size_t i = 0;
  while (i < text.size() && i < options.max_bytes) {
    const char c = text[i];
    if ((c == '\\' && options.escape_backslash) ||
        (options.quote != '\0' && c == options.quote)) {
      out += '\\';
      out += c;
      ++i;
      continue;
    }
    const Utf8Char u = decode_utf8(text, i);
    char buf[16];
    if (u.length == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
      ++i;
      continue;
    }
    if (!is_terminal_control(u.code_point)) {
      out.append(text.substr(i, u.length));
    } else if (u.code_point == '\n') {
      out += "\\n";
    } else if (u.code_point == '\t') {
      out += "\\t";
    } else if (u.code_point == '\r') {
      out += "\\r";
    } else if (u.code_point < 0x80) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(u.code_point));
      out += buf;
    } else {
      std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(u.code_point));
      out += buf;
    }
    i += u.length;
  }
  return i;
}

std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_terminal_safe(out, text);
  return out;
}

std::string terminal_safe_message(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_terminal_safe(out, text, {.escape_backslash = false});
  return out;
}

}  // namespace dq::tool
