// Reads testdata/manifest.tsv and a tensor's bytes straight from its GGUF file (by the
// recorded offset), so these tests depend on no GGUF reader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "testdata.hpp"

namespace dq::test {

struct GoldenRow {
  std::string file, tensor, type_name, golden;
  int32_t type_id = -1;
  int64_t n_elements = 0;
  uint64_t file_offset = 0, nbytes = 0;
};

// Rows that have a golden file (tensor-less files have none).
inline std::vector<GoldenRow> golden_rows(const std::filesystem::path &dir) {
  std::vector<GoldenRow> rows;
  std::ifstream in(dir / "manifest.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t')) f.push_back(field);
    if (f.size() < 11 || f[9].empty()) continue;
    GoldenRow r;
    r.file = f[0];
    r.tensor = f[1];
    r.type_name = f[2];
    r.type_id = std::stoi(f[3]);
    r.n_elements = std::stoll(f[5]);
    r.file_offset = std::stoull(f[6]);
    r.nbytes = std::stoull(f[7]);
    r.golden = f[9];
    rows.push_back(r);
  }
  return rows;
}

// The tensor's bytes; empty when the file is shorter than the manifest says.
inline std::vector<unsigned char> tensor_bytes(const std::filesystem::path &dir, const GoldenRow &r) {
  std::ifstream f(dir / r.file, std::ios::binary);
  std::vector<unsigned char> bytes(r.nbytes);
  f.seekg(static_cast<std::streamoff>(r.file_offset));
  if (!f.read(reinterpret_cast<char *>(bytes.data()), static_cast<std::streamsize>(r.nbytes)))
    return {};
  return bytes;
}

}  // namespace dq::test
