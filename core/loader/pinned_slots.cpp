// Pinned staging memory: registered 2 MiB-page anonymous memory, else host_alloc_pinned, in
// one of the ways of RingPin (see pinned_slots.hpp).
#include "loader/pinned_slots.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include "loader/load_trace.hpp"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL (then we touch)
#endif

namespace dq::loader {

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kHugePage = 2ull << 20;

struct PinName {
  RingPin pin;
  const char *name;
};
constexpr PinName kPinNames[] = {{RingPin::register_each, "register"},
                                 {RingPin::populate, "populate"},
                                 {RingPin::block, "block"},
                                 {RingPin::overlap, "overlap"},
                                 {RingPin::background, "background"},
                                 {RingPin::grow, "grow"}};

bool forced_alloc() {
  const char *e = std::getenv("DQ_LOAD_PIN");
  return e && std::strcmp(e, "alloc") == 0;
}

// DQ_LOAD_RING_THP=0 asks for 4 KiB pages (to measure what 2 MiB pages save).
bool huge_pages_wanted() {
  const char *e = std::getenv("DQ_LOAD_RING_THP");
  return !(e && std::strcmp(e, "0") == 0);
}

// Faults [p, p + bytes) in, writable (zeroed pages). Returns false when it had to touch each
// page because the kernel lacks MADV_POPULATE_WRITE.
bool populate(uint8_t *p, uint64_t bytes) {
  if (::madvise(p, bytes, MADV_POPULATE_WRITE) == 0) return true;
  for (uint64_t off = 0; off < bytes; off += 4096) p[off] = 0;
  return false;
}

// The THP mode the kernel is in ("always", "madvise", "never"), for the trace.
std::string thp_mode() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(f, line)) return "unknown";
  const size_t a = line.find('['), b = line.find(']');
  return a != std::string::npos && b > a ? line.substr(a + 1, b - a - 1) : "unknown";
}

// KiB of [begin, end) backed by transparent huge pages (/proc/self/smaps), for the trace.
uint64_t huge_kib(uintptr_t begin, uintptr_t end) {
  std::ifstream f("/proc/self/smaps");
  std::string line;
  bool inside = false;
  uint64_t kib = 0;
  while (std::getline(f, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = lo < end && hi > begin;
      continue;
    }
    unsigned long v = 0;
    if (inside && std::sscanf(line.c_str(), "AnonHugePages: %lu kB", &v) == 1) kib += v;
  }
  return kib;
}

}  // namespace

RingPin ring_pin_from_env() {
  const char *e = std::getenv("DQ_LOAD_RING_PIN");
  if (!e || !*e) return kDefaultRingPin;
  for (const PinName &n : kPinNames)
    if (std::strcmp(e, n.name) == 0) return n.pin;
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true)) {
    std::string accepted;
    for (const PinName &n : kPinNames) accepted += std::string(accepted.empty() ? "" : "|") + n.name;
    std::fprintf(stderr, "dq: warning: DQ_LOAD_RING_PIN=%s is not one of %s; using %s\n", e,
                 accepted.c_str(), ring_pin_name(kDefaultRingPin));
  }
  return kDefaultRingPin;
}

const char *ring_pin_name(RingPin p) {
  for (const PinName &n : kPinNames)
    if (n.pin == p) return n.name;
  return "?";
}

PinnedSlots::PinnedSlots(const DeviceApi &dev, int slots, uint64_t slot_bytes, RingPin pin,
                         int fault_threads)
    : dev_(dev),
      pin_(pin),
      slot_bytes_(slot_bytes),
      slots_(static_cast<size_t>(slots)),
      state_(static_cast<size_t>(slots), State::pending),
      register_ms_(static_cast<size_t>(slots), -1.0) {
  try {
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    if (!forced_alloc() && DeviceApi::can_register(dev.api()) && slot_bytes % page == 0)
      map_block();
    if (!block_) {
      for (int i = 0; i < slots; ++i) settle(i, 0);  // all host_alloc_pinned
      return;
    }
    if (pin_ != RingPin::register_each) fault_in(fault_threads);
    switch (pin_) {
      case RingPin::register_each:
        for (int i = 0; i < slots; ++i) {
          // Fault the pages in here (zeroed once) rather than inside the registration.
          const auto t = Clock::now();
          fault_how_ = "touch";
          fault_threads_used_ = 1;
          uint8_t *p = slots_[static_cast<size_t>(i)].block;
          for (uint64_t off = 0; off < slot_bytes_; off += 4096) p[off] = 0;
          fault_ms_ += ms_since(t);
          register_now(i);
        }
        break;
      case RingPin::populate:
        for (int i = 0; i < slots; ++i) register_now(i);
        break;
      case RingPin::block: {
        const auto t = Clock::now();
        void *handle = nullptr;
        const uint64_t bytes = slot_bytes_ * static_cast<uint64_t>(slots);
        const int32_t st =
            dev_.api()->host_register(ring_, bytes, DQ_HOST_REGISTER_READ_ONLY, &handle);
        ring_register_ms_ = ms_since(t);
        if (st == DQ_OK && handle == ring_) {
          ring_handle_ = handle;
          for (int i = 0; i < slots; ++i) {
            state_[static_cast<size_t>(i)] = State::registered;
            slots_[static_cast<size_t>(i)].ready = true;
          }
        } else {
          if (st == DQ_OK && handle) dev_.api()->host_unregister(handle);
          for (int i = 0; i < slots; ++i) register_now(i);  // one at a time, then allocation
        }
        break;
      }
      case RingPin::overlap:
        register_now(0);
        register_in_background(1);
        break;
      case RingPin::background:
        register_in_background(0);
        break;
      case RingPin::grow:
        for (int i = 0; i < std::min(slots, 2); ++i) register_now(i);
        register_in_background(2);
        break;
    }
  } catch (...) {
    release();
    throw;
  }
}

