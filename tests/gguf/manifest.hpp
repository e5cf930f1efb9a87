// Reading the per-tensor facts of the shared test data's manifest.tsv.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace dq::test {

struct ManifestTensor {
  std::string type;  // ggml name
  std::string name;
  int32_t type_id;
  std::vector<int64_t> ne;
  int64_t n_elements;
  uint64_t file_offset, nbytes;
};

inline std::vector<std::string> split_fields(const std::string &s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

// file -> tensors in manifest order (files without tensors map to an empty list).
inline std::map<std::string, std::vector<ManifestTensor>> read_manifest_tsv(
    const std::filesystem::path &dir) {
  std::map<std::string, std::vector<ManifestTensor>> out;
  std::ifstream f(dir / "manifest.tsv");
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    auto c = split_fields(line, '\t');
    if (c.size() < 8) continue;
    auto &list = out[c[0]];
    if (c[1].empty()) continue;
    ManifestTensor t;
    t.name = c[1];
    t.type = c[2];
    t.type_id = std::stoi(c[3]);
    for (auto &d : split_fields(c[4], ',')) t.ne.push_back(std::stoll(d));
    t.n_elements = std::stoll(c[5]);
    t.file_offset = std::stoull(c[6]);
    t.nbytes = std::stoull(c[7]);
    list.push_back(t);
  }
  return out;
}

}  // namespace dq::test
