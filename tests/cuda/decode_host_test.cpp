// The GPU kernels' per-format decoders (plugins/gpu-common/kernels), compiled for the host and checked bit for bit
// against ggml's golden f32 outputs. Runs everywhere (no GPU needed): the kernels call the
// same decode8 functions, so this pins their arithmetic before any device time is spent.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "dq_common/grids.hpp"
#include "dq_common/half.hpp"
#include "dq_common/type_traits.hpp"
#include "kernels/formats.cuh"
#include "manifest.hpp"

namespace {

using dq::test::ManifestRow;

// 16-entry value tables as floats, as the kernels stage them.
struct FloatTables {
  float iq4nl[16], fp4[16];
  FloatTables() {
    for (int i = 0; i < 16; ++i) {
      iq4nl[i] = dq::grids::kvalues_iq4nl[i];
      fp4[i] = dq::grids::kvalues_mxfp4[i];
    }
  }
};
const FloatTables kFloatTables;

const uint8_t *host_grid(int32_t type) {
  switch (type) {
    case 20:
    case 23: return reinterpret_cast<const uint8_t *>(kFloatTables.iq4nl);
    case 39:
    case 40: return reinterpret_cast<const uint8_t *>(kFloatTables.fp4);
    case 16: return reinterpret_cast<const uint8_t *>(dq::grids::iq2xxs_grid);
    case 17: return reinterpret_cast<const uint8_t *>(dq::grids::iq2xs_grid);
    case 22: return reinterpret_cast<const uint8_t *>(dq::grids::iq2s_grid);
    case 18: return reinterpret_cast<const uint8_t *>(dq::grids::iq3xxs_grid);
    case 21: return reinterpret_cast<const uint8_t *>(dq::grids::iq3s_grid);
    case 19:
    case 29: return reinterpret_cast<const uint8_t *>(dq::grids::iq1s_grid);
    default: return nullptr;
  }
}

// Decodes a whole tensor of block format `type` on the host through decode8.
bool host_decode(int32_t type, const std::vector<uint8_t> &src, int64_t n, std::vector<float> *out) {
  out->assign(static_cast<size_t>(n), 0.0f);
  return dq::gpu::visit_block_format(type, [&](auto fmt) {
    using Fmt = decltype(fmt);
    static_assert(Fmt::kBlockElems % 8 == 0);
    const int64_t n_blocks = n / Fmt::kBlockElems;
    for (int64_t b = 0; b < n_blocks; ++b) {
      // Copy the block into a padded buffer, as the kernels stage it in shared memory.
      alignas(16) uint8_t blk[Fmt::kBlockBytes + 16] = {};
      std::memcpy(blk, src.data() + b * Fmt::kBlockBytes, Fmt::kBlockBytes);
      for (int j0 = 0; j0 < Fmt::kBlockElems; j0 += 8)
        Fmt::decode8(blk, j0, out->data() + b * Fmt::kBlockElems + j0, host_grid(type));
    }
  });
}

std::string hex16(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

// The 16-bit output types with direct paths: f16 (decode8_f16) and bf16 (decode8_bf16).
enum class Out16 { kF16, kBF16 };

// For formats with a direct 16-bit path: decode8_f16 / decode8_bf16 must equal decode8
// rounded (to nearest even) to f16 / bf16, bit for bit, over the blocks of `src`. Returns
// the number of mismatching elements (NaN matches NaN: the device's f32 path gives the
// canonical NaN, so NaN bits never match the CPU's), or -1 without such a path.
template <Out16 kOut>
int64_t path16_mismatches(int32_t type, const std::vector<uint8_t> &src, int64_t n, std::string *first) {
  int64_t bad = -1;
  dq::gpu::visit_block_format(type, [&](auto fmt) {
    using Fmt = decltype(fmt);
    constexpr bool has = kOut == Out16::kF16 ? dq::gpu::HasF16<Fmt>::value : dq::gpu::HasBF16<Fmt>::value;
    if constexpr (has) {
      bad = 0;
      for (int64_t b = 0; b < n / Fmt::kBlockElems; ++b) {
        alignas(16) uint8_t blk[Fmt::kBlockBytes + 16] = {};
        std::memcpy(blk, src.data() + b * Fmt::kBlockBytes, Fmt::kBlockBytes);
        for (int j0 = 0; j0 < Fmt::kBlockElems; j0 += 8) {
          float v[8];
          uint32_t h[4];
          Fmt::decode8(blk, j0, v, host_grid(type));
          if constexpr (kOut == Out16::kF16) {
            Fmt::decode8_f16(blk, j0, h, host_grid(type));
          } else {
            Fmt::decode8_bf16(blk, j0, h, host_grid(type));
          }
          for (int k = 0; k < 8; ++k) {
            const uint16_t want = kOut == Out16::kF16 ? dq::f32_to_f16(v[k]) : dq::f32_to_bf16(v[k]);
            const uint16_t got = static_cast<uint16_t>(h[k / 2] >> (16 * (k % 2)));
            const uint16_t inf = kOut == Out16::kF16 ? 0x7c00 : 0x7f80;
            const bool both_nan = (want & 0x7fff) > inf && (got & 0x7fff) > inf;
            if (got != want && !both_nan) {
              if (bad++ == 0)
                *first = "element " + std::to_string(b * Fmt::kBlockElems + j0 + k) + ": got " + hex16(got) +
                         " want " + hex16(want);
            }
          }
        }
      }
    }
  });
  return bad;
}

int64_t f16_path_mismatches(int32_t type, const std::vector<uint8_t> &src, int64_t n, std::string *first) {
  return path16_mismatches<Out16::kF16>(type, src, n, first);
}

TEST(CudaDecodeHost, HalfPathsEqualRoundedFloatPath) {
  DQ_REQUIRE_TESTDATA(dir);
  int formats = 0;
  for (const ManifestRow &r : dq::test::golden_rows(dir)) {
    const auto bytes = dq::test::read_tensor_bytes(dir, r);
    ASSERT_EQ(bytes.size(), r.nbytes) << r.file << " " << r.tensor;
    std::string first;
    const int64_t bad = f16_path_mismatches(r.type_id, bytes, r.n_elements, &first);
    if (bad < 0) continue;
    EXPECT_EQ(bad, 0) << r.file << " " << r.tensor << ": " << first;
    ++formats;
  }
  // Random bytes too: every scale bit pattern, including subnormal and huge f16 scales.
  std::mt19937_64 rng(42);
  for (int32_t type : {2, 6, 8, 10, 11, 16, 17, 18, 19, 20, 21, 22, 29, 34, 35, 39, 41, 42}) {
    std::vector<uint8_t> src(static_cast<size_t>(*dq::type_nbytes(type, 1 << 16)));
    for (auto &x : src) x = static_cast<uint8_t>(rng());
    std::string first;
    const int64_t bad = f16_path_mismatches(type, src, 1 << 16, &first);
    ASSERT_GE(bad, 0) << "type " << type << " lost its f16 path";
    EXPECT_EQ(bad, 0) << "random " << dq::type_traits(type)->name << ": " << first;
  }
  EXPECT_GT(formats, 7);
}

// The formats with a bf16 table path (decode8_bf16).
constexpr int32_t kBF16PathTypes[] = {10, 16, 17, 19, 22, 29, 34, 35, 41, 42};

TEST(CudaDecodeHost, BFloatPathsEqualRoundedFloatPath) {
  DQ_REQUIRE_TESTDATA(dir);
  std::set<int32_t> covered;
  for (const ManifestRow &r : dq::test::golden_rows(dir)) {
    const auto bytes = dq::test::read_tensor_bytes(dir, r);
    ASSERT_EQ(bytes.size(), r.nbytes) << r.file << " " << r.tensor;
    std::string first;
    const int64_t bad = path16_mismatches<Out16::kBF16>(r.type_id, bytes, r.n_elements, &first);
    if (bad < 0) continue;
    EXPECT_EQ(bad, 0) << r.file << " " << r.tensor << ": " << first;
    covered.insert(r.type_id);
  }
  for (int32_t type : kBF16PathTypes) {
    EXPECT_TRUE(covered.count(type)) << "no golden covers the bf16 path of type " << type;
    std::mt19937_64 rng(42);
    std::vector<uint8_t> src(static_cast<size_t>(*dq::type_nbytes(type, 1 << 16)));
    for (auto &x : src) x = static_cast<uint8_t>(rng());
    std::string first;
    const int64_t bad = path16_mismatches<Out16::kBF16>(type, src, 1 << 16, &first);
    ASSERT_GE(bad, 0) << "type " << type << " lost its bf16 path";
    EXPECT_EQ(bad, 0) << "random " << dq::type_traits(type)->name << ": " << first;
  }
}

// TQ2_0's value depends only on (2-bit code, f16 scale d): blocks with every f16 bit pattern
// as d (subnormals, negatives, infinities and NaNs included) and, 64 bytes per block, all
// 256 byte values, each decoded at all 4 of its code positions, cover every input.
TEST(CudaDecodeHost, Tq2BFloatPathExhaustive) {
  constexpr int32_t kTq2 = 35;
  constexpr size_t kBlockBytes = 66, kQsBytes = 64;
  constexpr int64_t kBlocks = 65536 * 4;
  std::vector<uint8_t> src(kBlocks * kBlockBytes);
  for (int64_t b = 0; b < kBlocks; ++b) {
    uint8_t *blk = src.data() + b * kBlockBytes;
    for (size_t j = 0; j < kQsBytes; ++j) blk[j] = static_cast<uint8_t>((b >> 16) * kQsBytes + j);
    blk[kQsBytes] = static_cast<uint8_t>(b);  // block_tq2_0: qs[64], then d (little-endian)
    blk[kQsBytes + 1] = static_cast<uint8_t>(b >> 8);
  }
  static_assert(offsetof(dq::blocks::block_tq2_0, d) == kQsBytes);
  std::string first;
  EXPECT_EQ(path16_mismatches<Out16::kBF16>(kTq2, src, kBlocks * 256, &first), 0) << first;
  EXPECT_EQ(f16_path_mismatches(kTq2, src, kBlocks * 256, &first), 0) << first;
}

// TQ1_0's value depends only on (trit, f16 scale d), and the trit extraction is the f32
// path's own (trits8): every f16 bit pattern as d with every byte value at some position of
// qs/qh, then every byte value at every position (blocks of one repeated byte) with every
// 64th bit pattern as d (subnormals, +-0, +-inf and NaNs among them).
TEST(CudaDecodeHost, Tq1BFloatPathExhaustive) {
  constexpr int32_t kTq1 = 34;
  constexpr size_t kBlockBytes = 54, kTritBytes = 52;  // qs[48], qh[4], then d
  static_assert(offsetof(dq::blocks::block_tq1_0, d) == kTritBytes);
  std::vector<uint8_t> src;
  auto add_block = [&](auto byte_at, uint16_t d) {
    for (size_t j = 0; j < kTritBytes; ++j) src.push_back(static_cast<uint8_t>(byte_at(j)));
    src.push_back(static_cast<uint8_t>(d));
    src.push_back(static_cast<uint8_t>(d >> 8));
  };
  for (int round = 0; round < 5; ++round)  // 5 * 52 >= 256 byte values per scale
    for (uint32_t d = 0; d < 65536; ++d) add_block([&](size_t j) { return round * kTritBytes + j; }, d);
  for (uint32_t byte = 0; byte < 256; ++byte)
    for (uint32_t d = 0; d < 65536; d += 64) add_block([&](size_t) { return byte; }, d);
  const int64_t n = static_cast<int64_t>(src.size() / kBlockBytes) * 256;
  std::string first;
  EXPECT_EQ(path16_mismatches<Out16::kBF16>(kTq1, src, n, &first), 0) << first;
}

// Blocks of an f16 scale d and 16 code bytes (Q2_0, Q1_0: 18 bytes): every f16 bit pattern as
// d, 16 times, the 16 blocks of each run holding all 256 byte values between them.
constexpr int64_t kEveryScaleBlocks = 65536 * 16;
std::vector<uint8_t> every_scale_and_code_byte() {
  constexpr size_t kBlockBytes = 18, kQsBytes = 16;  // d, then qs[16]
  std::vector<uint8_t> src(kEveryScaleBlocks * kBlockBytes);
  for (int64_t b = 0; b < kEveryScaleBlocks; ++b) {
    uint8_t *blk = src.data() + b * kBlockBytes;
    blk[0] = static_cast<uint8_t>(b);  // d (little-endian): every pattern, 16 times
    blk[1] = static_cast<uint8_t>(b >> 8);
    for (size_t j = 0; j < kQsBytes; ++j) blk[2 + j] = static_cast<uint8_t>((b >> 16) * kQsBytes + j);
  }
  return src;
}

// Q2_0's value depends only on (2-bit code, f16 scale d): every f16 bit pattern as d with,
// 16 bytes per block over 16 blocks, all 256 byte values, each decoded at all 4 of its code
// positions, covers every input.
TEST(CudaDecodeHost, Q20BFloatPathExhaustive) {
  static_assert(offsetof(dq::blocks::block_q2_0, qs) == 2 && sizeof(dq::blocks::block_q2_0) == 18);
  const std::vector<uint8_t> src = every_scale_and_code_byte();
  std::string first;
  EXPECT_EQ(path16_mismatches<Out16::kBF16>(42, src, kEveryScaleBlocks * 64, &first), 0) << first;
}

// Q1_0's value depends only on (bit, f16 scale d): every f16 bit pattern as d with, 16 bytes
// per block over 16 blocks, all 256 byte values (each byte holds 8 elements' bits) covers
// every input.
TEST(CudaDecodeHost, Q10BFloatPathExhaustive) {
  static_assert(offsetof(dq::blocks::block_q1_0, qs) == 2 && sizeof(dq::blocks::block_q1_0) == 18);
  const std::vector<uint8_t> src = every_scale_and_code_byte();
  std::string first;
  EXPECT_EQ(path16_mismatches<Out16::kBF16>(41, src, kEveryScaleBlocks * 128, &first), 0) << first;
}

// Q2_K's value is fma(d * (sc & 15), q, -(dmin * (sc >> 4))): too many inputs for all of
// them, so a wide sweep. Every f16 bit pattern as d, each paired with every f16 pattern as
// dmin once (an odd multiplier permutes them) and with special dmin values (+-0, smallest
// subnormal, largest finite, +-inf, NaN); every scale byte and every 2-bit code at every
// shift in each run of 16 blocks.
TEST(CudaDecodeHost, Q2KBFloatPathWideSweep) {
  constexpr int32_t kQ2K = 10;
  using Block = dq::blocks::block_q2_K;
  constexpr size_t kBlockBytes = sizeof(Block);
  static_assert(kBlockBytes == 84);
  const uint16_t specials[] = {0x0000, 0x8000, 0x0001, 0x7bff, 0x7c00, 0xfc00, 0x7e00};
  std::vector<uint8_t> src;
  auto add_block = [&](uint32_t d, uint32_t dmin) {
    const size_t at = src.size();
    const uint32_t b = static_cast<uint32_t>(at / kBlockBytes);
    src.resize(at + kBlockBytes);
    uint8_t *blk = src.data() + at;
    for (int j = 0; j < 16; ++j) blk[offsetof(Block, scales) + j] = static_cast<uint8_t>(b * 16 + j);
    for (int j = 0; j < 64; ++j) blk[offsetof(Block, qs) + j] = static_cast<uint8_t>(b * 64 + j);
    blk[offsetof(Block, d)] = static_cast<uint8_t>(d);
    blk[offsetof(Block, d) + 1] = static_cast<uint8_t>(d >> 8);
    blk[offsetof(Block, dmin)] = static_cast<uint8_t>(dmin);
    blk[offsetof(Block, dmin) + 1] = static_cast<uint8_t>(dmin >> 8);
  };
  for (uint32_t d = 0; d < 65536; ++d) {
    add_block(d, (d * 40503u) & 0xffffu);
    add_block(d, specials[d % std::size(specials)]);
    add_block(specials[d % std::size(specials)], d);
  }
  const int64_t n = static_cast<int64_t>(src.size() / kBlockBytes) * 256;
  std::string first;
  EXPECT_EQ(path16_mismatches<Out16::kBF16>(kQ2K, src, n, &first), 0) << first;
}

// The IQ1 bf16 table has entries only for grid bytes -1, 0 and 1 (int8).
TEST(CudaDecodeHost, Iq1GridBytesAreTernary) {
  for (uint64_t entry : dq::grids::iq1s_grid)
    for (int i = 0; i < 8; ++i) {
      const uint8_t g = static_cast<uint8_t>(entry >> (8 * i));
      ASSERT_TRUE(g == 0xff || g == 0x00 || g == 0x01) << "grid byte " << int{g};
    }
}

// IQ1_S / IQ1_M values depend on (grid byte, f16 d, 3-bit sub-scale, delta sign): every f16
// bit pattern as d, each in blocks of random bytes (grid indices, sub-scales and delta signs
// vary per 8 or 32 elements), 4 blocks per d.
TEST(CudaDecodeHost, Iq1BFloatPathWideSweep) {
  std::mt19937_64 rng(7);
  {
    using Block = dq::blocks::block_iq1_s;
    std::vector<uint8_t> src(65536 * 4 * sizeof(Block));
    for (auto &x : src) x = static_cast<uint8_t>(rng());
    for (size_t b = 0; b < src.size() / sizeof(Block); ++b) {
      uint8_t *blk = src.data() + b * sizeof(Block) + offsetof(Block, d);
      blk[0] = static_cast<uint8_t>(b);
      blk[1] = static_cast<uint8_t>(b >> 8);
    }
    std::string first;
    EXPECT_EQ(path16_mismatches<Out16::kBF16>(19, src, static_cast<int64_t>(src.size() / sizeof(Block)) * 256, &first), 0)
        << "iq1_s " << first;
  }
  {
    using Block = dq::blocks::block_iq1_m;  // d: the top nibbles of the 4 scale words
    std::vector<uint8_t> src(65536 * 4 * sizeof(Block));
    for (auto &x : src) x = static_cast<uint8_t>(rng());
    for (size_t b = 0; b < src.size() / sizeof(Block); ++b) {
      uint8_t *sc = src.data() + b * sizeof(Block) + offsetof(Block, scales);
      for (int w = 0; w < 4; ++w) sc[2 * w + 1] = static_cast<uint8_t>((sc[2 * w + 1] & 0x0f) | (((b >> (4 * w)) & 0xf) << 4));
    }
    std::string first;
    EXPECT_EQ(path16_mismatches<Out16::kBF16>(29, src, static_cast<int64_t>(src.size() / sizeof(Block)) * 256, &first), 0)
        << "iq1_m " << first;
  }
}

// The IQ2 bf16 table has entries only for grid bytes 8, 25 and 43 (codes 0, 1 and 3).
TEST(CudaDecodeHost, Iq2GridBytes) {
  auto check = [](const auto &grid) {
    for (uint64_t entry : grid)
      for (int i = 0; i < 8; ++i) {
        const uint8_t g = static_cast<uint8_t>(entry >> (8 * i));
        ASSERT_TRUE(g == 8 || g == 25 || g == 43) << "grid byte " << int{g};
      }
  };
  check(dq::grids::iq2xxs_grid);
  check(dq::grids::iq2xs_grid);
  check(dq::grids::iq2s_grid);
}

// IQ2 values depend on (grid byte, sign, f16 d, 4-bit sub-scale): every f16 bit pattern as
// d, each in 4 blocks of random bytes (grid indices, signs and sub-scales), per format.
TEST(CudaDecodeHost, Iq2BFloatPathWideSweep) {
  std::mt19937_64 rng(11);
  auto sweep = [&](int32_t type, size_t block_bytes, size_t d_offset) {
    std::vector<uint8_t> src(65536 * 4 * block_bytes);
    for (auto &x : src) x = static_cast<uint8_t>(rng());
    for (size_t b = 0; b < src.size() / block_bytes; ++b) {
      uint8_t *d = src.data() + b * block_bytes + d_offset;
      d[0] = static_cast<uint8_t>(b);
      d[1] = static_cast<uint8_t>(b >> 8);
    }
    std::string first;
    EXPECT_EQ(path16_mismatches<Out16::kBF16>(type, src, static_cast<int64_t>(src.size() / block_bytes) * 256, &first), 0)
        << dq::type_traits(type)->name << " " << first;
  };
  sweep(16, sizeof(dq::blocks::block_iq2_xxs), offsetof(dq::blocks::block_iq2_xxs, d));
  sweep(17, sizeof(dq::blocks::block_iq2_xs), offsetof(dq::blocks::block_iq2_xs, d));
  sweep(22, sizeof(dq::blocks::block_iq2_s), offsetof(dq::blocks::block_iq2_s, d));
}

TEST(CudaDecodeHost, MatchesEveryGoldenBitForBit) {
  DQ_REQUIRE_TESTDATA(dir);
  const auto rows = dq::test::golden_rows(dir);
  ASSERT_FALSE(rows.empty()) << "no tensor rows in " << (dir / "manifest.tsv");
  int checked = 0;
  std::set<int32_t> types_seen;
  for (const ManifestRow &r : rows) {
    const auto bytes = dq::test::read_tensor_bytes(dir, r);
    ASSERT_EQ(bytes.size(), r.nbytes) << r.file << " " << r.tensor;
    std::vector<float> got;
    if (!host_decode(r.type_id, bytes, r.n_elements, &got)) continue;  // float types
    const auto golden = dq::test::read_golden_f32(dir, r);
    ASSERT_EQ(golden.size(), got.size()) << r.golden;
    size_t first_bad = got.size();
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (std::memcmp(&got[i], &golden[i], 4) != 0) {
        if (first_bad == got.size()) first_bad = i;
        ++bad;
      }
    }
    if (bad) {
      const float want = golden[first_bad];
      ADD_FAILURE() << r.file << " " << r.tensor << " (" << dq::type_traits(r.type_id)->name
                    << "): " << bad << " of " << got.size() << " differ; first at " << first_bad
                    << ": got " << got[first_bad] << " want " << want;
    }
    ++checked;
    types_seen.insert(r.type_id);
  }
  // Every block format the plugin decodes must have been covered by some golden.
  for (int32_t id = 0; id < dq::kTypeCount; ++id) {
    bool is_block = dq::gpu::visit_block_format(id, [](auto) {});
    if (is_block) {
      EXPECT_TRUE(types_seen.count(id)) << "no golden covers type " << id;
    }
  }
  EXPECT_GT(checked, 26);
}

}  // namespace
