// Hybrid uploads: pinning windows of the mapping beside the staging copy (see direct_upload.hpp).
#include "loader/direct_upload.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "loader/load_error.hpp"

namespace dq::loader {

HybridOptions hybrid_options_from_env() {
  HybridOptions o;
  const char *copy = std::getenv("DQ_LOAD_COPY");
  if (copy && std::string_view(copy) == "hybrid") o.fraction = kDefaultHybridFraction;
  if (const char *f = std::getenv("DQ_LOAD_REGISTER_FRACTION"); f && *f) {
    char *end = nullptr;
    const double v = std::strtod(f, &end);
    if (end != f && v >= 0 && v <= 1) o.fraction = v;
  }
  if (const char *w = std::getenv("DQ_LOAD_REGISTER_WINDOW_MIB"); w && *w) {
    const long mib = std::strtol(w, nullptr, 10);
    if (mib >= 1 && mib <= 4096) o.window_bytes = static_cast<uint64_t>(mib) << 20;
  }
  if (const char *w = std::getenv("DQ_LOAD_HYBRID_WAIT"); w && *w && std::string_view(w) != "0")
    o.wait_for_pins = true;
  return o;
}

bool fill_can_go_direct(const std::vector<TensorJob> &jobs, const SlotFill &fill) {
  for (const Piece &p : fill.pieces)
    if (jobs[p.job].route == Route::cpu) return false;
  return !fill.pieces.empty();
}

namespace {

// DQ_LOAD_HYBRID_DEBUG=1: one line per pin, unpin and fill decision (for finding stalls).
bool verbose_trace() {
  static const bool v = [] {
    const char *t = std::getenv("DQ_LOAD_HYBRID_DEBUG");
    return t && *t && std::string_view(t) != "0";
  }();
  return v;
}

#define DQ_HYBRID_TRACE(...)                                  \
  do {                                                        \
    if (verbose_trace()) {                                    \
      std::fprintf(stderr, "dq: hybrid-debug: " __VA_ARGS__); \
      std::fflush(stderr);                                    \
    }                                                         \
  } while (0)

struct Span {
  uintptr_t lo, hi;
};

Span piece_span(const TensorJob &j, const Piece &p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(j.src) + p.src_offset;
  return {a, a + p.src_bytes};
}

}  // namespace

DirectPlan plan_direct(const std::vector<TensorJob> &jobs, const std::vector<SlotFill> &fills,
                       double fraction, uint64_t window_bytes, uint64_t page) {
  DirectPlan plan;
  plan.first_fill = fills.size();
  if (fraction <= 0 || fills.empty() || page == 0) return plan;
  uint64_t total = 0;
  for (const SlotFill &f : fills) total += f.file_bytes;
  const double target = fraction * static_cast<double>(total);
  double acc = 0;
  while (plan.first_fill > 0 && acc < target)
    acc += static_cast<double>(fills[--plan.first_fill].file_bytes);

  // Page-rounded source ranges of the direct candidates, merged where they touch.
  std::vector<Span> spans;
  for (size_t k = plan.first_fill; k < fills.size(); ++k) {
    if (!fill_can_go_direct(jobs, fills[k])) continue;
    for (const Piece &p : fills[k].pieces) {
      if (p.src_bytes == 0) continue;
      const Span s = piece_span(jobs[p.job], p);
      spans.push_back({s.lo / page * page, (s.hi + page - 1) / page * page});
    }
  }
  std::sort(spans.begin(), spans.end(), [](const Span &a, const Span &b) { return a.lo < b.lo; });
  std::vector<Span> regions;
  for (const Span &s : spans) {
    if (!regions.empty() && s.lo <= regions.back().hi)
      regions.back().hi = std::max(regions.back().hi, s.hi);
    else
      regions.push_back(s);
  }
  // Each region cut into near-equal windows of whole pages.
  const uint64_t wb = std::max<uint64_t>(window_bytes / page * page, page);
  for (const Span &r : regions) {
    const uint64_t len = r.hi - r.lo;
    const uint64_t n = std::max<uint64_t>(1, (len + wb / 2) / wb);
    const uint64_t size = ((len + n - 1) / n + page - 1) / page * page;
    for (uintptr_t lo = r.lo; lo < r.hi; lo += size)
      plan.windows.push_back({lo, std::min<uintptr_t>(lo + size, r.hi), SIZE_MAX, 0});
  }
  // Which fills read each window.
  for (size_t k = plan.first_fill; k < fills.size(); ++k) {
    if (!fill_can_go_direct(jobs, fills[k])) continue;
    for (const Piece &p : fills[k].pieces) {
      const Span s = piece_span(jobs[p.job], p);
      for (RegisterWindow &w : plan.windows)
        if (s.lo < w.hi && w.lo < s.hi) {
          w.first_fill = std::min(w.first_fill, k);
          w.last_fill = std::max(w.last_fill, k);
        }
    }
  }
  std::erase_if(plan.windows, [](const RegisterWindow &w) { return w.first_fill == SIZE_MAX; });
  return plan;
}

DirectUploader::DirectUploader(const DeviceApi &dev, DirectPlan plan, bool wait_for_pins)
    : dev_(dev), plan_(std::move(plan)), wait_for_pins_(wait_for_pins) {
  for (const RegisterWindow &w : plan_.windows) {
    Window &x = windows_.emplace_back();
    x.w = w;
  }
  try {
    for (Window &w : windows_) w.done = dev_.event_create();
    if (!windows_.empty()) thread_ = std::thread([this] { thread_main(); });
  } catch (...) {
    for (Window &w : windows_) dev_.event_destroy(w.done);
    throw;
  }
}

DirectUploader::~DirectUploader() {
  stop_thread();
  for (Window &w : windows_) {
    if (w.handle) {
      try {
        dev_.unregister_host(w.handle);
      } catch (...) {
      }
    }
    dev_.event_destroy(w.done);
  }
}

void DirectUploader::stop_thread() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    abort_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DirectUploader::thread_main() {
  // Pin from the far end of the plan: those windows are needed last.
  std::vector<Window *> order;
  for (Window &w : windows_) order.push_back(&w);
  std::stable_sort(order.begin(), order.end(), [](const Window *a, const Window *b) {
    return a->w.first_fill > b->w.first_fill;
  });
  for (Window *w : order) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (abort_) return;
    }
    int expected = pending;
    // The pipeline got there first: it and every window before it go through staging.
    if (!w->state.compare_exchange_strong(expected, pinning)) break;
    int next = pinned;
    DQ_HYBRID_TRACE("pin window %zu..%zu (%zu bytes)\n", w->w.first_fill, w->w.last_fill,
                    static_cast<size_t>(w->w.hi - w->w.lo));
    try {
      w->handle = dev_.register_host(reinterpret_cast<const void *>(w->w.lo), w->w.hi - w->w.lo);
    } catch (const LoadError &e) {
      next = failed;
      if (error_.empty()) error_ = e.what();
    }
    DQ_HYBRID_TRACE("pinned window %zu..%zu: %s\n", w->w.first_fill, w->w.last_fill,
                    next == pinned ? "ok" : error_.c_str());
    {
      std::lock_guard<std::mutex> lk(mu_);
      w->state.store(next);
    }
    cv_.notify_all();
    if (next == failed) break;  // the next one would fail the same way
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    pin_thread_done_ = true;  // windows still pending now stay so: staging takes them
  }
  cv_.notify_all();
  // Unpin in the order the uploads finish.
  std::stable_sort(order.begin(), order.end(), [](const Window *a, const Window *b) {
    return a->w.last_fill < b->w.last_fill;
  });
  for (Window *w : order) {
    if (w->state.load() != pinned) continue;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return abort_ || w->recorded; });
      if (abort_) return;  // the destructor unpins after the device is drained
    }
    DQ_HYBRID_TRACE("unpin window %zu..%zu after its event\n", w->w.first_fill, w->w.last_fill);
    try {
      dev_.event_synchronize(w->done);
      dev_.unregister_host(w->handle);
      w->handle = nullptr;
      w->state.store(unpinned);
    } catch (const LoadError &) {
      return;  // left for the destructor
    }
  }
}

