// Pinned staging memory, slot 0 first and the rest in the background (see pinned_slots.hpp).
#include "loader/pinned_slots.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "loader/load_error.hpp"

namespace dq::loader {

namespace {

constexpr uint64_t kHugePage = 2ull << 20;

bool pin_env_is(const char *value) {
  const char *e = std::getenv("DQ_LOAD_PIN");
  return e && std::strcmp(e, value) == 0;
}

}  // namespace

PinnedSlots::PinnedSlots(const DeviceApi &dev, int slots, uint64_t slot_bytes)
    : dev_(dev), slot_bytes_(slot_bytes), slots_(static_cast<size_t>(slots)) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (!pin_env_is("alloc") && DeviceApi::can_register(dev.api()) && slot_bytes % page == 0) {
    // One block at a 2 MiB boundary (2 MiB pages where the kernel has them: fewer pages to
    // fault in and pin), slot i at i * slot_bytes.
    block_bytes_ = slot_bytes * slots + kHugePage;
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
  pin(0);
  if (slots_[0].error) {
    std::exception_ptr e = slots_[0].error;
    release();
    std::rethrow_exception(e);
  }
  if (slots > 1 && pin_env_is("sync")) {
    for (int i = 1; i < size(); ++i) pin(i);
  } else if (slots > 1) {
    try {
      pinner_ = std::thread([this] {
        for (int i = 1; i < size() && !stop_.load(); ++i) pin(i);
      });
    } catch (...) {  // no thread: pin here
      for (int i = 1; i < size(); ++i) pin(i);
    }
  }
}

PinnedSlots::~PinnedSlots() {
  release();
}

void PinnedSlots::pin(int i) noexcept {
  Slot s;
  try {
    if (block_) {
      const uintptr_t base =
          (reinterpret_cast<uintptr_t>(block_) + kHugePage - 1) & ~(kHugePage - 1);
      uint8_t *p = reinterpret_cast<uint8_t *>(base) + static_cast<uint64_t>(i) * slot_bytes_;
      // Fault the pages in here (zeroed once) rather than inside the registration.
      for (uint64_t off = 0; off < slot_bytes_; off += 4096) p[off] = 0;
      void *handle = nullptr;
      if (dev_.api()->host_register(p, slot_bytes_, DQ_HOST_REGISTER_READ_ONLY, &handle) == DQ_OK &&
          handle == p) {
        s.host = p;
        s.registered = true;
      } else if (handle) {
        dev_.api()->host_unregister(handle);
      }
    }
    if (!s.host) s.host = static_cast<uint8_t *>(dev_.alloc_pinned(slot_bytes_));
  } catch (...) {
    s.error = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    s.ready = true;
    slots_[static_cast<size_t>(i)] = std::move(s);
  }
  cv_.notify_all();
}

uint8_t *PinnedSlots::host(int i) {
  Slot &s = slots_[static_cast<size_t>(i)];
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return s.ready; });
  if (s.error) std::rethrow_exception(s.error);
  return s.host;
}

const char *PinnedSlots::how() const {
  std::lock_guard<std::mutex> lk(mu_);
  int reg = 0, alloc = 0;
  for (const Slot &s : slots_) (s.registered ? reg : alloc) += s.host ? 1 : 0;
  return alloc == 0 ? "registered" : reg == 0 ? "allocated" : "mixed";
}

void PinnedSlots::release() noexcept {
  stop_ = true;
  if (pinner_.joinable()) pinner_.join();
  for (Slot &s : slots_) {
    if (!s.host) continue;
    if (s.registered)
      dev_.api()->host_unregister(s.host);
    else
      dev_.free_pinned(s.host);
    s.host = nullptr;
  }
  if (block_) ::munmap(block_, block_bytes_);
  block_ = nullptr;
}

}  // namespace dq::loader