PinnedSlots::~PinnedSlots() {
  release();
}

// One block at a 2 MiB boundary (2 MiB pages where the kernel gives them: fewer pages to fault
// in and pin), slot i at i * slot_bytes_. Leaves block_ null when the mapping fails.
void PinnedSlots::map_block() {
  const auto t = Clock::now();
  block_bytes_ = slot_bytes_ * slots_.size() + kHugePage;
  void *p = ::mmap(nullptr, block_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    block_bytes_ = 0;
    return;
  }
  block_ = static_cast<uint8_t *>(p);
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
  // Advisory: without THP the kernel gives 4 KiB pages, silently.
  (void)::madvise(block_, block_bytes_, huge_pages_wanted() ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#endif
  ring_ = reinterpret_cast<uint8_t *>((reinterpret_cast<uintptr_t>(block_) + kHugePage - 1) &
                                      ~(kHugePage - 1));
  for (size_t i = 0; i < slots_.size(); ++i) slots_[i].block = slots_[i].host = ring_ + i * slot_bytes_;
  map_ms_ = ms_since(t);
}

void PinnedSlots::fault_in(int threads) {
  const auto t = Clock::now();
  const uint64_t bytes = slot_bytes_ * slots_.size();
  // Shares of whole 2 MiB pages: a huge page is zeroed by the one thread that faults it.
  const uint64_t pages = (bytes + kHugePage - 1) / kHugePage;
  const uint64_t n = std::clamp<uint64_t>(static_cast<uint64_t>(std::max(threads, 1)), 1, pages);
  std::atomic<bool> touched{false};
  auto share = [&](uint64_t k) {
    const uint64_t a = pages * k / n * kHugePage, b = std::min(bytes, pages * (k + 1) / n * kHugePage);
    if (b > a && !populate(ring_ + a, b - a)) touched = true;
  };
  std::vector<std::thread> helpers;
  for (uint64_t k = 1; k < n; ++k) {
    try {
      helpers.emplace_back(share, k);
    } catch (...) {  // no thread: this one does the share
      share(k);
    }
  }
  share(0);
  for (std::thread &h : helpers) h.join();
  fault_threads_used_ = static_cast<int>(n);
  fault_how_ = touched ? "touch" : "madvise";
  fault_ms_ = ms_since(t);
}

bool PinnedSlots::try_register(int i) const {
  uint8_t *p = slots_[static_cast<size_t>(i)].block;
  void *handle = nullptr;
  const int32_t st = dev_.api()->host_register(p, slot_bytes_, DQ_HOST_REGISTER_READ_ONLY, &handle);
  if (st == DQ_OK && handle == p) return true;
  if (st == DQ_OK && handle) dev_.api()->host_unregister(handle);
  return false;
}

void PinnedSlots::register_now(int i) {
  const auto t = Clock::now();
  const bool ok = try_register(i);
  {
    std::lock_guard<std::mutex> lk(mu_);
    state_[static_cast<size_t>(i)] = ok ? State::registered : State::refused;
    register_ms_[static_cast<size_t>(i)] = ms_since(t);
  }
  settle(i, 0);
}

// The slot's registration is over (or it never had a block): a refused or missing one gets
// host_alloc_pinned memory, with the `used` bytes filled so far.
void PinnedSlots::settle(int i, uint64_t used) {
  Slot &s = slots_[static_cast<size_t>(i)];
  State st;
  {
    std::lock_guard<std::mutex> lk(mu_);
    st = state_[static_cast<size_t>(i)];
  }
  if (st != State::registered) {
    auto *p = static_cast<uint8_t *>(dev_.alloc_pinned(slot_bytes_));
    if (s.block && used) std::memcpy(p, s.block, std::min(used, slot_bytes_));
    s.host = p;
    s.allocated = true;
  }
  s.ready = true;
}

void PinnedSlots::register_in_background(int first) {
  auto work = [this, first] {
    for (size_t i = static_cast<size_t>(first); i < slots_.size() && !stop_.load(); ++i) {
      const auto t = Clock::now();
      const bool ok = try_register(static_cast<int>(i));
      {
        std::lock_guard<std::mutex> lk(mu_);
        state_[i] = ok ? State::registered : State::refused;
        register_ms_[i] = ms_since(t);
      }
      cv_.notify_all();
    }
  };
  try {
    registrar_ = std::thread(work);
  } catch (...) {  // no thread: register here
    for (int i = first; i < static_cast<int>(slots_.size()); ++i) register_now(i);
  }
}

uint8_t *PinnedSlots::upload_ready(int i, uint64_t used) {
  Slot &s = slots_[static_cast<size_t>(i)];
  if (s.ready) return s.host;
  const auto t = Clock::now();
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return state_[static_cast<size_t>(i)] != State::pending; });
  }
  waited_ms_ += ms_since(t);
  settle(i, used);
  return s.host;
}

