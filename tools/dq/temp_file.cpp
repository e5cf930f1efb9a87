#include "temp_file.hpp"

#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "byte_text.hpp"
#include "signal_cleanup.hpp"

namespace dq::tool {

TempFile TempFile::create(const std::string &stem, const std::string &suffix,
                          uint64_t will_hold) {
  const std::filesystem::path folder = std::filesystem::temp_directory_path();
  struct statvfs fs {};
  if (will_hold > 0 && ::statvfs(folder.c_str(), &fs) == 0 &&
      static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < will_hold)
    throw std::runtime_error("a " + human_bytes(will_hold) + " temporary file does not fit in " +
                             folder.string() + " (" +
                             human_bytes(static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize) +
                             " free; TMPDIR chooses the folder)");
  std::string tmpl = (folder / (stem + "-XXXXXX" + suffix)).string();
  TempFile t;
  // No signal between the file's creation and its registration.
  sigset_t cleanup_signals, old;
  sigemptyset(&cleanup_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&cleanup_signals, sig);
  sigprocmask(SIG_BLOCK, &cleanup_signals, &old);
  const int fd = mkstemps(tmpl.data(), static_cast<int>(suffix.size()));
  const int err = errno;
  if (fd >= 0) {
    close(fd);
    t.path_ = tmpl;
    t.signal_slot_ = remove_on_signal(t.path_);
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);
  if (fd < 0)
    throw std::runtime_error("cannot create a temporary file in " + folder.string() + ": " +
                             std::strerror(err));
  return t;
}

TempFile::TempFile(TempFile &&o) noexcept : path_(std::move(o.path_)), signal_slot_(o.signal_slot_) {
  o.path_.clear();
  o.signal_slot_ = -1;
}

TempFile &TempFile::operator=(TempFile &&o) noexcept {
  if (this != &o) {
    remove();
    path_ = std::move(o.path_);
    signal_slot_ = o.signal_slot_;
    o.path_.clear();
    o.signal_slot_ = -1;
  }
  return *this;
}

TempFile::~TempFile() { remove(); }

void TempFile::remove() {
  if (!path_.empty()) ::unlink(path_.c_str());
  forget_on_signal(signal_slot_);
  signal_slot_ = -1;
  path_.clear();
}

}  // namespace dq::tool
