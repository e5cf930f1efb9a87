// dq info FILE [--json]: header, metadata, tensor table and per-type totals of a GGUF model.
// Text mode is here; JSON is info_json.cpp. Everything taken from the file goes through
// terminal_text (text) or the JSON writer's escaping, so a hostile file cannot drive the
// terminal.
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "report.hpp"
#include "dq/dq.h"
#include "info_json.hpp"
#include "info_model.hpp"
#include "terminal_text.hpp"

namespace dq::tool {
namespace {

constexpr uint64_t kTextArrayItems = 8;     // text mode shows this many array elements
constexpr size_t kTextStringBytes = 120;    // and this many bytes of a string

struct ContextDeleter {
  void operator()(dq_context *c) const { dq_context_destroy(c); }
};
struct ModelDeleter {
  void operator()(dq_model *m) const { dq_model_close(m); }
};

// A string as an escaped, quoted one-line literal; cut after max_bytes with a note.
std::string quote(std::string_view s, size_t max_bytes) {
  std::string out = "\"";
  const size_t used = append_terminal_safe(out, s, {.quote = '"', .max_bytes = max_bytes});
  out += '"';
  if (used < s.size()) out += " ... (" + std::to_string(s.size() - used) + " more bytes)";
  return out;
}

// Keys and tensor names from the file (one line each).
std::string plain(const char *s) { return terminal_safe(s ? s : ""); }

std::string scalar_text(const Scalar &s) {
  switch (s.type) {
    case DQ_VALUE_BOOL: return s.b ? "true" : "false";
    case DQ_VALUE_FLOAT32: return shortest_float(static_cast<float>(s.f));
    case DQ_VALUE_FLOAT64: return shortest_double(s.f);
    case DQ_VALUE_STRING: return quote(s.s, kTextStringBytes);
    case DQ_VALUE_UINT8:
    case DQ_VALUE_UINT16:
    case DQ_VALUE_UINT32:
    case DQ_VALUE_UINT64: return std::to_string(s.u);
    default: return std::to_string(s.i);
  }
}

// Arrays show their first kTextArrayItems elements, then "... (N more)".
std::string value_text(const dq_value *v) {
  if (dq_value_get_type(v) != DQ_VALUE_ARRAY) return scalar_text(scalar_of(v));
  std::string out = "[";
  bool first = true;
  auto sep = [&] {
    if (!first) out += ", ";
    first = false;
  };
  visit_elements(
      v, kTextArrayItems, [&](const Scalar &s) { sep(), out += scalar_text(s); },
      [&](const dq_value *nested) { sep(), out += value_text(nested); });
  const uint64_t n = dq_value_array_count(v);
  if (n > kTextArrayItems) out += ", ... (" + std::to_string(n - kTextArrayItems) + " more)";
  return out + "]";
}

std::string shape_text(const dq_tensor_info &t) {
  std::string out = "[";
  for (uint32_t d = 0; d < t.n_dims && d < 4; ++d)
    out += (d ? ", " : "") + std::to_string(t.ne[d]);
  return out + "]";
}

void print_text(const std::string &path, const dq_model *m) {
  const uint32_t splits = dq_model_split_count(m);
  std::printf("file:         %s\n", terminal_safe(path).c_str());
  std::printf("gguf version: %u\n", dq_model_gguf_version(m));
  std::printf("alignment:    %u\n", dq_model_alignment(m));
  for (uint32_t s = 0; s < splits; ++s) {
    if (splits == 1)
      std::printf("data offset:  %" PRIu64 "\n", dq_model_data_offset(m, s));
    else
      std::printf("data offset:  %" PRIu64 " (split %u of %u)\n", dq_model_data_offset(m, s),
                  s + 1, splits);
  }
  std::printf("splits:       %u\n", splits);
  std::printf("metadata:     %" PRId64 " keys\n", dq_model_kv_count(m));
  std::printf("tensors:      %" PRId64 "\n", dq_model_tensor_count(m));

  std::printf("\nmetadata:\n");
  for (int64_t i = 0; i < dq_model_kv_count(m); ++i) {
    const dq_value *v = dq_model_kv_value(m, i);
    std::printf("  %-40s %-16s %s\n", plain(dq_model_kv_key(m, i)).c_str(), type_text(v).c_str(),
                value_text(v).c_str());
  }

  const auto tensors = tensors_of(m);
  std::printf("\ntensors:\n");
  std::printf("  %5s  %-40s %-8s %-24s %12s %12s%s\n", "#", "name", "type", "shape", "bytes",
              "offset", splits > 1 ? "  split" : "");
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto &t = tensors[i];
    std::printf("  %5zu  %-40s %-8s %-24s %12" PRIu64 " %12" PRIu64, i, plain(t.name).c_str(),
                tensor_type_name(t.type).c_str(), shape_text(t).c_str(), t.n_bytes,
                t.file_offset);
    if (splits > 1) std::printf("  %5u", t.split + 1);
    std::printf("\n");
  }

  std::printf("\ntotals by type:\n");
  std::printf("  %-8s %8s %14s %14s %12s\n", "type", "tensors", "elements", "bytes",
              "bits/weight");
  TypeTotal all;
  for (const auto &[type, tt] : totals_of(tensors)) {
    std::printf("  %-8s %8" PRIu64 " %14" PRIu64 " %14" PRIu64 " %12.4f\n",
                tensor_type_name(type).c_str(), tt.count, tt.elements, tt.bytes,
                bits_per_weight(tt));
    all.count += tt.count;
    all.elements += tt.elements;
    all.bytes += tt.bytes;
  }
  std::printf("  %-8s %8" PRIu64 " %14" PRIu64 " %14" PRIu64 " %12.4f\n", "total", all.count,
              all.elements, all.bytes, bits_per_weight(all));
}

}  // namespace

Action register_info(CLI::App &app) {
  auto *cmd = app.add_subcommand("info", "Show a GGUF file's header, metadata and tensors");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("FILE", *path, "GGUF file (first part of a split model)")->required();
  cmd->add_flag("--json", *json, "Print JSON (arrays in full) instead of text");
  return [path, json] {
    const std::string shown = terminal_safe(*path);
    dq_context *raw_ctx = nullptr;
    if (dq_context_create(&raw_ctx) != DQ_OK) {
      std::fprintf(stderr, "dq: %s: cannot create a dq context\n", shown.c_str());
      return kExitFailure;
    }
    std::unique_ptr<dq_context, ContextDeleter> ctx(raw_ctx);
    dq_model *raw_model = nullptr;
    if (dq_model_open(ctx.get(), path->c_str(), &raw_model) != DQ_OK) {
      // The reader's messages start with the path already: name it once.
      return report_failure(shown, terminal_safe_message(dq_last_error(ctx.get())), kExitFailure);
    }
    std::unique_ptr<dq_model, ModelDeleter> model(raw_model);
    bool written = true;
    if (*json) {
      JsonWriter out(stdout);
      written = write_info_json(*path, model.get(), out);
    } else {
      print_text(*path, model.get());
    }
    if (!written || std::fflush(stdout) != 0) {
      std::fprintf(stderr, "dq: %s: writing the output failed\n", shown.c_str());
      return kExitFailure;
    }
    return kExitOk;
  };
}

}  // namespace dq::tool
