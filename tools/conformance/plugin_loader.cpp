#include "plugin_loader.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace dq::conformance {

std::string plugin_name_from_path(const std::string &path) {
  const std::string file = std::filesystem::path(path).filename().string();
  const std::string prefix = "libdq-", suffix = ".so";
  if (file.size() <= prefix.size() + suffix.size() || file.rfind(prefix, 0) != 0 ||
      file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
    return "";
  return file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
}

namespace {

std::string version_text(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

LoadedPlugin open_as(const std::string &reported_path, const std::string &open_path) {
  LoadedPlugin p;
  p.path = reported_path;
  const std::string file = std::filesystem::path(reported_path).filename().string();
  dlerror();
  p.handle = dlopen(open_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!p.handle) {
    const char *e = dlerror();
    p.load_error = reported_path + ": " + (e ? e : "dlopen failed");
    return p;
  }
  dlerror();
  void *sym = dlsym(p.handle, DQ_PLUGIN_ENTRY_SYMBOL);
  if (!sym) {
    p.entry_error = file + ": no exported symbol " DQ_PLUGIN_ENTRY_SYMBOL;
    return p;
  }
  p.entry = reinterpret_cast<dq_plugin_entry_fn>(sym);
  p.table = p.entry(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR);
  const std::string ours = version_text(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR);
  if (!p.table) {
    p.abi_error = file + ": " DQ_PLUGIN_ENTRY_SYMBOL "(" + ours +
                  ") returned NULL: the plugin refused this host's plugin ABI " + ours;
  } else if (p.table->abi_major != DQ_PLUGIN_ABI_MAJOR) {
    p.abi_error = file + ": built for plugin ABI " +
                  version_text(p.table->abi_major, p.table->abi_minor) +
                  ", this host speaks plugin ABI " + ours + " (major versions differ)";
  } else {
    p.api = p.table;
  }
  return p;
}

// Copies `path` into a fresh private file; "" on failure.
std::string private_copy(const std::string &path) {
  const char *tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/dq-conformance-ref-XXXXXX.so";
  int out = mkstemps(templ.data(), 3);
  if (out < 0) return "";
  int in = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  bool ok = in >= 0 && fstat(in, &st) == 0;
  off_t done = 0;
  while (ok && done < st.st_size) {
    ssize_t n = sendfile(out, in, &done, static_cast<size_t>(st.st_size - done));
    if (n <= 0) ok = false;
  }
  if (in >= 0) close(in);
  close(out);
  if (!ok) {
    unlink(templ.c_str());
    return "";
  }
  return templ;
}

}  // namespace

LoadedPlugin load_plugin(const std::string &path) { return open_as(path, path); }

LoadedPlugin load_plugin_private_copy(const std::string &path) {
  const std::string copy = private_copy(path);
  if (copy.empty()) {
    LoadedPlugin p;
    p.path = path;
    p.load_error = path + ": cannot make a private copy in $TMPDIR";
    return p;
  }
  LoadedPlugin p = open_as(path, copy);
  unlink(copy.c_str());  // the mapping stays valid; nothing is left behind
  return p;
}

void unload_plugin(LoadedPlugin &plugin, bool call_shutdown) {
  if (call_shutdown && plugin.api && plugin.api->shutdown) plugin.api->shutdown();
  if (plugin.handle) dlclose(plugin.handle);
  plugin = LoadedPlugin{};
}

}  // namespace dq::conformance
