// Which checks exist for a plugin, in which groups, with which names and rules.
#pragma once

#include <string>
#include <vector>

#include "check.hpp"

namespace dq::conformance {

// The handshake probe: always run in full (the filter only hides its results), since every
// other group is planned from the facts it sends.
Group plan_handshake(const std::string &plugin);

// The remaining groups for a plugin whose handshake succeeded, filtered by --filter.
std::vector<Group> plan_groups(const std::string &plugin, const PluginFacts &facts,
                               const Options &opts);

}  // namespace dq::conformance
