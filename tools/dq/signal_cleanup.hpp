// Temporary files that must not outlive the process: on SIGINT, SIGTERM or SIGHUP they are
// unlinked before the process dies of the signal (default action re-raised, so the parent
// still sees "killed by SIGTERM"). Normal exits remove them through their owners' destructors.
#pragma once

#include <string>

namespace dq::tool {

// Registers `path` (installs the handlers on first use). Returns a slot for
// forget_on_signal, or -1 when every slot is taken or the path is too long (the file is then
// only removed by its owner, never on a signal).
int remove_on_signal(const std::string &path);

// Stops removing the slot's path on a signal (the owner renamed or removed it). -1: no-op.
void forget_on_signal(int slot);

}  // namespace dq::tool