void DirectUploader::settle(Window &w) {
  if (wait_for_pins_) {  // the pin thread reaches every window unless one fails
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] {
      const int st = w.state.load();
      return (st != pending && st != pinning) || pin_thread_done_;
    });
  }
  int expected = pending;
  if (w.state.compare_exchange_strong(expected, skipped)) return;
  if (expected == pinning) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return w.state.load() != pinning; });
  }
}

bool DirectUploader::acquire(size_t k, const std::vector<TensorJob> &jobs, const SlotFill &fill) {
  if (k < plan_.first_fill || windows_.empty() || !fill_can_go_direct(jobs, fill)) return false;
  bool all = true;
  for (Window &w : windows_) {
    if (k < w.w.first_fill || k > w.w.last_fill) continue;
    settle(w);
    all = all && w.state.load() == pinned;
  }
  DQ_HYBRID_TRACE("fill %zu: %s\n", k, all ? "direct" : "staging");
  return all;
}

void DirectUploader::upload(const std::vector<TensorJob> &jobs, const SlotFill &fill,
                            uint8_t *slot_dev, void *stream) {
  for (const Piece &p : fill.pieces) {
    const TensorJob &j = jobs[p.job];
    const uintptr_t a = reinterpret_cast<uintptr_t>(j.src) + p.src_offset, b = a + p.src_bytes;
    uint64_t covered = 0;
    // One copy per window it crosses: a copy's source must lie in one registration.
    for (const Window &w : windows_) {
      const uintptr_t lo = std::max(a, w.w.lo), hi = std::min(b, w.w.hi);
      if (lo >= hi) continue;
      dev_.copy_h2d(slot_dev + p.slot_offset + (lo - a), reinterpret_cast<const void *>(lo),
                    hi - lo, stream);
      covered += hi - lo;
    }
    if (covered != p.src_bytes)
      throw LoadError(DQ_ERR_INTERNAL, "tensor " + j.name + ": direct upload windows miss " +
                                           std::to_string(p.src_bytes - covered) + " bytes");
    direct_bytes_ += p.src_bytes;
  }
  ++direct_fills_;
}

void DirectUploader::submitted(size_t k, void *copy_stream) {
  for (Window &w : windows_) {
    if (w.w.last_fill != k) continue;
    settle(w);
    if (w.state.load() != pinned) continue;
    dev_.event_record(w.done, copy_stream);
    {
      std::lock_guard<std::mutex> lk(mu_);
      w.recorded = true;
    }
    cv_.notify_all();
  }
}

void DirectUploader::finish(size_t fills) {
  if (thread_.joinable()) thread_.join();  // every window recorded or never pinned: it ends
  if (!std::getenv("DQ_LOAD_HYBRID_TRACE")) return;
  int n[unpinned + 1] = {};
  for (const Window &w : windows_) ++n[w.state.load()];
  std::fprintf(stderr,
               "dq: hybrid: %zu of %zu fills direct (%.1f MiB), from fill %zu; windows: %zu, %d "
               "pinned+unpinned, %d left to staging, %d failed%s%s\n",
               direct_fills_, fills, direct_bytes_ / 1048576.0, plan_.first_fill, windows_.size(),
               n[unpinned] + n[pinned], n[skipped] + n[pending], n[failed],
               error_.empty() ? "" : ": ", error_.c_str());
}

}  // namespace dq::loader
