// Unit tests of dq-conformance's own pieces: the scale-field table (against ggml-made random
// blocks), golden rounding, the child protocol, filters and plugin file names.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "compare.hpp"
#include "dq/dq.h"
#include "dq_common/type_traits.hpp"
#include "options.hpp"
#include "plugin_loader.hpp"
#include "protocol.hpp"
#include "random_input.hpp"
#include "scale_fields.hpp"
#include "testdata.hpp"             // tools/conformance: golden index
#include "../support/testdata.hpp"  // DQ_REQUIRE_TESTDATA

using namespace dq::conformance;

namespace {

bool finite_f16(uint16_t h) { return (h & 0x7c00u) != 0x7c00u; }

uint16_t u16_at(const std::vector<uint8_t> &b, size_t off) {
  uint16_t v;
  std::memcpy(&v, &b[off], 2);
  return v;
}

}  // namespace

// ggml made every scale of random-blocks.gguf finite after filling the blocks with random
// bytes; if an offset in the table were wrong, about 1 in 32 of the values read there would be
// inf/NaN. Also the table must name every quantized type with an f16/f32 scale.
TEST(ScaleFields, MatchRandomBlocksOfTestdata) {
  DQ_REQUIRE_TESTDATA(dir);
  const Testdata td = Testdata::open(dir.string());
  int types_checked = 0;
  for (int32_t type = 0; type < dq::kTypeCount; ++type) {
    const auto fields = scale_fields(type);
    for (const GoldenTensor &g : td.goldens_for(type)) {
      if (g.label.find("random-blocks.gguf:") != 0 && g.label.find("extra-types.gguf:r.") != 0)
        continue;
      std::vector<uint8_t> bytes;
      ASSERT_TRUE(read_file_range(g.gguf_path, g.file_offset, g.nbytes, &bytes)) << g.label;
      const size_t block = dq::type_traits(type)->block_bytes;
      ASSERT_EQ(bytes.size() % block, 0u);
      for (size_t off = 0; off < bytes.size(); off += block)
        for (const ScaleField &f : fields) {
          uint16_t h = 0x3c00;
          if (f.kind == ScaleKind::f16) h = u16_at(bytes, off + f.offset);
          if (f.kind == ScaleKind::f16_nibbles) h = read_f16_nibbles(&bytes[off + f.offset]);
          ASSERT_TRUE(finite_f16(h)) << g.label << " block at byte " << off;
          if (f.kind == ScaleKind::f32) {
            float v;
            std::memcpy(&v, &bytes[off + f.offset], 4);
            ASSERT_TRUE(std::isfinite(v)) << g.label << " block at byte " << off;
          }
        }
      ++types_checked;
    }
  }
  EXPECT_GE(types_checked, 20);
}

TEST(ScaleFields, NibbleRoundTrip) {
  uint8_t words[8];
  for (int i = 0; i < 8; ++i) words[i] = static_cast<uint8_t>(0x37 * i + 5);
  write_f16_nibbles(words, 0xabcd);
  EXPECT_EQ(read_f16_nibbles(words), 0xabcd);
  EXPECT_EQ(words[0], 5);  // low 12 bits of each word kept
}

TEST(RandomInput, ScalesAreFiniteAndRepeatable) {
  Rng a = rng_for("x/Q4_K/f32/one-block", 7), b = rng_for("x/Q4_K/f32/one-block", 7);
  const auto ba = random_blocks(DQ_TYPE_Q4_K, 64, a), bb = random_blocks(DQ_TYPE_Q4_K, 64, b);
  EXPECT_EQ(ba, bb);
  for (size_t off = 0; off < ba.size(); off += 144) {
    EXPECT_TRUE(finite_f16(u16_at(ba, off)));
    EXPECT_TRUE(finite_f16(u16_at(ba, off + 2)));
  }
  Rng c = rng_for("e8m0", 1);
  for (int i = 0; i < 1000; ++i) EXPECT_NE(random_sane_e8m0(c), 0xff);
}

