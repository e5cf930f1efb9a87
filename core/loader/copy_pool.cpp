// Parallel staging copies (see copy_pool.hpp).
#include "loader/copy_pool.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "loader/file_source.hpp"
#include "loader/load_error.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dq::loader {

namespace {

#if defined(__x86_64__)
bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

// Unaligned 32-byte loads, aligned streaming stores, memcpy for the unaligned head and tail.
__attribute__((target("avx2"))) void stream_copy_avx2(uint8_t *dst, const uint8_t *src,
                                                      uint64_t n) {
  const uint64_t head = std::min<uint64_t>(n, (32 - (reinterpret_cast<uintptr_t>(dst) & 31)) & 31);
  std::memcpy(dst, src, head);
  dst += head, src += head, n -= head;
  for (; n >= 128; n -= 128, dst += 128, src += 128) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + 32));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + 64));
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + 96));
    _mm256_stream_si256(reinterpret_cast<__m256i *>(dst), a);
    _mm256_stream_si256(reinterpret_cast<__m256i *>(dst + 32), b);
    _mm256_stream_si256(reinterpret_cast<__m256i *>(dst + 64), c);
    _mm256_stream_si256(reinterpret_cast<__m256i *>(dst + 96), d);
  }
  std::memcpy(dst, src, n);
  _mm_sfence();  // streaming stores are weakly ordered: finish before the upload is queued
}

// The same with software prefetches 4 KiB ahead: the hardware prefetchers stop at each 4 KiB
// page of the mapping, so a lone core waits out the memory latency at every page start.
__attribute__((target("avx2"))) void prefetch_copy_avx2(uint8_t *dst, const uint8_t *src,
                                                        uint64_t n) {
  constexpr uint64_t kAhead = 4096;
  const uint64_t head = std::min<uint64_t>(n, (32 - (reinterpret_cast<uintptr_t>(dst) & 31)) & 31);
  std::memcpy(dst, src, head);
  dst += head, src += head, n -= head;
  for (; n >= kAhead + 128; n -= 128, dst += 128, src += 128) {
    _mm_prefetch(reinterpret_cast<const char *>(src + kAhead), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char *>(src + kAhead + 64), _MM_HINT_T0);
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + 32));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + 64));
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + 96));
    _mm256_stream_si256(reinterpret_cast<__m256i *>(dst), a);
    _mm256_stream_si256(reinterpret_cast<__m256i *>(dst + 32), b);
    _mm256_stream_si256(reinterpret_cast<__m256i *>(dst + 64), c);
    _mm256_stream_si256(reinterpret_cast<__m256i *>(dst + 96), d);
  }
  stream_copy_avx2(dst, src, n);  // the last 4 KiB (and the sfence)
}
#endif

void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

using Clock = std::chrono::steady_clock;

// Spins until `done()` or `limit` has passed; true when done.
// After the first 50 us it yields between checks: the thread that ends the wait (the one
// submitting uploads, or CUDA's own) must not be kept off a core by the spinners; pure
// spinning made 4 MiB slots 5x slower on the 16-vCPU H100 host.
template <class F>
bool spin_until(F &&done, std::chrono::microseconds limit) {
  if (limit.count() <= 0) return done();
  const auto start = Clock::now(), end = start + limit,
             busy_end = start + std::chrono::microseconds(50);
  bool busy = true;
  for (unsigned i = 1;; ++i) {
    if (done()) return true;
    if (busy)
      cpu_relax();
    else
      std::this_thread::yield();
    if ((i & 63) == 0 || !busy) {
      const auto now = Clock::now();
      if (now >= end) return done();
      busy = now < busy_end;
    }
  }
}

// How long hand-offs spin before sleeping: longer than the gap between two fills, and none
// when the pool has more threads than the machine has cores (spinners would starve workers).
std::chrono::microseconds spin_limit(int threads) {
  const unsigned hw = std::thread::hardware_concurrency();
  return std::chrono::microseconds(hw != 0 && static_cast<unsigned>(threads) <= hw ? 2000 : 0);
}

}  // namespace

CopyMethod default_copy_method() {
  const char *env = std::getenv("DQ_LOAD_COPY");
  const std::string_view v = env ? env : "";
  if (v == "memcpy") return CopyMethod::memcpy;
  if (v == "pread") return CopyMethod::pread;
  if (v == "prefetch") return CopyMethod::prefetch;
  if (v == "stream") return CopyMethod::stream;
  // Measured on the H100 host (docs/PERFORMANCE.md): with a ring that fits the last-level
  // cache, plain stores (the slot stays cached for the upload to read) beat streaming stores.
  return CopyMethod::memcpy;
}

const char *copy_method_name(CopyMethod m) {
  switch (m) {
    case CopyMethod::pread:
      return "pread";
    case CopyMethod::stream:
      return "stream";
    case CopyMethod::prefetch:
      return "prefetch";
    case CopyMethod::memcpy:
      break;
  }
  return "memcpy";
}

void copy_bytes(CopyMethod m, void *dst, const void *src, uint64_t bytes) {
#if defined(__x86_64__)
  if ((m == CopyMethod::stream || m == CopyMethod::prefetch) && bytes >= 4096 && have_avx2()) {
    if (m == CopyMethod::prefetch)
      prefetch_copy_avx2(static_cast<uint8_t *>(dst), static_cast<const uint8_t *>(src), bytes);
    else
      stream_copy_avx2(static_cast<uint8_t *>(dst), static_cast<const uint8_t *>(src), bytes);
    return;
  }
#endif
  (void)m;
  std::memcpy(dst, src, bytes);
}

