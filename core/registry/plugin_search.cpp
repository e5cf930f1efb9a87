// Plugin discovery: the folder list of the search order and the plugin files in each folder.
#include "registry/plugin_search.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

#ifndef DQ_BUILD_PLUGIN_DIR
#define DQ_BUILD_PLUGIN_DIR ""
#endif
#ifndef DQ_PLUGIN_SUBDIR
#define DQ_PLUGIN_SUBDIR "dq"
#endif

namespace dq::core {
namespace {

// Canonical form used to spot the same folder reached twice (build tree == beside core).
std::string folder_key(const std::string &path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  return ec ? path : p.string();
}

bool holds_plugins(const std::string &folder) {
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(folder, ec))
    if (!plugin_name_from_filename(entry.path().filename().string()).empty()) return true;
  return false;
}

void add_folder(std::vector<SearchFolder> &out, std::vector<std::string> &keys,
                const std::string &path, const char *origin, const Logger &log) {
  if (path.empty()) return;
  const std::string key = folder_key(path);
  if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
    log.debug("search folder " + path + " (" + origin + ") already listed");
    return;
  }
  keys.push_back(key);
  out.push_back({path, origin});
}

}  // namespace

std::string folder_beside_core() {
  Dl_info info{};
  // Any function of libdq-core will do; this one is ours by definition.
  if (dladdr(reinterpret_cast<void *>(&folder_beside_core), &info) == 0 || !info.dli_fname)
    return {};
  fs::path lib(info.dli_fname);
  if (!lib.has_parent_path()) return {};
  return (lib.parent_path() / DQ_PLUGIN_SUBDIR).string();
}

std::vector<SearchFolder> plugin_search_folders(const Settings &settings, const Logger &log) {
  std::vector<SearchFolder> out;
  std::vector<std::string> keys;
  if (settings.plugin_path_ignored)
    log.warn("DQ_PLUGIN_PATH ignored: process runs with elevated privileges (AT_SECURE)");
  // Relative entries are taken from the working directory now, and shown absolute.
  for (const auto &p : settings.plugin_path) {
    std::error_code ec;
    const fs::path abs = fs::absolute(p, ec);
    add_folder(out, keys, ec ? p : abs.lexically_normal().string(), "DQ_PLUGIN_PATH", log);
  }
  const std::string beside = folder_beside_core();
  add_folder(out, keys, beside, "beside libdq-core", log);
  // Last resort: a core used from an unusual place (copied, or beside no plugin folder).
  if (beside.empty() || !holds_plugins(beside))
    add_folder(out, keys, DQ_BUILD_PLUGIN_DIR, "build tree", log);
  return out;
}

std::string plugin_name_from_filename(const std::string &filename) {
  static const std::string prefix = "libdq-", suffix = ".so";
  if (filename.size() <= prefix.size() + suffix.size()) return {};
  if (filename.compare(0, prefix.size(), prefix) != 0) return {};
  if (filename.compare(filename.size() - suffix.size(), suffix.size(), suffix) != 0) return {};
  return filename.substr(prefix.size(), filename.size() - prefix.size() - suffix.size());
}

std::vector<PluginFile> plugin_files_in(const SearchFolder &folder, const Logger &log) {
  std::vector<PluginFile> files;
  std::error_code ec;
  fs::directory_iterator it(folder.path, ec);
  if (ec) {
    log.debug("search " + folder.path + " (" + folder.origin + "): " + ec.message());
    return files;
  }
  log.debug("search " + folder.path + " (" + folder.origin + ")");
  for (const auto &entry : it) {
    const std::string name = plugin_name_from_filename(entry.path().filename().string());
    if (name.empty() || !entry.is_regular_file(ec)) continue;
    files.push_back({name, entry.path().string(), folder.origin});
  }
  std::sort(files.begin(), files.end(),
            [](const PluginFile &a, const PluginFile &b) { return a.name < b.name; });
  for (const auto &f : files) log.debug("found " + f.path);
  return files;
}

}  // namespace dq::core
