// Opening a plugin file and reading its table, recording every step's failure instead of
// stopping, so the handshake checks can report exactly which step went wrong.
#pragma once

#include <string>

#include "dq/dq_plugin.h"

namespace dq::conformance {

struct LoadedPlugin {
  std::string path;
  void *handle = nullptr;                    // dlopen handle
  dq_plugin_entry_fn entry = nullptr;        // the exported entry symbol
  const dq_plugin_api *table = nullptr;      // what entry() returned (may be of another ABI)
  const dq_plugin_api *api = nullptr;        // == table when the ABI major matches
  std::string load_error;                    // dlopen's message
  std::string entry_error;                   // missing symbol
  std::string abi_error;                     // NULL table or other major, naming both versions
};

// "libdq-cpu.so" -> "cpu"; "" when the file name does not follow the pattern.
std::string plugin_name_from_path(const std::string &path);

// dlopen (RTLD_NOW | RTLD_LOCAL), dlsym DQ_PLUGIN_ENTRY_SYMBOL, call it with this build's ABI.
LoadedPlugin load_plugin(const std::string &path);

// Like load_plugin, but from a private copy of the file, so a second, independent instance
// can live beside an already loaded one (the dynamic linker shares one instance per file).
LoadedPlugin load_plugin_private_copy(const std::string &path);

// Closes the handle (after shutdown() when `call_shutdown` and the table is usable).
void unload_plugin(LoadedPlugin &plugin, bool call_shutdown);

}  // namespace dq::conformance
