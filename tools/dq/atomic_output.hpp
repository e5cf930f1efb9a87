// An output file that is either complete or not there: the bytes go to a temporary file in
// the target's folder ("<name>.dq-tmp-XXXXXX"), which is fsynced and renamed over the target
// only on commit(). A failed write (disk full, file size limit), an early return or a
// SIGINT/SIGTERM removes the temporary file and leaves what was at the target untouched.
//
// "-" is standard output, written as is. An existing target that is not a regular file (a
// device such as /dev/null, a FIFO) is written in place: renaming over it would replace it.
// A symbolic link is written through: the file it names is replaced (made when missing), the
// link stays. A target that is one of the command's input files (same device and inode,
// whatever the path says) is refused before anything is written.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace dq::tool {

class AtomicOutput {
 public:
  AtomicOutput() = default;
  ~AtomicOutput();  // without commit(): removes the temporary file
  AtomicOutput(const AtomicOutput &) = delete;
  AtomicOutput &operator=(const AtomicOutput &) = delete;

  // Each returns false on failure, with problem() set to one line naming the path.
  bool open(const std::string &path, const std::vector<std::string> &inputs);
  bool write(const void *data, size_t bytes);
  bool commit();

  const std::string &problem() const { return problem_; }
  // The failure was the caller's choice of path (exit 2), not the system's (exit 1).
  bool usage_error() const { return usage_error_; }
  // Where the bytes go until commit() (empty for stdout and in-place targets).
  const std::string &temp_path() const { return temp_; }

 private:
  bool fail(const std::string &problem, bool usage = false);
  void discard();

  std::string path_, temp_, problem_;
  std::string target_;  // path_ with its symbolic links followed: what commit() replaces
  int fd_ = -1;
  int signal_slot_ = -1;
  bool usage_error_ = false;
};

// The name to use in messages for an output path ("standard output" for "-").
std::string output_name(const std::string &path);

}  // namespace dq::tool
