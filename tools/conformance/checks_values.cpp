// Value checks (P9, P10) of one advertised (type, output) pair: random blocks against the
// CPU reference, golden files against ggml's own outputs, in host and device memory.
#include <string>
#include <vector>

#include "checks.hpp"
#include "compare.hpp"
#include "dq_common/type_traits.hpp"
#include "expectations.hpp"
#include "random_input.hpp"

namespace dq::conformance {

namespace {

std::string pair_text(const CheckSpec &s) {
  return type_label(s.src_type) + " -> " + output_label(s.dst_type);
}

// (block count, host layout) of each call a check makes.
using Shape = std::pair<int64_t, int>;

std::vector<Shape> shapes_of(Judge &j, const CheckSpec &s) {
  const std::string &n = s.name;
  auto ends = [&](const char *tail) {
    const std::string t = tail;
    return n.size() >= t.size() && n.compare(n.size() - t.size(), t.size(), t) == 0;
  };
  if (ends("/one-block"))  // one block in every layout: cheap, and where alignment bites
    return {{1, 0}, {1, 1}, {1, 2}, {1, 3}};
  // Odd counts that are not multiples of 8 (256-element) or of any power of two beyond 1, so
  // a kernel that rounds work up to whole thread blocks or vectors is caught; once ending at a
  // guard page, once in the other layouts.
  if (ends("/random-odd")) return {{3, 0}, {37, 0}, {1031, 0}, {3, 1}, {37, 2}, {1031, 3}};
  if (ends("/large")) {
    // At least --large-elements elements and one extra block, so the count is odd-sized.
    const int64_t block = type_traits(s.src_type)->block_elements;
    return {{(j.opts.large_elements + block - 1) / block + 1, 0}};
  }
  return {{1, 0}, {37, 0}};  // device-memory
}

// Makes the check's calls and asks the reference; runs before the plugin under test loads.
void prepare_reference(Judge &j, const CheckSpec &s) {
  if (!j.reference || !j.reference->api->supports(s.src_type, s.dst_type)) return;
  const dq_plugin_api &ref = *j.reference->api;
  const TypeTraits &t = *type_traits(s.src_type);
  Rng rng = rng_for(s.name, j.opts.seed);
  std::vector<ReferenceCase> &cases = j.reference_cases[s.name];
  for (const auto &[blocks, layout] : shapes_of(j, s)) {
    ReferenceCase rc;
    rc.call = valid_call(s.src_type, s.dst_type, blocks * t.block_elements,
                         random_blocks(s.src_type, blocks, rng));
    const CallResult want = call_dequantize(ref, rc.call);
    rc.status = want.status;
    rc.message = want.message;
    rc.want = want.out;
    rc.layout = with_layout(rc.call, layout);
    cases.push_back(std::move(rc));
  }
}

// Compares the plugin with the reference cases prepared for this check.
Outcome against_reference(Judge &j, const CheckSpec &s, Memory memory) {
  if (!j.reference) return Outcome::skip(j.reference_note);
  if (!j.reference->api->supports(s.src_type, s.dst_type))
    return Outcome::skip("the reference does not implement " + pair_text(s));
  auto found = j.reference_cases.find(s.name);
  if (found == j.reference_cases.end()) {  // not prepared (no PrepareFn): make them now
    prepare_reference(j, s);
    found = j.reference_cases.find(s.name);
  }
  const std::vector<ReferenceCase> cases = std::move(found->second);
  j.reference_cases.erase(found);  // large tensors: free them as soon as they are used
  std::string sizes;
  for (const ReferenceCase &rc : cases) {
    const int64_t n = rc.call.n_elements;
    if (rc.status != DQ_OK)
      return Outcome::skip("the reference failed on " + std::to_string(n) + " elements: " +
                           rc.message);
    Call c = rc.call;
    c.memory = memory;
    const int64_t blocks = n / type_traits(s.src_type)->block_elements;
    std::string what = pair_text(s) + " of " + std::to_string(n) + " elements (" +
                       std::to_string(blocks) + " blocks";
    if (memory == Memory::host && rc.layout != "plain layout") what += "; " + rc.layout;
    what += ")";
    const CallResult got = call_dequantize(j.api(), c);
    if (std::string e = expect_success(got, what); !e.empty()) return Outcome::fail(e);
    if (std::string e = compare_outputs(s.dst_type, got.out, rc.want, n); !e.empty())
      return Outcome::fail(what + ": " + e);
    sizes += (sizes.empty() ? "" : ", ") + std::to_string(blocks);
  }
  return Outcome::pass("blocks: " + sizes);
}

}  // namespace

void prepare_value_reference(Judge &j, const CheckSpec &s) { prepare_reference(j, s); }

Outcome check_value_one_block(Judge &j, const CheckSpec &s) {
  return against_reference(j, s, Memory::host);
}

Outcome check_value_random_odd(Judge &j, const CheckSpec &s) {
  return against_reference(j, s, Memory::host);
}

Outcome check_value_large(Judge &j, const CheckSpec &s) {
  return against_reference(j, s, Memory::host);
}

Outcome check_value_device_memory(Judge &j, const CheckSpec &s) {
  return against_reference(j, s, Memory::device);
}

Outcome check_value_golden(Judge &j, const CheckSpec &s) {
  if (!j.testdata.present()) return Outcome::skip(j.testdata.why_absent());
  const std::vector<GoldenTensor> goldens = j.testdata.goldens_for(s.src_type);
  if (goldens.empty())
    return Outcome::skip("no golden file for " + type_label(s.src_type) + " in " +
                         j.testdata.dir());
  std::string used;
  for (const GoldenTensor &g : goldens) {
    std::vector<uint8_t> bytes, golden;
    if (!read_file_range(g.gguf_path, g.file_offset, g.nbytes, &bytes) ||
        !read_file_range(g.golden_path, 0, static_cast<uint64_t>(g.n_elements) * 4, &golden))
      return Outcome::fail("cannot read " + g.label + " or its golden file " + g.golden_path);
    const Call c = valid_call(s.src_type, s.dst_type, g.n_elements, std::move(bytes));
    const std::string what = pair_text(s) + " of " + g.label;
    const CallResult got = call_dequantize(j.api(), c);
    if (std::string e = expect_success(got, what); !e.empty()) return Outcome::fail(e);
    const std::vector<uint8_t> want = golden_as(s.dst_type, golden);
    if (std::string e = compare_outputs(s.dst_type, got.out, want, g.n_elements); !e.empty())
      return Outcome::fail(what + " vs ggml's golden output: " + e);
    used += (used.empty() ? "" : ", ") + g.label;
  }
  return Outcome::pass(used);
}

}  // namespace dq::conformance
