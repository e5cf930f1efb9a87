#include "testdata.hpp"

#include <fstream>
#include <sstream>

namespace dq::conformance {

namespace {

std::vector<std::string> split_tabs(const std::string &line) {
  std::vector<std::string> cols;
  std::stringstream ss(line);
  std::string col;
  while (std::getline(ss, col, '\t')) cols.push_back(col);
  return cols;
}

// Only files whose tensors exercise plain layouts: one tensor per type, real and random.
bool is_type_file(const std::string &file) {
  return file == "all-types.gguf" || file == "random-blocks.gguf" || file == "extra-types.gguf";
}

}  // namespace

Testdata Testdata::open(const std::string &dir) {
  Testdata td;
  if (dir.empty()) {
    td.why_ = "test data not found: set DQ_TESTDATA or pass --testdata";
    return td;
  }
  std::ifstream manifest(dir + "/manifest.tsv");
  if (!manifest) {
    td.why_ = "test data not found: no " + dir + "/manifest.tsv";
    return td;
  }
  std::string line;
  std::getline(manifest, line);  // header: file tensor type type_id ne n_elements ...
  while (std::getline(manifest, line)) {
    const std::vector<std::string> c = split_tabs(line);
    if (c.size() < 10 || c[9].empty() || !is_type_file(c[0])) continue;
    try {
      GoldenTensor g;
      g.label = c[0] + ":" + c[1];
      g.type = std::stoi(c[3]);
      g.n_elements = std::stoll(c[5]);
      g.gguf_path = dir + "/" + c[0];
      g.file_offset = std::stoull(c[6]);
      g.nbytes = std::stoull(c[7]);
      g.golden_path = dir + "/" + c[9];
      td.tensors_.push_back(std::move(g));
    } catch (const std::exception &) {
      continue;  // a malformed row is not an oracle
    }
  }
  td.dir_ = dir;
  return td;
}

std::vector<GoldenTensor> Testdata::goldens_for(int32_t type) const {
  std::vector<GoldenTensor> out;
  for (const GoldenTensor &g : tensors_)
    if (g.type == type) out.push_back(g);
  return out;
}

bool read_file_range(const std::string &path, uint64_t offset, uint64_t bytes,
                     std::vector<uint8_t> *out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  f.seekg(static_cast<std::streamoff>(offset));
  out->resize(bytes);
  f.read(reinterpret_cast<char *>(out->data()), static_cast<std::streamsize>(bytes));
  return static_cast<uint64_t>(f.gcount()) == bytes;
}

}  // namespace dq::conformance