int PinnedSlots::usable() {
  const int n = static_cast<int>(slots_.size());
  if (pin_ != RingPin::grow || usable_ == n) return n;
  // Registration goes in slot order: the usable slots are a prefix.
  while (usable_ < n) {
    Slot &s = slots_[static_cast<size_t>(usable_)];
    if (!s.ready) {
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (state_[static_cast<size_t>(usable_)] == State::pending) break;
      }
      settle(usable_, 0);  // never filled yet: nothing to take along
    }
    ++usable_;
  }
  return usable_;
}

const char *PinnedSlots::how() {
  int reg = 0, alloc = 0;
  std::unique_lock<std::mutex> lk(mu_);
  for (size_t i = 0; i < slots_.size(); ++i) {
    // Only a background registration can be pending; it ends without the loading thread.
    if (slots_[i].block && !slots_[i].ready)
      cv_.wait(lk, [&] { return state_[i] != State::pending; });
    (state_[i] == State::registered ? reg : alloc) += 1;
  }
  return alloc == 0 ? "registered" : reg == 0 ? "allocated" : "mixed";
}

std::string PinnedSlots::trace() {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << "pin=" << ring_pin_name(pin_);
  if (!block_) {
    o << " (host_alloc_pinned: no registration)";
    return o.str();
  }
  const uint64_t bytes = slot_bytes_ * slots_.size();
  o << ": map " << map_ms_ << " ms, fault-in " << (bytes >> 20) << " MiB " << fault_ms_ << " ms ("
    << fault_threads_used_ << " thread(s), " << fault_how_ << "; THP " << thp_mode() << ", "
    << huge_kib(reinterpret_cast<uintptr_t>(ring_), reinterpret_cast<uintptr_t>(ring_) + bytes) /
           2048
    << " of " << (bytes + kHugePage - 1) / kHugePage << " 2 MiB pages huge), register";
  if (ring_register_ms_ >= 0) o << " ring " << ring_register_ms_ << " ms" << (ring_handle_ ? "" : " (refused), slots");
  if (!ring_handle_) {
    std::lock_guard<std::mutex> lk(mu_);
    const size_t first_bg = pin_ == RingPin::overlap      ? 1
                            : pin_ == RingPin::background ? 0
                            : pin_ == RingPin::grow       ? 2
                                                          : slots_.size();
    for (size_t i = 0; i < slots_.size(); ++i) {
      o << " ";
      if (register_ms_[i] < 0)
        o << "-";
      else
        o << register_ms_[i] << (i >= first_bg ? "*" : "") << (state_[i] == State::registered ? "" : "(refused)");
    }
    o << " ms" << (first_bg < slots_.size() ? " (* on the background thread)" : "");
  }
  int allocated = 0;
  for (const Slot &s : slots_) allocated += s.allocated ? 1 : 0;
  if (allocated) o << ", " << allocated << " slot(s) host_alloc_pinned";
  o << ", uploads waited " << waited_ms_ << " ms for registrations";
  return o.str();
}

void PinnedSlots::release() noexcept {
  stop_ = true;
  if (registrar_.joinable()) registrar_.join();
  if (ring_handle_) dev_.api()->host_unregister(ring_handle_);
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot &s = slots_[i];
    if (s.allocated)
      dev_.free_pinned(s.host);
    else if (!ring_handle_ && s.block && state_[i] == State::registered)
      dev_.api()->host_unregister(s.block);
  }
  ring_handle_ = nullptr;
  slots_.clear();
  state_.clear();
  if (block_) ::munmap(block_, block_bytes_);
  block_ = nullptr;
}

}  // namespace dq::loader
