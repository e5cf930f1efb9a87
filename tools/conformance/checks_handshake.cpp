// Handshake checks (rules P1-P8, P15): run in the probe child, in order, before any other
// group is planned. handshake/supports sends the facts the plan needs.
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>

#include "checks.hpp"
#include "dq_common/type_traits.hpp"
#include "fp_environment.hpp"
#include "invoke.hpp"
#include "random_input.hpp"

namespace dq::conformance {

namespace {

const char *kRefused = "not checked: the table was refused (see handshake/abi-version)";
constexpr int kShutdownGraceMs = 300;  // >= the period of any sane housekeeping thread

// Size of the table of each minor this header knows: minor 0 ends before host_register,
// minor 1 before dequantize_batch, minor 2 (this header) is all of it. A newer minor only
// appends.
size_t table_size_of_minor(uint32_t minor) {
  return minor == 0   ? offsetof(dq_plugin_api, host_register)
         : minor == 1 ? offsetof(dq_plugin_api, dequantize_batch)
                      : sizeof(dq_plugin_api);
}

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
  const size_t size = j.api().struct_size, minor = j.api().abi_minor;
  const size_t base = table_size_of_minor(0);
  if (size < base)
    return Outcome::fail("struct_size " + std::to_string(size) + " is smaller than the " +
                         std::to_string(base) + " bytes of the ABI " +
                         std::to_string(DQ_PLUGIN_ABI_MAJOR) + ".0 table");
  // A minor this header knows has exactly its size; a newer one is at least ours.
  const size_t claimed = table_size_of_minor(static_cast<uint32_t>(minor));
  if (minor <= DQ_PLUGIN_ABI_MINOR && size != claimed)
    return Outcome::fail("struct_size " + std::to_string(size) + " but a minor " +
                         std::to_string(minor) + " table is " + std::to_string(claimed) +
                         " bytes (set it to sizeof(dq_plugin_api) of the headers you build with)");
  if (minor > DQ_PLUGIN_ABI_MINOR && size < sizeof(dq_plugin_api))
    return Outcome::fail("struct_size " + std::to_string(size) + " but a minor " +
                         std::to_string(minor) + " table has at least the " +
                         std::to_string(sizeof(dq_plugin_api)) + " bytes of minor " +
                         std::to_string(DQ_PLUGIN_ABI_MINOR));
  if (size > 65536)
    return Outcome::fail("struct_size " + std::to_string(size) + " is not plausible");
  return Outcome::pass(std::to_string(size) + " bytes (ABI " +
                       std::to_string(DQ_PLUGIN_ABI_MAJOR) + "." + std::to_string(minor) + ")");
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
  // ABI 1.1 entries: read only when the table is big enough to hold them (rule P3).
  if (a.struct_size >= offsetof(dq_plugin_api, host_unregister) + sizeof(void *)) {
    const int reg = (a.host_register != nullptr) + (a.host_unregister != nullptr);
    if (reg == 1)
      return Outcome::fail("host_register and host_unregister must be both set or both NULL");
  }
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
  // Indices outside 0..count-1 on both sides (a signed/unsigned mix-up accepts negatives).
  for (int32_t bad : {n, -1, INT32_MIN}) {
    dq_plugin_device_props props{};
    props.struct_size = sizeof props;
    const int32_t st = a.device_props(bad, &props);
    if (st == DQ_OK)
      return Outcome::fail("device_props(" + std::to_string(bad) + ") succeeded for a device "
                           "index outside 0.." + std::to_string(n - 1));
  }
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
    // ABI 1.2 entry: read only when the table is big enough to hold it (rule P3).
    const bool batch = a.struct_size >= offsetof(dq_plugin_api, dequantize_batch) + sizeof(void *) &&
                       a.dequantize_batch;
    s->fact("has_batch", batch ? "1" : "0");
    if (a.describe && a.describe()) s->fact("description", a.describe());
    s->fact("usable", "1");
  }
  if (!odd.empty()) return Outcome::fail(odd);
  if (f.pairs.empty()) return Outcome::fail("supports() is 0 for every type and output");
  return Outcome::pass(std::to_string(f.pairs.size()) + " pairs: " + pair_list(f));
}

// Loading the file, init() and the probe's calls (devices, last_error, supports, a failing
// dequantize) leave the floating-point control state as the process had it before the plugin
// was loaded. Later groups check it after every check, and around every dequantize call.
Outcome check_fp_environment(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  std::string error;
  ensure_init(j, &error);
  const uint64_t before = initial_fp_control(), now = read_fp_control();
  if (now == before) return Outcome::pass();
  write_fp_control(before);  // the remaining probe checks run as the host would
  return Outcome::fail("loading the plugin, init() or a probe call changed the floating-point "
                       "environment: " +
                       describe_fp_change(before, now));
}

Outcome check_shutdown(Judge &j, const CheckSpec &) {
  if (!j.plugin.api) return Outcome::skip(kRefused);
  if (!j.api().shutdown) return Outcome::skip("no shutdown");
  std::string error;
  ensure_init(j, &error);
  unload_plugin(j.plugin, true);  // shutdown(), then dlclose: neither may crash
  // A thread the plugin left running now executes unmapped code: live on a while so that it
  // wakes up and takes this check down with it, rather than dying with the process unseen.
  std::this_thread::sleep_for(std::chrono::milliseconds(kShutdownGraceMs));
  return Outcome::pass("alive " + std::to_string(kShutdownGraceMs) + " ms after unloading");
}

}  // namespace dq::conformance
