// Model files opened for pread() (see file_source.hpp).
#include "loader/file_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gguf/model.hpp"

namespace dq::loader {

namespace {

// True when `fd` holds the bytes of `map` at the places a replaced file would differ first.
bool same_bytes(int fd, const dq::gguf::MappedFile &map) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != map.size() || map.size() == 0)
    return false;
  const uint64_t head = std::min<uint64_t>(map.size(), 64 << 10);
  const uint64_t tail = std::min<uint64_t>(map.size(), 4 << 10);
  std::vector<uint8_t> buf(head);
  if (!pread_exact(fd, buf.data(), head, 0).empty() ||
      std::memcmp(buf.data(), map.data(), head) != 0)
    return false;
  const uint64_t at = map.size() - tail;
  return pread_exact(fd, buf.data(), tail, at).empty() &&
         std::memcmp(buf.data(), map.data() + at, tail) == 0;
}

}  // namespace

std::string pread_exact(int fd, void *dst, uint64_t bytes, uint64_t offset) {
  auto *p = static_cast<uint8_t *>(dst);
  while (bytes > 0) {
    // Linux reads at most 0x7ffff000 bytes per call.
    const size_t want = static_cast<size_t>(std::min<uint64_t>(bytes, 1ull << 30));
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

FileSource::FileSource(const dq_model *model) {
  if (!model) return;
  for (const auto &part : model->parts) {
    int fd = -1;
    if (part->map) {
      fd = ::open(part->path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0 && !same_bytes(fd, *part->map)) {
        ::close(fd);
        fd = -1;
      }
    }
    fds_.push_back(fd);
    paths_.push_back(part->path);
  }
}

FileSource::~FileSource() {
  for (int fd : fds_)
    if (fd >= 0) ::close(fd);
}

int FileSource::open_count() const {
  return static_cast<int>(std::count_if(fds_.begin(), fds_.end(), [](int fd) { return fd >= 0; }));
}

}  // namespace dq::loader
