// Where plugins are looked for, and which files in a folder are plugins.
#pragma once

#include <string>
#include <vector>

#include "registry/internal_api.hpp"
#include "registry/log.hpp"
#include "registry/settings.hpp"

namespace dq::core {

struct SearchFolder {
  std::string path;
  std::string origin;  // "DQ_PLUGIN_PATH", "beside libdq-core", "build tree"
};

struct PluginFile {
  std::string name;  // <name> of libdq-<name>.so
  std::string path;
  std::string folder_origin;
};

// Folder `dq/` beside the libdq-core.so that holds this code (via dladdr), or "" if unknown.
std::string folder_beside_core();

// Folders in search order: DQ_PLUGIN_PATH, then `dq/` beside libdq-core.so, then the build
// tree's plugin folder only when the one beside the core holds no plugin. Duplicates removed.
DQ_INTERNAL_API std::vector<SearchFolder> plugin_search_folders(const Settings &settings,
                                                                const Logger &log);

// Plugin files of one folder (regular files or links named libdq-<name>.so), sorted by name.
DQ_INTERNAL_API std::vector<PluginFile> plugin_files_in(const SearchFolder &folder,
                                                        const Logger &log);

// "<name>" for "libdq-<name>.so", "" for any other file name.
DQ_INTERNAL_API std::string plugin_name_from_filename(const std::string &filename);

}  // namespace dq::core
