// The model behind the public dq_model handle: one or more mapped GGUF parts seen as one
// model (metadata of the first part, tensors of all parts). In-tree users (the loader, the
// tools through the C API) read tensors as zero-copy views into the mappings.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gguf/gguf_file.hpp"
#include "gguf/limits.hpp"
#include "gguf/mapped_file.hpp"

struct dq_model {
  struct Part {
    std::string path;
    std::unique_ptr<dq::gguf::MappedFile> map;  // null for models parsed from memory
    dq::gguf::GgufFile file;
  };
  struct Tensor {
    const dq::gguf::TensorInfo *info;
    uint32_t split;          // index into parts
    uint64_t file_offset;    // absolute offset in that part's file
    const uint8_t *data;     // zero-copy view
  };

  std::vector<std::unique_ptr<Part>> parts;
  std::vector<const dq::gguf::KeyValue *> kvs;  // the first part's metadata
  std::vector<Tensor> tensors;                  // parts in order, file order within each
  std::unordered_map<std::string_view, int64_t> kv_index;
  std::unordered_map<std::string_view, int64_t> tensor_index;
};

namespace dq::gguf {

// Opens a GGUF file (or every part of a split model). Throws Error with a message naming
// the problem; for parts other than `path` the message names the part's file.
std::unique_ptr<dq_model> open_model(const std::string &path, const Limits &limits = {});

// A model over bytes the caller keeps alive (no mapping, no split parts).
std::unique_ptr<dq_model> model_from_memory(const uint8_t *data, uint64_t size,
                                            const Limits &limits = {});

// Copies bytes [file_offset, file_offset + bytes) of `part` to `dst`: pread() on the part's
// descriptor (a file truncated meanwhile gives an error, never SIGBUS), memcpy for a model
// from memory. Returns "" or the reason, "reading N bytes at byte X failed: ..." (the caller
// names the file).
std::string read_part(const dq_model::Part &part, uint64_t file_offset, void *dst,
                      uint64_t bytes);

}  // namespace dq::gguf
