// Sanity limits the reader enforces on top of "fits in the file" (docs/GGUF.md lists them).
#pragma once

#include <cstdint>

namespace dq::gguf {

struct Limits {
  uint64_t max_string_bytes = uint64_t{1} << 30;  // any metadata string: 1 GiB
  uint64_t max_key_bytes = 65535;                 // GGUF spec: keys are at most 65535 bytes
  uint64_t max_tensor_name_bytes = 65535;
  uint32_t max_dims = 4;                          // ggml's GGML_MAX_DIMS
  uint32_t max_array_depth = 32;                  // arrays of arrays, nesting levels
  uint32_t max_alignment = uint32_t{1} << 30;     // general.alignment
  uint32_t max_split_count = 99999;               // NAME-00001-of-99999.gguf
  // Memory the parsed metadata and tensor records of one file may take (parse_budget.hpp):
  // base + per_file_byte * file size. Real models stay far below (a 256k-token vocabulary
  // takes ~30 MB); a file of millions of empty strings is refused.
  uint64_t metadata_memory_base = uint64_t{64} << 20;
  uint64_t metadata_memory_per_file_byte = 2;
};

}  // namespace dq::gguf
