// Runs the dq tool (${DQ_BUILD_DIR}/bin/dq) as a child process and captures its result.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef DQ_BUILD_DIR
#define DQ_BUILD_DIR ""
#endif

extern char **environ;

namespace dq::test {

struct ToolResult {
  bool exited = false;  // false: killed by a signal (a crash)
  int exit_code = -1;
  int signal = 0;
  std::string out, err;
};

inline std::filesystem::path dq_tool_path() {
  return std::filesystem::path(DQ_BUILD_DIR) / "bin" / "dq";
}

inline std::string slurp(const std::filesystem::path &p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The environment for the child, with sanitizer exit codes that cannot be mistaken for the
// tool's own exit status 1 (ASan and UBSan exit with 1 by default).
inline std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  bool asan = false, ubsan = false;
  for (char **e = environ; *e; ++e) {
    std::string v = *e;
    if (v.rfind("ASAN_OPTIONS=", 0) == 0) {
      v += ":exitcode=86";
      asan = true;
    } else if (v.rfind("UBSAN_OPTIONS=", 0) == 0) {
      v += ":exitcode=87";
      ubsan = true;
    }
    env.push_back(v);
  }
  if (!asan) env.push_back("ASAN_OPTIONS=exitcode=86");
  if (!ubsan) env.push_back("UBSAN_OPTIONS=exitcode=87");
  return env;
}

// Runs `dq args...` with stdout and stderr sent to files under `scratch`.
inline ToolResult run_dq(const std::vector<std::string> &args,
                         const std::filesystem::path &scratch) {
  const std::string tool = dq_tool_path().string();
  const std::string out_path = (scratch / "tool.out").string();
  const std::string err_path = (scratch / "tool.err").string();
  std::vector<std::string> argv_s = {tool};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char *> argv;
  for (auto &a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  ToolResult r;
  pid_t pid = 0;
  std::vector<std::string> env_s = child_environment();
  std::vector<char *> env;
  for (auto &e : env_s) env.push_back(e.data());
  env.push_back(nullptr);
  int rc = posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    r.err = "posix_spawn failed for " + tool;
    return r;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) {
    r.exited = true;
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

}  // namespace dq::test
