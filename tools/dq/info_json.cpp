// `dq info --json` (see info_json.hpp).
#include "info_json.hpp"

#include "info_model.hpp"

namespace dq::tool {
namespace {

void write_scalar(JsonWriter &out, const Scalar &s) {
  switch (s.type) {
    case DQ_VALUE_BOOL: out.boolean(s.b); break;
    case DQ_VALUE_FLOAT32: out.number_f32(static_cast<float>(s.f)); break;
    case DQ_VALUE_FLOAT64: out.number_f64(s.f); break;
    case DQ_VALUE_STRING: out.string(s.s); break;
    case DQ_VALUE_UINT8:
    case DQ_VALUE_UINT16:
    case DQ_VALUE_UINT32:
    case DQ_VALUE_UINT64: out.number(s.u); break;
    default: out.number(s.i); break;
  }
}

// Arrays in full, element by element (nesting is bounded by the reader's depth limit).
void write_value(JsonWriter &out, const dq_value *v) {
  if (dq_value_get_type(v) != DQ_VALUE_ARRAY) {
    write_scalar(out, scalar_of(v));
    return;
  }
  out.begin_array();
  visit_elements(
      v, UINT64_MAX, [&](const Scalar &s) { write_scalar(out, s); },
      [&](const dq_value *nested) { write_value(out, nested); });
  out.end_array();
}

void write_metadata(JsonWriter &out, const dq_model *m) {
  out.begin_object();
  for (int64_t i = 0; i < dq_model_kv_count(m); ++i) {
    const dq_value *v = dq_model_kv_value(m, i);
    const char *key = dq_model_kv_key(m, i);
    out.key(key ? key : "");
    out.begin_object();
    out.key("type");
    out.string(value_type_name(dq_value_get_type(v)));
    if (dq_value_get_type(v) == DQ_VALUE_ARRAY) {
      out.key("element_type");
      out.string(value_type_name(dq_value_array_type(v)));
      out.key("count");
      out.number(dq_value_array_count(v));
    }
    out.key("value");
    write_value(out, v);
    out.end_object();
  }
  out.end_object();
}

void write_tensors(JsonWriter &out, const std::vector<dq_tensor_info> &tensors) {
  out.begin_array();
  for (const auto &t : tensors) {
    out.begin_object();
    out.key("name");
    out.string(t.name ? t.name : "");
    out.key("type");
    out.string(tensor_type_name(t.type));
    out.key("type_id");
    out.number(t.type);
    out.key("shape");
    out.begin_array(true);
    for (uint32_t d = 0; d < t.n_dims && d < 4; ++d) out.number(t.ne[d]);
    out.end_array();
    out.key("n_elements");
    out.number(t.n_elements);
    out.key("n_bytes");
    out.number(t.n_bytes);
    out.key("offset");
    out.number(t.file_offset);
    out.key("split");
    out.number(t.split);
    out.end_object();
  }
  out.end_array();
}

void write_totals(JsonWriter &out, const std::vector<dq_tensor_info> &tensors) {
  out.begin_array();
  for (const auto &[type, tt] : totals_of(tensors)) {
    out.begin_object();
    out.key("type");
    out.string(tensor_type_name(type));
    out.key("count");
    out.number(tt.count);
    out.key("elements");
    out.number(tt.elements);
    out.key("bytes");
    out.number(tt.bytes);
    out.key("bits_per_weight");
    out.number_f64(bits_per_weight(tt));
    out.end_object();
  }
  out.end_array();
}

}  // namespace

bool write_info_json(const std::string &path, const dq_model *m, JsonWriter &out) {
  out.begin_object();
  out.key("file");
  out.string(path);
  out.key("gguf_version");
  out.number(dq_model_gguf_version(m));
  out.key("alignment");
  out.number(dq_model_alignment(m));
  out.key("data_offset");
  out.number(dq_model_data_offset(m, 0));
  out.key("splits");
  out.begin_array();
  for (uint32_t s = 0; s < dq_model_split_count(m); ++s) {
    out.begin_object();
    out.key("split");
    out.number(s);
    out.key("data_offset");
    out.number(dq_model_data_offset(m, s));
    out.end_object();
  }
  out.end_array();
  out.key("kv_count");
  out.number(dq_model_kv_count(m));
  out.key("tensor_count");
  out.number(dq_model_tensor_count(m));
  out.key("metadata");
  write_metadata(out, m);
  const auto tensors = tensors_of(m);
  out.key("tensors");
  write_tensors(out, tensors);
  out.key("totals");
  write_totals(out, tensors);
  out.end_object();
  return out.finish();
}

}  // namespace dq::tool
