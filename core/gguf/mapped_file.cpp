// POSIX mmap of GGUF files.
#include "gguf/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "gguf/error.hpp"

namespace dq::gguf {

namespace {

constexpr size_t kHugePage = 2u << 20;

// Large files are mapped at a 2 MiB-aligned address with MADV_HUGEPAGE, so that where the page
// cache holds the file in 2 MiB folios the kernel can map it 2 MiB at a time: far fewer page
// faults when a process first reads a multi-GB model, and fewer TLB misses while copying it.
// Elsewhere it is an ordinary mapping. MAP_FAILED when it cannot (the caller maps plainly).
void *map_huge_aligned(int fd, size_t size) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (size < 8 * kHugePage) return MAP_FAILED;
  // Reserve size + 2 MiB, then place the file at the first aligned address inside it.
  void *r = ::mmap(nullptr, size + kHugePage, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) return MAP_FAILED;
  const uintptr_t base = reinterpret_cast<uintptr_t>(r);
  const uintptr_t aligned = (base + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
  void *p =
      ::mmap(reinterpret_cast<void *>(aligned), size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    ::munmap(r, size + kHugePage);
    return MAP_FAILED;
  }
  // Give back the reservation around the file: the head before it, the tail after it.
  if (aligned > base) ::munmap(r, aligned - base);
  const uintptr_t end = aligned + size, rend = base + size + kHugePage;
  const uintptr_t end_page = (end + 4095) & ~uintptr_t{4095};
  if (rend > end_page) ::munmap(reinterpret_cast<void *>(end_page), rend - end_page);
  (void)::madvise(p, size, MADV_HUGEPAGE);  // advisory: an error changes nothing
  return p;
#else
  (void)fd;
  (void)size;
  return MAP_FAILED;
#endif
}

}  // namespace

int open_regular_file(const std::string &path, uint64_t *size) {
  // O_NONBLOCK: open() of a FIFO otherwise waits for a writer before fstat() can refuse it.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

std::string pread_exact(int fd, void *dst, uint64_t bytes, uint64_t offset) {
  auto *p = static_cast<uint8_t *>(dst);
  while (bytes > 0) {
    // Linux reads at most 0x7ffff000 bytes per call.
    const size_t want = static_cast<size_t>(std::min<uint64_t>(bytes, uint64_t{1} << 30));
    const ssize_t got = ::pread(fd, p, want, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return std::strerror(errno);
    }
    if (got == 0) return "the file ends early (truncated since it was opened?)";
    p += got, offset += static_cast<uint64_t>(got), bytes -= static_cast<uint64_t>(got);
  }
  return {};
}

MappedFile::MappedFile(const std::string &path) {
  fd_ = open_regular_file(path, &size_);
  if (size_ > 0) {
    if (size_ > SIZE_MAX) {
      ::close(fd_);
      fail(DQ_ERR_IO, "file too large to map on this platform");
    }
    // Shared, not private: nothing writes through it either way, and the loader's hybrid path
    // pins windows of it for DMA (cudaHostRegister), which stalled in the kernel for a private
    // file mapping on the H100 host (tests/loader/probe/register_probe.cu, 2026-11-26).
    void *p = map_huge_aligned(fd_, static_cast<size_t>(size_));
    if (p == MAP_FAILED)
      p = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd_);
      fail(DQ_ERR_IO, strf("cannot map %llu bytes: %s", static_cast<unsigned long long>(size_),
                           std::strerror(err)));
    }
    data_ = static_cast<const uint8_t *>(p);
  }
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t *>(data_), static_cast<size_t>(size_));
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace dq::gguf
