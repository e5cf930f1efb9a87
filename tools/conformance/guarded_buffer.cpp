#include "guarded_buffer.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <new>

namespace dq::conformance {

namespace {

constexpr size_t kLeadCanary = 256;    // destination: canaries before the data
constexpr size_t kTrailCanary = 4096;  // destination: at least this many after

size_t page_size() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// Guard pages of live buffers, read by the crash handler without locking (best effort).
struct GuardSlot {
  std::atomic<bool> used{false};
  uintptr_t before_lo, before_hi, after_lo, after_hi;
  uintptr_t data_begin, data_end;
  std::atomic<bool> read_only{false};  // the accessible pages between the guards
  char label[24];
};
GuardSlot g_slots[128];
std::mutex g_slots_mutex;

int register_guards(uint8_t *map, size_t map_bytes, const uint8_t *data, size_t bytes,
                    const char *label) {
  std::lock_guard<std::mutex> lock(g_slots_mutex);
  for (int i = 0; i < 128; ++i) {
    GuardSlot &s = g_slots[i];
    if (s.used.load()) continue;
    const uintptr_t m = reinterpret_cast<uintptr_t>(map);
    s.before_lo = m;
    s.before_hi = m + page_size();
    s.after_lo = m + map_bytes - page_size();
    s.after_hi = m + map_bytes;
    s.data_begin = reinterpret_cast<uintptr_t>(data);
    s.data_end = s.data_begin + bytes;
    s.read_only.store(false);
    std::strncpy(s.label, label, sizeof s.label - 1);
    s.label[sizeof s.label - 1] = 0;
    s.used.store(true);
    return i;
  }
  return -1;  // more live buffers than slots: faults are still caught, just not named
}

void mark_read_only(int slot) {
  if (slot >= 0) g_slots[slot].read_only.store(true);
}

void unregister_guards(int slot) {
  if (slot < 0) return;
  std::lock_guard<std::mutex> lock(g_slots_mutex);
  g_slots[slot].used.store(false);
}

size_t append(char *buf, size_t len, size_t cap, const char *text) {
  while (*text && len + 1 < cap) buf[len++] = *text++;
  buf[len] = 0;
  return len;
}

size_t append_u64(char *buf, size_t len, size_t cap, uint64_t v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n > 0 && len + 1 < cap) buf[len++] = digits[--n];
  buf[len] = 0;
  return len;
}

}  // namespace

HostBuffer::HostBuffer(size_t bytes, Placement placement, const char *label, size_t offset)
    : bytes_(bytes) {
  const size_t page = page_size();
  const bool at_end = placement == Placement::source && offset == SIZE_MAX;
  const size_t lead = placement == Placement::source ? (at_end ? 0 : offset)
                                                     : kLeadCanary + (offset == SIZE_MAX ? 0 : offset);
  const size_t need = placement == Placement::source ? lead + bytes
                                                     : lead + bytes + kTrailCanary;
  region_bytes_ = round_up(need ? need : 1, page);
  map_bytes_ = region_bytes_ + 2 * page;
  void *m = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  map_ = static_cast<uint8_t *>(m);
  mprotect(map_, page, PROT_NONE);
  mprotect(map_ + page + region_bytes_, page, PROT_NONE);
  region_ = map_ + page;
  data_ = at_end ? region_ + region_bytes_ - bytes : region_ + lead;
  fill_canary();
  slot_ = register_guards(map_, map_bytes_, data_, bytes_, label);
}

HostBuffer::~HostBuffer() {
  unregister_guards(slot_);
  if (map_) munmap(map_, map_bytes_);
}

void HostBuffer::fill(const std::vector<uint8_t> &bytes) {
  fill_canary();
  std::memcpy(data_, bytes.data(), bytes.size() < bytes_ ? bytes.size() : bytes_);
}

void HostBuffer::fill_canary() {
  for (size_t i = 0; i < region_bytes_; ++i) region_[i] = canary_byte(i);
}

void HostBuffer::protect_read_only() {
  mprotect(region_, region_bytes_, PROT_READ);
  mark_read_only(slot_);
}

std::string HostBuffer::check_canaries(size_t writable) const {
  const size_t lead = static_cast<size_t>(data_ - region_);
  if (writable > bytes_) writable = bytes_;
  size_t first_bad = SIZE_MAX, last_bad = 0, count = 0;
  for (size_t i = 0; i < region_bytes_; ++i) {
    if (i >= lead && i < lead + writable) continue;
    if (region_[i] != canary_byte(i)) {
      first_bad = first_bad == SIZE_MAX ? i : first_bad;
      last_bad = i;
      ++count;
    }
  }
  if (!count) return "";
  auto where = [&](size_t i) {
    return i < lead ? std::to_string(lead - i) + " bytes before the start"
                    : std::to_string(i - lead - writable) + " bytes past the end";
  };
  const std::string room =
      writable < bytes_ ? " (dst_bytes " + std::to_string(bytes_) + " leaves " +
                              std::to_string(bytes_ - writable) + " bytes of room after it)"
                        : "";
  return std::to_string(count) + " guard bytes around the " + std::to_string(writable) +
         "-byte output were overwritten (from " + where(first_bad) + " to " + where(last_bad) +
         ")" + room;
}

