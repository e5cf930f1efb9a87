// Leak check (P15): memory that stays allocated after each call. Many small calls (valid
// ones over every advertised pair, and failing ones) are made in two equal batches after a
// warm-up; a leak grows the heap (and resident memory) by a similar amount in both batches,
// in proportion to the calls, while caches the plugin fills once do not grow again.
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "checks.hpp"
#include "dq_common/type_traits.hpp"
#include "expectations.hpp"
#include "random_input.hpp"

namespace dq::conformance {

namespace {

constexpr int kWarmupRounds = 8;
constexpr int kBatchCalls = 2000;
// Growth per call that counts as a leak: the smallest heap chunk is 32 bytes, so this catches
// a leak on one call in eight; resident memory moves in pages, so it needs more calls' worth
// before it means anything.
constexpr double kHeapBytesPerCall = 4;
constexpr double kResidentBytesPerCall = 256;

struct Usage {
  double heap = 0;      // bytes malloc has handed out and not got back (all arenas, mmapped)
  double resident = 0;  // resident set
};

Usage usage_now() {
  Usage u;
  const struct mallinfo2 mi = mallinfo2();
  u.heap = static_cast<double>(mi.uordblks + mi.hblkhd);
  long pages = 0, resident = 0;
  if (FILE *f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  u.resident = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
  return u;
}

std::string kib(double bytes) {
  return std::to_string(static_cast<long long>(bytes / 1024)) + " KiB";
}

}  // namespace

Outcome check_leaks_dequantize(Judge &j, const CheckSpec &s) {
#if defined(__SANITIZE_ADDRESS__)
  (void)j;
  (void)s;
  return Outcome::skip("not measurable under AddressSanitizer (its allocator and quarantine)");
#else
  const auto &pairs = j.facts.pairs;
  if (pairs.empty()) return Outcome::skip("plugin advertises no pair");
  Rng rng = rng_for(s.name, j.opts.seed);
  // One valid one-block call per pair, and three failing kinds, made in turn.
  std::vector<Call> calls;
  for (const auto &[t, o] : pairs)
    calls.push_back(valid_call(t, o, type_traits(t)->block_elements, random_blocks(t, 1, rng)));
  const Call &first = calls.front();
  Call unknown = first, short_dst = first, zero = first;
  unknown.src_type = 156;
  short_dst.dst_bytes -= 1;
  zero.n_elements = 0;
  for (const Call &c : {unknown, short_dst, zero}) calls.push_back(c);

  size_t next = 0;
  std::string error;
  auto run = [&](int n) {
    for (int i = 0; i < n && error.empty(); ++i, ++next) {
      const Call &c = calls[next % calls.size()];
      const CallResult r = call_dequantize(j.api(), c);
      const bool should_work = next % calls.size() < pairs.size();
      if (should_work)
        error = expect_success(r, type_label(c.src_type) + " -> " + output_label(c.dst_type));
      else if (r.status == DQ_OK)
        error = "an invalid call (" + std::to_string(next % calls.size()) + ") succeeded";
    }
  };
  run(kWarmupRounds * static_cast<int>(calls.size()));  // caches, thread pools, first-use
  const Usage u0 = usage_now();
  run(kBatchCalls);
  const Usage u1 = usage_now();
  run(kBatchCalls);
  const Usage u2 = usage_now();
  if (!error.empty()) return Outcome::fail(error);
  auto grew = [](double a, double b, double c, double per_call) {
    return b - a >= per_call * kBatchCalls && c - b >= per_call * kBatchCalls;
  };
  const std::string batches = " over two batches of " + std::to_string(kBatchCalls) + " calls";
  if (grew(u0.heap, u1.heap, u2.heap, kHeapBytesPerCall))
    return Outcome::fail(
        "the heap grew by " + kib(u1.heap - u0.heap) + " and " + kib(u2.heap - u1.heap) + batches +
        ": about " +
        std::to_string(static_cast<long long>((u2.heap - u0.heap) / (2 * kBatchCalls))) +
        " bytes leaked per call");
  if (grew(u0.resident, u1.resident, u2.resident, kResidentBytesPerCall))
    return Outcome::fail("resident memory grew by " + kib(u1.resident - u0.resident) + " and " +
                         kib(u2.resident - u1.resident) + batches);
  return Outcome::pass("heap " + kib(u0.heap) + " -> " + kib(u2.heap) + ", resident " +
                       kib(u0.resident) + " -> " + kib(u2.resident) + batches);
#endif
}

}  // namespace dq::conformance
