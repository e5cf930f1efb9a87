// Argument checks (P7, P10, P12): malformed requests get a status and a message, never a
// crash, a read past the source or a write anywhere. Each is made for every advertised pair
// (a plugin may validate most types and forget one), with host memory (which every plugin
// accepts).
#include <climits>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>

#include "checks.hpp"
#include "dq_common/type_traits.hpp"
#include "expectations.hpp"
#include "random_input.hpp"

namespace dq::conformance {

namespace {

struct Pair {
  int32_t src = 0, dst = 0;
  const TypeTraits *t = nullptr;
};

bool pick(Judge &j, Pair *p) {
  if (!argument_pair(j.facts, &p->src, &p->dst)) return false;
  p->t = type_traits(p->src);
  return true;
}

// A valid two-block call of the pair, with random (finite-scale) blocks.
Call two_blocks(Judge &j, const CheckSpec &s, const Pair &p) {
  Rng rng = rng_for(s.name, j.opts.seed);
  return valid_call(p.src, p.dst, 2 * p.t->block_elements, random_blocks(p.src, 2, rng));
}

std::string pair_text(const Pair &p) {
  return type_label(p.src) + " -> " + output_label(p.dst);
}

Outcome judge(const std::string &error, const std::string &pass_note) {
  return error.empty() ? Outcome::pass(pass_note) : Outcome::fail(error);
}

const char *kNoPair = "plugin advertises no pair (see handshake/supports)";

// Runs `probe` for every advertised pair; the first failure names its pair.
Outcome every_pair(Judge &j, const std::function<std::string(const Pair &)> &probe) {
  if (j.facts.pairs.empty()) return Outcome::skip(kNoPair);
  for (const auto &[t, o] : j.facts.pairs) {
    const Pair p{t, o, type_traits(t)};
    if (std::string e = probe(p); !e.empty()) return Outcome::fail(e);
  }
  return Outcome::pass(std::to_string(j.facts.pairs.size()) + " pairs");
}

}  // namespace

Outcome check_args_null_args(Judge &j, const CheckSpec &s) {
  Pair p;
  if (!pick(j, &p)) return Outcome::skip(kNoPair);
  Call c = two_blocks(j, s, p);
  c.null_args = true;
  return judge(expect_refused(j.api(), c, {DQ_ERR_INVALID_ARGUMENT}, "dequantize(NULL)"), "");
}

Outcome check_args_struct_size(Judge &j, const CheckSpec &s) {
  Pair p;
  if (!pick(j, &p)) return Outcome::skip(kNoPair);
  // Every size that cuts off a field all plugins need (up to dst_on_host; a host-only plugin
  // may do without `stream`), from 0 up to one byte short.
  const size_t needed = offsetof(dq_plugin_dequantize_args, dst_on_host) + sizeof(int32_t);
  for (size_t size = 0; size < needed; ++size) {
    Call c = two_blocks(j, s, p);
    c.struct_size = size;
    if (std::string e = expect_refused(j.api(), c, {DQ_ERR_INVALID_ARGUMENT},
                                       "args.struct_size " + std::to_string(size) + " (" +
                                           std::to_string(needed) + " needed)");
        !e.empty())
      return Outcome::fail(e);
  }
  return Outcome::pass("sizes 0.." + std::to_string(needed - 1));
}

Outcome check_args_unknown_type(Judge &j, const CheckSpec &s) {
  Pair p;
  if (!pick(j, &p)) return Outcome::skip(kNoPair);
  Call c = two_blocks(j, s, p);
  c.src_type = 156;  // a fork's private id
  return judge(expect_refused(j.api(), c, {DQ_ERR_UNKNOWN_TYPE, DQ_ERR_UNSUPPORTED},
                              "src_type 156"),
               "");
}

Outcome check_args_bad_output_type(Judge &j, const CheckSpec &s) {
  return every_pair(j, [&](const Pair &p) -> std::string {
    for (int32_t o : {-1, 2, 5, 99}) {
      Call c = two_blocks(j, s, p);
      c.dst_type = o;
      const std::string e = expect_refused(
          j.api(), c, {DQ_ERR_INVALID_ARGUMENT, DQ_ERR_UNSUPPORTED, DQ_ERR_UNKNOWN_TYPE},
          type_label(p.src) + " -> dst_type " + std::to_string(o));
      if (!e.empty()) return e;
    }
    return "";
  });
}

Outcome check_args_not_block_multiple(Judge &j, const CheckSpec &s) {
  // Pairs with blocks of more than one element.
  bool any = false;
  Outcome o = every_pair(j, [&](const Pair &p) -> std::string {
    if (p.t->block_elements <= 1) return "";
    any = true;
    Call c = two_blocks(j, s, p);
    c.n_elements = p.t->block_elements + 1;
    return expect_refused(j.api(), c, {DQ_ERR_SIZE, DQ_ERR_INVALID_ARGUMENT},
                          pair_text(p) + " with n_elements " + std::to_string(c.n_elements) +
                              " (block of " + std::to_string(p.t->block_elements) + ")");
  });
  if (o.verdict == Verdict::pass && !any)
    return Outcome::skip("every advertised type has one-element blocks");
  return o;
}

Outcome check_args_zero_elements(Judge &j, const CheckSpec &s) {
  return every_pair(j, [&](const Pair &p) -> std::string {
    Call c = two_blocks(j, s, p);
    c.n_elements = 0;
    return expect_refused(j.api(), c, {DQ_ERR_INVALID_ARGUMENT, DQ_ERR_SIZE},
                          pair_text(p) + " with n_elements 0");
  });
}

Outcome check_args_negative_elements(Judge &j, const CheckSpec &s) {
  return every_pair(j, [&](const Pair &p) -> std::string {
    for (int64_t n : {-p.t->block_elements, std::numeric_limits<int64_t>::min()}) {
      Call c = two_blocks(j, s, p);
      c.n_elements = n;
      const std::string e = expect_refused(j.api(), c, {DQ_ERR_INVALID_ARGUMENT, DQ_ERR_SIZE},
                                           pair_text(p) + " with n_elements " + std::to_string(n));
      if (!e.empty()) return e;
    }
    return "";
  });
}

Outcome check_args_null_src(Judge &j, const CheckSpec &s) {
  return every_pair(j, [&](const Pair &p) -> std::string {
    Call c = two_blocks(j, s, p);
    c.null_src = true;
    return expect_refused(j.api(), c, {DQ_ERR_INVALID_ARGUMENT}, "src NULL");
  });
}

Outcome check_args_null_dst(Judge &j, const CheckSpec &s) {
  return every_pair(j, [&](const Pair &p) -> std::string {
    Call c = two_blocks(j, s, p);
    c.null_dst = true;
    return expect_refused(j.api(), c, {DQ_ERR_INVALID_ARGUMENT}, "dst NULL");
  });
}

Outcome check_args_short_source(Judge &j, const CheckSpec &s) {
  return every_pair(j, [&](const Pair &p) -> std::string {
    Call c = two_blocks(j, s, p);
    // The source buffer itself is one byte short and ends at a guard page.
    c.src_bytes -= 1;
    c.src.pop_back();
    return expect_refused(
        j.api(), c, {DQ_ERR_SIZE},
        pair_text(p) + " with src_bytes " + std::to_string(c.src_bytes) + " for 2 blocks");
  });
}

Outcome check_args_short_destination(Judge &j, const CheckSpec &s) {
  return every_pair(j, [&](const Pair &p) -> std::string {
    Call c = two_blocks(j, s, p);
    c.dst_bytes -= 1;
    return expect_refused(j.api(), c, {DQ_ERR_SIZE},
                          pair_text(p) + " with dst_bytes " + std::to_string(c.dst_bytes) +
                              " for " + std::to_string(c.n_elements) + " outputs");
  });
}

Outcome check_args_size_overflow(Judge &j, const CheckSpec &s) {
  return every_pair(j, [&](const Pair &p) -> std::string {
    Call c = two_blocks(j, s, p);
    // The largest block multiple: its byte sizes overflow 64 bits or dwarf the buffers.
    c.n_elements = std::numeric_limits<int64_t>::max() / p.t->block_elements * p.t->block_elements;
    return expect_refused(j.api(), c, {DQ_ERR_SIZE, DQ_ERR_INVALID_ARGUMENT},
                          pair_text(p) + " with n_elements " + std::to_string(c.n_elements));
  });
}

Outcome check_args_bad_device(Judge &j, const CheckSpec &s) {
  return every_pair(j, [&](const Pair &p) -> std::string {
    for (int32_t d : {j.facts.device_count, -1, INT32_MIN}) {
      Call c = two_blocks(j, s, p);
      c.device = d;
      const std::string e = expect_refused(
          j.api(), c, {DQ_ERR_INVALID_ARGUMENT, DQ_ERR_NO_DEVICE},
          "device " + std::to_string(d) + " of " + std::to_string(j.facts.device_count));
      if (!e.empty()) return e;
    }
    return "";
  });
}

Outcome check_args_device_memory_on_host_plugin(Judge &j, const CheckSpec &s) {
  return every_pair(j, [&](const Pair &p) -> std::string {
    Call c = two_blocks(j, s, p);
    c.src_on_host = 0;  // claims device memory, which a host-only plugin cannot have
    return expect_refused(j.api(), c, {DQ_ERR_INVALID_ARGUMENT, DQ_ERR_UNSUPPORTED},
                          "src_on_host 0 on a plugin without device memory");
  });
}

}  // namespace dq::conformance
