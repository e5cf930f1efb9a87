// Runs the dq tool as a child process the way the hardening tests need it: chosen arguments
// and environment, stdout to a file (or /dev/full), stderr captured, resource limits set in
// the child (RLIMIT_FSIZE for a "full disk", RLIMIT_AS for "little memory"), and a handle to
// signal it mid-run.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dq::test {

struct ToolChild {
  ToolChild() = default;
  ToolChild(std::vector<std::string> a, std::vector<std::pair<std::string, std::string>> e = {})
      : args(std::move(a)), env(std::move(e)) {}

  std::vector<std::string> args;                            // after the tool's path
  std::vector<std::pair<std::string, std::string>> env;     // set in the child
  std::string stdout_path = "/dev/null";                    // where stdout goes
  uint64_t file_size_limit = 0;                             // RLIMIT_FSIZE, 0: none
  uint64_t address_space_limit = 0;                         // RLIMIT_AS, 0: none
};

struct ToolResult {
  int exit_code = -1;  // -1 when ended by a signal
  int signal = 0;      // the signal that ended it, 0 when it exited
  std::string err;     // everything it wrote to stderr
};

class RunningTool {
 public:
  explicit RunningTool(const ToolChild &c) {
    int fds[2];
    if (pipe(fds) != 0) return;
    std::vector<std::string> argv_s{DQ_TOOL};
    argv_s.insert(argv_s.end(), c.args.begin(), c.args.end());
    std::vector<char *> argv;
    for (auto &a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      for (const char *v : {"DQ_BACKEND", "DQ_PLUGIN_PATH", "DQ_LOG", "DQ_GPU_MIN_BYTES"}) unsetenv(v);
      for (const auto &[k, v] : c.env) setenv(k.c_str(), v.c_str(), 1);
      const int out = open(c.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0) _exit(126);
      dup2(out, STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      // Ignored, SIGXFSZ stays ignored across exec: a write past the limit fails with EFBIG.
      signal(SIGXFSZ, SIG_IGN);
      if (c.file_size_limit) {
        const rlimit r{c.file_size_limit, c.file_size_limit};
        setrlimit(RLIMIT_FSIZE, &r);
      }
      if (c.address_space_limit) {
        const rlimit r{c.address_space_limit, c.address_space_limit};
        setrlimit(RLIMIT_AS, &r);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    err_fd_ = fds[0];
  }
  ~RunningTool() {
    if (pid_ > 0) {  // a failed test: SIGTERM lets dq remove its temporary files
      kill(pid_, SIGTERM);
      if (!wait_until_ended(5)) kill(pid_, SIGKILL);
      finish();
    }
    if (err_fd_ >= 0) close(err_fd_);
  }
  RunningTool(const RunningTool &) = delete;
  RunningTool &operator=(const RunningTool &) = delete;

  pid_t pid() const { return pid_; }
  // True while the child has not ended (reaps it when it has; finish() then reports it).
  bool running() {
    if (pid_ <= 0 || reaped_) return false;
    const pid_t r = waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) reaped_ = true;
    return r == 0;
  }
  bool wait_until_ended(double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (running()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  ToolResult finish() {
    ToolResult r;
    char buf[4096];
    ssize_t n;
    while (err_fd_ >= 0 && (n = read(err_fd_, buf, sizeof buf)) > 0) r.err.append(buf, n);
    if (pid_ > 0 && !reaped_) waitpid(pid_, &status_, 0);
    reaped_ = true;
    pid_ = -1;
    if (WIFEXITED(status_)) r.exit_code = WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) r.signal = WTERMSIG(status_);
    return r;
  }

 private:
  pid_t pid_ = -1;
  int err_fd_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

inline ToolResult run_tool(const ToolChild &c) {
  RunningTool t(c);
  return t.finish();
}

inline std::string file_text(const std::filesystem::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A fresh empty folder under the test temp dir, removed with its contents at scope end.
class ScratchFolder {
 public:
  ScratchFolder() {
    std::string t = (std::filesystem::temp_directory_path() / "dq-tools-test-XXXXXX").string();
    if (mkdtemp(t.data())) path_ = t;
  }
  ~ScratchFolder() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path &path() const { return path_; }
  std::filesystem::path operator/(const std::string &name) const { return path_ / name; }
  // Names in the folder that contain `part`.
  std::vector<std::string> names_with(const std::string &part) const {
    std::vector<std::string> out;
    for (const auto &e : std::filesystem::directory_iterator(path_))
      if (e.path().filename().string().find(part) != std::string::npos)
        out.push_back(e.path().filename().string());
    return out;
  }

 private:
  std::filesystem::path path_;
};

// Polls `pred` every millisecond until it is true or `seconds` pass.
template <class Pred>
bool wait_until(Pred pred, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

}  // namespace dq::test
