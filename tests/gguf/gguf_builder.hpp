// A small GGUF writer for tests and the fuzz seed corpus. It writes exactly what it is told
// (any version, counts, types, dims, offsets), so tests can make both valid files and files
// broken in one chosen way, and it records where each field landed for byte-level damage.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace dq::test {

using Bytes = std::vector<uint8_t>;

enum GgufValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// Little-endian encoders (the value bytes that follow a type id).
template <typename T>
inline void put(Bytes &b, T v) {
  const size_t at = b.size();
  b.resize(at + sizeof(T));
  std::memcpy(b.data() + at, &v, sizeof(T));
}
inline void put_string(Bytes &b, std::string_view s) {
  put<uint64_t>(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}
template <typename T>
inline Bytes enc(T v) {
  Bytes b;
  put(b, v);
  return b;
}
inline Bytes enc_string(std::string_view s) {
  Bytes b;
  put_string(b, s);
  return b;
}
// An array value: element type, count, then the already-encoded elements.
inline Bytes enc_array(uint32_t elem_type, uint64_t count, const Bytes &elements) {
  Bytes b;
  put<uint32_t>(b, elem_type);
  put<uint64_t>(b, count);
  b.insert(b.end(), elements.begin(), elements.end());
  return b;
}
template <typename T>
inline Bytes enc_numbers(uint32_t elem_type, const std::vector<T> &values) {
  Bytes e;
  for (T v : values) put(e, v);
  return enc_array(elem_type, values.size(), e);
}

struct GgufBuilder {
  struct Kv {
    std::string key;
    uint32_t type;
    Bytes value;
  };
  struct Tensor {
    std::string name;
    uint32_t type;
    std::vector<uint64_t> ne;  // written as given (n_dims = ne.size())
    uint64_t n_bytes;          // bytes reserved in the data section
    uint64_t offset = UINT64_MAX;  // UINT64_MAX: placed after the previous tensor, aligned
  };
  // Where fields landed in the last build().
  struct Layout {
    uint64_t version_pos = 4, tensor_count_pos = 8, kv_count_pos = 16;
    std::vector<uint64_t> kv_pos, kv_type_pos, kv_value_pos;
    std::vector<uint64_t> tensor_pos, tensor_ndims_pos, tensor_type_pos, tensor_offset_pos;
    uint64_t infos_end = 0, data_offset = 0;
  };

  uint32_t version = 3;
  uint32_t alignment = 32;  // used for placing tensors; add general.alignment yourself
  std::vector<Kv> kvs;
  std::vector<Tensor> tensors;
  // Counts written in the header (UINT64_MAX: the real counts).
  uint64_t tensor_count_override = UINT64_MAX, kv_count_override = UINT64_MAX;
  bool write_data = true;  // false: stop after the header padding (the caller sizes the file)
  Layout layout;

  GgufBuilder &kv(std::string key, uint32_t type, Bytes value) {
    kvs.push_back({std::move(key), type, std::move(value)});
    return *this;
  }
  GgufBuilder &tensor(std::string name, uint32_t type, std::vector<uint64_t> ne, uint64_t n_bytes,
                      uint64_t offset = UINT64_MAX) {
    tensors.push_back({std::move(name), type, std::move(ne), n_bytes, offset});
    return *this;
  }

  Bytes build() {
    layout = Layout{};
    Bytes b = {'G', 'G', 'U', 'F'};
    put<uint32_t>(b, version);
    put<uint64_t>(b, tensor_count_override != UINT64_MAX ? tensor_count_override : tensors.size());
    put<uint64_t>(b, kv_count_override != UINT64_MAX ? kv_count_override : kvs.size());
    for (const Kv &k : kvs) {
      layout.kv_pos.push_back(b.size());
      put_string(b, k.key);
      layout.kv_type_pos.push_back(b.size());
      put<uint32_t>(b, k.type);
      layout.kv_value_pos.push_back(b.size());
      b.insert(b.end(), k.value.begin(), k.value.end());
    }
    uint64_t next = 0;
    std::vector<uint64_t> offsets;
    for (const Tensor &t : tensors) {
      uint64_t off = t.offset != UINT64_MAX ? t.offset : next;
      offsets.push_back(off);
      uint64_t end = off + t.n_bytes;
      next = (end + alignment - 1) / alignment * alignment;
      layout.tensor_pos.push_back(b.size());
      put_string(b, t.name);
      layout.tensor_ndims_pos.push_back(b.size());
      put<uint32_t>(b, static_cast<uint32_t>(t.ne.size()));
      for (uint64_t d : t.ne) put<uint64_t>(b, d);
      layout.tensor_type_pos.push_back(b.size());
      put<uint32_t>(b, t.type);
      layout.tensor_offset_pos.push_back(b.size());
      put<uint64_t>(b, off);
    }
    layout.infos_end = b.size();
    b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
    layout.data_offset = b.size();
    if (!write_data) return b;
    uint64_t data_end = 0;
    for (size_t i = 0; i < tensors.size(); ++i)
      data_end = std::max<uint64_t>(data_end, offsets[i] + tensors[i].n_bytes);
    // Tensor bytes: a recognizable pattern (index and position) so views can be checked.
    const uint64_t base = b.size();
    b.resize(base + data_end, 0);
    for (size_t i = 0; i < tensors.size(); ++i)
      for (uint64_t k = 0; k < tensors[i].n_bytes; ++k)
        b[base + offsets[i] + k] = static_cast<uint8_t>(i * 31 + k);
    return b;
  }
};

// Patches a little-endian value at `pos`.
template <typename T>
inline void patch(Bytes &b, uint64_t pos, T v) {
  std::memcpy(b.data() + pos, &v, sizeof(T));
}

// A small valid model: metadata of several types and a few tensors of different types.
inline GgufBuilder small_model() {
  GgufBuilder g;
  g.kv("general.architecture", kString, enc_string("llama"));
  g.kv("general.alignment", kU32, enc<uint32_t>(32));
  g.kv("test.u32", kU32, enc<uint32_t>(7));
  g.kv("test.arr.i32", kArray, enc_numbers<int32_t>(kI32, {1, -2, 3}));
  Bytes strs;
  put_string(strs, "a");
  put_string(strs, "bc");
  g.kv("test.arr.str", kArray, enc_array(kString, 2, strs));
  g.tensor("t.f32", 0, {64}, 64 * 4);
  g.tensor("t.q4_0", 2, {64, 2}, 2 * 2 * 18);
  g.tensor("t.q6_k", 14, {256, 2}, 2 * 210);
  return g;
}

}  // namespace dq::test
