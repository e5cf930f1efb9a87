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

// Compares the plugin with the reference on random tensors of each block count.
Outcome against_reference(Judge &j, const CheckSpec &s, const std::vector<int64_t> &counts,
                          Memory memory) {
  if (!j.reference) return Outcome::skip(j.reference_note);
  const dq_plugin_api &ref = *j.reference->api;
  if (!ref.supports(s.src_type, s.dst_type))
    return Outcome::skip("the reference does not implement " + pair_text(s));
  const TypeTraits &t = *type_traits(s.src_type);
  Rng rng = rng_for(s.name, j.opts.seed);
  for (int64_t blocks : counts) {
    const int64_t n = blocks * t.block_elements;
    Call c = valid_call(s.src_type, s.dst_type, n, random_blocks(s.src_type, blocks, rng));
    const CallResult want = call_dequantize(ref, c);
    if (want.status != DQ_OK)
      return Outcome::skip("the reference failed on " + std::to_string(n) + " elements: " +
                           want.message);
    c.memory = memory;
    const std::string what = pair_text(s) + " of " + std::to_string(n) + " elements (" +
                             std::to_string(blocks) + " blocks)";
    const CallResult got = call_dequantize(j.api(), c);
    if (std::string e = expect_success(got, what); !e.empty()) return Outcome::fail(e);
    if (std::string e = compare_outputs(s.dst_type, got.out, want.out, n); !e.empty())
      return Outcome::fail(what + ": " + e);
  }
  std::string sizes;
  for (int64_t b : counts) sizes += (sizes.empty() ? "" : ", ") + std::to_string(b);
  return Outcome::pass("blocks: " + sizes);
}

}  // namespace

Outcome check_value_one_block(Judge &j, const CheckSpec &s) {
  return against_reference(j, s, {1}, Memory::host);
}

Outcome check_value_random_odd(Judge &j, const CheckSpec &s) {
  // Odd counts that are not multiples of 8 (256-element) or of any power of two beyond 1, so
  // a kernel that rounds work up to whole thread blocks or vectors is caught.
  return against_reference(j, s, {3, 37, 1031}, Memory::host);
}

Outcome check_value_large(Judge &j, const CheckSpec &s) {
  const int64_t block = type_traits(s.src_type)->block_elements;
  // At least --large-elements elements and one extra block, so the count is odd-sized.
  const int64_t blocks = (j.opts.large_elements + block - 1) / block + 1;
  return against_reference(j, s, {blocks}, Memory::host);
}

Outcome check_value_device_memory(Judge &j, const CheckSpec &s) {
  return against_reference(j, s, {1, 37}, Memory::device);
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
