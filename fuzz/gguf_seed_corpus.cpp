// Writes the fuzz seed corpora:
//   OUT_DIR/reader  generated valid GGUFs, the tests' damaged files, the test data files
//   OUT_DIR/recipe  one recipe per base model, plus a few with edits (gguf_recipe.hpp)
//   OUT_DIR/split   valid 2- and 3-part split models and near misses (split_fuzzer.cpp)
// Usage: gguf_seed_corpus OUT_DIR [TESTDATA_DIR]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "damaged_corpus.hpp"
#include "generated_models.hpp"

namespace fs = std::filesystem;
using dq::test::Bytes;

namespace {

int g_written = 0;

void write(const fs::path &dir, const std::string &name, const Bytes &b) {
  fs::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char *>(b.data()), static_cast<std::streamsize>(b.size()));
  ++g_written;
}

void reader_seeds(const fs::path &dir, const char *testdata) {
  for (const auto &[name, bytes] : dq::fuzz::generated_models()) write(dir, name + ".gguf", bytes);
  for (const auto &c : dq::test::damaged_cases()) write(dir, "damaged-" + c.name + ".gguf", c.bytes);
  std::error_code ec;
  if (testdata && fs::is_directory(testdata, ec))
    for (const auto &e : fs::directory_iterator(testdata))
      if (e.path().extension() == ".gguf") {
        fs::copy_file(e.path(), dir / ("testdata-" + e.path().filename().string()),
                      fs::copy_options::overwrite_existing);
        ++g_written;
      }
}

void recipe_seeds(const fs::path &dir) {
  // Recipe byte 0 picks the base (modulo their count): the bases as they are, then each
  // with one edit of every kind (kinds 0-5, operands zero or small).
  for (int base = 0; base < 32; ++base) {
    write(dir, "base-" + std::to_string(base), Bytes{static_cast<uint8_t>(base)});
    for (uint8_t kind = 0; kind < 6; ++kind)
      write(dir, "edit-" + std::to_string(base) + "-" + std::to_string(kind),
            Bytes{static_cast<uint8_t>(base), kind, 3, 0, 2, 7, 0, 0, 0, 0});
  }
}

Bytes split_input(uint8_t parts, std::string_view name, const std::vector<Bytes> &contents) {
  Bytes in{static_cast<uint8_t>(parts - 1)};
  in.insert(in.end(), name.begin(), name.end());
  in.push_back('\n');
  for (size_t i = 0; i < contents.size(); ++i) {
    if (i) {
      constexpr std::string_view sep = "\nPART\n";
      in.insert(in.end(), sep.begin(), sep.end());
    }
    in.insert(in.end(), contents[i].begin(), contents[i].end());
  }
  return in;
}

void split_seeds(const fs::path &dir) {
  using dq::fuzz::split_part;
  write(dir, "two-parts", split_input(2, "m-00001-of-00002.gguf", {split_part(0, 2), split_part(1, 2)}));
  write(dir, "three-parts",
        split_input(3, "m-00001-of-00003.gguf",
                    {split_part(0, 3), split_part(1, 3), split_part(2, 3)}));
  write(dir, "open-second",
        split_input(2, "m-00002-of-00002.gguf", {split_part(1, 2), split_part(0, 2)}));
  write(dir, "missing-part", split_input(1, "m-00001-of-00002.gguf", {split_part(0, 2)}));
  write(dir, "swapped-parts",
        split_input(2, "m-00001-of-00002.gguf", {split_part(1, 2), split_part(0, 2)}));
  write(dir, "wrong-name", split_input(1, "model.gguf", {split_part(0, 2)}));
  write(dir, "single", split_input(1, "m.gguf", {dq::fuzz::generated_models()[0].second}));
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [TESTDATA_DIR]\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
  reader_seeds(out / "reader", argc > 2 ? argv[2] : nullptr);
  recipe_seeds(out / "recipe");
  split_seeds(out / "split");
  std::printf("%d seed files in %s\n", g_written, out.c_str());
  return 0;
}
