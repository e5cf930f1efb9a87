// A read-only memory mapping of a whole file (64-bit sizes: files over 4 GiB map whole), with
// the file's descriptor kept open for pread(). The mapping serves the parser at open time; tensor
// bytes are read with pread() on the descriptor, because a read through the mapping of a file
// that another process truncates raises SIGBUS, while pread() returns an error or a short read.
// The descriptor also pins the inode: a path replaced on disk meanwhile does not change what
// is read.
#pragma once

#include <cstdint>
#include <string>

namespace dq::gguf {

class MappedFile {
 public:
  // Opens and maps `path`; throws Error (DQ_ERR_IO) naming the OS reason (the caller adds the
  // path). Never blocks on a FIFO or device: anything but a regular file is refused as "not a
  // regular file". An empty file maps to size 0 with a null pointer (the parser then refuses it
  // as truncated).
  explicit MappedFile(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const uint8_t *data() const { return data_; }
  uint64_t size() const { return size_; }
  // Descriptor of the mapped file, open for reading until destruction.
  int fd() const { return fd_; }

 private:
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
  int fd_ = -1;
};

// Opens `path` read-only without blocking (a FIFO without a writer would block open() forever)
// and checks that it is a regular file; returns the descriptor (blocking mode restored) and its
// size. Throws Error(DQ_ERR_IO) with the OS reason or "not a regular file".
int open_regular_file(const std::string &path, uint64_t *size);

// Reads exactly `bytes` at `offset` of `fd` into `dst` (retrying short reads and EINTR).
// Returns "" or the reason it failed (errno text, or "the file ends early ...").
std::string pread_exact(int fd, void *dst, uint64_t bytes, uint64_t offset);

}  // namespace dq::gguf
