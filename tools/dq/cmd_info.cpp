// dq info FILE [--json]: header, metadata, tensor table and per-type totals of a GGUF model.
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "dq/dq.h"

namespace dq::tool {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kTextArrayItems = 8;     // text mode shows this many array elements
constexpr size_t kTextStringBytes = 120;    // and this many bytes of a string

struct ContextDeleter {
  void operator()(dq_context *c) const { dq_context_destroy(c); }
};
struct ModelDeleter {
  void operator()(dq_model *m) const { dq_model_close(m); }
};

const char *value_type_name(dq_value_type t) {
  switch (t) {
    case DQ_VALUE_UINT8: return "u8";
    case DQ_VALUE_INT8: return "i8";
    case DQ_VALUE_UINT16: return "u16";
    case DQ_VALUE_INT16: return "i16";
    case DQ_VALUE_UINT32: return "u32";
    case DQ_VALUE_INT32: return "i32";
    case DQ_VALUE_FLOAT32: return "f32";
    case DQ_VALUE_BOOL: return "bool";
    case DQ_VALUE_STRING: return "string";
    case DQ_VALUE_ARRAY: return "array";
    case DQ_VALUE_UINT64: return "u64";
    case DQ_VALUE_INT64: return "i64";
    case DQ_VALUE_FLOAT64: return "f64";
  }
  return "?";
}

std::string_view string_of(const dq_value *v) {
  const char *s = nullptr;
  uint64_t len = 0;
  if (dq_value_get_string(v, &s, &len) != DQ_OK) return {};
  return {s, static_cast<size_t>(len)};
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  return n;
}

// A string as an escaped one-line literal (quoted unless `quoted` is false); cut after
// max_bytes with a note.
std::string quote(std::string_view s, size_t max_bytes, bool quoted = true) {
  std::string out = quoted ? "\"" : "";
  size_t i = 0;
  for (; i < s.size() && i < max_bytes;) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c == '"' && quoted) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (size_t n = c >= 0x80 ? utf8_sequence(s, i) : 0; n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
    ++i;
  }
  if (quoted) out += '"';
  if (i < s.size()) out += " ... (" + std::to_string(s.size() - i) + " more bytes)";
  return out;
}

// Keys and tensor names from the file, with control bytes escaped (text mode is one line each).
std::string plain(const char *s) { return quote(s ? s : "", SIZE_MAX, false); }

template <typename F>
std::string shortest(F x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string scalar_text(const dq_value *v) {
  const dq_value_type t = dq_value_get_type(v);
  if (t == DQ_VALUE_BOOL) {
    int32_t b = 0;
    dq_value_get_bool(v, &b);
    return b ? "true" : "false";
  }
  if (t == DQ_VALUE_FLOAT32 || t == DQ_VALUE_FLOAT64) {
    double d = 0;
    dq_value_get_f64(v, &d);
    return t == DQ_VALUE_FLOAT32 ? shortest(static_cast<float>(d)) : shortest(d);
  }
  if (t == DQ_VALUE_STRING) return quote(string_of(v), kTextStringBytes);
  int64_t i = 0;
  if (dq_value_get_i64(v, &i) == DQ_OK) return std::to_string(i);
  uint64_t u = 0;
  if (dq_value_get_u64(v, &u) == DQ_OK) return std::to_string(u);
  return "?";
}

// Text mode: arrays show their first kTextArrayItems elements, then "... (N more)".
std::string value_text(const dq_value *v) {
  if (dq_value_get_type(v) != DQ_VALUE_ARRAY) return scalar_text(v);
  const uint64_t n = dq_value_array_count(v);
  std::string out = "[";
  for (uint64_t j = 0; j < n && j < kTextArrayItems; ++j) {
    if (j) out += ", ";
    out += value_text(dq_value_array_get(v, j));
  }
  if (n > kTextArrayItems) out += ", ... (" + std::to_string(n - kTextArrayItems) + " more)";
  return out + "]";
}

std::string type_text(const dq_value *v) {
  const dq_value_type t = dq_value_get_type(v);
  if (t != DQ_VALUE_ARRAY) return value_type_name(t);
  return std::string("array[") + value_type_name(dq_value_array_type(v)) + "; " +
         std::to_string(dq_value_array_count(v)) + "]";
}

Json value_json(const dq_value *v) {
  const dq_value_type t = dq_value_get_type(v);
  switch (t) {
    case DQ_VALUE_BOOL: {
      int32_t b = 0;
      dq_value_get_bool(v, &b);
      return b != 0;
    }
    case DQ_VALUE_FLOAT32:
    case DQ_VALUE_FLOAT64: {
      double d = 0;
      dq_value_get_f64(v, &d);
      return d;
    }
    case DQ_VALUE_STRING: return std::string(string_of(v));
    case DQ_VALUE_ARRAY: {
      Json arr = Json::array();
      const uint64_t n = dq_value_array_count(v);
      for (uint64_t j = 0; j < n; ++j) arr.push_back(value_json(dq_value_array_get(v, j)));
      return arr;
    }
    case DQ_VALUE_UINT64: {
      uint64_t u = 0;
      dq_value_get_u64(v, &u);
      return u;
    }
    default: {
      int64_t i = 0;
      dq_value_get_i64(v, &i);
      return i;
    }
  }
}

struct TypeTotal {
  uint64_t count = 0;
  uint64_t elements = 0;
  uint64_t bytes = 0;
};

double bits_per_weight(const TypeTotal &t) {
  return t.elements ? static_cast<double>(t.bytes) * 8.0 / static_cast<double>(t.elements) : 0.0;
}

std::string shape_text(const dq_tensor_info &t) {
  std::string out = "[";
  for (uint32_t d = 0; d < t.n_dims; ++d) out += (d ? ", " : "") + std::to_string(t.ne[d]);
  return out + "]";
}

std::vector<dq_tensor_info> tensors_of(const dq_model *m) {
  std::vector<dq_tensor_info> out(static_cast<size_t>(dq_model_tensor_count(m)));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].struct_size = sizeof(dq_tensor_info);
    dq_model_tensor_info(m, static_cast<int64_t>(i), &out[i]);
  }
  return out;
}

