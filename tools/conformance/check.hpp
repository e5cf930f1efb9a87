// What a check is, what it produces, and the per-process state checks run against.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "invoke.hpp"
#include "options.hpp"
#include "plugin_loader.hpp"
#include "rules.hpp"
#include "testdata.hpp"

namespace dq::conformance {

enum class Verdict { pass, fail, skip };

const char *verdict_name(Verdict v);  // "PASS", "FAIL", "SKIP"

struct Outcome {
  Verdict verdict = Verdict::pass;
  std::string message;
  static Outcome pass(std::string m = {}) { return {Verdict::pass, std::move(m)}; }
  static Outcome fail(std::string m) { return {Verdict::fail, std::move(m)}; }
  static Outcome skip(std::string m) { return {Verdict::skip, std::move(m)}; }
};

// What the handshake probe learned about a plugin; later groups are planned from it.
struct PluginFacts {
  bool loaded = false;        // dlopen and entry symbol worked
  bool table_usable = false;  // entry returned a table of our ABI major
  std::string name;           // table's name
  std::string description;
  int32_t device_count = 0;
  std::string no_device_reason;
  bool has_mem = false;         // mem_alloc, mem_free, mem_copy present
  bool has_mem_in_use = false;
  bool has_batch = false;       // dequantize_batch present (table of ABI 1.2 or later)
  std::vector<std::pair<int32_t, int32_t>> pairs;  // advertised (src_type, dst_type)
};

struct Judge;
struct CheckSpec;
using CheckFn = Outcome (*)(Judge &, const CheckSpec &);
// Work a check does before the plugin under test is loaded (reference outputs).
using PrepareFn = void (*)(Judge &, const CheckSpec &);

struct CheckSpec {
  std::string name;  // "cpu/Q6_K/f16/random-odd"
  Rule rule;
  CheckFn fn = nullptr;
  PrepareFn prepare = nullptr;  // run in the child before the plugin loads, when set
  int32_t src_type = -1;  // for per-pair checks
  int32_t dst_type = -1;
  bool needs_device = false;     // skipped (with the plugin's reason) when device_count is 0
  bool needs_reference = false;  // skipped when no reference plugin is available
};

// A set of checks run in one child process (re-forked past a check that crashes).
struct Group {
  std::string label;
  bool probe = false;            // handshake probe: loads but does not call init()
  bool needs_reference = false;  // load the CPU reference in the child first
  std::vector<CheckSpec> checks;
};

// Sends facts from the probe child to the parent (set only in the probe).
class FactSink {
 public:
  virtual ~FactSink() = default;
  virtual void fact(const std::string &key, const std::string &value) = 0;
};

// A call and the reference's answer to it, computed before the plugin under test was loaded,
// so nothing the plugin does to the process (its floating-point mode, say) can change it.
struct ReferenceCase {
  Call call;
  std::string layout;           // with_layout()'s words
  int32_t status = DQ_OK;       // the reference's status
  std::string message;          // and its message when it failed
  std::vector<uint8_t> want;    // the reference's output
};

// State of one child process: the plugin under test, the reference, the test data.
struct Judge {
  const Options &opts;
  const Testdata &testdata;
  const PluginFacts &facts;  // from the probe (empty while probing)
  std::string plugin_path;
  LoadedPlugin plugin;
  std::optional<LoadedPlugin> reference;
  std::string reference_note;  // why there is no reference, when there is none
  FactSink *fact_sink = nullptr;
  bool init_called = false;
  // By check name: the reference cases PrepareFns made before the plugin was loaded.
  std::map<std::string, std::vector<ReferenceCase>> reference_cases;

  const dq_plugin_api &api() const { return *plugin.api; }
  // Device index the checks use (0), and whether the plugin works on device memory.
  int32_t device() const { return 0; }
};

}  // namespace dq::conformance
