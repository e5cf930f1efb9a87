// A bounds-checked little-endian reader over the bytes of one GGUF file. Every read checks
// the remaining length first; a short read throws an Error naming the current item
// (`context`, e.g. "kv 5 ('general.name')"), the field and its byte offset.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "gguf/error.hpp"

namespace dq::gguf {

// Reads a little-endian T (integer or float) from unaligned bytes.
template <typename T>
inline T load_le(const uint8_t *p) {
  T v;
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) {
    uint8_t swapped[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) swapped[i] = p[sizeof(T) - 1 - i];
    std::memcpy(&v, swapped, sizeof v);
  } else {
    std::memcpy(&v, p, sizeof v);
  }
  return v;
}

class Cursor {
 public:
  Cursor(const uint8_t *data, uint64_t size) : data_(data), size_(size) {}

  uint64_t pos() const { return pos_; }
  uint64_t size() const { return size_; }
  uint64_t remaining() const { return size_ - pos_; }
  const uint8_t *data() const { return data_; }

  // Prefix of error messages for what is being read now ("header", "tensor 3 ('x')").
  void set_context(std::string context) { context_ = std::move(context); }
  const std::string &context() const { return context_; }

  // Pointer to the next n bytes, advancing past them.
  const uint8_t *take(uint64_t n, const char *field) {
    if (n > remaining()) truncated(n, field);
    const uint8_t *p = data_ + pos_;
    pos_ += n;
    return p;
  }

  uint8_t u8(const char *field) { return *take(1, field); }
  uint32_t u32(const char *field) { return load_le<uint32_t>(take(4, field)); }
  uint64_t u64(const char *field) { return load_le<uint64_t>(take(8, field)); }

  // A GGUF string (u64 length, then bytes; no terminator). Refuses lengths above max_bytes
  // before looking at the bytes.
  std::string_view string(const char *field, uint64_t max_bytes) {
    uint64_t at = pos_;
    uint64_t len = u64(field);
    if (len > max_bytes)
      fail_at(at, DQ_ERR_BAD_FILE,
              strf("%s length %llu exceeds the limit of %llu bytes", field,
                   static_cast<unsigned long long>(len), static_cast<unsigned long long>(max_bytes)));
    if (len > remaining())
      fail_at(at, DQ_ERR_BAD_FILE,
              strf("%s length %llu runs past the end of the file (%llu bytes left, file size %llu)",
                   field, static_cast<unsigned long long>(len),
                   static_cast<unsigned long long>(remaining()),
                   static_cast<unsigned long long>(size_)));
    return {reinterpret_cast<const char *>(take(len, field)), static_cast<size_t>(len)};
  }

  // Throws "<context>: <what> at byte <at>".
  [[noreturn]] void fail_at(uint64_t at, dq_status status, const std::string &what) const {
    std::string msg = context_.empty() ? what : context_ + ": " + what;
    fail(status, msg + strf(" at byte %llu", static_cast<unsigned long long>(at)));
  }

 private:
  [[noreturn]] void truncated(uint64_t n, const char *field) const {
    fail_at(pos_, DQ_ERR_BAD_FILE,
            strf("truncated: %s needs %llu bytes but only %llu remain (file size %llu)", field,
                 static_cast<unsigned long long>(n), static_cast<unsigned long long>(remaining()),
                 static_cast<unsigned long long>(size_)));
  }

  const uint8_t *data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string context_;
};

}  // namespace dq::gguf
