#include "testdata.hpp"

#include <exception>
#include <fstream>

#include "dq_common/manifest.hpp"

namespace dq::conformance {

namespace {

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
  if (!std::ifstream(dir + "/manifest.tsv")) {
    td.why_ = "test data not found: no " + dir + "/manifest.tsv";
    return td;
  }
  std::vector<dq::testdata::ManifestRow> rows;
  try {
    rows = dq::testdata::golden_rows(dir);
  } catch (const std::exception &e) {
    // Missing, or malformed: no oracle rather than a partial one.
    td.why_ = std::string("test data not usable: ") + e.what();
    return td;
  }
  for (const dq::testdata::ManifestRow &r : rows) {
    if (!is_type_file(r.file)) continue;
    GoldenTensor g;
    g.label = r.file + ":" + r.tensor;
    g.type = r.type_id;
    g.n_elements = r.n_elements;
    g.gguf_path = dir + "/" + r.file;
    g.file_offset = r.file_offset;
    g.nbytes = r.nbytes;
    g.golden_path = dir + "/" + r.golden;
    td.tensors_.push_back(std::move(g));
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
