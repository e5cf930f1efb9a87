// The numbered plugin rules of docs/PLUGINS.md that checks cite. Keep the numbers in step
// with the document: a rule's number never changes meaning once published.
#pragma once

namespace dq::conformance {

struct Rule {
  const char *id;     // "P7"
  const char *title;  // one line, as in docs/PLUGINS.md
};

inline constexpr Rule kRuleFile{"P1", "libdq-<name>.so exporting dq_plugin_entry"};
inline constexpr Rule kRuleAbi{"P2", "abi_major equals the host's DQ_PLUGIN_ABI_MAJOR"};
inline constexpr Rule kRuleStructSize{"P3", "struct_size is sizeof(dq_plugin_api) as built"};
inline constexpr Rule kRuleName{"P4", "name matches the file name; version is set"};
inline constexpr Rule kRuleFunctions{"P5", "required entries non-NULL; optional groups all or none"};
inline constexpr Rule kRuleInit{"P6", "init succeeds without a device; devices described"};
inline constexpr Rule kRuleErrors{"P7", "failures return a status and leave a message"};
inline constexpr Rule kRuleAdvertise{"P8", "supports() is truthful and only for known pairs"};
inline constexpr Rule kRuleExact{"P9", "outputs bit-identical to the reference"};
inline constexpr Rule kRuleBounds{"P10", "reads and writes stay inside the buffers"};
inline constexpr Rule kRuleRefuse{"P11", "unadvertised pairs refused with a status"};
inline constexpr Rule kRuleArgs{"P12", "bad arguments answered with status codes"};
inline constexpr Rule kRuleThreads{"P13", "safe to call from several threads at once"};
inline constexpr Rule kRuleMemory{"P14", "device memory calls balanced and checked"};
inline constexpr Rule kRuleShutdown{"P15", "shutdown releases everything; unloading is safe"};

}  // namespace dq::conformance
