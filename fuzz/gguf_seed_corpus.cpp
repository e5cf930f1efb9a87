// Writes the fuzz seed corpus: generated valid GGUFs of various shapes and metadata, the
// damaged-file corpus of the tests, and (when a folder is given) the shared test data files.
// Usage: gguf_seed_corpus OUT_DIR [TESTDATA_DIR]
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "damaged_corpus.hpp"
#include "gguf_builder.hpp"

namespace fs = std::filesystem;
using namespace dq::test;

namespace {

int g_written = 0;

void write(const fs::path &dir, const std::string &name, const Bytes &b) {
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char *>(b.data()), static_cast<std::streamsize>(b.size()));
  ++g_written;
}

void valid_seeds(const fs::path &dir) {
  GgufBuilder small = small_model();
  write(dir, "valid-small.gguf", small.build());
  GgufBuilder v2 = small_model();
  v2.version = 2;
  write(dir, "valid-v2.gguf", v2.build());
  write(dir, "valid-empty.gguf", GgufBuilder().build());

  // One tensor per type with a layout, 1-D to 4-D.
  struct T { uint32_t id; uint64_t block; uint64_t bytes; };
  const T types[] = {{0, 1, 4},     {1, 1, 2},     {2, 32, 18},   {3, 32, 20},   {6, 32, 22},
                     {7, 32, 24},   {8, 32, 34},   {9, 32, 36},   {10, 256, 84}, {11, 256, 110},
                     {12, 256, 144}, {13, 256, 176}, {14, 256, 210}, {15, 256, 292},
                     {16, 256, 66}, {17, 256, 74},  {18, 256, 98},  {19, 256, 50}, {20, 32, 18},
                     {21, 256, 110}, {22, 256, 82}, {23, 256, 136}, {24, 1, 1},   {25, 1, 2},
                     {26, 1, 4},    {27, 1, 8},    {28, 1, 8},    {29, 256, 56}, {30, 1, 2},
                     {34, 256, 54}, {35, 256, 66}, {39, 32, 17},  {40, 64, 36},  {41, 128, 18},
                     {42, 64, 18}};
  GgufBuilder all;
  all.kv("general.architecture", kString, enc_string("fuzz"));
  int k = 0;
  for (const T &t : types) {
    std::vector<uint64_t> ne = {t.block};
    for (int d = 1; d <= k % 4; ++d) ne.push_back(static_cast<uint64_t>(d + 1));
    uint64_t n = 1;
    for (uint64_t e : ne) n *= e;
    all.tensor("t." + std::to_string(t.id), t.id, ne, n / t.block * t.bytes);
    ++k;
  }
  write(dir, "valid-all-types.gguf", all.build());

  // Metadata of every value type, nested arrays, alignment variants.
  GgufBuilder meta;
  meta.kv("u8", kU8, enc<uint8_t>(200)).kv("i8", kI8, enc<int8_t>(-100));
  meta.kv("u16", kU16, enc<uint16_t>(60000)).kv("i16", kI16, enc<int16_t>(-30000));
  meta.kv("u32", kU32, enc<uint32_t>(4000000000u)).kv("i32", kI32, enc<int32_t>(-2));
  meta.kv("f32", kF32, enc<float>(3.5f)).kv("bool", kBool, enc<uint8_t>(1));
  meta.kv("str", kString, enc_string("text\n\x01\xff"));
  meta.kv("u64", kU64, enc<uint64_t>(~0ull)).kv("i64", kI64, enc<int64_t>(-5));
  meta.kv("f64", kF64, enc<double>(1e300));
  meta.kv("arr.f32", kArray, enc_numbers<float>(kF32, {0.5f, -1.0f}));
  meta.kv("arr.empty", kArray, enc_array(kI32, 0, {}));
  Bytes strs;
  put_string(strs, "a");
  put_string(strs, "");
  meta.kv("arr.str", kArray, enc_array(kString, 2, strs));
  Bytes nested = enc_numbers<int32_t>(kI32, {1, 2});
  Bytes level2 = enc_array(kArray, 1, nested);
  meta.kv("arr.nested", kArray, enc_array(kArray, 1, level2));
  meta.kv("general.alignment", kU32, enc<uint32_t>(64));
  meta.alignment = 64;
  meta.tensor("x", 8, {32, 3}, 3 * 34);
  write(dir, "valid-metadata.gguf", meta.build());

  GgufBuilder split;
  split.kv("split.no", kU16, enc<uint16_t>(0)).kv("split.count", kU16, enc<uint16_t>(2));
  split.kv("split.tensors.count", kI32, enc<int32_t>(1));
  split.tensor("w", 0, {4}, 16);
  write(dir, "valid-split-keys.gguf", split.build());
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [TESTDATA_DIR]\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out);
  valid_seeds(out);
  for (const auto &c : damaged_cases()) write(out, "damaged-" + c.name + ".gguf", c.bytes);
  if (argc > 2 && fs::is_directory(argv[2]))
    for (const auto &e : fs::directory_iterator(argv[2]))
      if (e.path().extension() == ".gguf") {
        fs::copy_file(e.path(), out / ("testdata-" + e.path().filename().string()),
                      fs::copy_options::overwrite_existing);
        ++g_written;
      }
  std::printf("%d seed files in %s\n", g_written, out.c_str());
  return 0;
}
