// Checks a plugin's function table before the core calls anything in it.
#pragma once

#include <cstddef>
#include <string>

#include "dq/dq_plugin.h"

namespace dq::core {

// Bytes of dq_plugin_api at ABI 1.0: every field up to and including last_error.
inline constexpr size_t kPluginApiRequiredSize =
    offsetof(dq_plugin_api, last_error) + sizeof(dq_plugin_api::last_error);

struct TableVerdict {
  dq_status status = DQ_OK;  // DQ_OK, DQ_ERR_ABI or DQ_ERR_NO_BACKEND
  std::string reason;        // "" when fine; otherwise names the file and the problem
};

// `file` is the plugin's file name (for messages), `expected_name` the <name> of the file.
TableVerdict check_plugin_table(const dq_plugin_api *api, const std::string &file,
                                const std::string &expected_name);

}  // namespace dq::core
