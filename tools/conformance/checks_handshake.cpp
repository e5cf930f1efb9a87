// Handshake checks (rules P1-P8, P15): run in the probe child, in order, before any other
// group is planned. The last-but-one, handshake/supports, sends the facts the plan needs.
#include <cstring>
#include <string>

#include "checks.hpp"
#include "dq_common/type_traits.hpp"
#include "invoke.hpp"
#include "random_input.hpp"

namespace dq::conformance {

namespace {

const char *kRefused = "not checked: the table was refused (see handshake/abi-version)";

bool ensure_init(Judge &j, std::string *error) {
  if (j.init_called) return true;
  j.init_called = true;
  const int32_t st = j.api().init();
  if (st == DQ_OK) return true;
  const char *m = j.api().last_error ? j.api().last_error() : nullptr;
  *error = "init() returned " + status_text(st) + ": " + (m ? m : "<NULL>");
  return false;
}

std::string pair_list(const PluginFacts &f) {
  std::string text;
  int32_t last = -1;
  for (const auto &[t, o] : f.pairs) {
    text += t == last ? "," : std::string(text.empty() ? "" : " ") + type_label(t) + ":";
    text += output_label(o);
    last = t;
  }
  return text;
}

}  // namespace

Outcome check_load(Judge &j, const CheckSpec &) {
  if (!j.plugin.load_error.empty()) return Outcome::fail(j.plugin.load_error);
  return Outcome::pass();
}

Outcome check_entry_symbol(Judge &j, const CheckSpec &) {
  if (!j.plugin.handle) return Outcome::skip("not loaded (see handshake/load)");
  if (!j.plugin.entry_error.empty()) return Outcome::fail(j.plugin.entry_error);
  return Outcome::pass();
}

Outcome check_abi_version(Judge &j, const CheckSpec &) {
  if (!j.plugin.entry) return Outcome::skip("no entry symbol (see handshake/entry-symbol)");
  if (!j.plugin.abi_error.empty()) return Outcome::fail(j.plugin.abi_error);
  return Outcome::pass("plugin ABI " + std::to_string(j.api().abi_major) + "." +
                       std::to_string(j.api().abi_minor));
}

Outcome check_struct_size(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  const size_t size = j.api().struct_size, ours = sizeof(dq_plugin_api);
  // Minor 0 is this header; a newer minor may only append, so the table can only grow.
  if (size < ours)
    return Outcome::fail("struct_size " + std::to_string(size) + " is smaller than the " +
                         std::to_string(ours) + " bytes of the ABI " +
                         std::to_string(DQ_PLUGIN_ABI_MAJOR) + ".0 table");
  if (j.api().abi_minor <= DQ_PLUGIN_ABI_MINOR && size != ours)
    return Outcome::fail("struct_size " + std::to_string(size) + " but a minor " +
                         std::to_string(j.api().abi_minor) + " table is " +
                         std::to_string(ours) + " bytes (set it to sizeof(dq_plugin_api))");
  if (size > 65536)
    return Outcome::fail("struct_size " + std::to_string(size) + " is not plausible");
  return Outcome::pass(std::to_string(size) + " bytes");
}

Outcome check_name(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  const std::string expected = plugin_name_from_path(j.plugin_path);
  const char *name = j.api().name, *version = j.api().version;
  if (!name) return Outcome::fail("name is NULL; the file says \"" + expected + "\"");
  if (expected != name)
    return Outcome::fail(std::string("name \"") + name + "\" does not match the file name " +
                         "libdq-" + expected + ".so");
  if (!version || !*version) return Outcome::fail("version is NULL or empty");
  return Outcome::pass(std::string(name) + " " + version);
}

Outcome check_required_functions(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  const dq_plugin_api &a = j.api();
  const struct {
    const char *name;
    bool present;
  } required[] = {{"init", a.init != nullptr},
                  {"shutdown", a.shutdown != nullptr},
                  {"device_count", a.device_count != nullptr},
                  {"device_props", a.device_props != nullptr},
                  {"supports", a.supports != nullptr},
                  {"dequantize", a.dequantize != nullptr},
                  {"last_error", a.last_error != nullptr}};
  std::string missing;
  for (const auto &r : required)
    if (!r.present) missing += std::string(missing.empty() ? "" : ", ") + r.name;
  if (!missing.empty()) return Outcome::fail("required entries are NULL: " + missing);
  return Outcome::pass();
}

Outcome check_optional_groups(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  const dq_plugin_api &a = j.api();
  const int mem = (a.mem_alloc != nullptr) + (a.mem_free != nullptr) + (a.mem_copy != nullptr);
  if (mem != 0 && mem != 3)
    return Outcome::fail("mem_alloc, mem_free and mem_copy must be all set or all NULL");
  if (mem == 3 && !a.synchronize)
    return Outcome::fail("a plugin with device memory must provide synchronize");
  const int pipe = (a.host_alloc_pinned != nullptr) + (a.host_free_pinned != nullptr) +
                   (a.stream_create != nullptr) + (a.stream_destroy != nullptr) +
                   (a.event_create != nullptr) + (a.event_destroy != nullptr) +
                   (a.event_record != nullptr) + (a.event_synchronize != nullptr) +
                   (a.stream_wait_event != nullptr);
  if (pipe != 0 && pipe != 9)
    return Outcome::fail("pinned memory, stream and event entries must be all set or all NULL (" +
                         std::to_string(pipe) + " of 9 set)");
  if (pipe == 9 && mem == 0)
    return Outcome::fail("streams and events without device memory functions");
  return Outcome::pass(mem ? "device memory" : "host only");
}

Outcome check_init(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  if (!j.api().init) return Outcome::skip("no init (see handshake/required-functions)");
  std::string error;
  if (!ensure_init(j, &error)) return Outcome::fail(error);
  return Outcome::pass(j.api().describe && j.api().describe() ? j.api().describe() : "");
}

Outcome check_devices(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  const dq_plugin_api &a = j.api();
  if (!a.device_count || !a.device_props) return Outcome::skip("no device_count/device_props");
  std::string error;
  ensure_init(j, &error);
  const int32_t n = a.device_count();
  if (n < 0) return Outcome::fail("device_count() returned " + std::to_string(n));
  if (n == 0) {
    if (!a.no_device_reason) return Outcome::pass("no device (no_device_reason not provided)");
    const char *why = a.no_device_reason();
    if (!why || !*why)
      return Outcome::fail("device_count() is 0 but no_device_reason() gives no reason");
    return Outcome::pass(std::string("no device: ") + why);
  }
  std::string names;
  for (int32_t d = 0; d < n; ++d) {
    dq_plugin_device_props props{};
    props.struct_size = sizeof props;
    std::memset(props.name, 'x', sizeof props.name);
    const int32_t st = a.device_props(d, &props);
    if (st != DQ_OK)
      return Outcome::fail("device_props(" + std::to_string(d) + ") returned " +
                           status_text(st) + ": " + a.last_error());
    if (!std::memchr(props.name, 0, sizeof props.name))
      return Outcome::fail("device_props(" + std::to_string(d) + ") name is not NUL-terminated");
    names += std::string(names.empty() ? "" : ", ") + props.name;
  }
  dq_plugin_device_props props{};
  props.struct_size = sizeof props;
  const int32_t st = a.device_props(n, &props);
  if (st == DQ_OK)
    return Outcome::fail("device_props(" + std::to_string(n) + ") succeeded for a device index "
                         "past device_count()");
  return Outcome::pass(std::to_string(n) + " device(s): " + names);
}

Outcome check_last_error(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  const dq_plugin_api &a = j.api();
  if (!a.last_error || !a.dequantize) return Outcome::skip("no last_error/dequantize");
  std::string error;
  ensure_init(j, &error);
  if (!a.last_error()) return Outcome::fail("last_error() returned NULL before any failure");
  // Provoke a failure that every plugin must refuse: an unknown type id.
  Call c = valid_call(156, DQ_TYPE_F32, 32, std::vector<uint8_t>(64, 0));
  const CallResult r = call_dequantize(a, c);
  if (r.status == DQ_OK) return Outcome::fail("dequantize of unknown type id 156 returned DQ_OK");
  if (r.message == "<NULL>") return Outcome::fail("last_error() returned NULL after a failure");
  if (r.message.empty()) return Outcome::fail("last_error() is empty after a failure");
  return Outcome::pass("\"" + r.message + "\"");
}

Outcome check_supports_table(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  const dq_plugin_api &a = j.api();
  if (!a.supports || !a.dequantize || !a.device_count || !a.last_error)
    return Outcome::skip("required entries missing (see handshake/required-functions)");
  std::string error;
  ensure_init(j, &error);
  PluginFacts f;
  std::string odd;
  for (int32_t t = 0; t < kTypeCount; ++t)
    for (int32_t o : {DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16}) {
      const int32_t v = a.supports(t, o);
      if (v != 0 && v != 1 && odd.empty())
        odd = "supports(" + std::to_string(t) + ", " + std::to_string(o) + ") returned " +
              std::to_string(v) + ", not 0 or 1";
      if (v != 0) f.pairs.emplace_back(t, o);
    }
  const int32_t devices = a.device_count();
  if (FactSink *s = j.fact_sink) {
    for (const auto &[t, o] : f.pairs) s->fact("pair", std::to_string(t) + " " + std::to_string(o));
    s->fact("devices", std::to_string(devices));
    if (devices == 0) {
      const char *why = a.no_device_reason ? a.no_device_reason() : nullptr;
      s->fact("no_device_reason", why && *why ? why : "device_count() is 0");
    }
    s->fact("has_mem", a.mem_alloc && a.mem_free && a.mem_copy ? "1" : "0");
    s->fact("has_mem_in_use", a.mem_in_use ? "1" : "0");
    if (a.describe && a.describe()) s->fact("description", a.describe());
    s->fact("usable", "1");
  }
  if (!odd.empty()) return Outcome::fail(odd);
  if (f.pairs.empty()) return Outcome::fail("supports() is 0 for every type and output");
  return Outcome::pass(std::to_string(f.pairs.size()) + " pairs: " + pair_list(f));
}

Outcome check_shutdown(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  if (!j.api().shutdown) return Outcome::skip("no shutdown");
  std::string error;
  ensure_init(j, &error);
  unload_plugin(j.plugin, true);  // shutdown(), then dlclose: neither may crash
  return Outcome::pass();
}

}  // namespace dq::conformance
