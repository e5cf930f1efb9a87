#include "atomic_output.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "signal_cleanup.hpp"

namespace dq::tool {
namespace {

std::string folder_of(const std::string &path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool same_file(const struct stat &a, const struct stat &b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// The input that `target` is (same device and inode), or nullptr.
const std::string *input_matching(const struct stat &target,
                                  const std::vector<std::string> &inputs) {
  for (const std::string &in : inputs) {
    struct stat s {};
    if (::stat(in.c_str(), &s) == 0 && same_file(s, target)) return &in;
  }
  return nullptr;
}

// The path a chain of symbolic links starting at `path` ends at (`path` itself when it is no
// link), whether that file exists or not; false for a loop (more than 40 links).
bool final_target(std::string path, std::string *out) {
  for (int hops = 0; hops <= 40; ++hops) {
    struct stat s {};
    std::string link(PATH_MAX, '\0');
    const ssize_t n = ::lstat(path.c_str(), &s) == 0 && S_ISLNK(s.st_mode)
                          ? ::readlink(path.c_str(), link.data(), link.size())
                          : -1;
    if (n <= 0 || static_cast<size_t>(n) >= link.size()) {
      *out = path;
      return true;
    }
    link.resize(static_cast<size_t>(n));
    path = link.front() == '/' ? link : folder_of(path) + "/" + link;
  }
  return false;
}

// Blocks the cleanup signals while a temporary file exists but is not registered yet.
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalsHeld() { sigprocmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

mode_t default_file_mode() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

}  // namespace

std::string output_name(const std::string &path) {
  return path == "-" ? "standard output" : path;
}

AtomicOutput::~AtomicOutput() { discard(); }

bool AtomicOutput::fail(const std::string &problem, bool usage) {
  problem_ = problem;
  usage_error_ = usage;
  discard();
  return false;
}

void AtomicOutput::discard() {
  if (fd_ > STDERR_FILENO) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  forget_on_signal(signal_slot_);
  signal_slot_ = -1;
  temp_.clear();
}

bool AtomicOutput::open(const std::string &path, const std::vector<std::string> &inputs) {
  path_ = path;
  if (path.empty()) return fail("the output path is empty", true);
  if (path == "-") {
    struct stat out {};
    if (::fstat(STDOUT_FILENO, &out) == 0 && S_ISREG(out.st_mode))
      if (const std::string *in = input_matching(out, inputs))
        return fail("standard output is the input file " + *in + "; refusing to write over it",
                    true);
    std::fflush(stdout);  // anything printed before goes first
    fd_ = STDOUT_FILENO;
    return true;
  }
  // A symbolic link is written through, as "wb" would: the file it names is replaced (or
  // made), not the link, which a rename over it would turn into a regular file.
  if (!final_target(path, &target_))
    return fail(path + ": cannot open for writing: " + std::strerror(ELOOP));
  struct stat target {};
  const bool exists = ::stat(path.c_str(), &target) == 0;
  if (exists) {
    if (const std::string *in = input_matching(target, inputs))
      return fail(path + (*in == path ? ": is the input file" : ": is the input file " + *in) +
                      "; refusing to write over it (choose another --out)",
                  true);
    if (S_ISDIR(target.st_mode)) return fail(path + ": cannot open for writing: is a folder");
    if (!S_ISREG(target.st_mode)) {  // a device or a FIFO: written in place
      fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd_ < 0) return fail(path + ": cannot open for writing: " + std::strerror(errno));
      return true;
    }
  }
  const size_t slash = target_.find_last_of('/');
  const std::string name = slash == std::string::npos ? target_ : target_.substr(slash + 1);
  // The temporary name keeps within NAME_MAX: a long but legal target name must not fail.
  constexpr size_t kSuffix = sizeof(".dq-tmp-XXXXXX") - 1;
  std::string tmpl = (slash == std::string::npos ? std::string() : target_.substr(0, slash + 1)) +
                     name.substr(0, NAME_MAX - kSuffix) + ".dq-tmp-XXXXXX";
  {
    SignalsHeld held;
    fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd_ < 0) return fail(path + ": cannot open for writing: " + std::strerror(errno));
    temp_ = tmpl;
    signal_slot_ = remove_on_signal(temp_);
  }
  // mkstemp makes the file 0600; the output gets the mode "wb" would have given it.
  ::fchmod(fd_, exists ? (target.st_mode & 07777) : default_file_mode());
  return true;
}

bool AtomicOutput::write(const void *data, size_t bytes) {
  if (fd_ < 0) return fail(output_name(path_) + ": not open for writing");
  const char *p = static_cast<const char *>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      return fail(path_ == "-" ? std::string("cannot write to standard output: ") + std::strerror(err)
                               : path_ + ": write failed: " + std::strerror(err));
    }
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

bool AtomicOutput::commit() {
  if (fd_ < 0) return fail(output_name(path_) + ": not open for writing");
  if (temp_.empty()) {  // stdout or in place
    const int fd = fd_;
    fd_ = -1;
    if (fd > STDERR_FILENO && ::close(fd) != 0)
      return fail(path_ + ": write failed: " + std::strerror(errno));
    return true;
  }
  // Data on disk before the name points at it: after a crash the target is old or new,
  // never a file of the right name with missing blocks.
  if (::fsync(fd_) != 0) return fail(path_ + ": write failed: " + std::strerror(errno));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return fail(path_ + ": write failed: " + std::strerror(errno));
  if (::rename(temp_.c_str(), target_.c_str()) != 0)
    return fail(path_ + ": cannot replace it: " + std::strerror(errno));
  forget_on_signal(signal_slot_);
  signal_slot_ = -1;
  temp_.clear();
  // The rename itself made durable. The output is complete and in place either way, so a
  // folder that cannot be synced (some network file systems) is not an error.
  const int dir = ::open(folder_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return true;
}

}  // namespace dq::tool
