// Parallel staging copies (see copy_pool.hpp).
#include "loader/copy_pool.hpp"

#include <algorithm>
#include <cstring>

namespace dq::loader {

namespace {

// Copies bytes [begin, end) of the concatenation of `segs`.
void copy_range(const std::vector<CopySegment> &segs, uint64_t begin, uint64_t end) {
  uint64_t pos = 0;
  for (const CopySegment &s : segs) {
    const uint64_t s_end = pos + s.bytes;
    if (s_end > begin && pos < end) {
      const uint64_t a = std::max(begin, pos), b = std::min(end, s_end);
      std::memcpy(static_cast<uint8_t *>(s.dst) + (a - pos),
                  static_cast<const uint8_t *>(s.src) + (a - pos), b - a);
    }
    pos = s_end;
    if (pos >= end) break;
  }
}

}  // namespace

int CopyPool::default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(hw == 0 ? 1u : hw / 2, 1u, 8u));
}

CopyPool::CopyPool(int threads) {
  const int helpers = std::max(threads, 1) - 1;
  for (int i = 0; i < helpers; ++i) workers_.emplace_back([this, i] { worker_loop(i + 1); });
}

CopyPool::~CopyPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto &t : workers_) t.join();
}

void CopyPool::run_share(int index) {
  const uint64_t n = static_cast<uint64_t>(threads());
  // Shares start at 4 KiB boundaries so no two threads write one page.
  auto cut = [&](uint64_t i) { return std::min(total_, (total_ * i / n) & ~uint64_t{4095}); };
  const uint64_t begin = cut(index), end = index + 1 == static_cast<int>(n) ? total_ : cut(index + 1);
  if (end > begin) copy_range(*segments_, begin, end);
}

void CopyPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      start_cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_share(index);
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

void CopyPool::copy(const std::vector<CopySegment> &segments, uint64_t min_parallel_bytes) {
  uint64_t total = 0;
  for (const auto &s : segments) total += s.bytes;
  if (workers_.empty() || total < min_parallel_bytes) {
    for (const auto &s : segments) std::memcpy(s.dst, s.src, s.bytes);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    segments_ = &segments;
    total_ = total;
    pending_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  start_cv_.notify_all();
  run_share(0);
  std::unique_lock<std::mutex> lk(mu_);
  done_cv_.wait(lk, [&] { return pending_ == 0; });
  segments_ = nullptr;
}

}  // namespace dq::loader