TEST(Compare, GoldenRoundingToHalf) {
  auto f16_of = [](float f) {
    std::vector<uint8_t> in(4);
    std::memcpy(in.data(), &f, 4);
    const auto out = golden_as(DQ_TYPE_F16, in);
    return static_cast<uint16_t>(out[0] | out[1] << 8);
  };
  EXPECT_EQ(f16_of(1.0f), 0x3c00);
  EXPECT_EQ(f16_of(65504.0f), 0x7bff);
  EXPECT_EQ(f16_of(65520.0f), 0x7c00);             // rounds up to inf
  EXPECT_EQ(f16_of(1.0f + 1.0f / 2048), 0x3c00);   // tie, even stays
  EXPECT_EQ(f16_of(1.0f + 3.0f / 2048), 0x3c02);   // tie, odd rounds up
  EXPECT_EQ(f16_of(-0.0f), 0x8000);
  EXPECT_EQ(f16_of(5.9604645e-08f), 0x0001);       // smallest subnormal
}

TEST(Compare, GoldenRoundingToBfloat) {
  auto bf16_of = [](uint32_t bits) {
    std::vector<uint8_t> in(4);
    std::memcpy(in.data(), &bits, 4);
    const auto out = golden_as(DQ_TYPE_BF16, in);
    return static_cast<uint16_t>(out[0] | out[1] << 8);
  };
  EXPECT_EQ(bf16_of(0x3f808000u), 0x3f80);  // tie, even stays
  EXPECT_EQ(bf16_of(0x3f818000u), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(bf16_of(0x3f808001u), 0x3f81);
  EXPECT_EQ(bf16_of(0x7f7fffffu), 0x7f80);  // max float rounds to inf
  EXPECT_EQ(bf16_of(0xff800000u), 0xff80);  // -inf stays
}

TEST(Compare, NamesFirstDifference) {
  std::vector<uint8_t> a(16, 0), b(16, 0);
  b[9] = 1;  // element 2
  EXPECT_EQ(compare_outputs(DQ_TYPE_F32, a, a, 4), "");
  const std::string e = compare_outputs(DQ_TYPE_F32, a, b, 4);
  EXPECT_NE(e.find("1 of 4 elements differ; first at 2"), std::string::npos) << e;
  // Any NaN matches any NaN.
  std::vector<uint8_t> n1 = {0x01, 0x00, 0xc0, 0x7f}, n2 = {0x00, 0x00, 0xc0, 0xff};
  EXPECT_EQ(compare_outputs(DQ_TYPE_F32, n1, n2, 1), "");
}

TEST(Protocol, EscapedFieldsRoundTrip) {
  std::string buffer = "R\t3\tFAIL\ta\\tb\\nc\\\\d\nB\t4\npartial";
  const auto lines = take_lines(buffer);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0][3], "a\tb\nc\\d");
  EXPECT_EQ(lines[1][1], "4");
  EXPECT_EQ(buffer, "partial");
  EXPECT_EQ(unescape_field(escape_field("x\ty\n\\")), "x\ty\n\\");
}

TEST(Options, FilterGlobAndSubstring) {
  Options o;
  EXPECT_TRUE(filter_accepts(o, "cpu/Q6_K/f16/large"));
  o.filters = {"*/Q6_K/*"};
  EXPECT_TRUE(filter_accepts(o, "cpu/Q6_K/f16/large"));
  EXPECT_FALSE(filter_accepts(o, "cpu/Q4_K/f16/large"));
  o.filters = {"handshake"};
  EXPECT_TRUE(filter_accepts(o, "cuda/handshake/abi-version"));
  EXPECT_FALSE(filter_accepts(o, "cuda/args/null-src"));
}

TEST(PluginLoader, NameFromPath) {
  EXPECT_EQ(plugin_name_from_path("/x/lib/dq/libdq-cuda.so"), "cuda");
  EXPECT_EQ(plugin_name_from_path("libdq-example.so"), "example");
  EXPECT_EQ(plugin_name_from_path("/x/libfoo.so"), "");
  EXPECT_EQ(plugin_name_from_path("/x/libdq-.so"), "");
}

TEST(PluginLoader, MissingFileIsReportedNotFatal) {
  const LoadedPlugin p = load_plugin("/nonexistent/libdq-ghost.so");
  EXPECT_EQ(p.api, nullptr);
  EXPECT_NE(p.load_error.find("libdq-ghost.so"), std::string::npos);
}
