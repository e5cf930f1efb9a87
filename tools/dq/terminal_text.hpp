// Untrusted text (tensor names, metadata keys and strings of a hostile GGUF) made safe to print
// on a terminal: nothing in it can move the cursor, change colors, reorder the line (bidi
// controls) or hide as an invalid byte. Valid printable UTF-8 passes unchanged.
//
// Escapes: "\\" for a backslash (so escapes stay unambiguous), \n \t \r, "\xNN" for other C0
// controls, DEL and bytes that are not valid UTF-8, "\u{XXXX}" for C1 controls and the Unicode
// bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dq::tool {

// One decoded UTF-8 character: its code point and byte length; length 0 when the bytes at
// that position are not a valid (shortest-form, non-surrogate, <= U+10FFFF) sequence.
struct Utf8Char {
  char32_t code_point = 0;
  size_t length = 0;
};
Utf8Char decode_utf8(std::string_view s, size_t pos);

// True for code points a terminal must not receive raw: C0, DEL, C1 and bidi controls.
bool is_terminal_control(char32_t code_point);

struct EscapeOptions {
  char quote = '\0';               // also escaped when not '\0' (for quoted literals)
  size_t max_bytes = SIZE_MAX;     // stop before the first character starting at or after
  bool escape_backslash = true;    // false for text that already holds escapes
};

// Appends `text` escaped to `out`; returns how many input bytes were consumed (text.size()
// unless max_bytes stopped it).
size_t append_terminal_safe(std::string &out, std::string_view text,
                            const EscapeOptions &options = {});

// `text` escaped for a terminal.
std::string terminal_safe(std::string_view text);

// For messages that may hold escapes already (dq_last_error, where the core escaped the
// file's names): controls are escaped, backslashes pass unchanged.
std::string terminal_safe_message(std::string_view text);

}  // namespace dq::tool