// Totals per type in type-id order.
std::map<int32_t, TypeTotal> totals_of(const std::vector<dq_tensor_info> &tensors) {
  std::map<int32_t, TypeTotal> totals;
  for (const auto &t : tensors) {
    TypeTotal &tt = totals[t.type];
    ++tt.count;
    tt.elements += static_cast<uint64_t>(t.n_elements);
    tt.bytes += t.n_bytes;
  }
  return totals;
}

void print_text(const std::string &path, const dq_model *m) {
  const uint32_t splits = dq_model_split_count(m);
  std::printf("file:         %s\n", path.c_str());
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
                dq_type_name(t.type), shape_text(t).c_str(), t.n_bytes, t.file_offset);
    if (splits > 1) std::printf("  %5u", t.split + 1);
    std::printf("\n");
  }

  std::printf("\ntotals by type:\n");
  std::printf("  %-8s %8s %14s %14s %12s\n", "type", "tensors", "elements", "bytes",
              "bits/weight");
  TypeTotal all;
  for (const auto &[type, tt] : totals_of(tensors)) {
    std::printf("  %-8s %8" PRIu64 " %14" PRIu64 " %14" PRIu64 " %12.4f\n", dq_type_name(type),
                tt.count, tt.elements, tt.bytes, bits_per_weight(tt));
    all.count += tt.count;
    all.elements += tt.elements;
    all.bytes += tt.bytes;
  }
  std::printf("  %-8s %8" PRIu64 " %14" PRIu64 " %14" PRIu64 " %12.4f\n", "total", all.count,
              all.elements, all.bytes, bits_per_weight(all));
}

void print_json(const std::string &path, const dq_model *m) {
  Json j;
  j["file"] = path;
  j["gguf_version"] = dq_model_gguf_version(m);
  j["alignment"] = dq_model_alignment(m);
  j["data_offset"] = dq_model_data_offset(m, 0);
  Json splits = Json::array();
  for (uint32_t s = 0; s < dq_model_split_count(m); ++s)
    splits.push_back({{"split", s}, {"data_offset", dq_model_data_offset(m, s)}});
  j["splits"] = splits;
  j["kv_count"] = dq_model_kv_count(m);
  j["tensor_count"] = dq_model_tensor_count(m);

  Json meta = Json::object();
  for (int64_t i = 0; i < dq_model_kv_count(m); ++i) {
    const dq_value *v = dq_model_kv_value(m, i);
    Json entry;
    entry["type"] = value_type_name(dq_value_get_type(v));
    if (dq_value_get_type(v) == DQ_VALUE_ARRAY) {
      entry["element_type"] = value_type_name(dq_value_array_type(v));
      entry["count"] = dq_value_array_count(v);
    }
    entry["value"] = value_json(v);
    meta[dq_model_kv_key(m, i)] = std::move(entry);
  }
  j["metadata"] = std::move(meta);

  const auto tensors = tensors_of(m);
  Json jt = Json::array();
  for (const auto &t : tensors) {
    Json shape = Json::array();
    for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
    jt.push_back({{"name", t.name},
                  {"type", dq_type_name(t.type)},
                  {"type_id", t.type},
                  {"shape", shape},
                  {"n_elements", t.n_elements},
                  {"n_bytes", t.n_bytes},
                  {"offset", t.file_offset},
                  {"split", t.split}});
  }
  j["tensors"] = std::move(jt);

  Json totals = Json::array();
  for (const auto &[type, tt] : totals_of(tensors))
    totals.push_back({{"type", dq_type_name(type)},
                      {"count", tt.count},
                      {"elements", tt.elements},
                      {"bytes", tt.bytes},
                      {"bits_per_weight", bits_per_weight(tt)}});
  j["totals"] = std::move(totals);
  // Metadata strings need not be valid UTF-8: replace bad bytes rather than throw.
  std::string out = j.dump(2, ' ', false, Json::error_handler_t::replace);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace

Action register_info(CLI::App &app) {
  auto *cmd = app.add_subcommand("info", "Show a GGUF file's header, metadata and tensors");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("FILE", *path, "GGUF file (first part of a split model)")->required();
  cmd->add_flag("--json", *json, "Print JSON (arrays in full) instead of text");
  return [path, json] {
    dq_context *raw_ctx = nullptr;
    if (dq_context_create(&raw_ctx) != DQ_OK) {
      std::fprintf(stderr, "dq: %s: cannot create a dq context\n", path->c_str());
      return kExitFailure;
    }
    std::unique_ptr<dq_context, ContextDeleter> ctx(raw_ctx);
    dq_model *raw_model = nullptr;
    if (dq_model_open(ctx.get(), path->c_str(), &raw_model) != DQ_OK) {
      std::fprintf(stderr, "dq: %s: %s\n", path->c_str(), dq_last_error(ctx.get()));
      return kExitFailure;
    }
    std::unique_ptr<dq_model, ModelDeleter> model(raw_model);
    if (*json)
      print_json(*path, model.get());
    else
      print_text(*path, model.get());
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
  };
}

}  // namespace dq::tool
