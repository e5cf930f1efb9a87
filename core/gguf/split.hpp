// Split models: "NAME-00001-of-00003.gguf" file names and the split.* keys that tie the
// parts together (llama.cpp's gguf-split: split.no is 0-based, split.count the number of
// parts, split.tensors.count the total tensor count; parts after the first carry only these).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "gguf/gguf_file.hpp"

namespace dq::gguf {

struct SplitName {
  std::string prefix;  // path up to "-00001-of-00003.gguf"
  uint32_t number = 0; // 1-based part number in the name
  uint32_t count = 0;
  int digits = 5;      // width of the numbers in the name
};

// Parses a split file name; nullopt when the path does not follow the pattern.
std::optional<SplitName> parse_split_name(const std::string &path);
// Path of part `number` (1-based) of the same model.
std::string split_part_path(const SplitName &name, uint32_t number);

struct SplitKeys {
  bool present = false;  // split.count exists
  uint64_t count = 1;
  uint64_t no = 0;
  std::optional<uint64_t> tensors_count;
};

// Reads the split.* keys of one part; throws Error when they exist with a bad type or value.
SplitKeys read_split_keys(const GgufFile &file);

}  // namespace dq::gguf
