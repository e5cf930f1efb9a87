// Refusal checks (P8, P11): supports() says no to what the plugin cannot do, and dequantize
// refuses it with a status instead of guessing.
#include <string>
#include <vector>

#include "checks.hpp"
#include "dq_common/type_traits.hpp"
#include "expectations.hpp"

namespace dq::conformance {

namespace {

constexpr int32_t kOutputs[] = {DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16};

bool advertised(const PluginFacts &f, int32_t t, int32_t o) {
  for (const auto &p : f.pairs)
    if (p.first == t && p.second == o) return true;
  return false;
}

// supports() must be 0 for every id in `ids` and every output; with a device, dequantize of
// one 32-element block's worth of bytes must be refused too.
Outcome refuse_ids(Judge &j, const std::vector<int32_t> &ids, const char *kind) {
  const dq_plugin_api &a = j.api();
  for (int32_t t : ids)
    for (int32_t o : kOutputs)
      if (a.supports(t, o) != 0)
        return Outcome::fail("supports(" + std::to_string(t) + ", " + output_label(o) +
                             ") is not 0 for " + kind + " type id " + std::to_string(t));
  if (j.facts.device_count == 0)
    return Outcome::pass("supports() only; dequantize not called: " + j.facts.no_device_reason);
  for (int32_t t : ids) {
    const TypeTraits *tt = type_traits(t);
    const int64_t n = tt && tt->block_elements > 0 ? tt->block_elements : 32;
    const size_t bytes = tt && tt->block_bytes > 0 ? tt->block_bytes : 64;
    const Call c = valid_call(t, DQ_TYPE_F32, n, std::vector<uint8_t>(bytes, 0x11));
    const std::string e = expect_refused(a, c, {DQ_ERR_UNKNOWN_TYPE, DQ_ERR_UNSUPPORTED},
                                         std::string("dequantize of ") + kind + " type id " +
                                             std::to_string(t));
    if (!e.empty()) return Outcome::fail(e);
  }
  return Outcome::pass(std::to_string(ids.size()) + " ids refused");
}

}  // namespace

Outcome check_refuse_unknown_types(Judge &j, const CheckSpec &) {
  return refuse_ids(j, {-1, kTypeCount, kTypeCount + 1, 100, 156, 1000, INT32_MAX, INT32_MIN},
                    "unknown");
}

Outcome check_refuse_retired_types(Judge &j, const CheckSpec &) {
  std::vector<int32_t> ids;
  for (int32_t t = 0; t < kTypeCount; ++t)
    if (kTypeTable[t].retired) ids.push_back(t);
  return refuse_ids(j, ids, "retired");
}

Outcome check_refuse_not_dequantizable(Judge &j, const CheckSpec &) {
  std::vector<int32_t> ids;
  for (int32_t t = 0; t < kTypeCount; ++t)
    if (!kTypeTable[t].retired && !kTypeTable[t].dequantizable) ids.push_back(t);
  return refuse_ids(j, ids, "non-dequantizable");
}

Outcome check_refuse_bad_output_types(Judge &j, const CheckSpec &) {
  const dq_plugin_api &a = j.api();
  for (int32_t t = 0; t < kTypeCount; ++t)
    for (int32_t o : {-1, 2, 8, 15, 43, 99})
      if (a.supports(t, o) != 0)
        return Outcome::fail("supports(" + std::to_string(t) + ", " + std::to_string(o) +
                             ") is not 0, but only F32 (0), F16 (1) and BF16 (30) are outputs");
  return Outcome::pass();
}

Outcome check_refuse_unadvertised(Judge &j, const CheckSpec &) {
  int refused = 0;
  for (int32_t t = 0; t < kTypeCount; ++t) {
    const TypeTraits &tt = kTypeTable[t];
    if (tt.retired || !tt.dequantizable) continue;
    for (int32_t o : kOutputs) {
      if (advertised(j.facts, t, o)) continue;
      const Call c = valid_call(t, o, tt.block_elements, std::vector<uint8_t>(tt.block_bytes, 0));
      const std::string e = expect_refused(
          j.api(), c, {DQ_ERR_UNSUPPORTED, DQ_ERR_UNKNOWN_TYPE},
          "dequantize " + type_label(t) + " -> " + output_label(o) + " (not advertised)");
      if (!e.empty()) return Outcome::fail(e);
      ++refused;
    }
  }
  return Outcome::pass(refused ? std::to_string(refused) + " unadvertised pairs refused"
                               : "every pair is advertised");
}

}  // namespace dq::conformance
