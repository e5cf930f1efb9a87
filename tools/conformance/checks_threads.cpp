// Concurrency check (P13): several threads dequantize different pairs at once, interleaved
// with failing calls, and every result equals the same call made alone.
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

struct Job {
  Call call;
  std::vector<uint8_t> expected;
  std::string error;
};

}  // namespace

Outcome check_threads_concurrent(Judge &j, const CheckSpec &s) {
  const auto &pairs = j.facts.pairs;
  if (pairs.empty()) return Outcome::skip("plugin advertises no pair");
  Rng rng = rng_for(s.name, j.opts.seed);
  std::vector<Job> jobs(kThreads);
  // Different pairs per thread (spread over the advertised list), each done alone first.
  for (int i = 0; i < kThreads; ++i) {
    const auto [t, o] = pairs[(static_cast<size_t>(i) * 7919u) % pairs.size()];
    const int64_t blocks = 29 + 4 * i;
    jobs[i].call = valid_call(t, o, blocks * type_traits(t)->block_elements,
                              random_blocks(t, blocks, rng));
    const CallResult alone = call_dequantize(j.api(), jobs[i].call);
    if (std::string e = expect_success(alone, "single-threaded " + type_label(t) + " -> " +
                                                  output_label(o));
        !e.empty())
      return Outcome::fail(e);
    jobs[i].expected = alone.out;
  }
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
      Job &job = jobs[i];
      const std::string what = "thread " + std::to_string(i) + " " +
                               type_label(job.call.src_type) + " -> " +
                               output_label(job.call.dst_type);
      for (int round = 0; round < kRounds && job.error.empty(); ++round) {
        if (i % 2 == 1) {
          // A failure on this thread must not disturb the others' results or messages.
          Call bad = job.call;
          bad.src_type = 156;
          job.error = expect_refused(j.api(), bad, {DQ_ERR_UNKNOWN_TYPE, DQ_ERR_UNSUPPORTED},
                                     what + " (unknown type, round " + std::to_string(round) +
                                         ")");
          if (!job.error.empty()) break;
        }
        const CallResult r = call_dequantize(j.api(), job.call);
        job.error = expect_success(r, what);
        if (job.error.empty())
          if (std::string e = compare_outputs(job.call.dst_type, r.out, job.expected,
                                              job.call.n_elements);
              !e.empty())
            job.error = what + " differs from the same call made alone: " + e;
      }
    });
  {
    std::lock_guard<std::mutex> lock(m);
    go = true;
  }
  cv.notify_all();
  for (std::thread &t : threads) t.join();
  for (const Job &job : jobs)
    if (!job.error.empty()) return Outcome::fail(job.error);
  return Outcome::pass(std::to_string(kThreads) + " threads x " + std::to_string(kRounds) +
                       " rounds");
}

}  // namespace dq::conformance
