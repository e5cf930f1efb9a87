// The staging ring's pages faulted in ahead, on a background thread (see prepared_staging.hpp).
#include "loader/prepared_staging.hpp"

#include <pthread.h>
#include <sys/mman.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "loader/load_trace.hpp"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL and get touched
#endif

namespace dq::loader {

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kHugePage = 2ull << 20;

// DQ_LOAD_PREPARE_DELAY_MS: the thread waits this long (cancellable) before it maps, so tests
// can have a load ask for a block that is not ready yet.
int test_delay_ms() {
  const char *e = std::getenv("DQ_LOAD_PREPARE_DELAY_MS");
  if (!e || !*e) return 0;
  const long v = std::strtol(e, nullptr, 10);
  return v > 0 && v <= 600000 ? static_cast<int>(v) : 0;
}

// One preparation: its thread writes `result` and exits; whoever joins the thread reads it.
struct Job {
  uint64_t ring_bytes = 0;
  int delay_ms = 0;
  Clock::time_point started;
  PreparedBlock result;  // written by the thread only, read after join
  std::thread thread;
  std::mutex m;  // for the cancellable delay
  std::condition_variable cv;
  bool cancelled = false;

  void run() {
    if (delay_ms > 0) {
      std::unique_lock<std::mutex> lock(m);
      if (cv.wait_for(lock, std::chrono::milliseconds(delay_ms), [&] { return cancelled; })) return;
    }
    auto t = Clock::now();
    const uint64_t bytes = ring_bytes + kHugePage;
    void *p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    PreparedBlock &r = result;
    r.block = static_cast<uint8_t *>(p);
    r.block_bytes = bytes;
#ifdef MADV_HUGEPAGE
    (void)::madvise(r.block, bytes, MADV_HUGEPAGE);  // advisory, as PinnedSlots::map_block
#endif
    r.ring = reinterpret_cast<uint8_t *>((reinterpret_cast<uintptr_t>(r.block) + kHugePage - 1) &
                                         ~(kHugePage - 1));
    r.ring_bytes = ring_bytes;
    r.map_ms = ms_since(t);
    t = Clock::now();
    if (::madvise(r.ring, ring_bytes, MADV_POPULATE_WRITE) == 0) {
      r.fault_how = "MADV_POPULATE_WRITE";
    } else {
      for (uint64_t off = 0; off < ring_bytes; off += 4096) r.ring[off] = 0;
      r.fault_how = "touch";
    }
    r.fault_ms = ms_since(t);
    r.ready_after_ms = ms_since(started);
  }

  void cancel() {
    {
      std::lock_guard<std::mutex> lock(m);
      cancelled = true;
    }
    cv.notify_all();
  }
};

void free_block(PreparedBlock &b) {
  if (b.block) ::munmap(b.block, b.block_bytes);
  b = PreparedBlock{};
}

// The process's one pending or prepared block.
class Preparer {
 public:
  static Preparer &get() {
    static Preparer p;
    return p;
  }

  void prepare(uint64_t ring_bytes) {
    std::lock_guard<std::mutex> lock(m_);
    if (job_ && job_->ring_bytes >= ring_bytes) return;  // that one will do
    drop_locked();
    auto job = std::make_unique<Job>();
    job->ring_bytes = ring_bytes;
    job->delay_ms = test_delay_ms();
    job->started = Clock::now();
    try {
      Job *j = job.get();
      job->thread = std::thread([j] { j->run(); });
      // Named before prepare() returns, so tests (and a debugger) can tell it from the others.
      (void)pthread_setname_np(job->thread.native_handle(), "dq-prep-staging");
    } catch (...) {
      return;  // no thread: the loading thread faults the ring in itself
    }
    job_ = std::move(job);
  }

  std::optional<PreparedBlock> take(uint64_t ring_bytes) {
    std::lock_guard<std::mutex> lock(m_);
    if (!job_) return std::nullopt;
    if (job_->ring_bytes < ring_bytes) {
      drop_locked();
      return std::nullopt;
    }
    const auto asked = Clock::now();
    job_->thread.join();
    PreparedBlock b = job_->result;
    b.lead_ms = std::chrono::duration<double, std::milli>(asked - job_->started).count();
    b.waited_ms = ms_since(asked);
    job_.reset();
    if (!b.block) return std::nullopt;  // the mapping failed
    return b;
  }

  ~Preparer() {
    std::lock_guard<std::mutex> lock(m_);
    drop_locked();
  }

  // fork(): the child has no preparing thread, so it must never join or cancel the job it
  // inherited; it forgets it (leaked on purpose: its std::thread would terminate the child if
  // destroyed joinable, its mutex may be held). Its block stays mapped in the child.
  void lock_for_fork() { m_.lock(); }
  void unlock_after_fork() { m_.unlock(); }
  void forget_in_child() {
    (void)job_.release();
    m_.unlock();
  }

 private:
  Preparer() {
    pthread_atfork([] { get().lock_for_fork(); }, [] { get().unlock_after_fork(); },
                   [] { get().forget_in_child(); });
  }

  void drop_locked() {
    if (!job_) return;
    job_->cancel();
    job_->thread.join();
    free_block(job_->result);
    job_.reset();
  }

  std::mutex m_;
  std::unique_ptr<Job> job_;
};

}  // namespace

bool staging_prepare_enabled() {
  const char *e = std::getenv("DQ_LOAD_PREPARE");
  return !(e && std::strcmp(e, "0") == 0);
}

void prepare_staging(uint64_t ring_bytes) {
  if (ring_bytes == 0 || !staging_prepare_enabled()) return;
  try {
    Preparer::get().prepare(ring_bytes);
  } catch (...) {
    // Out of memory for the job: the loading thread faults the ring in itself.
  }
}

std::optional<PreparedBlock> take_prepared_staging(uint64_t ring_bytes) {
  return Preparer::get().take(ring_bytes);
}

std::string PreparedBlock::trace() const {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << "prepared on a background thread: map " << map_ms << " ms, fault-in " << (ring_bytes >> 20)
    << " MiB " << fault_ms << " ms (" << fault_how << "), ready " << ready_after_ms
    << " ms after it started, asked for " << lead_ms << " ms after it started, the load waited "
    << waited_ms << " ms";
  return o.str();
}

}  // namespace dq::loader
