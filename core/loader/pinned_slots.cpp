// Pinned staging memory: registered 2 MiB-page anonymous memory, else host_alloc_pinned (see
// pinned_slots.hpp).
#include "loader/pinned_slots.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "loader/load_trace.hpp"
#include "loader/prepared_staging.hpp"

namespace dq::loader {

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kHugePage = 2ull << 20;

bool forced_alloc() {
  const char *e = std::getenv("DQ_LOAD_PIN");
  return e && std::strcmp(e, "alloc") == 0;
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

void warn_if_ring_pin_set() {
  const char *e = std::getenv("DQ_LOAD_RING_PIN");
  if (!e || !*e || std::strcmp(e, "register") == 0) return;
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true))
    std::fprintf(stderr,
                 "dq: warning: DQ_LOAD_RING_PIN=%s is ignored: only the default way of pinning "
                 "the staging ring (register) remains\n",
                 e);
}

PinnedSlots::PinnedSlots(const DeviceApi &dev, int slots, uint64_t slot_bytes)
    : dev_(dev),
      slot_bytes_(slot_bytes),
      slots_(static_cast<size_t>(slots)),
      register_ms_(static_cast<size_t>(slots), -1.0) {
  try {
    if (will_register(dev, slot_bytes)) {
      // A block faulted in ahead (prepared_staging.hpp), else one mapped here.
      if (auto p = take_prepared_staging(slot_bytes * static_cast<uint64_t>(slots)))
        adopt(*p);
      else
        map_block();
    }
    for (int i = 0; i < slots; ++i) {
      if (block_) fault_in_and_register(i);
      if (!slots_[static_cast<size_t>(i)].registered) allocate(i);
    }
  } catch (...) {
    release();
    throw;
  }
}

PinnedSlots::~PinnedSlots() {
  release();
}

bool PinnedSlots::will_register(const DeviceApi &dev, uint64_t slot_bytes) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return !forced_alloc() && DeviceApi::can_register(dev.api()) && slot_bytes % page == 0;
}

// The prepared block's pages are faulted in already: only the registrations are left.
void PinnedSlots::adopt(const PreparedBlock &p) {
  block_ = p.block;
  block_bytes_ = p.block_bytes;
  ring_ = p.ring;
  for (size_t i = 0; i < slots_.size(); ++i) slots_[i].block = ring_ + i * slot_bytes_;
  prepared_ = std::make_unique<PreparedBlock>(p);
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
#ifdef MADV_HUGEPAGE
  // Advisory: without THP the kernel gives 4 KiB pages, silently.
  (void)::madvise(block_, block_bytes_, MADV_HUGEPAGE);
#endif
  ring_ = reinterpret_cast<uint8_t *>((reinterpret_cast<uintptr_t>(block_) + kHugePage - 1) &
                                      ~(kHugePage - 1));
  for (size_t i = 0; i < slots_.size(); ++i) slots_[i].block = ring_ + i * slot_bytes_;
  map_ms_ = ms_since(t);
}

// The pages are faulted in here (zeroed once) rather than inside the registration, which
// would otherwise fault them in itself and hide the cost.
void PinnedSlots::fault_in_and_register(int i) {
  Slot &s = slots_[static_cast<size_t>(i)];
  auto t = Clock::now();
  if (!prepared_) {
    for (uint64_t off = 0; off < slot_bytes_; off += 4096) s.block[off] = 0;
    fault_ms_ += ms_since(t);
  }
  t = Clock::now();
  void *handle = nullptr;
  const int32_t st = dev_.api()->host_register(s.block, slot_bytes_, DQ_HOST_REGISTER_READ_ONLY, &handle);
  register_ms_[static_cast<size_t>(i)] = ms_since(t);
  if (st == DQ_OK && handle == s.block) {
    s.host = s.block;
    s.registered = true;
  } else if (st == DQ_OK && handle) {
    dev_.api()->host_unregister(handle);
  }
}

// A slot without a registration (refused, or no block at all) gets host_alloc_pinned memory.
void PinnedSlots::allocate(int i) {
  Slot &s = slots_[static_cast<size_t>(i)];
  s.host = static_cast<uint8_t *>(dev_.alloc_pinned(slot_bytes_));
  s.allocated = true;
}

const char *PinnedSlots::how() const {
  int reg = 0;
  for (const Slot &s : slots_) reg += s.registered ? 1 : 0;
  return reg == static_cast<int>(slots_.size()) ? "registered" : reg == 0 ? "allocated" : "mixed";
}

std::string PinnedSlots::trace() const {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << "pin=register";
  if (!block_) {
    o << " (host_alloc_pinned: no registration)";
    return o.str();
  }
  const uint64_t bytes = slot_bytes_ * slots_.size();
  if (prepared_)
    o << ": " << prepared_->trace() << " (THP " << thp_mode() << ", ";
  else
    o << ": map " << map_ms_ << " ms, fault-in " << (bytes >> 20) << " MiB " << fault_ms_
      << " ms (1 thread, touch; THP " << thp_mode() << ", ";
  o << huge_kib(reinterpret_cast<uintptr_t>(ring_), reinterpret_cast<uintptr_t>(ring_) + bytes) /
           2048
    << " of " << (bytes + kHugePage - 1) / kHugePage << " 2 MiB pages huge), register";
  for (size_t i = 0; i < slots_.size(); ++i) {
    o << " " << register_ms_[i] << (slots_[i].registered ? "" : "(refused)");
  }
  o << " ms";
  int allocated = 0;
  for (const Slot &s : slots_) allocated += s.allocated ? 1 : 0;
  if (allocated) o << ", " << allocated << " slot(s) host_alloc_pinned";
  return o.str();
}

void PinnedSlots::release() noexcept {
  for (Slot &s : slots_) {
    if (s.allocated)
      dev_.free_pinned(s.host);
    else if (s.registered)
      dev_.api()->host_unregister(s.block);
  }
  slots_.clear();
  if (block_) ::munmap(block_, block_bytes_);
  block_ = nullptr;
}

}  // namespace dq::loader
