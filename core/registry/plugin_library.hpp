// Process-wide plugin handles. Several contexts share one loaded plugin: init() runs when the
// first registry opens it and shutdown() + lt_dlclose when the last registry lets it go, so
// one context's destruction never pulls code out from under another's work.
#pragma once

#include <string>

#include "registry/backend.hpp"
#include "registry/log.hpp"

namespace dq::core {

// Fills `b` (b.name and b.path set by the caller) from the plugin at b.path: opens it with
// libltdl, calls the entry with the core's ABI, checks the table, runs init() once per
// process. On failure b.state and b.status say why; the handle is still counted, so
// release_plugin must be called for every acquire_plugin.
void acquire_plugin(Backend &b, const Logger &log);

// Drops one reference; the last one calls shutdown() (if init succeeded) then lt_dlclose.
void release_plugin(const Backend &b);

}  // namespace dq::core
