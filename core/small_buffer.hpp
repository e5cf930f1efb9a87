// A fixed-length array that lives on the stack up to N elements and on the heap beyond: the
// per-request scratch of dq_dequantize_batch, whose common batches (a layer's few matrices)
// then cost no allocation at all.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

namespace dq::core {

template <class T, size_t N>
class SmallBuffer {
  static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>);

 public:
  explicit SmallBuffer(size_t size) : size_(size) {
    if (size > N) {
      heap_.resize(size);
      data_ = heap_.data();
    }
  }
  SmallBuffer(const SmallBuffer &) = delete;
  SmallBuffer &operator=(const SmallBuffer &) = delete;

  T &operator[](size_t i) { return data_[i]; }
  const T &operator[](size_t i) const { return data_[i]; }
  T *begin() { return data_; }
  T *end() { return data_ + size_; }
  size_t size() const { return size_; }
  std::span<T> first(size_t n) { return {data_, n}; }
  std::span<const T> all() const { return {data_, size_}; }

 private:
  size_t size_;
  T local_[N];  // not zeroed: every element used is written first
  std::vector<T> heap_;
  T *data_ = local_;
};

}  // namespace dq::core
