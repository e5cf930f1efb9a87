// Pinned staging memory: registered 2 MiB-page anonymous memory, else host_alloc_pinned (see
// pinned_slots.hpp).
#include "loader/pinned_slots.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace dq::loader {

namespace {

constexpr uint64_t kHugePage = 2ull << 20;

bool forced_alloc() {
  const char *e = std::getenv("DQ_LOAD_PIN");
  return e && std::strcmp(e, "alloc") == 0;
}

}  // namespace

PinnedSlots::PinnedSlots(const DeviceApi &dev, int slots, uint64_t slot_bytes)
    : dev_(dev), slot_bytes_(slot_bytes) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (!forced_alloc() && DeviceApi::can_register(dev.api()) && slot_bytes % page == 0) {
    // One block at a 2 MiB boundary (2 MiB pages where the kernel gives them: fewer pages to
    // fault in and pin), slot i at i * slot_bytes.
    block_bytes_ = slot_bytes * static_cast<uint64_t>(slots) + kHugePage;
    void *p =
        ::mmap(nullptr, block_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      block_bytes_ = 0;
    } else {
      block_ = static_cast<uint8_t *>(p);
#ifdef MADV_HUGEPAGE
      (void)::madvise(block_, block_bytes_, MADV_HUGEPAGE);  // advisory
#endif
    }
  }
  slots_.reserve(static_cast<size_t>(slots));
  try {
    for (int i = 0; i < slots; ++i) slots_.push_back(pin(i));
  } catch (...) {
    release();
    throw;
  }
}

PinnedSlots::~PinnedSlots() {
  release();
}

PinnedSlots::Slot PinnedSlots::pin(int i) const {
  Slot s;
  if (block_) {
    const uintptr_t base = (reinterpret_cast<uintptr_t>(block_) + kHugePage - 1) & ~(kHugePage - 1);
    uint8_t *p = reinterpret_cast<uint8_t *>(base) + static_cast<uint64_t>(i) * slot_bytes_;
    // Fault the pages in here (zeroed once) rather than inside the registration.
    for (uint64_t off = 0; off < slot_bytes_; off += 4096) p[off] = 0;
    void *handle = nullptr;
    const int32_t st =
        dev_.api()->host_register(p, slot_bytes_, DQ_HOST_REGISTER_READ_ONLY, &handle);
    if (st == DQ_OK && handle == p) {
      s.host = p;
      s.registered = true;
      return s;
    }
    if (st == DQ_OK && handle) dev_.api()->host_unregister(handle);
  }
  s.host = static_cast<uint8_t *>(dev_.alloc_pinned(slot_bytes_));
  return s;
}

const char *PinnedSlots::how() const {
  int reg = 0, alloc = 0;
  for (const Slot &s : slots_) (s.registered ? reg : alloc) += 1;
  return alloc == 0 ? "registered" : reg == 0 ? "allocated" : "mixed";
}

void PinnedSlots::release() noexcept {
  for (Slot &s : slots_) {
    if (s.registered)
      dev_.api()->host_unregister(s.host);
    else
      dev_.free_pinned(s.host);
  }
  slots_.clear();
  if (block_) ::munmap(block_, block_bytes_);
  block_ = nullptr;
}

}  // namespace dq::loader
