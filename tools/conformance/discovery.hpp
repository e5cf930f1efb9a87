// Which plugin files to judge when none are named: exactly those the core's registry finds
// (DQ_PLUGIN_PATH, then dq/ beside libdq-core, then the build tree), in its search order.
#pragma once

#include <string>
#include <vector>

namespace dq::conformance {

struct PluginList {
  std::vector<std::string> paths;  // one file per plugin name, in search order
  std::string searched;            // folders searched, for messages
  std::string warning;             // set when the registry could not be asked
};

// Asks the registry in a child process (the registry loads and initializes what it finds,
// which must not happen in this process: a plugin may crash, and a GPU runtime initialized
// before fork() is unusable in the children). Falls back to a search of the same folders.
PluginList discover_plugins();

}  // namespace dq::conformance
