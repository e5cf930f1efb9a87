// libltdl handling behind acquire_plugin / release_plugin (libltdl itself is not thread-safe,
// so every call into it happens under one mutex).
#include "registry/plugin_library.hpp"

#include <dlfcn.h>
#include <ltdl.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "registry/plugin_table_check.hpp"

namespace dq::core {
namespace {

struct Library {
  lt_dlhandle handle = nullptr;
  int refs = 0;
  bool ltdl_started = false;  // lt_dlinit succeeded: lt_dlexit is owed
  bool initialized = false;   // init() returned DQ_OK: shutdown() is owed
  Backend result;             // what every registry sees for this file
};

std::mutex g_mutex;
std::map<std::string, Library> g_libraries;  // by canonical path

std::string canonical(const std::string &path) {
  std::error_code ec;
  auto p = std::filesystem::canonical(path, ec);
  return ec ? path : p.string();
}

std::string file_part(const std::string &path) {
  return std::filesystem::path(path).filename().string();
}

std::string lt_error_text() {
  const char *e = lt_dlerror();
  return e ? e : "unknown libltdl error";
}

// libltdl opens lazily; a plugin with an unresolved function would then kill the process at
// its first call. Binding everything with RTLD_NOW first turns that into a load failure
// (docs/PLUGINS.md P1); libltdl's open then shares the already bound object, and the probe
// handle is closed once libltdl holds its own reference.
void *open_bound_now(const std::string &path, std::string *error) {
  void *probe = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!probe) {
    const char *e = dlerror();
    *error = e ? e : "dlopen failed";
  }
  return probe;
}

lt_dlhandle open_local(const std::string &path) {
  lt_dladvise advise;
  if (lt_dladvise_init(&advise) != 0) return nullptr;
  lt_dladvise_local(&advise);  // plugin symbols stay private to the plugin
  lt_dlhandle h = lt_dlopenadvise(path.c_str(), advise);
  lt_dladvise_destroy(&advise);
  return h;
}

void fail(Backend &b, BackendState state, dq_status status, std::string reason) {
  b.state = state;
  b.load_status = status;
  b.status = std::move(reason);
  b.api = nullptr;
}

const dq_plugin_api *handshake(Library &lib, Backend &b) {
  auto entry = reinterpret_cast<dq_plugin_entry_fn>(lt_dlsym(lib.handle, DQ_PLUGIN_ENTRY_SYMBOL));
  if (!entry) {
    fail(b, BackendState::failed, DQ_ERR_NO_BACKEND,
         file_part(b.path) + ": does not export " DQ_PLUGIN_ENTRY_SYMBOL);
    return nullptr;
  }
  const dq_plugin_api *api = entry(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR);
  if (api) b.abi_major = api->abi_major, b.abi_minor = api->abi_minor;
  TableVerdict verdict = check_plugin_table(api, file_part(b.path), b.name);
  if (verdict.status != DQ_OK) {
    fail(b, BackendState::refused, verdict.status, verdict.reason);
    return nullptr;
  }
  return api;
}

std::string safe(const char *(*fn)(void)) {
  const char *s = fn ? fn() : nullptr;
  return s ? s : "";
}

std::string device_name(const dq_plugin_api *api, int32_t device) {
  dq_plugin_device_props props{};
  props.struct_size = sizeof(props);
  if (api->device_props(device, &props) != DQ_OK) return "device " + std::to_string(device);
  props.name[sizeof(props.name) - 1] = '\0';
  return props.name;
}

void start(Library &lib, Backend &b, const dq_plugin_api *api) {
  int32_t rc = api->init();
  if (rc != DQ_OK) {
    fail(b, BackendState::failed, DQ_ERR_BACKEND,
         file_part(b.path) + ": init failed: " + safe(api->last_error));
    return;
  }
  lib.initialized = true;
  b.api = api;
  b.state = BackendState::loaded;
  b.load_status = DQ_OK;
  b.version = api->version ? api->version : "";
  b.description = safe(api->describe);
  b.device_count = api->device_count();
  if (b.device_count < 0) b.device_count = 0;
  b.has_device_memory = api->mem_alloc != nullptr;
  for (int32_t d = 0; d < b.device_count; ++d) b.device_names.push_back(device_name(api, d));
  b.status = b.device_count > 0 ? "" : safe(api->no_device_reason);
  if (b.device_count == 0 && b.status.empty()) b.status = "no device";
}

void open_library(Library &lib, Backend &b) {
  if (lt_dlinit() != 0) {
    fail(b, BackendState::failed, DQ_ERR_NO_BACKEND, "libltdl init failed: " + lt_error_text());
    return;
  }
  lib.ltdl_started = true;
  std::string error;
  void *probe = open_bound_now(b.path, &error);
  if (!probe) {
    fail(b, BackendState::failed, DQ_ERR_NO_BACKEND, file_part(b.path) + ": " + error);
    return;
  }
  lib.handle = open_local(b.path);
  dlclose(probe);
  if (!lib.handle) {
    fail(b, BackendState::failed, DQ_ERR_NO_BACKEND, file_part(b.path) + ": " + lt_error_text());
    return;
  }
  if (const dq_plugin_api *api = handshake(lib, b)) start(lib, b, api);
}

void log_result(const Backend &b, const Logger &log, bool shared) {
  const std::string how = shared ? " (already open in this process)" : "";
  if (b.loaded())
    log.info("loaded " + b.name + " " + b.version + " (ABI " + std::to_string(b.abi_major) + "." +
             std::to_string(b.abi_minor) + ", " + std::to_string(b.device_count) +
             " device(s)) from " + b.path + how);
  else
    log.warn(std::string(backend_state_name(b.state)) + " " + b.path + ": " + b.status + how);
}

}  // namespace

void acquire_plugin(Backend &b, const Logger &log) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const std::string key = canonical(b.path);
  Library &lib = g_libraries[key];
  const bool shared = lib.refs++ > 0;
  if (!shared) {
    lib.result = b;
    open_library(lib, lib.result);
  }
  const std::string name = b.name, path = b.path;
  b = lib.result;
  b.name = name, b.path = path, b.library_key = key;
  log_result(b, log, shared);
}

void release_plugin(const Backend &b) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_libraries.find(b.library_key);  // the key of acquire, even if the file moved
  if (it == g_libraries.end() || --it->second.refs > 0) return;
  Library &lib = it->second;
  if (lib.initialized) lib.result.api->shutdown();
  if (lib.handle) lt_dlclose(lib.handle);
  if (lib.ltdl_started) lt_dlexit();
  g_libraries.erase(it);
}

}  // namespace dq::core
