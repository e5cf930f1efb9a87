// libFuzzer target: whole models (generated and the shared test data) edited by a recipe
// (gguf_recipe.hpp), so header-field damage reaches the tensor tables of real models.
// Accepted models are walked completely, like the byte-level reader target.
#include <cstdint>

#include "gguf/split.hpp"
#include "gguf_recipe.hpp"
#include "model_walk.hpp"

namespace {
std::vector<const dq::fuzz::Base *> g_bases;
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  g_bases = dq::fuzz::bases_with_header_up_to(UINT64_MAX);  // all of them
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::vector<uint8_t> bytes = dq::fuzz::apply_recipe(data, size, g_bases);
  try {
    auto model = dq::gguf::model_from_memory(bytes.data(), bytes.size());
    dq::fuzz::walk_model(*model, bytes.data(), bytes.data() + bytes.size());
    (void)dq::gguf::read_split_keys(model->parts[0]->file);
  } catch (const dq::gguf::Error &e) {
    dq::fuzz::check_refusal(e);
  }
  return 0;
}