bool HostBuffer::untouched() const {
  const size_t lead = static_cast<size_t>(data_ - region_);
  for (size_t i = 0; i < bytes_; ++i)
    if (data_[i] != canary_byte(lead + i)) return false;
  return true;
}

DeviceBuffer::DeviceBuffer(const dq_plugin_api &api, int32_t device, size_t bytes,
                           size_t padding)
    : api_(api), device_(device), bytes_(bytes), padding_(padding) {
  const int32_t st = api_.mem_alloc(device_, bytes_ + 2 * padding_, &base_);
  if (st != DQ_OK || !base_)
    error_ = "mem_alloc(" + std::to_string(bytes_ + 2 * padding_) + ") failed with status " +
             std::to_string(st) + ": " + api_.last_error();
}

DeviceBuffer::~DeviceBuffer() {
  if (base_) api_.mem_free(device_, base_);
}

std::string DeviceBuffer::upload(const std::vector<uint8_t> &bytes) {
  std::vector<uint8_t> all(bytes_ + 2 * padding_);
  for (size_t i = 0; i < all.size(); ++i) all[i] = canary_byte(i);
  std::memcpy(all.data() + padding_, bytes.data(), bytes.size() < bytes_ ? bytes.size() : bytes_);
  const int32_t st = api_.mem_copy(device_, base_, all.data(), all.size(),
                                   DQ_COPY_HOST_TO_DEVICE, nullptr);
  if (st != DQ_OK)
    return "mem_copy host to device failed with status " + std::to_string(st) + ": " +
           api_.last_error();
  return "";
}

std::string DeviceBuffer::upload_canary() {
  std::vector<uint8_t> data(bytes_);
  for (size_t i = 0; i < bytes_; ++i) data[i] = canary_byte(padding_ + i);
  return upload(data);
}

std::string DeviceBuffer::download(std::vector<uint8_t> *data, std::string *canary_error) {
  std::vector<uint8_t> all(bytes_ + 2 * padding_);
  const int32_t st = api_.mem_copy(device_, all.data(), base_, all.size(),
                                   DQ_COPY_DEVICE_TO_HOST, nullptr);
  if (st != DQ_OK)
    return "mem_copy device to host failed with status " + std::to_string(st) + ": " +
           api_.last_error();
  size_t count = 0;
  for (size_t i = 0; i < all.size(); ++i)
    if ((i < padding_ || i >= padding_ + bytes_) && all[i] != canary_byte(i)) ++count;
  canary_error->clear();
  if (count)
    *canary_error = std::to_string(count) + " guard bytes around the " +
                    std::to_string(bytes_) + "-byte device destination were overwritten";
  data->assign(all.begin() + static_cast<std::ptrdiff_t>(padding_),
               all.begin() + static_cast<std::ptrdiff_t>(padding_ + bytes_));
  return "";
}

size_t describe_guard_fault(uintptr_t addr, char *buf, size_t cap) {
  for (GuardSlot &s : g_slots) {
    if (!s.used.load(std::memory_order_relaxed)) continue;
    // Named by the byte index relative to the buffer: "byte 34 of the 34-byte source" is the
    // first byte after it, "byte -1" the last one before it.
    size_t len = append(buf, 0, cap, "access to byte ");
    if (addr >= s.after_lo && addr < s.after_hi) {
      len = append_u64(buf, len, cap, addr - s.data_begin);
      len = append(buf, len, cap, " (past the end)");
    } else if (addr >= s.before_lo && addr < s.before_hi) {
      len = append(buf, len, cap, "-");
      len = append_u64(buf, len, cap, s.data_begin - addr);
      len = append(buf, len, cap, " (before the start)");
    } else if (s.read_only.load(std::memory_order_relaxed) && addr >= s.before_hi &&
               addr < s.after_lo) {
      len = append(buf, 0, cap, "write to byte ");
      if (addr < s.data_begin) {
        len = append(buf, len, cap, "-");
        len = append_u64(buf, len, cap, s.data_begin - addr);
      } else {
        len = append_u64(buf, len, cap, addr - s.data_begin);
      }
      len = append(buf, len, cap, " of the read-only");
      len = append(buf, len, cap, " ");
      len = append_u64(buf, len, cap, s.data_end - s.data_begin);
      len = append(buf, len, cap, "-byte ");
      return append(buf, len, cap, s.label);
    } else {
      continue;
    }
    len = append(buf, len, cap, " of the ");
    len = append_u64(buf, len, cap, s.data_end - s.data_begin);
    len = append(buf, len, cap, "-byte ");
    return append(buf, len, cap, s.label);
  }
  return 0;
}

}  // namespace dq::conformance
