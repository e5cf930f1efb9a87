// Memory the parsed structure of a file may take is bounded by its size: a small file of
// millions of empty strings or one-byte kvs is refused ("metadata too large") instead of
// taking gigabytes to open; real vocabularies still open.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "reader_test_util.hpp"

namespace dq::test {
namespace {

// Peak resident memory of this process in KiB since the last reset_peak_rss() (VmHWM).
uint64_t peak_rss_kib() { return proc_status_kib("VmHWM"); }
uint64_t current_rss_kib() { return proc_status_kib("VmRSS"); }
// Resets VmHWM to the current RSS (Linux: "5" to clear_refs); false where not allowed.
bool reset_peak_rss() {
  std::FILE *f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

// Opens `path` and returns the growth of peak RSS in MiB it caused (0 when not measurable).
uint64_t open_peak_growth_mib(const std::filesystem::path &path, dq_status *status,
                              std::string *message) {
  const bool measured = reset_peak_rss();
  const uint64_t before = current_rss_kib();
  {
    Opened o(path);
    *status = o.status;
    *message = o.message;
  }
  return measured ? (peak_rss_kib() - std::min(before, peak_rss_kib())) >> 10 : 0;
}

void expect_too_large(const std::filesystem::path &path) {
  dq_status status;
  std::string message;
  const uint64_t growth = open_peak_growth_mib(path, &status, &message);
  EXPECT_EQ(status, DQ_ERR_BAD_FILE) << message;
  EXPECT_NE(message.find("metadata too large"), std::string::npos) << message;
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  // Refused before the elements are allocated: far below the ~110 MB they would take.
  EXPECT_LT(growth, 48u) << message;
}

TEST(GgufMemoryBound, MillionsOfEmptyStringsAreRefusedBeforeAllocating) {
  ScratchDir dir;
  const uint64_t n = 2'000'000;  // 16 MB in the file, 56 bytes each once parsed
  GgufBuilder g;
  g.kv("test.strings", kArray, enc_array(kString, n, Bytes(n * 8, 0)));
  write_bytes(dir / "strings.gguf", g.build());
  expect_too_large(dir / "strings.gguf");
}

TEST(GgufMemoryBound, MillionsOfTinyKvsAreRefusedBeforeAllocating) {
  ScratchDir dir;
  const uint64_t n = 1'000'000;  // 21 bytes each in the file, ~200 once parsed and indexed
  GgufBuilder g;
  g.kvs.reserve(n);
  char key[16];
  for (uint64_t i = 0; i < n; ++i) {
    std::snprintf(key, sizeof key, "k%07llu", static_cast<unsigned long long>(i));
    g.kv(key, kU8, Bytes{1});
  }
  write_bytes(dir / "kvs.gguf", g.build());
  expect_too_large(dir / "kvs.gguf");
}

TEST(GgufMemoryBound, ALargeRealisticVocabularyStillOpens) {
  ScratchDir dir;
  const uint64_t n = 300'000;  // tokens of a large vocabulary, a few bytes each
  Bytes tokens;
  for (uint64_t i = 0; i < n; ++i) put_string(tokens, "tok" + std::to_string(i));
  GgufBuilder g;
  g.kv("tokenizer.ggml.tokens", kArray, enc_array(kString, n, tokens));
  g.kv("tokenizer.ggml.merges", kArray, enc_array(kString, n, tokens));
  write_bytes(dir / "vocab.gguf", g.build());
  Opened o(dir / "vocab.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  EXPECT_EQ(dq_value_array_count(kv(o.model, "tokenizer.ggml.tokens")), n);
}

}  // namespace
}  // namespace dq::test
