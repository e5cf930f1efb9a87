#include "discovery.hpp"

#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "plugin_loader.hpp"
#include "protocol.hpp"
#include "registry/registry.hpp"

#ifndef DQ_CONFORMANCE_BUILD_PLUGIN_DIR
#define DQ_CONFORMANCE_BUILD_PLUGIN_DIR ""
#endif

namespace fs = std::filesystem;

namespace dq::conformance {

namespace {

// The registry's settings as the core reads them (settings_from_environment is internal to
// libdq-core); only the fields that decide the search matter here.
core::Settings search_settings() {
  core::Settings s;
  const char *path = std::getenv("DQ_PLUGIN_PATH");
  if (path && *path) {
    if (getauxval(AT_SECURE)) {
      s.plugin_path_ignored = true;  // path variables are not trusted in set-uid processes
    } else {
      std::stringstream ss(path);
      for (std::string item; std::getline(ss, item, ':');)
        if (!item.empty()) s.plugin_path.push_back(item);
    }
  }
  const std::string log = std::getenv("DQ_LOG") ? std::getenv("DQ_LOG") : "";
  s.log_level = log == "debug"  ? core::LogLevel::debug
                : log == "info" ? core::LogLevel::info
                : log == "warn" ? core::LogLevel::warn
                                : core::LogLevel::off;
  return s;
}

[[noreturn]] void registry_child(int fd) {
  dup2(STDERR_FILENO, STDOUT_FILENO);
  const core::Registry registry(search_settings());
  write_line(fd, {"S", registry.searched_text()});
  for (const core::Backend &b : registry.backends())
    if (b.state != core::BackendState::skipped) write_line(fd, {"P", b.path});
  _exit(0);  // no shutdown or unloading: this process only looked
}

// Fallback: the build tree's plugin folder and DQ_PLUGIN_PATH, without loading anything.
PluginList own_search() {
  PluginList list;
  std::vector<std::string> folders = search_settings().plugin_path;
  if (*DQ_CONFORMANCE_BUILD_PLUGIN_DIR) folders.push_back(DQ_CONFORMANCE_BUILD_PLUGIN_DIR);
  std::set<std::string> names;
  for (const std::string &folder : folders) {
    list.searched += (list.searched.empty() ? "" : ", ") + folder;
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(folder, ec))
      if (!plugin_name_from_path(entry.path().string()).empty()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path &f : files)
      if (names.insert(plugin_name_from_path(f.string())).second)
        list.paths.push_back(f.string());
  }
  return list;
}

}  // namespace

PluginList discover_plugins() {
  int fds[2];
  if (pipe(fds) != 0) return own_search();
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    registry_child(fds[1]);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return own_search();
  }
  std::string buffer;
  char chunk[4096];
  for (ssize_t n; (n = read(fds[0], chunk, sizeof chunk)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  PluginList list;
  for (const auto &f : take_lines(buffer)) {
    if (f[0] == "S" && f.size() >= 2) list.searched = f[1];
    if (f[0] == "P" && f.size() >= 2) list.paths.push_back(f[1]);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // A plugin crashed the registry while loading: search the same folders ourselves.
    PluginList fallback = own_search();
    fallback.warning = "the registry's search crashed while loading plugins; searched " +
                       fallback.searched + " directly";
    return fallback;
  }
  return list;
}

}  // namespace dq::conformance
