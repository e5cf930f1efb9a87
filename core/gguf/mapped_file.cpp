// POSIX mmap of GGUF files.
#include "gguf/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gguf/error.hpp"

namespace dq::gguf {

MappedFile::MappedFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(DQ_ERR_IO, strf("cannot open: %s", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    fail(DQ_ERR_IO, strf("cannot stat: %s", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(DQ_ERR_IO, "not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    if (size_ > SIZE_MAX) {
      ::close(fd);
      fail(DQ_ERR_IO, "file too large to map on this platform");
    }
    // Shared, not private: nothing writes through it either way, and the loader's hybrid path
    // pins windows of it for DMA (cudaHostRegister), which stalled in the kernel for a private
    // file mapping on the H100 host (tests/loader/probe/register_probe.cu, 2026-11-26).
    void *p = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      fail(DQ_ERR_IO, strf("cannot map %llu bytes: %s", static_cast<unsigned long long>(size_),
                           std::strerror(err)));
    }
    data_ = static_cast<const uint8_t *>(p);
  }
  ::close(fd);  // the mapping keeps the file alive
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t *>(data_), static_cast<size_t>(size_));
}

}  // namespace dq::gguf
