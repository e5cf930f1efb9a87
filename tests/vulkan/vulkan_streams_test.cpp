// Streams, events and device-wide drains used from several threads at once (the pattern of
// concurrent dq_load calls to vulkan:0: each load makes its own streams, events, device and
// pinned slots, and frees them while the other loads still have work queued). Run under
// ThreadSanitizer as well (tests/vulkan/tsan_lavapipe.supp says how).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "vulkan_fixture.hpp"

namespace dq::test {
namespace {

using Clock = std::chrono::steady_clock;

// One load's life: two streams, two events, a device and a pinned slot; upload on one stream,
// copy back on the other after the upload's event; then free it all (mem_free and
// host_free_pinned drain every stream of the device, the other threads' included).
std::string one_ring(const dq_plugin_api *vk, size_t bytes, uint8_t fill) {
  void *copy = nullptr, *compute = nullptr, *uploaded = nullptr, *done = nullptr, *pinned = nullptr, *dev = nullptr;
  auto err = [&](const char *what) { return std::string(what) + ": " + vk->last_error(); };
  std::string why;
  if (vk->stream_create(0, &copy) != DQ_OK || vk->stream_create(0, &compute) != DQ_OK) return err("stream_create");
  if (vk->event_create(0, &uploaded) != DQ_OK || vk->event_create(0, &done) != DQ_OK) return err("event_create");
  if (vk->mem_alloc(0, bytes, &dev) != DQ_OK) return err("mem_alloc");
  if (vk->host_alloc_pinned(bytes, &pinned) != DQ_OK) return err("host_alloc_pinned");
  std::vector<uint8_t> src(bytes, fill);
  if (vk->mem_copy(0, dev, src.data(), bytes, DQ_COPY_HOST_TO_DEVICE, copy) != DQ_OK) why = err("upload");
  if (why.empty() && vk->event_record(0, uploaded, copy) != DQ_OK) why = err("event_record");
  if (why.empty() && vk->stream_wait_event(0, compute, uploaded) != DQ_OK) why = err("stream_wait_event");
  if (why.empty() && vk->mem_copy(0, pinned, dev, bytes, DQ_COPY_DEVICE_TO_HOST, compute) != DQ_OK) why = err("download");
  if (why.empty() && vk->event_record(0, done, compute) != DQ_OK) why = err("event_record");
  if (why.empty() && vk->event_synchronize(0, done) != DQ_OK) why = err("event_synchronize");
  if (why.empty() && std::memcmp(pinned, src.data(), bytes) != 0) why = "bytes differ after the round trip";
  if (vk->synchronize(0, copy) != DQ_OK || vk->synchronize(0, compute) != DQ_OK) why = err("synchronize");
  if (vk->mem_free(0, dev) != DQ_OK) why = err("mem_free");
  if (vk->host_free_pinned(pinned) != DQ_OK) why = err("host_free_pinned");
  if (vk->event_destroy(0, uploaded) != DQ_OK || vk->event_destroy(0, done) != DQ_OK) why = err("event_destroy");
  if (vk->stream_destroy(0, copy) != DQ_OK || vk->stream_destroy(0, compute) != DQ_OK) why = err("stream_destroy");
  return why;
}

// Six threads, each making and freeing its rings while the others drain (synchronize on the
// NULL stream too): the drains wait on streams another thread is destroying. It segfaulted
// in Stream::wait_for before stream_destroy waited for the drains that listed the stream.
TEST_F(VulkanDevice, StreamsMadeAndDestroyedOnSeveralThreadsWhileOthersDrain) {
  constexpr int kThreads = 6, kRounds = 8;
  std::vector<std::string> why(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds && why[t].empty(); ++r) {
        why[t] = one_ring(vk, 64 * 1024 + 4096 * t, static_cast<uint8_t>(t * 16 + r));
        if (why[t].empty() && vk->synchronize(0, nullptr) != DQ_OK) why[t] = vk->last_error();
      }
    });
  for (auto &th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(why[t], "") << "thread " << t;
}

// stream_destroy of an idle stream while another thread's synchronize(NULL) waits for long work
// on a third stream: the destroy waits for the destroyed stream's own work, not for the drain
// (it used to wait for every drain in progress, on any stream, and behind a steady flow of
// drains from other threads it could wait indefinitely).
TEST_F(VulkanDevice, DestroyingAnIdleStreamDoesNotWaitForAnotherThreadsDrain) {
  const size_t bytes = size_t{16} << 20;
  void *a = nullptr, *b = nullptr, *busy = nullptr;
  ASSERT_EQ(vk->mem_alloc(0, bytes, &a), DQ_OK) << vk->last_error();
  ASSERT_EQ(vk->mem_alloc(0, bytes, &b), DQ_OK) << vk->last_error();
  ASSERT_EQ(vk->stream_create(0, &busy), DQ_OK);
  // Copies queued on busy for about two seconds (one copy timed after a first one); doubled
  // when they finished before the destroy was called (a slow first copy, a busy host).
  ASSERT_EQ(vk->mem_copy(0, b, a, bytes, DQ_COPY_DEVICE_TO_DEVICE, busy), DQ_OK) << vk->last_error();
  ASSERT_EQ(vk->synchronize(0, busy), DQ_OK);
  auto t0 = Clock::now();
  ASSERT_EQ(vk->mem_copy(0, b, a, bytes, DQ_COPY_DEVICE_TO_DEVICE, busy), DQ_OK) << vk->last_error();
  ASSERT_EQ(vk->synchronize(0, busy), DQ_OK);
  const double one_ms = std::max(0.05, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  int copies = static_cast<int>(std::min(2000.0 / one_ms, 4000.0)) + 1;
  bool measured = false;
  for (int attempt = 0; attempt < 3 && !measured; ++attempt, copies *= 2) {
    void *idle = nullptr;
    ASSERT_EQ(vk->stream_create(0, &idle), DQ_OK);
    for (int i = 0; i < copies; ++i)
      ASSERT_EQ(vk->mem_copy(0, (i & 1) ? a : b, (i & 1) ? b : a, bytes, DQ_COPY_DEVICE_TO_DEVICE, busy), DQ_OK)
          << vk->last_error();
    std::atomic<bool> drained{false};
    int32_t drain_status = -1;
    std::thread drainer([&] {
      drain_status = vk->synchronize(0, nullptr);  // lists idle, then waits for busy's copies
      drained.store(true);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    measured = !drained.load();
    t0 = Clock::now();
    EXPECT_EQ(vk->stream_destroy(0, idle), DQ_OK) << vk->last_error();
    const double destroy_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    const bool drain_running_after = !drained.load();
    drainer.join();
    EXPECT_EQ(drain_status, DQ_OK);
    if (measured) {
      EXPECT_TRUE(drain_running_after) << "stream_destroy of an idle stream took " << destroy_ms
                                       << " ms: it waited for the other thread's synchronize(NULL)";
    }
  }
  EXPECT_TRUE(measured) << "the queued copies always finished before the destroy: nothing was measured";
  EXPECT_EQ(vk->stream_destroy(0, busy), DQ_OK);
  EXPECT_EQ(vk->mem_free(0, a), DQ_OK);
  EXPECT_EQ(vk->mem_free(0, b), DQ_OK);
}

// One thread records an event over and over while others make their streams wait for it and
// wait for it on the host (CUDA allows this: each sees one of the records).
TEST_F(VulkanDevice, EventRecordedOnOneThreadWhileOthersWaitForIt) {
  void *event = nullptr, *recorder = nullptr;
  ASSERT_EQ(vk->event_create(0, &event), DQ_OK);
  ASSERT_EQ(vk->stream_create(0, &recorder), DQ_OK);
  constexpr int kRounds = 200, kWaiters = 2;
  std::atomic<bool> stop{false};
  std::vector<std::string> why(kWaiters + 1);
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int r = 0; r < kRounds && why[0].empty(); ++r)
      if (vk->event_record(0, event, recorder) != DQ_OK) why[0] = vk->last_error();
    stop.store(true);
  });
  for (int w = 1; w <= kWaiters; ++w)
    threads.emplace_back([&, w] {
      void *s = nullptr, *mine = nullptr;
      if (vk->stream_create(0, &s) != DQ_OK || vk->event_create(0, &mine) != DQ_OK) {
        why[w] = vk->last_error();
        return;
      }
      // The wait is taken by the stream's next submission (mine's record).
      while (!stop.load() && why[w].empty()) {
        if (vk->stream_wait_event(0, s, event) != DQ_OK || vk->event_record(0, mine, s) != DQ_OK ||
            vk->event_synchronize(0, event) != DQ_OK || vk->synchronize(0, s) != DQ_OK)
          why[w] = vk->last_error();
      }
      if (vk->event_destroy(0, mine) != DQ_OK || vk->stream_destroy(0, s) != DQ_OK) why[w] = vk->last_error();
    });
  for (auto &th : threads) th.join();
  for (int t = 0; t <= kWaiters; ++t) EXPECT_EQ(why[t], "") << "thread " << t;
  EXPECT_EQ(vk->event_destroy(0, event), DQ_OK);
  EXPECT_EQ(vk->stream_destroy(0, recorder), DQ_OK);
}

}  // namespace
}  // namespace dq::test
