// Device memory checks (P14): allocations balance, copies round-trip, impossible requests
// fail cleanly. Planned only for plugins with mem functions and a device.
#include <cstring>
#include <string>
#include <vector>

#include "checks.hpp"
#include "dq_common/type_traits.hpp"
#include "invoke.hpp"
#include "random_input.hpp"

namespace dq::conformance {

namespace {

struct Usage {
  uint64_t allocations = 0, bytes = 0;
};

bool usage(const dq_plugin_api &a, int32_t device, Usage *u, std::string *error) {
  const int32_t st = a.mem_in_use(device, &u->allocations, &u->bytes);
  if (st != DQ_OK) *error = "mem_in_use returned " + status_text(st) + ": " + a.last_error();
  return st == DQ_OK;
}

std::string usage_text(const Usage &u) {
  return std::to_string(u.allocations) + " allocations / " + std::to_string(u.bytes) + " bytes";
}

}  // namespace

Outcome check_memory_balance(Judge &j, const CheckSpec &s) {
  const dq_plugin_api &a = j.api();
  if (!a.mem_in_use) return Outcome::skip("plugin has no mem_in_use (optional)");
  const int32_t dev = j.device();
  std::string error;
  Usage before, during, after;
  if (!usage(a, dev, &before, &error)) return Outcome::fail(error);
  const size_t sizes[] = {1, 4096, size_t{1} << 20, 12345};
  std::vector<void *> ptrs;
  for (size_t bytes : sizes) {
    void *p = nullptr;
    const int32_t st = a.mem_alloc(dev, bytes, &p);
    if (st != DQ_OK || !p)
      return Outcome::fail("mem_alloc(" + std::to_string(bytes) + ") returned " +
                           status_text(st) + ": " + a.last_error());
    ptrs.push_back(p);
  }
  if (!usage(a, dev, &during, &error)) return Outcome::fail(error);
  if (during.allocations != before.allocations + ptrs.size())
    return Outcome::fail("mem_in_use counts " + usage_text(during) + " after " +
                         std::to_string(ptrs.size()) + " allocations from " + usage_text(before));
  for (void *p : ptrs)
    if (const int32_t st = a.mem_free(dev, p); st != DQ_OK)
      return Outcome::fail("mem_free returned " + status_text(st) + ": " + a.last_error());
  // Dequantize in both memory kinds: neither may leave allocations behind.
  if (!j.facts.pairs.empty()) {
    const auto [t, o] = j.facts.pairs.front();
    Rng rng = rng_for(s.name, j.opts.seed);
    for (Memory mem : {Memory::host, Memory::device}) {
      Call c = valid_call(t, o, 5 * type_traits(t)->block_elements, random_blocks(t, 5, rng));
      c.memory = mem;
      const CallResult r = call_dequantize(a, c);
      if (r.status != DQ_OK || !r.setup_error.empty())
        return Outcome::fail("dequantize " + type_label(t) + " -> " + output_label(o) +
                             " failed: " + status_text(r.status) + " " + r.message +
                             r.setup_error);
    }
  }
  if (!usage(a, dev, &after, &error)) return Outcome::fail(error);
  if (after.allocations != before.allocations || after.bytes != before.bytes)
    return Outcome::fail("device memory leaked: " + usage_text(before) + " before, " +
                         usage_text(after) + " after allocating, freeing and dequantizing");
  return Outcome::pass(usage_text(before) + " before and after");
}

Outcome check_memory_copy_roundtrip(Judge &j, const CheckSpec &s) {
  const dq_plugin_api &a = j.api();
  const int32_t dev = j.device();
  const size_t bytes = 1000003;  // odd size
  Rng rng = rng_for(s.name, j.opts.seed);
  std::vector<uint8_t> data(bytes), back(bytes, 0);
  for (auto &b : data) b = static_cast<uint8_t>(rng());
  void *d1 = nullptr, *d2 = nullptr;
  if (a.mem_alloc(dev, bytes, &d1) != DQ_OK || a.mem_alloc(dev, bytes, &d2) != DQ_OK) {
    if (d1) a.mem_free(dev, d1);
    return Outcome::fail("mem_alloc(" + std::to_string(bytes) + ") failed: " + a.last_error());
  }
  std::string error;
  if (a.mem_copy(dev, d1, data.data(), bytes, DQ_COPY_HOST_TO_DEVICE, nullptr) != DQ_OK)
    error = "host to device copy failed: ";
  else if (a.mem_copy(dev, d2, d1, bytes, DQ_COPY_DEVICE_TO_DEVICE, nullptr) != DQ_OK)
    error = "device to device copy failed: ";
  else if (a.mem_copy(dev, back.data(), d2, bytes, DQ_COPY_DEVICE_TO_HOST, nullptr) != DQ_OK)
    error = "device to host copy failed: ";
  if (!error.empty()) error += a.last_error();
  a.mem_free(dev, d1);
  a.mem_free(dev, d2);
  if (!error.empty()) return Outcome::fail(error);
  if (back != data) return Outcome::fail("bytes differ after host -> device -> device -> host");
  return Outcome::pass(std::to_string(bytes) + " bytes");
}

Outcome check_memory_huge_alloc(Judge &j, const CheckSpec &) {
  const dq_plugin_api &a = j.api();
  void *p = reinterpret_cast<void *>(0x1);
  const size_t huge = size_t{1} << 60;  // an exabyte: no device has it
  const int32_t st = a.mem_alloc(j.device(), huge, &p);
  if (st == DQ_OK) {
    a.mem_free(j.device(), p);
    return Outcome::fail("mem_alloc(2^60 bytes) succeeded");
  }
  if (st != DQ_ERR_OUT_OF_MEMORY)
    return Outcome::fail("mem_alloc(2^60 bytes) returned " + status_text(st) +
                         ", expected DQ_ERR_OUT_OF_MEMORY");
  const char *m = a.last_error();
  if (!m || !*m) return Outcome::fail("mem_alloc failed without a message");
  return Outcome::pass(std::string("\"") + m + "\"");
}

}  // namespace dq::conformance
