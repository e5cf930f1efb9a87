// Where the loader reads the model's tensor bytes: the descriptor each part of the model keeps
// open (gguf/mapped_file.hpp). Every copy and every CPU-route dequantization reads through it
// with pread(), not through the mapping, so a file truncated by another process while it is
// loaded gives DQ_ERR_IO naming the file instead of SIGBUS. Reading the page cache with pread()
// is as fast as copying from the mapping (docs/PERFORMANCE.md, Model loading).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dq/dq.h"
#include "gguf/mapped_file.hpp"

namespace dq::loader {

class FileSource {
 public:
  // The descriptors of `model`'s parts (borrowed: the model must outlive this). A model
  // parsed from memory has none; its bytes are copied from that memory.
  explicit FileSource(const dq_model *model);

  // Descriptor of part `split`, or -1 when its bytes come from memory.
  int fd(uint32_t split) const { return split < fds_.size() ? fds_[split] : -1; }
  const char *path(uint32_t split) const {
    return split < paths_.size() ? paths_[split].c_str() : "the model";
  }
  int open_count() const;

 private:
  std::vector<int> fds_;
  std::vector<std::string> paths_;
};

using dq::gguf::pread_exact;

}  // namespace dq::loader
