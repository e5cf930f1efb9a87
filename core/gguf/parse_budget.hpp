// A bound on the memory the parsed structure of one file may take. Every metadata element,
// array element and tensor record becomes an object of tens of bytes, several times the few
// bytes it can occupy in the file (an empty string: 8 bytes in the file, a 56-byte dq_value),
// so a small hostile file could otherwise make opening it take gigabytes. The parser charges
// each record before allocating it and refuses the file once the total passes
// limits.metadata_memory_base + limits.metadata_memory_per_file_byte * file size.
#pragma once

#include <cstdint>

#include "gguf/error.hpp"
#include "gguf/limits.hpp"

namespace dq::gguf {

class ParseBudget {
 public:
  ParseBudget(const Limits &limits, uint64_t file_size) {
    uint64_t scaled = 0;
    if (__builtin_mul_overflow(file_size, limits.metadata_memory_per_file_byte, &scaled) ||
        __builtin_add_overflow(scaled, limits.metadata_memory_base, &limit_))
      limit_ = UINT64_MAX;
    file_size_ = file_size;
  }

  // Charges `count` objects of `bytes_each`; throws Error(DQ_ERR_BAD_FILE) past the limit.
  void charge(uint64_t count, uint64_t bytes_each) {
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(count, bytes_each, &bytes) ||
        __builtin_add_overflow(used_, bytes, &used_) ||
        __builtin_add_overflow(elements_, count, &elements_) || used_ > limit_)
      fail(DQ_ERR_BAD_FILE,
           strf("metadata too large: %llu elements would need over %llu MB in memory, more "
                "than the %llu MB allowed for a file of %llu MB",
                static_cast<unsigned long long>(elements_ < count ? count : elements_),
                static_cast<unsigned long long>(mb(used_ < bytes ? bytes : used_)),
                static_cast<unsigned long long>(mb(limit_)),
                static_cast<unsigned long long>(mb(file_size_))));
  }

  uint64_t used() const { return used_; }

 private:
  static uint64_t mb(uint64_t bytes) { return (bytes + (1u << 20) - 1) >> 20; }

  uint64_t limit_ = 0;
  uint64_t file_size_ = 0;
  uint64_t used_ = 0;
  uint64_t elements_ = 0;
};

}  // namespace dq::gguf