namespace {

// Moves bytes [a, b) of one segment (offsets within it); returns "" or what failed.
std::string move_part(CopyMethod m, const CopySegment &s, uint64_t a, uint64_t b) {
  uint8_t *dst = static_cast<uint8_t *>(s.dst) + a;
  // File bytes always come through pread(): a read through the mapping of a file truncated
  // meanwhile would raise SIGBUS (file_source.hpp). The methods apply to memory sources.
  if (s.fd >= 0) {
    std::string e = pread_exact(s.fd, dst, b - a, s.file_offset + a);
    if (!e.empty())
      return "reading " + std::to_string(b - a) + " bytes at byte " +
             std::to_string(s.file_offset + a) + " of " + (s.file ? s.file : "the model file") +
             " failed: " + e;
    return {};
  }
  copy_bytes(m, dst, static_cast<const uint8_t *>(s.src) + a, b - a);
  return {};
}

// Moves bytes [begin, end) of the concatenation of `segs`.
std::string copy_range(CopyMethod m, const std::vector<CopySegment> &segs, uint64_t begin,
                       uint64_t end) {
  uint64_t pos = 0;
  for (const CopySegment &s : segs) {
    const uint64_t s_end = pos + s.bytes;
    if (s_end > begin && pos < end) {
      const uint64_t a = std::max(begin, pos), b = std::min(end, s_end);
      std::string e = move_part(m, s, a - pos, b - pos);
      if (!e.empty()) return e;
    }
    pos = s_end;
    if (pos >= end) break;
  }
  return {};
}

}  // namespace

int CopyPool::default_threads(int devices) {
  const unsigned hw = std::thread::hardware_concurrency();
  // Three quarters of the cores, at most 16 a device: the rest submit uploads and run CUDA's
  // own threads. Measured on the H100 host (16 vCPUs): 12 threads as fast as 16, 8 slower.
  const unsigned cap = 16u * static_cast<unsigned>(std::max(devices, 1));
  return static_cast<int>(std::clamp(hw == 0 ? 1u : hw - hw / 4, 1u, cap));
}

CopyPool::CopyPool(int threads, CopyMethod method) : method_(method) {
  n_threads_ = std::max(threads, 1);
  const int helpers = n_threads_ - 1;
  workers_.reserve(helpers);
  for (int i = 0; i < helpers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

CopyPool::~CopyPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_.store(true);
  }
  start_cv_.notify_all();
  for (auto &t : workers_) t.join();
}

void CopyPool::note_error(std::string e) {
  std::lock_guard<std::mutex> lk(mu_);
  if (error_.empty()) error_ = std::move(e);
}

void CopyPool::run_pieces() {
  // Pieces are whole multiples of 4 KiB, so no two threads write one page.
  for (;;) {
    const uint64_t i = next_piece_.fetch_add(1, std::memory_order_relaxed);
    const uint64_t begin = i * piece_;
    if (begin >= total_) return;
    std::string e = copy_range(method_, *segments_, begin, std::min(total_, begin + piece_));
    if (!e.empty()) note_error(std::move(e));
  }
}

void CopyPool::worker_loop() {
  const auto spin = spin_limit(threads());
  uint64_t seen = 0;
  for (;;) {
    auto started = [&] {
      return stop_.load(std::memory_order_acquire) ||
             generation_.load(std::memory_order_acquire) != seen;
    };
    if (!spin_until(started, spin)) {
      std::unique_lock<std::mutex> lk(mu_);
      start_cv_.wait(lk, started);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    run_pieces();
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lk(mu_);
      done_cv_.notify_one();
    }
  }
}

void CopyPool::begin(const std::vector<CopySegment> &segments, uint64_t min_parallel_bytes) {
  uint64_t total = 0;
  for (const auto &s : segments) total += s.bytes;
  segments_ = &segments;
  total_ = total;
  inline_ = workers_.empty() || total < min_parallel_bytes;
  if (inline_) return;
  // About 4 pieces per thread, at least 256 KiB each, whole pages.
  const uint64_t per = total / (4 * static_cast<uint64_t>(threads())) + 4095;
  piece_ = std::max<uint64_t>(256ull << 10, per & ~uint64_t{4095});
  next_piece_.store(0, std::memory_order_relaxed);
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lk(mu_);  // no helper may miss the wake-up between its check
    generation_.fetch_add(1, std::memory_order_release);  // and its wait
  }
  start_cv_.notify_all();
}

void CopyPool::finish() {
  if (!segments_) return;
  if (inline_) {
    const std::vector<CopySegment> &segs = *segments_;
    segments_ = nullptr;
    for (const auto &s : segs) {
      std::string e = move_part(method_, s, 0, s.bytes);
      if (!e.empty()) throw LoadError(DQ_ERR_IO, e);
    }
    return;
  }
  run_pieces();
  auto finished = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(finished, spin_limit(threads()))) {
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, finished);
  }
  segments_ = nullptr;
  std::string e;
  {
    std::lock_guard<std::mutex> lk(mu_);
    e.swap(error_);
  }
  if (!e.empty()) throw LoadError(DQ_ERR_IO, e);
}

}  // namespace dq::loader
