// Self-contained search for plugin files. It mirrors the core's rules (docs/PLUGINS.md,
// "Where the core looks") but does not load anything: the suite must open each plugin in a
// child process of its own, which the core's registry, loading in-process, cannot do.
#include "discovery.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "plugin_loader.hpp"

#ifndef DQ_CONFORMANCE_BUILD_PLUGIN_DIR
#define DQ_CONFORMANCE_BUILD_PLUGIN_DIR ""
#endif
#ifndef DQ_CONFORMANCE_INSTALL_PLUGIN_SUBDIR
#define DQ_CONFORMANCE_INSTALL_PLUGIN_SUBDIR "lib/dq"
#endif

namespace fs = std::filesystem;

namespace dq::conformance {

namespace {

std::string executable_dir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.parent_path().string();
}

}  // namespace

std::vector<std::string> plugin_search_folders() {
  std::vector<std::string> folders;
  // Path variables are not trusted in set-uid/set-gid processes.
  const bool privileged = getuid() != geteuid() || getgid() != getegid();
  if (const char *env = std::getenv("DQ_PLUGIN_PATH"); env && *env && !privileged) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) folders.push_back(item);
  }
  if (*DQ_CONFORMANCE_BUILD_PLUGIN_DIR) folders.push_back(DQ_CONFORMANCE_BUILD_PLUGIN_DIR);
  if (const std::string dir = executable_dir(); !dir.empty())
    folders.push_back((fs::path(dir) / ".." / DQ_CONFORMANCE_INSTALL_PLUGIN_SUBDIR)
                          .lexically_normal()
                          .string());
  return folders;
}

std::vector<std::string> discover_plugins() {
  std::vector<std::string> found;
  std::set<std::string> names;
  for (const std::string &folder : plugin_search_folders()) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(folder, ec))
      if (!plugin_name_from_path(entry.path().string()).empty()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path &f : files)
      if (names.insert(plugin_name_from_path(f.string())).second) found.push_back(f.string());
  }
  return found;
}

std::string find_plugin(const std::string &name) {
  for (const std::string &path : discover_plugins())
    if (plugin_name_from_path(path) == name) return path;
  return "";
}

}  // namespace dq::conformance
