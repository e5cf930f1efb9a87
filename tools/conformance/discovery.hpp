// Which plugin files to judge when none are named: the same places the core searches
// (DQ_PLUGIN_PATH, then the build's lib/dq, then <prefix>/lib/dq beside this program).
#pragma once

#include <string>
#include <vector>

namespace dq::conformance {

// Folders searched, in order (existing or not), for messages.
std::vector<std::string> plugin_search_folders();

// libdq-*.so files found, first occurrence of each plugin name wins, in search order.
std::vector<std::string> discover_plugins();

// Path of the plugin called `name` ("cpu"), or "" when none is found.
std::string find_plugin(const std::string &name);

}  // namespace dq::conformance
