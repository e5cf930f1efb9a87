// Checks of the optional batch entry (ABI 1.2 dequantize_batch), planned only for plugins
// that have it: a batch over every advertised pair gives the same bytes as one dequantize
// per tensor (host memory, and device memory where the plugin has it), and a batch with one
// bad element is refused with nothing written.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "checks.hpp"
#include "compare.hpp"
#include "dq_common/type_traits.hpp"
#include "expectations.hpp"
#include "guarded_buffer.hpp"
#include "invoke.hpp"
#include "random_input.hpp"

namespace dq::conformance {

namespace {

// Elements of the one large tensor of a batch: big enough that a plugin splits it.
constexpr int64_t kLargeElements = int64_t{1} << 18;

// One element of a batch with its buffers (host or device) and the arguments naming them.
struct Member {
  Call call;
  std::unique_ptr<HostBuffer> host_src, host_dst;
  std::unique_ptr<DeviceBuffer> dev_src, dev_dst;
  dq_plugin_dequantize_args args{};
  std::vector<uint8_t> out;
  std::string canary_error;
};

constexpr size_t kDevicePadding = 4096;

// Makes the buffers and arguments of `m`; "" or why the suite could not.
std::string place(const dq_plugin_api &a, int32_t device, Memory memory, Member &m) {
  const Call &c = m.call;
  m.args.struct_size = sizeof(dq_plugin_dequantize_args);
  m.args.src_type = c.src_type;
  m.args.dst_type = c.dst_type;
  m.args.src_bytes = c.src_bytes;
  m.args.n_elements = c.n_elements;
  m.args.dst_bytes = c.dst_bytes;
  m.args.device = device;
  if (memory == Memory::host) {
    m.host_src = std::make_unique<HostBuffer>(c.src_bytes, HostBuffer::Placement::source, "source");
    m.host_dst = std::make_unique<HostBuffer>(c.dst_bytes, HostBuffer::Placement::destination,
                                              "destination", 0);
    m.host_src->fill(c.src);
    m.host_src->protect_read_only();
    m.args.src = m.host_src->data();
    m.args.dst = m.host_dst->data();
    m.args.src_on_host = m.args.dst_on_host = 1;
    return {};
  }
  m.dev_src = std::make_unique<DeviceBuffer>(a, device, c.src_bytes, 0);
  m.dev_dst = std::make_unique<DeviceBuffer>(a, device, c.dst_bytes, kDevicePadding);
  if (!m.dev_src->ok()) return m.dev_src->error();
  if (!m.dev_dst->ok()) return m.dev_dst->error();
  std::string e = m.dev_src->upload(c.src);
  if (e.empty()) e = m.dev_dst->upload_canary();
  m.args.src = m.dev_src->data();
  m.args.dst = m.dev_dst->data();
  return e;
}

// Reads each member's destination back (after synchronize for device memory).
std::string read_back(const dq_plugin_api &a, int32_t device, std::vector<Member> &ms) {
  if (ms.empty()) return {};
  if (ms[0].dev_dst && a.synchronize)
    if (const int32_t st = a.synchronize(device, nullptr); st != DQ_OK)
      return "synchronize after dequantize_batch returned " + status_text(st) + ": " +
             a.last_error();
  for (Member &m : ms) {
    if (m.host_dst) {
      m.canary_error = m.host_dst->check_canaries();
      m.out.assign(m.host_dst->data(), m.host_dst->data() + m.host_dst->size());
    } else if (std::string e = m.dev_dst->download(&m.out, &m.canary_error); !e.empty()) {
      return e;
    }
  }
  return {};
}

// True when nothing of the member's output was written.
bool untouched(const Member &m) {
  if (m.host_dst) return m.host_dst->untouched();
  for (size_t i = 0; i < m.out.size(); ++i)
    if (m.out[i] != canary_byte(kDevicePadding + i)) return false;
  return true;
}

std::vector<dq_plugin_dequantize_args> args_of(const std::vector<Member> &ms) {
  std::vector<dq_plugin_dequantize_args> v;
  for (const Member &m : ms) v.push_back(m.args);
  return v;
}

std::string what(const Member &m, size_t i) {
  return "tensor " + std::to_string(i) + " (" + type_label(m.call.src_type) + " -> " +
         output_label(m.call.dst_type) + ", " + std::to_string(m.call.n_elements) + " elements)";
}

// One batch over every advertised pair (random odd sizes) plus one large tensor, compared
// with the same calls made one at a time.
std::string batch_equals_single(Judge &j, Rng &rng, Memory memory) {
  const dq_plugin_api &a = j.api();
  std::vector<Member> ms;
  for (const auto &[t, o] : j.facts.pairs) {
    const int64_t blocks = 1 + 2 * static_cast<int64_t>(rng() % 20);
    ms.push_back({});
    ms.back().call = valid_call(t, o, blocks * type_traits(t)->block_elements,
                                random_blocks(t, blocks, rng));
  }
  int32_t t = 0, o = 0;
  argument_pair(j.facts, &t, &o);
  const int64_t block = type_traits(t)->block_elements;
  const int64_t large_blocks = kLargeElements / block + 1;
  ms.push_back({});
  ms.back().call = valid_call(t, o, large_blocks * block, random_blocks(t, large_blocks, rng));
  for (Member &m : ms) {
    m.call.memory = memory;
    if (std::string e = place(a, j.device(), memory, m); !e.empty()) return "set-up: " + e;
  }
  const std::vector<dq_plugin_dequantize_args> args = args_of(ms);
  const int32_t st = a.dequantize_batch(args.data(), args.size());
  if (st != DQ_OK)
    return "dequantize_batch of " + std::to_string(ms.size()) + " tensors returned " +
           status_text(st) + ": " + a.last_error();
  if (std::string e = read_back(a, j.device(), ms); !e.empty()) return e;
  for (size_t i = 0; i < ms.size(); ++i) {
    const CallResult alone = call_dequantize(a, ms[i].call);
    if (std::string e = expect_success(alone, "single call of " + what(ms[i], i)); !e.empty())
      return e;
    if (!ms[i].canary_error.empty()) return what(ms[i], i) + ": " + ms[i].canary_error;
    if (std::string e = compare_outputs(ms[i].call.dst_type, ms[i].out, alone.out,
                                        ms[i].call.n_elements);
        !e.empty())
      return what(ms[i], i) + " differs from the same single call: " + e;
  }
  return {};
}

}  // namespace

Outcome check_batch_identical(Judge &j, const CheckSpec &s) {
  if (j.facts.pairs.empty()) return Outcome::skip("plugin advertises no pair");
  Rng rng = rng_for(s.name, j.opts.seed);
  if (std::string e = batch_equals_single(j, rng, Memory::host); !e.empty())
    return Outcome::fail("host memory: " + e);
  if (j.facts.has_mem)
    if (std::string e = batch_equals_single(j, rng, Memory::device); !e.empty())
      return Outcome::fail("device memory: " + e);
  return Outcome::pass(std::to_string(j.facts.pairs.size() + 1) + " tensors per batch" +
                       (j.facts.has_mem ? ", host and device memory" : ""));
}

// Three good tensors and one bad (at the end, then in the middle): refused with a status and
// a message, and no destination written, not even those of the good tensors before it.
Outcome check_batch_refuse_bad(Judge &j, const CheckSpec &s) {
  int32_t t = 0, o = 0;
  if (!argument_pair(j.facts, &t, &o)) return Outcome::skip("plugin advertises no pair");
  const dq_plugin_api &a = j.api();
  Rng rng = rng_for(s.name, j.opts.seed);
  const int64_t block = type_traits(t)->block_elements;
  struct Case {
    size_t bad;
    const char *problem;
  };
  for (const Case &c : {Case{3, "unknown source type 156"}, Case{1, "a short destination"}}) {
    std::vector<Member> ms(4);
    for (Member &m : ms) m.call = valid_call(t, o, 3 * block, random_blocks(t, 3, rng));
    for (Member &m : ms)
      if (std::string e = place(a, j.device(), Memory::host, m); !e.empty())
        return Outcome::fail("set-up: " + e);
    std::vector<dq_plugin_dequantize_args> args = args_of(ms);
    if (c.bad == 3) args[3].src_type = 156;
    else args[1].dst_bytes -= 1;
    const int32_t st = a.dequantize_batch(args.data(), args.size());
    const std::string when = "a batch of 4 whose tensor " + std::to_string(c.bad) + " has " + c.problem;
    if (st == DQ_OK) return Outcome::fail(when + " succeeded");
    const char *m = a.last_error();
    if (!m || !*m) return Outcome::fail(when + ": " + status_text(st) + " with no message");
    if (std::string e = read_back(a, j.device(), ms); !e.empty()) return Outcome::fail(e);
    for (size_t i = 0; i < ms.size(); ++i)
      if (!untouched(ms[i]))
        return Outcome::fail(when + ": refused (" + status_text(st) + ") but " + what(ms[i], i) +
                             " was written; check every tensor before starting any work");
  }
  return Outcome::pass();
}

}  // namespace dq::conformance
