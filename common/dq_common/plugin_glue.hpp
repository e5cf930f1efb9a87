// What every plugin's ABI table does alike: the handshake fields, each entry filled from the
// plugin's own functions by the entry's name, and dq_plugin_entry's major-version check.
// Header-only; each plugin still defines (and exports) its own dq_plugin_entry.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dq/dq_plugin.h"

namespace dq::plugin_glue {

template <class>
inline constexpr bool kMissingRequiredEntry = false;

// The table of a plugin whose entries are the static members of `Entries`, each named as its
// field of dq_plugin_api (`static int32_t init();`, `static constexpr auto supports = f;`). A
// field with no such member is filled by `Entries::forward<&dq_plugin_api::field, offset>`
// when the class has that member template (the hip loader forwards to its device half), else
// left null: an entry the plugin does not offer. The entries every plugin has must be there.
template <class Entries>
dq_plugin_api make_api(const char *name, const char *version) {
  dq_plugin_api api{};
  api.abi_major = DQ_PLUGIN_ABI_MAJOR;
  api.abi_minor = DQ_PLUGIN_ABI_MINOR;
  api.struct_size = sizeof(dq_plugin_api);
  api.name = name;
  api.version = version;
#define DQ_PLUGIN_GLUE_FORWARD(field) \
  Entries::template forward<&dq_plugin_api::field, offsetof(dq_plugin_api, field)>
#define DQ_PLUGIN_GLUE_SET(field, required)                       \
  if constexpr (requires { Entries::field; })                     \
    api.field = Entries::field;                                   \
  else if constexpr (requires { DQ_PLUGIN_GLUE_FORWARD(field); }) \
    api.field = DQ_PLUGIN_GLUE_FORWARD(field);                    \
  else                                                            \
    static_assert(!required || kMissingRequiredEntry<Entries>,    \
                  "plugin entry " #field " is missing");
  DQ_PLUGIN_GLUE_SET(describe, true)
  DQ_PLUGIN_GLUE_SET(init, true)
  DQ_PLUGIN_GLUE_SET(shutdown, true)
  DQ_PLUGIN_GLUE_SET(device_count, true)
  DQ_PLUGIN_GLUE_SET(no_device_reason, true)
  DQ_PLUGIN_GLUE_SET(device_props, true)
  DQ_PLUGIN_GLUE_SET(supports, true)
  DQ_PLUGIN_GLUE_SET(dequantize, true)
  DQ_PLUGIN_GLUE_SET(mem_alloc, false)
  DQ_PLUGIN_GLUE_SET(mem_free, false)
  DQ_PLUGIN_GLUE_SET(mem_copy, false)
  DQ_PLUGIN_GLUE_SET(mem_in_use, false)
  DQ_PLUGIN_GLUE_SET(synchronize, false)
  DQ_PLUGIN_GLUE_SET(host_alloc_pinned, false)
  DQ_PLUGIN_GLUE_SET(host_free_pinned, false)
  DQ_PLUGIN_GLUE_SET(stream_create, false)
  DQ_PLUGIN_GLUE_SET(stream_destroy, false)
  DQ_PLUGIN_GLUE_SET(event_create, false)
  DQ_PLUGIN_GLUE_SET(event_destroy, false)
  DQ_PLUGIN_GLUE_SET(event_record, false)
  DQ_PLUGIN_GLUE_SET(event_synchronize, false)
  DQ_PLUGIN_GLUE_SET(stream_wait_event, false)
  DQ_PLUGIN_GLUE_SET(event_elapsed_ms, false)
  DQ_PLUGIN_GLUE_SET(last_error, true)
  DQ_PLUGIN_GLUE_SET(host_register, false)
  DQ_PLUGIN_GLUE_SET(host_unregister, false)
  DQ_PLUGIN_GLUE_SET(dequantize_batch, false)
#undef DQ_PLUGIN_GLUE_SET
#undef DQ_PLUGIN_GLUE_FORWARD
  // An entry appended to dq_plugin_api (a minor version) needs its line above, or every
  // plugin would leave it null without a word.
  static_assert(offsetof(dq_plugin_api, dequantize_batch) + sizeof(api.dequantize_batch) ==
                    sizeof(dq_plugin_api),
                "dq_plugin_api gained an entry: add it to make_api's list");
  return api;
}

// dq_plugin_entry's answer: the table for a host of the same major ABI version, else null.
inline const dq_plugin_api *entry(const dq_plugin_api &api, uint32_t host_abi_major) {
  return host_abi_major == DQ_PLUGIN_ABI_MAJOR ? &api : nullptr;
}

}  // namespace dq::plugin_glue
