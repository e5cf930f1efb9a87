// Every tensor of the shared test data with a golden file, dequantized by the cuda plugin:
// f32 output bit-identical to ggml's golden, f16/bf16 equal to the golden rounded to
// nearest-even.
#include <fstream>
#include <sstream>

#include "device_fixture.hpp"
#include "dq_common/half.hpp"
#include "testdata.hpp"

namespace dq::test {
namespace {

struct GoldenRow {
  std::string file, tensor, golden;
  int32_t type_id = -1;
  int64_t n_elements = 0;
  uint64_t offset = 0, nbytes = 0;
};

std::vector<GoldenRow> golden_rows(const std::filesystem::path &dir) {
  std::ifstream in(dir / "manifest.tsv");
  std::string line;
  std::vector<std::string> header;
  std::vector<GoldenRow> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) cols.push_back(c);
    if (header.empty()) {
      header = cols;
      continue;
    }
    auto col = [&](const char *name) -> std::string {
      for (size_t i = 0; i < header.size() && i < cols.size(); ++i)
        if (header[i] == name) return cols[i];
      return {};
    };
    GoldenRow r{col("file"), col("tensor"), col("golden")};
    if (r.tensor.empty() || r.golden.empty() || col("type_id").empty()) continue;
    r.type_id = std::stoi(col("type_id"));
    r.n_elements = std::stoll(col("n_elements"));
    r.offset = std::stoull(col("file_offset"));
    r.nbytes = std::stoull(col("nbytes"));
    rows.push_back(r);
  }
  return rows;
}

std::vector<uint8_t> read_range(const std::filesystem::path &p, uint64_t off, uint64_t n) {
  std::ifstream f(p, std::ios::binary);
  std::vector<uint8_t> out(n);
  f.seekg(static_cast<std::streamoff>(off));
  f.read(reinterpret_cast<char *>(out.data()), static_cast<std::streamsize>(n));
  if (static_cast<uint64_t>(f.gcount()) != n) out.clear();
  return out;
}

// The golden f32 values rounded to the output type.
std::vector<uint8_t> expected_from_golden(const std::vector<uint8_t> &golden, int32_t out) {
  if (out == 0) return golden;
  std::vector<uint8_t> e(golden.size() / 2);
  for (size_t i = 0; i < golden.size() / 4; ++i) {
    float f;
    std::memcpy(&f, golden.data() + 4 * i, 4);
    const uint16_t h = out == 1 ? dq::f32_to_f16(f) : dq::f32_to_bf16(f);
    std::memcpy(e.data() + 2 * i, &h, 2);
  }
  return e;
}

TEST_F(CudaDevice, MatchesEveryGoldenFile) {
  DQ_REQUIRE_TESTDATA(dir);
  const auto rows = golden_rows(dir);
  ASSERT_FALSE(rows.empty());
  int checked = 0;
  for (const GoldenRow &r : rows) {
    if (!cuda->supports(r.type_id, 0)) continue;
    const auto src = read_range(dir / r.file, r.offset, r.nbytes);
    ASSERT_EQ(src.size(), r.nbytes) << r.file << " " << r.tensor;
    const auto golden = dq::test::read_file(dir / r.golden);
    ASSERT_EQ(golden.size(), static_cast<size_t>(r.n_elements) * 4) << r.golden;
    DeviceBuffer dsrc(cuda, src.size());
    ASSERT_NE(dsrc.get(), nullptr) << dsrc.error();
    ASSERT_EQ(cuda->mem_copy(0, dsrc.get(), src.data(), src.size(), DQ_COPY_HOST_TO_DEVICE, nullptr), DQ_OK);
    for (int32_t out : {0, 1, 30}) {
      const size_t out_bytes = static_cast<size_t>(r.n_elements) * dq::output_type_size(out);
      DeviceBuffer ddst(cuda, out_bytes);
      ASSERT_NE(ddst.get(), nullptr) << ddst.error();
      dq_plugin_dequantize_args a =
          make_args(r.type_id, out, dsrc.get(), src.size(), r.n_elements, ddst.get(), out_bytes);
      ASSERT_EQ(cuda->dequantize(&a), DQ_OK) << cuda->last_error();
      std::vector<uint8_t> got(out_bytes);
      ASSERT_EQ(cuda->mem_copy(0, got.data(), ddst.get(), out_bytes, DQ_COPY_DEVICE_TO_HOST, nullptr), DQ_OK);
      EXPECT_EQ(compare_outputs(got, expected_from_golden(golden, out), out), "")
          << r.file << " " << r.tensor << " -> " << (out == 0 ? "f32" : out == 1 ? "f16" : "bf16");
      ++checked;
    }
  }
  EXPECT_GE(checked, 3 * 29) << "expected every type of all-types, random-blocks and extra-types";
}

}  // namespace
}  // namespace dq::test
