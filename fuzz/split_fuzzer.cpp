// libFuzzer target: split-model discovery (core/gguf/split.cpp, model.cpp). The input names
// a file and gives the contents of the part files, which are written to a private temp
// folder; open_model then finds (or misses) the other parts by name and checks their keys.
// Also checks that a parsed split name prints back to itself.
//
// Input: byte 0: how many part files to write (1-4); then the file name up to '\n' (made a
// single path component); then the contents of part 1, 2, ... separated by kPartSeparator.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "gguf/split.hpp"
#include "model_walk.hpp"

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPartSeparator = "\nPART\n";
constexpr size_t kMaxNameBytes = 200;

fs::path g_dir;

void write_file(const fs::path &p, std::string_view bytes) {
  if (FILE *f = std::fopen(p.c_str(), "wb")) {
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
}

std::string file_name(std::string_view raw) {
  std::string name(raw.substr(0, kMaxNameBytes));
  for (char &c : name)
    if (c == '/' || c == '\0') c = '_';
  if (name.empty() || name == "." || name == "..") name = "x";
  return name;
}

void check_name_round_trip(const std::string &path) {
  const auto name = dq::gguf::parse_split_name(path);
  if (!name) return;
  if (dq::gguf::split_part_path(*name, name->number) != path) __builtin_trap();
  if (!dq::gguf::parse_split_name(dq::gguf::split_part_path(*name, 1))) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // scripts/fuzz-gguf.sh points TMPDIR into the build folder and empties it (a crash skips
  // the atexit cleanup).
  const char *base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/dq-split-fuzz-XXXXXX";
  if (!mkdtemp(tmpl.data())) __builtin_trap();
  g_dir = tmpl;
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(g_dir, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const size_t parts = data[0] % 4 + 1;
  std::string_view rest(reinterpret_cast<const char *>(data) + 1, size - 1);
  const size_t eol = rest.find('\n');
  const std::string path = (g_dir / file_name(rest.substr(0, eol))).string();
  rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
  check_name_round_trip(path);

  std::error_code ec;
  for (const auto &e : fs::directory_iterator(g_dir, ec)) fs::remove(e.path(), ec);
  // Part contents: the named file first, then the other parts the name implies.
  auto next_content = [&] {
    const size_t end = rest.find(kPartSeparator);
    std::string_view c = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + kPartSeparator.size());
    return c;
  };
  write_file(path, next_content());
  if (const auto name = dq::gguf::parse_split_name(path))
    for (uint32_t n = 1, written = 1; n <= name->count && written < parts; ++n)
      if (n != name->number) {
        write_file(dq::gguf::split_part_path(*name, n), next_content());
        ++written;
      }

  try {
    auto model = dq::gguf::open_model(path);
    if (model->parts.empty()) __builtin_trap();
    dq::fuzz::walk_model(*model);
  } catch (const dq::gguf::Error &e) {
    dq::fuzz::check_refusal(e);
  }
  return 0;
}
