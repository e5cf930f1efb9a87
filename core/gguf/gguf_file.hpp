// Parsing one GGUF file held in memory: header, metadata, tensor infos and the data section.
// This is the reader's in-memory entry point (the fuzzer calls it directly); mapping files
// and joining split parts live in mapped_file.* and model.*.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/limits.hpp"
#include "gguf/tensor_table.hpp"
#include "gguf/value.hpp"

namespace dq::gguf {

inline constexpr uint32_t kDefaultAlignment = 32;

struct KeyValue {
  std::string key;
  dq_value value;
  uint64_t type_pos = 0;  // byte of its value type field (for messages)
};

struct GgufFile {
  const uint8_t *base = nullptr;  // the file's bytes (values and tensors point into them)
  uint64_t file_size = 0;
  uint32_t version = 0;
  uint32_t alignment = kDefaultAlignment;
  uint64_t data_offset = 0;  // may equal or exceed file_size when the file has no tensor data
  std::vector<KeyValue> kvs;
  std::vector<TensorInfo> tensors;

  // Index of `key` or -1.
  int64_t find_key(std::string_view key) const;
};

// Parses and validates a whole GGUF image. Throws Error on anything malformed; on return,
// every tensor's bytes lie inside [base, base + size).
GgufFile parse_gguf(const uint8_t *data, uint64_t size, const Limits &limits = {});

}  // namespace dq::gguf
