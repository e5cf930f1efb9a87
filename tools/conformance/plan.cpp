#include "plan.hpp"

#include <algorithm>
#include <cctype>

#include "checks.hpp"
#include "dq_common/type_traits.hpp"

namespace dq::conformance {

std::string type_label(int32_t type) {
  const TypeTraits *t = type_traits(type);
  if (!t) return "id " + std::to_string(type);
  std::string s = t->name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string output_label(int32_t type) {
  switch (type) {
    case DQ_TYPE_F32: return "f32";
    case DQ_TYPE_F16: return "f16";
    case DQ_TYPE_BF16: return "bf16";
    default: return "out " + std::to_string(type);
  }
}

bool argument_pair(const PluginFacts &facts, int32_t *src_type, int32_t *dst_type) {
  if (facts.pairs.empty()) return false;
  auto score = [](const std::pair<int32_t, int32_t> &p) {
    return (type_traits(p.first)->block_elements > 1 ? 2 : 0) + (p.second == DQ_TYPE_F32 ? 1 : 0);
  };
  auto best = facts.pairs.front();
  for (const auto &p : facts.pairs)
    if (score(p) > score(best)) best = p;
  *src_type = best.first;
  *dst_type = best.second;
  return true;
}

namespace {

CheckSpec spec(const std::string &name, const Rule &rule, CheckFn fn, bool needs_device) {
  CheckSpec s;
  s.name = name;
  s.rule = rule;
  s.fn = fn;
  s.needs_device = needs_device;
  return s;
}

void keep_filtered(Group &g, const Options &opts) {
  std::erase_if(g.checks, [&](const CheckSpec &s) { return !filter_accepts(opts, s.name); });
}

}  // namespace

Group plan_handshake(const std::string &plugin) {
  const std::string p = plugin + "/handshake/";
  Group g;
  g.label = "handshake";
  g.probe = true;
  g.checks = {
      spec(p + "load", kRuleFile, check_load, false),
      spec(p + "entry-symbol", kRuleFile, check_entry_symbol, false),
      spec(p + "abi-version", kRuleAbi, check_abi_version, false),
      spec(p + "struct-size", kRuleStructSize, check_struct_size, false),
      spec(p + "name", kRuleName, check_name, false),
      spec(p + "required-functions", kRuleFunctions, check_required_functions, false),
      spec(p + "optional-groups", kRuleFunctions, check_optional_groups, false),
      spec(p + "init", kRuleInit, check_init, false),
      spec(p + "devices", kRuleInit, check_devices, false),
      spec(p + "last-error", kRuleErrors, check_last_error, false),
      spec(p + "supports", kRuleAdvertise, check_supports_table, false),
      // After every probe call but shutdown: loading, init and the calls above all count.
      spec(p + "fp-environment", kRuleExact, check_fp_environment, false),
      spec(p + "shutdown", kRuleShutdown, check_shutdown, false),
  };
  return g;
}

std::vector<Group> plan_groups(const std::string &plugin, const PluginFacts &facts,
                               const Options &opts) {
  std::vector<Group> groups;

  // First in a fresh child: no call has failed yet when it asks last_error().
  Group errors{"errors", false, false, {}};
  errors.checks = {
      spec(plugin + "/errors/fresh", kRuleErrors, check_last_error_fresh, false),
      spec(plugin + "/errors/after-success", kRuleErrors, check_last_error_after_success, true),
  };
  groups.push_back(std::move(errors));

  Group refuse{"refusal", false, false, {}};
  const std::string r = plugin + "/refuse/";
  refuse.checks = {
      spec(r + "unknown-types", kRuleRefuse, check_refuse_unknown_types, false),
      spec(r + "retired-types", kRuleRefuse, check_refuse_retired_types, false),
      spec(r + "not-dequantizable", kRuleAdvertise, check_refuse_not_dequantizable, false),
      spec(r + "bad-output-types", kRuleAdvertise, check_refuse_bad_output_types, false),
      spec(r + "unadvertised", kRuleRefuse, check_refuse_unadvertised, true),
  };
  groups.push_back(std::move(refuse));

  Group args{"arguments", false, false, {}};
  const std::string a = plugin + "/args/";
  args.checks = {
      spec(a + "null-args", kRuleArgs, check_args_null_args, true),
      spec(a + "struct-size", kRuleArgs, check_args_struct_size, true),
      spec(a + "unknown-type", kRuleArgs, check_args_unknown_type, true),
      spec(a + "bad-output-type", kRuleArgs, check_args_bad_output_type, true),
      spec(a + "not-block-multiple", kRuleArgs, check_args_not_block_multiple, true),
      spec(a + "zero-elements", kRuleArgs, check_args_zero_elements, true),
      spec(a + "negative-elements", kRuleArgs, check_args_negative_elements, true),
      spec(a + "null-src", kRuleArgs, check_args_null_src, true),
      spec(a + "null-dst", kRuleArgs, check_args_null_dst, true),
      spec(a + "short-source", kRuleArgs, check_args_short_source, true),
      spec(a + "short-destination", kRuleArgs, check_args_short_destination, true),
      spec(a + "size-overflow", kRuleArgs, check_args_size_overflow, true),
      spec(a + "bad-device", kRuleArgs, check_args_bad_device, true),
  };
  if (!facts.has_mem)
    args.checks.push_back(spec(a + "device-memory-on-host-plugin", kRuleArgs,
                               check_args_device_memory_on_host_plugin, true));
  groups.push_back(std::move(args));

  // One group per source type (all its outputs), so a crash costs one check, not a type.
  for (size_t i = 0; i < facts.pairs.size();) {
    const int32_t t = facts.pairs[i].first;
    Group g{type_label(t), false, true, {}};
    for (; i < facts.pairs.size() && facts.pairs[i].first == t; ++i) {
      const int32_t o = facts.pairs[i].second;
      const std::string base = plugin + "/" + type_label(t) + "/" + output_label(o) + "/";
      auto add = [&](const char *c, CheckFn fn, bool reference) {
        CheckSpec s = spec(base + c, kRuleExact, fn, true);
        s.src_type = t;
        s.dst_type = o;
        s.needs_reference = reference;
        if (reference) s.prepare = prepare_value_reference;
        g.checks.push_back(std::move(s));
      };
      add("one-block", check_value_one_block, true);
      add("random-odd", check_value_random_odd, true);
      add("large", check_value_large, true);
      add("golden", check_value_golden, false);
      if (facts.has_mem) add("device-memory", check_value_device_memory, true);
    }
    groups.push_back(std::move(g));
  }

  Group threads{"threads", false, false, {}};
  threads.checks = {
      spec(plugin + "/threads/concurrent", kRuleThreads, check_threads_concurrent, true),
      spec(plugin + "/threads/error-isolation", kRuleThreads, check_threads_error_isolation,
           true),
  };
  groups.push_back(std::move(threads));

  if (facts.has_batch) {
    Group batch{"batch", false, false, {}};
    batch.checks = {
        spec(plugin + "/batch/identical", kRuleExact, check_batch_identical, true),
        spec(plugin + "/batch/refuse-bad", kRuleArgs, check_batch_refuse_bad, true),
    };
    groups.push_back(std::move(batch));
  }

  Group leaks{"leaks", false, false, {}};
  leaks.checks = {spec(plugin + "/leaks/dequantize", kRuleShutdown, check_leaks_dequantize, true)};
  groups.push_back(std::move(leaks));

  if (facts.has_mem) {
    Group mem{"memory", false, false, {}};
    const std::string m = plugin + "/memory/";
    mem.checks = {
        spec(m + "balance", kRuleMemory, check_memory_balance, true),
        spec(m + "copy-roundtrip", kRuleMemory, check_memory_copy_roundtrip, true),
        spec(m + "huge-alloc", kRuleMemory, check_memory_huge_alloc, true),
    };
    groups.push_back(std::move(mem));
  }

  for (Group &g : groups) keep_filtered(g, opts);
  std::erase_if(groups, [](const Group &g) { return g.checks.empty(); });
  return groups;
}

}  // namespace dq::conformance
