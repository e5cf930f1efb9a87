// Structure-aware fuzzing of whole GGUF models: the fuzz input is a recipe (which valid base
// model, then a list of edits to its header fields, bytes, strings and length) applied to a
// copy of the base. Unlike raw byte inputs, whose length libFuzzer caps, a recipe reaches
// the tensor tables of real models with megabytes of metadata in front of them.
//
// Bases: the generated models (generated_models.hpp) and, when DQ_TESTDATA names a folder,
// its .gguf files (sorted by name, so recipes keep their meaning across runs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dq::fuzz {

// What a header field holds; edits that copy a value take it from a field of the same kind.
enum class FieldKind : uint8_t {
  kVersion, kCount, kStringLength, kValueType, kArrayCount, kTensorDims, kTensorDim,
  kTensorType, kTensorOffset,
};

struct Field {
  uint64_t pos;
  uint8_t width;  // 4 or 8 bytes, little-endian
  FieldKind kind;
};

struct Base {
  std::string name;
  std::vector<uint8_t> bytes;
  std::vector<Field> fields;  // as far as the header could be walked
  uint64_t header_end = 0;    // end of the tensor infos (or where the walk stopped)
};

// The bases, loaded once.
const std::vector<Base> &recipe_bases();

// The bases whose header (metadata and tensor infos) is at most `max_header_bytes`, for
// targets whose work grows with the metadata (printing a 50k-token vocabulary is slow).
std::vector<const Base *> bases_with_header_up_to(uint64_t max_header_bytes);

// The model bytes the recipe `data` describes; its first byte picks one of `bases`.
std::vector<uint8_t> apply_recipe(const uint8_t *data, size_t size,
                                  const std::vector<const Base *> &bases);

}  // namespace dq::fuzz
