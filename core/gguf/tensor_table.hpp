// Tensor infos of one GGUF file: parsing each record and checking that the tensors' bytes
// lie inside the data section, aligned, sized by their type's blocks, and not overlapping.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/cursor.hpp"
#include "gguf/limits.hpp"

namespace dq::gguf {

struct TensorInfo {
  std::string name;
  int32_t type = 0;
  uint32_t n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};
  int64_t n_elements = 0;
  uint64_t n_bytes = 0;
  uint64_t offset = 0;      // relative to the data section, as stored in the file
  uint64_t info_pos = 0;    // byte where this record starts (for messages)
  uint64_t offset_pos = 0;  // byte of its offset field (for messages)
};

// Reads tensor record `index` and checks its own fields (name, dims, type, size).
TensorInfo parse_tensor_info(Cursor &cur, uint64_t index, const Limits &limits);

// Checks every tensor against the data section [data_offset, file_size): aligned offsets,
// bytes inside the section, no two tensors overlapping.
void check_tensor_layout(const std::vector<TensorInfo> &tensors, uint64_t data_offset,
                         uint64_t file_size, uint32_t alignment);

// "tensor 3 ('blk.0.attn_q.weight')"
std::string tensor_label(uint64_t index, const std::string &name);

}  // namespace dq::gguf
