// A read-only memory mapping of a whole file (64-bit sizes: files over 4 GiB map whole).
#pragma once

#include <cstdint>
#include <string>

namespace dq::gguf {

class MappedFile {
 public:
  // Maps `path`; throws Error (DQ_ERR_IO) naming the path and the OS reason. An empty file
  // maps to size 0 with a null pointer (the parser then refuses it as truncated).
  explicit MappedFile(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const uint8_t *data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace dq::gguf
