// dq_dequant_raw TYPE_ID IN OUT [f32|f16|bf16]: dequantizes the raw blocks in file IN (whole
// blocks of ggml type TYPE_ID, nothing else) through the cpu plugin's ABI and writes the
// little-endian outputs to OUT. DQ_CPU_ISA picks the kernel set, as for any plugin user.
// Used by scripts/gguf_crosscheck.py. Exit 0 ok, 1 failure, 2 usage.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cpu_plugin_loader.hpp"
#include "dq_common/type_traits.hpp"

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: %s TYPE_ID IN OUT [f32|f16|bf16]\n", argv[0]);
    return 2;
  }
  char *end = nullptr;
  const long type = std::strtol(argv[1], &end, 10);
  const std::string to = argc == 5 ? argv[4] : "f32";
  const int32_t out_type = to == "f32" ? 0 : to == "f16" ? 1 : to == "bf16" ? 30 : -1;
  const dq::TypeTraits *t = dq::type_traits(static_cast<int32_t>(type));
  if (*end != '\0' || out_type < 0 || !t || t->block_elements <= 0) {
    std::fprintf(stderr, "%s: bad type id '%s' or output '%s'\n", argv[0], argv[1], to.c_str());
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot open\n", argv[2]);
    return 1;
  }
  const std::vector<char> src{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (src.empty() || src.size() % t->block_bytes != 0) {
    std::fprintf(stderr, "%s: %zu bytes is not a whole number of %s blocks (%zu bytes)\n",
                 argv[2], src.size(), t->name, t->block_bytes);
    return 1;
  }
  const int64_t n = static_cast<int64_t>(src.size() / t->block_bytes) * t->block_elements;
  dq::test::LoadedPlugin p = dq::test::load_cpu_plugin(nullptr);  // keeps DQ_CPU_ISA as set
  if (!p.api) {
    std::fprintf(stderr, "cpu plugin: %s\n", p.error.c_str());
    return 1;
  }
  std::vector<char> dst(static_cast<size_t>(n) * dq::output_type_size(out_type));
  auto args = dq::test::host_args(t->id, out_type, src.data(), src.size(), n, dst.data(), dst.size());
  if (p.api->dequantize(&args) != DQ_OK) {
    std::fprintf(stderr, "%s: %s\n", argv[2], p.api->last_error());
    return 1;
  }
  std::ofstream out(argv[3], std::ios::binary);
  out.write(dst.data(), static_cast<std::streamsize>(dst.size()));
  if (!out) {
    std::fprintf(stderr, "%s: write failed\n", argv[3]);
    return 1;
  }
  return 0;
}
