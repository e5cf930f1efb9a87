// The shared test data (../shared/testdata): tensors with ggml's golden f32 outputs, used as
// an oracle independent of any plugin. Located by DQ_TESTDATA, else --testdata, else the path
// baked in at configure time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dq::conformance {

struct GoldenTensor {
  std::string label;  // "all-types.gguf:t.q6_k"
  int32_t type;
  int64_t n_elements;
  std::string gguf_path;
  uint64_t file_offset;
  uint64_t nbytes;
  std::string golden_path;  // raw little-endian f32, n_elements values
};

class Testdata {
 public:
  // Reads manifest.tsv in `dir`; an empty or unusable dir gives an empty index with why().
  static Testdata open(const std::string &dir);

  bool present() const { return !dir_.empty(); }
  const std::string &dir() const { return dir_; }
  const std::string &why_absent() const { return why_; }
  // Golden tensors of one type (quantized "t." and random "r." tensors of the type files).
  std::vector<GoldenTensor> goldens_for(int32_t type) const;

 private:
  std::string dir_;
  std::string why_;
  std::vector<GoldenTensor> tensors_;
};

// Reads `bytes` bytes at `offset` of a file; false on a short read.
bool read_file_range(const std::string &path, uint64_t offset, uint64_t bytes,
                     std::vector<uint8_t> *out);

}  // namespace dq::conformance
