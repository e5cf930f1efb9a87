// last_error() checks (P7) that need a process where nothing has failed yet: the plan puts
// them first in their own group, so they run in a fresh child right after init().
#include <string>
#include <thread>

#include "checks.hpp"
#include "dq_common/type_traits.hpp"
#include "expectations.hpp"
#include "random_input.hpp"

namespace dq::conformance {

namespace {

std::string message_or_null(const char *m) {
  return m ? std::string(m) : "<NULL>";
}

}  // namespace

Outcome check_last_error_fresh(Judge &j, const CheckSpec &) {
  const dq_plugin_api &a = j.api();
  // This thread: init() succeeded, nothing failed.
  if (!a.last_error()) return Outcome::fail("last_error() returned NULL before any call failed");
  // A thread that never called the plugin (its thread-local state is brand new).
  const char *other = nullptr;
  bool called = false;
  std::thread([&] {
    other = a.last_error();
    called = true;
  }).join();
  if (called && !other)
    return Outcome::fail("last_error() returned NULL on a new thread that made no call yet");
  return Outcome::pass("\"" + message_or_null(a.last_error()) + "\"");
}

Outcome check_last_error_after_success(Judge &j, const CheckSpec &s) {
  int32_t t = 0, o = 0;
  if (!argument_pair(j.facts, &t, &o)) return Outcome::skip("plugin advertises no pair");
  const dq_plugin_api &a = j.api();
  Rng rng = rng_for(s.name, j.opts.seed);
  const Call good = valid_call(t, o, type_traits(t)->block_elements, random_blocks(t, 1, rng));
  // A success on its own, then a success right after a failure.
  CallResult r = call_dequantize(a, good);
  if (std::string e = expect_success(r, "a valid call"); !e.empty()) return Outcome::fail(e);
  if (r.message == "<NULL>")
    return Outcome::fail("last_error() returned NULL after a successful call");
  Call bad = good;
  bad.src_type = 156;
  call_dequantize(a, bad);
  r = call_dequantize(a, good);
  if (std::string e = expect_success(r, "a valid call after a failed one"); !e.empty())
    return Outcome::fail(e);
  if (r.message == "<NULL>")
    return Outcome::fail("last_error() returned NULL after a success that followed a failure");
  return Outcome::pass();
}

}  // namespace dq::conformance
