// terminal_safe: control characters, invalid UTF-8 and bidi controls from untrusted text are
// escaped; valid printable UTF-8 passes unchanged.
#include <gtest/gtest.h>

#include "terminal_text.hpp"

namespace dq::tool {
namespace {

using namespace std::string_literals;

TEST(TerminalText, PrintableUtf8PassesUnchanged) {
  const std::string s = "blk.0.attn_q.weight h\xc3\xa9llo \xe4\xb8\xad \xf0\x9f\x98\x80 ~";
  EXPECT_EQ(terminal_safe(s), s);
  EXPECT_EQ(terminal_safe(""), "");
}

TEST(TerminalText, C0ControlsAndDelAreEscaped) {
  EXPECT_EQ(terminal_safe("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(terminal_safe("\x1b[31mred\x07"), "\\x1b[31mred\\x07");
  EXPECT_EQ(terminal_safe("nul\0x"s), "nul\\x00x");
  EXPECT_EQ(terminal_safe("del\x7f"), "del\\x7f");
}

TEST(TerminalText, BackslashIsEscapedSoEscapesStayUnambiguous) {
  EXPECT_EQ(terminal_safe("a\\x1b"), "a\\\\x1b");
}

TEST(TerminalText, C1ControlsAreEscaped) {
  EXPECT_EQ(terminal_safe("\xc2\x9b" "31m"), "\\u{009B}31m");  // CSI
  EXPECT_EQ(terminal_safe("\xc2\x85"), "\\u{0085}");           // NEL
  EXPECT_EQ(terminal_safe("\xc2\xa0"), "\xc2\xa0");            // NBSP is printable
}

TEST(TerminalText, BidiControlsAreEscaped) {
  EXPECT_EQ(terminal_safe("abc\xe2\x80\xae" "fed"), "abc\\u{202E}fed");  // RLO
  EXPECT_EQ(terminal_safe("\xe2\x80\xaa\xe2\x80\xac"), "\\u{202A}\\u{202C}");
  EXPECT_EQ(terminal_safe("\xe2\x81\xa6\xe2\x81\xa9"), "\\u{2066}\\u{2069}");
  EXPECT_EQ(terminal_safe("\xe2\x80\x8e\xe2\x80\x8f"), "\\u{200E}\\u{200F}");
  EXPECT_EQ(terminal_safe("\xd8\x9c"), "\\u{061C}");  // Arabic letter mark
  EXPECT_EQ(terminal_safe("\xe2\x80\xad"), "\\u{202D}");
  // Neighbours that are not controls pass.
  EXPECT_EQ(terminal_safe("\xe2\x80\xaf"), "\xe2\x80\xaf");  // U+202F
  EXPECT_EQ(terminal_safe("\xe2\x81\xa5"), "\xe2\x81\xa5");  // U+2065
}

TEST(TerminalText, InvalidUtf8BytesAreEscapedOneByOne) {
  EXPECT_EQ(terminal_safe("\xff" "a"), "\\xffa");
  EXPECT_EQ(terminal_safe("\x80"), "\\x80");                   // lone continuation
  EXPECT_EQ(terminal_safe("\xc3"), "\\xc3");                   // truncated
  EXPECT_EQ(terminal_safe("\xc3" "a"), "\\xc3a");              // bad continuation
  EXPECT_EQ(terminal_safe("\xc0\x8a"), "\\xc0\\x8a");          // overlong newline
  EXPECT_EQ(terminal_safe("\xe0\x80\x9b"), "\\xe0\\x80\\x9b"); // overlong ESC
  EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80"); // surrogate
  EXPECT_EQ(terminal_safe("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
  EXPECT_EQ(terminal_safe("\xf0\x82\x82\xac"), "\\xf0\\x82\\x82\\xac");  // overlong euro
}

TEST(TerminalText, MessagesKeepTheirEscapesButNotRawControls) {
  EXPECT_EQ(terminal_safe_message("tensor 'a\\x01b': bad\x1b[2J"), "tensor 'a\\x01b': bad\\x1b[2J");
}

TEST(TerminalText, QuoteIsEscapedOnlyWhenAsked) {
  std::string out;
  EXPECT_EQ(append_terminal_safe(out, "say \"hi\"", {.quote = '"'}), 8u);
  EXPECT_EQ(out, "say \\\"hi\\\"");
  EXPECT_EQ(terminal_safe("say \"hi\""), "say \"hi\"");
}

TEST(TerminalText, MaxBytesStopsAtACharacterBoundary) {
  std::string out;
  // The 2-byte character starts before the limit, so it is kept whole.
  EXPECT_EQ(append_terminal_safe(out, "ab\xc3\xa9xyz", {.max_bytes = 3}), 4u);
  EXPECT_EQ(out, "ab\xc3\xa9");
  out.clear();
  EXPECT_EQ(append_terminal_safe(out, "abcdef", {.max_bytes = 2}), 2u);
  EXPECT_EQ(out, "ab");
}

TEST(TerminalText, DecodeUtf8ReportsCodePoints) {
  EXPECT_EQ(decode_utf8("\xe2\x80\xae", 0).code_point, 0x202eu);
  EXPECT_EQ(decode_utf8("\xe2\x80\xae", 0).length, 3u);
  EXPECT_EQ(decode_utf8("\xf0\x9f\x98\x80", 0).code_point, 0x1f600u);
  EXPECT_EQ(decode_utf8("\xf0\x9f\x98", 0).length, 0u);
}

}  // namespace
}  // namespace dq::tool
