// The model's files opened for pread() (DQ_LOAD_COPY=pread): the staging copy then reads
// them with the kernel's copy from the page cache instead of through the mapping, which spares
// the copy threads the page faults and TLB misses of the mapping. On the H100 host it was not
// faster than copying from the mapping (docs/PERFORMANCE.md, Model loading), so it is an option.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dq/dq.h"

namespace dq::loader {

class FileSource {
 public:
  // Opens the file of every part of `model` that was mapped from one, and keeps it only when
  // it still holds the mapped bytes (same size, same first 64 KiB and last 4 KiB): a file
  // replaced on disk since the model was opened is read through the mapping, as before.
  explicit FileSource(const dq_model *model);
  ~FileSource();
  FileSource(const FileSource &) = delete;
  FileSource &operator=(const FileSource &) = delete;

  // Descriptor of part `split`, or -1 when its bytes must come from the mapping.
  int fd(uint32_t split) const { return split < fds_.size() ? fds_[split] : -1; }
  const char *path(uint32_t split) const {
    return split < paths_.size() ? paths_[split].c_str() : "the model";
  }
  int open_count() const;

 private:
  std::vector<int> fds_;
  std::vector<std::string> paths_;
};

// Reads exactly `bytes` at `offset` of `fd` into `dst` (retrying short reads and EINTR).
// Returns "" or the reason it failed (errno text, or "the file ends early").
std::string pread_exact(int fd, void *dst, uint64_t bytes, uint64_t offset);

}  // namespace dq::loader
