// Concurrency checks (P13): several threads dequantize every advertised pair at once,
// interleaved with failing calls, and every result equals the same call made alone; and one
// thread's failure message survives another thread's calls.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "checks.hpp"
#include "compare.hpp"
#include "dq_common/type_traits.hpp"
#include "expectations.hpp"
#include "random_input.hpp"

namespace dq::conformance {

namespace {

constexpr int kThreads = 8;
constexpr int kRounds = 6;
// Big enough that calls on different threads overlap in time (a static scratch buffer shared
// by threads is overwritten mid-call, even when a loaded machine time-slices the threads),
// small enough to stay quick: ~256K elements each.
constexpr int64_t kJobElements = 1 << 18;

struct Job {
  Call call;
  std::vector<uint8_t> expected;
};

}  // namespace

Outcome check_threads_concurrent(Judge &j, const CheckSpec &s) {
  const auto &pairs = j.facts.pairs;
  if (pairs.empty()) return Outcome::skip("plugin advertises no pair");
  Rng rng = rng_for(s.name, j.opts.seed);
  // One job per advertised pair, and at least one per thread, each with its own random input
  // (threads on the same pair must still produce different outputs), each done alone first.
  const size_t n_jobs = std::max(pairs.size(), static_cast<size_t>(kThreads));
  std::vector<Job> jobs(n_jobs);
  for (size_t k = 0; k < n_jobs; ++k) {
    const auto [t, o] = pairs[k % pairs.size()];
    const int64_t block = type_traits(t)->block_elements;
    const int64_t blocks = (kJobElements / block) | 1;  // odd: no whole-vector rounding
    jobs[k].call = valid_call(t, o, blocks * block, random_blocks(t, blocks, rng));
    const CallResult alone = call_dequantize(j.api(), jobs[k].call);
    if (std::string e = expect_success(alone, "single-threaded " + type_label(t) + " -> " +
                                                  output_label(o));
        !e.empty())
      return Outcome::fail(e);
    jobs[k].expected = alone.out;
  }
  // Thread i takes jobs i, i+kThreads, ...: every job runs, on a mix of neighbours.
  const size_t rounds =
      std::max(static_cast<size_t>(kRounds), (n_jobs + kThreads - 1) / kThreads);
  std::vector<std::string> errors(kThreads);
  std::mutex m;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return go; });
      }
      std::string &error = errors[i];
      for (size_t round = 0; round < rounds && error.empty(); ++round) {
        const Job &job = jobs[(static_cast<size_t>(i) + round * kThreads) % n_jobs];
        const std::string what = "thread " + std::to_string(i) + " " +
                                 type_label(job.call.src_type) + " -> " +
                                 output_label(job.call.dst_type);
        if (i % 2 == 1) {
          // A failure on this thread must not disturb the others' results or messages.
          Call bad = job.call;
          bad.src_type = 156;
          error = expect_refused(j.api(), bad, {DQ_ERR_UNKNOWN_TYPE, DQ_ERR_UNSUPPORTED},
                                 what + " (unknown type, round " + std::to_string(round) + ")");
          if (!error.empty()) break;
        }
        const CallResult r = call_dequantize(j.api(), job.call);
        error = expect_success(r, what);
        if (error.empty())
          if (std::string e = compare_outputs(job.call.dst_type, r.out, job.expected,
                                              job.call.n_elements);
              !e.empty())
            error = what + " differs from the same call made alone: " + e;
      }
    });
  {
    std::lock_guard<std::mutex> lock(m);
    go = true;
  }
  cv.notify_all();
  for (std::thread &t : threads) t.join();
  for (const std::string &e : errors)
    if (!e.empty()) return Outcome::fail(e);
  return Outcome::pass(std::to_string(kThreads) + " threads x " + std::to_string(rounds) +
                       " rounds over " + std::to_string(n_jobs) + " jobs (" +
                       std::to_string(pairs.size()) + " pairs)");
}

// Forces the interleaving a process-wide message gets wrong: thread A fails, thread B then
// succeeds and fails differently, and A's last_error() must still be A's own message.
Outcome check_threads_error_isolation(Judge &j, const CheckSpec &s) {
  int32_t t = 0, o = 0;
  if (!argument_pair(j.facts, &t, &o)) return Outcome::skip("plugin advertises no pair");
  const dq_plugin_api &a = j.api();
  Rng rng = rng_for(s.name, j.opts.seed);
  const int64_t block = type_traits(t)->block_elements;
  const Call good = valid_call(t, o, 2 * block, random_blocks(t, 2, rng));
  Call bad_a = good;
  bad_a.src_type = 156;  // A: unknown type
  Call bad_b = good;
  bad_b.dst_bytes -= 1;  // B: short destination, another message

  std::mutex m;
  std::condition_variable cv;
  int step = 0;  // 1: A has failed; 2: B is done
  auto wait_for = [&](int wanted) {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return step >= wanted; });
  };
  auto advance = [&](int to) {
    {
      std::lock_guard<std::mutex> lock(m);
      step = to;
    }
    cv.notify_all();
  };
  std::string a_first, a_later, b_error;
  std::thread thread_a([&] {
    a_first = call_dequantize(a, bad_a).message;
    advance(1);
    wait_for(2);
    const char *m = a.last_error();
    a_later = m ? m : "<NULL>";
  });
  std::thread thread_b([&] {
    wait_for(1);
    const CallResult ok = call_dequantize(a, good);
    b_error = expect_success(ok, "thread B's valid call");
    call_dequantize(a, bad_b);
    advance(2);
  });
  thread_a.join();
  thread_b.join();
  if (!b_error.empty()) return Outcome::fail(b_error);
  if (a_first.empty() || a_first == "<NULL>")
    return Outcome::fail("thread A's failure left no message (last_error() \"" + a_first +
                         "\")");
  if (a_later != a_first)
    return Outcome::fail("thread A's message changed from \"" + a_first + "\" to \"" +
                         a_later + "\" after thread B succeeded and failed: last_error() is "
                         "not per thread");
  return Outcome::pass("\"" + a_first + "\"");
}

}  // namespace dq::conformance
