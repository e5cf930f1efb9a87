// libFuzzer target: the GGUF reader over arbitrary bytes (the in-memory entry point, no mmap).
// Accepted inputs are walked completely (every value, array element and tensor byte range),
// so ASan/UBSan see every read the reader lets callers make.
#include <cstdint>

#include "gguf/split.hpp"
#include "model_walk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    auto model = dq::gguf::model_from_memory(data, size);
    dq::fuzz::walk_model(*model, data, data + size);
    (void)dq::gguf::read_split_keys(model->parts[0]->file);
  } catch (const dq::gguf::Error &e) {
    dq::fuzz::check_refusal(e);
  }
  return 0;
}
