// libFuzzer target: `dq info --json` printing (tools/dq/info_json.cpp) over recipe-edited
// models (gguf_recipe.hpp). The output must be valid JSON and safe on a terminal: no raw
// control bytes besides the writer's own newlines, no raw bidi controls.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "gguf/error.hpp"
#include "gguf/model.hpp"
#include "gguf_recipe.hpp"
#include "info_json.hpp"
#include "terminal_text.hpp"

namespace {

void check_terminal_safe(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto u = dq::tool::decode_utf8(text, i);
    if (u.length == 0) __builtin_trap();  // not UTF-8
    if (u.code_point != '\n' && dq::tool::is_terminal_control(u.code_point)) __builtin_trap();
    i += u.length;
  }
}

}  // namespace

namespace {
std::vector<const dq::fuzz::Base *> g_bases;
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // Real models, but not the vocabulary-only files: JSON of 50k tokens takes ~20 ms a run.
  g_bases = dq::fuzz::bases_with_header_up_to(256 << 10);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::vector<uint8_t> bytes = dq::fuzz::apply_recipe(data, size, g_bases);
  std::unique_ptr<dq_model> model;
  try {
    model = dq::gguf::model_from_memory(bytes.data(), bytes.size());
  } catch (const dq::gguf::Error &) {
    return 0;  // refusals are the reader targets' business
  }
  dq::tool::JsonWriter out;
  if (!dq::tool::write_info_json("fuzz\xe2\x80\xae.gguf", model.get(), out)) __builtin_trap();
  check_terminal_safe(out.text());
  // A DOM only for small documents: vocabularies make megabytes of JSON, and accept() checks
  // those without the cost of building one.
  if (out.text().size() > (1u << 16)) {
    if (!nlohmann::json::accept(out.text())) __builtin_trap();
    return 0;
  }
  const auto doc = nlohmann::json::parse(out.text(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) __builtin_trap();
  if (doc["tensors"].size() != model->tensors.size()) __builtin_trap();
  if (doc["metadata"].size() > model->kvs.size()) __builtin_trap();  // duplicate keys merge
  return 0;
}
