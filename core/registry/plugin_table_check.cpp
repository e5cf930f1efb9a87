// Rules a plugin table must meet: ABI major, size, required entries, name, coherent groups.
#include "registry/plugin_table_check.hpp"

#include <utility>

namespace dq::core {
namespace {

std::string abi_text(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// Name of the first required entry that is NULL, or nullptr.
const char *missing_required(const dq_plugin_api &t) {
  if (!t.init) return "init";
  if (!t.shutdown) return "shutdown";
  if (!t.device_count) return "device_count";
  if (!t.device_props) return "device_props";
  if (!t.supports) return "supports";
  if (!t.dequantize) return "dequantize";
  if (!t.last_error) return "last_error";
  return nullptr;
}

// Device memory comes as a set: a plugin offering mem_alloc must offer the rest.
const char *incomplete_memory_group(const dq_plugin_api &t) {
  if (!t.mem_alloc) return nullptr;
  if (!t.mem_free) return "mem_free";
  if (!t.mem_copy) return "mem_copy";
  if (!t.synchronize) return "synchronize";
  return nullptr;
}

// Pinned memory, streams and events come as one group of nine (docs/PLUGINS.md P5), which
// only makes sense with device memory.
const char *incomplete_stream_group(const dq_plugin_api &t) {
  const std::pair<const char *, bool> group[] = {
      {"host_alloc_pinned", t.host_alloc_pinned != nullptr},
      {"host_free_pinned", t.host_free_pinned != nullptr},
      {"stream_create", t.stream_create != nullptr},
      {"stream_destroy", t.stream_destroy != nullptr},
      {"event_create", t.event_create != nullptr},
      {"event_destroy", t.event_destroy != nullptr},
      {"event_record", t.event_record != nullptr},
      {"event_synchronize", t.event_synchronize != nullptr},
      {"stream_wait_event", t.stream_wait_event != nullptr},
  };
  bool any = false;
  for (const auto &[name, present] : group) any = any || present;
  if (!any) return nullptr;
  for (const auto &[name, present] : group)
    if (!present) return name;
  return t.mem_alloc ? nullptr : "mem_alloc";
}

TableVerdict refuse(dq_status status, std::string reason) {
  return {status, std::move(reason)};
}

}  // namespace

TableVerdict check_plugin_table(const dq_plugin_api *api, const std::string &file,
                                const std::string &expected_name) {
  if (!api)
    return refuse(DQ_ERR_NO_BACKEND, file + ": entry returned no table (plugin refused core ABI " +
                                         abi_text(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR) + ")");
  if (api->abi_major != DQ_PLUGIN_ABI_MAJOR)
    return refuse(DQ_ERR_ABI, file + ": plugin ABI " + abi_text(api->abi_major, api->abi_minor) +
                                  ", core expects " + std::to_string(DQ_PLUGIN_ABI_MAJOR) + ".x");
  if (api->struct_size < kPluginApiRequiredSize)
    return refuse(DQ_ERR_ABI, file + ": plugin table is " + std::to_string(api->struct_size) +
                                  " bytes, ABI " + abi_text(DQ_PLUGIN_ABI_MAJOR, 0) + " needs " +
                                  std::to_string(kPluginApiRequiredSize));
  if (const char *field = missing_required(*api))
    return refuse(DQ_ERR_NO_BACKEND, file + ": required entry '" + field + "' is NULL");
  if (const char *field = incomplete_memory_group(*api))
    return refuse(DQ_ERR_NO_BACKEND, file + ": has mem_alloc but '" + field + "' is NULL");
  if (const char *field = incomplete_stream_group(*api))
    return refuse(DQ_ERR_NO_BACKEND, file + ": has streams/events but '" + field + "' is NULL");
  if (!api->name || expected_name != api->name)
    return refuse(DQ_ERR_NO_BACKEND, file + ": plugin calls itself '" +
                                         std::string(api->name ? api->name : "(null)") +
                                         "', file name says '" + expected_name + "'");
  return {};
}

}  // namespace dq::core
