// Buffers that catch out-of-bounds access by the plugin under test.
//  - Host: every buffer sits between inaccessible guard pages. A source ends exactly at one
//    (any read past its last byte faults); a destination is wrapped in canary bytes and then
//    guard pages (small overruns change canaries, large ones fault).
//  - Device: a destination is wrapped in canary bytes inside one allocation made through the
//    plugin's mem functions, checked after copying the whole allocation back.
// Faults on guard pages are named by describe_guard_fault() from the crash handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dq/dq_plugin.h"

namespace dq::conformance {

// The canary value of byte i of a padding region (position dependent, so shifted copies and
// constant fills are both caught).
inline uint8_t canary_byte(size_t i) { return static_cast<uint8_t>(0x5b + i * 37 + (i >> 8)); }

class HostBuffer {
 public:
  enum class Placement { source, destination };
  // Where the data sits inside its accessible pages:
  //  - source: `offset` SIZE_MAX ends it exactly at the guard page after it (reads past the
  //    end fault); any other offset starts it that many bytes after the guard page before it
  //    (0: reads before the start fault; odd: byte-aligned data).
  //  - destination: `offset` bytes after the leading canaries (misaligns the data).
  HostBuffer(size_t bytes, Placement placement, const char *label, size_t offset = SIZE_MAX);
  ~HostBuffer();
  HostBuffer(const HostBuffer &) = delete;
  HostBuffer &operator=(const HostBuffer &) = delete;

  uint8_t *data() const { return data_; }
  size_t size() const { return bytes_; }
  // Fills the data (destination: all of it with canaries, so unwritten bytes are visible).
  void fill(const std::vector<uint8_t> &bytes);
  void fill_canary();
  // Makes the accessible pages read-only (a source: the loader's mappings are), so a write
  // faults and the crash handler names it.
  void protect_read_only();
  // "" when every byte outside the first `writable` data bytes (padding around the buffer
  // and the data past `writable`) still holds its canary, else which were changed.
  std::string check_canaries(size_t writable) const;
  std::string check_canaries() const { return check_canaries(bytes_); }
  // True when the data bytes still hold the canary (nothing was written).
  bool untouched() const;

 private:
  uint8_t *map_ = nullptr;
  size_t map_bytes_ = 0;
  uint8_t *region_ = nullptr;  // accessible pages
  size_t region_bytes_ = 0;
  uint8_t *data_ = nullptr;
  size_t bytes_ = 0;
  int slot_ = -1;
};

// A device destination (or source) made with the plugin's mem functions.
class DeviceBuffer {
 public:
  DeviceBuffer(const dq_plugin_api &api, int32_t device, size_t bytes, size_t padding);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  bool ok() const { return error_.empty(); }
  const std::string &error() const { return error_; }
  void *data() const { return static_cast<uint8_t *>(base_) + padding_; }
  // Uploads `bytes` as the data; padding gets canaries. Returns "" or the failure.
  std::string upload(const std::vector<uint8_t> &bytes);
  // Uploads canaries everywhere (data too).
  std::string upload_canary();
  // Downloads everything; sets *data and returns "" or the failure; *canary_error names
  // changed padding bytes.
  std::string download(std::vector<uint8_t> *data, std::string *canary_error);

 private:
  const dq_plugin_api &api_;
  int32_t device_;
  void *base_ = nullptr;
  size_t bytes_, padding_;
  std::string error_;
};

// Async-signal-safe: when `addr` lies in a registered guard page, writes a description into
// buf (NUL-terminated) and returns its length; 0 otherwise.
size_t describe_guard_fault(uintptr_t addr, char *buf, size_t cap);

}  // namespace dq::conformance
