// Minimal GGUF v3 files of F32/F16 tensors for the tool tests. Tensor data is either written
// by a callback or left as a hole (a sparse file of zeros), so a multi-GiB tensor costs no
// disk and no time to make.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace dq::test {

constexpr int32_t kGgufF32 = 0, kGgufF16 = 1;

struct SmallTensor {
  std::string name;
  int32_t type;  // kGgufF32 or kGgufF16
  uint64_t n_elements;
  // Writes the tensor's bytes to the file (positioned at its data); empty: zeros (a hole).
  std::function<bool(FILE *)> write_data;
};

inline uint64_t small_tensor_bytes(const SmallTensor &t) {
  return t.n_elements * (t.type == kGgufF32 ? 4 : 2);
}

// Returns false when the file cannot be written.
inline bool write_small_gguf(const std::string &path, const std::vector<SmallTensor> &tensors) {
  constexpr uint64_t kAlign = 32;
  auto align = [](uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; };
  std::vector<uint8_t> head;
  auto put = [&](const void *p, size_t n) {
    head.insert(head.end(), static_cast<const uint8_t *>(p), static_cast<const uint8_t *>(p) + n);
  };
  auto u32 = [&](uint32_t v) { put(&v, 4); };
  auto u64 = [&](uint64_t v) { put(&v, 8); };
  auto str = [&](const std::string &s) {
    u64(s.size());
    put(s.data(), s.size());
  };
  u32(0x46554747u);  // "GGUF"
  u32(3);
  u64(tensors.size());
  u64(1);
  str("general.architecture");
  u32(8);  // string
  str("llama");
  std::vector<uint64_t> offsets;
  uint64_t offset = 0;
  for (const auto &t : tensors) {
    str(t.name);
    u32(1);
    u64(t.n_elements);
    u32(static_cast<uint32_t>(t.type));
    u64(offset);
    offsets.push_back(offset);
    offset = align(offset + small_tensor_bytes(t));
  }
  const uint64_t data_start = align(head.size());
  head.resize(data_start, 0);
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size();
  for (size_t i = 0; ok && i < tensors.size(); ++i)
    if (tensors[i].write_data)
      ok = std::fseek(f, static_cast<long>(data_start + offsets[i]), SEEK_SET) == 0 &&
           tensors[i].write_data(f);
  ok = std::fflush(f) == 0 && ok;
  // The file ends where the data section ends; unwritten data stays a hole.
  ok = ok && ftruncate(fileno(f), static_cast<off_t>(data_start + offset)) == 0;
  return std::fclose(f) == 0 && ok;
}

}  // namespace dq::test
