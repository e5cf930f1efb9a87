// Public C API: dq_model_* (open/close, header facts, metadata and tensor lookup).
#include <cstddef>
#include <new>
#include <string>

#include "context.hpp"
#include "gguf/error.hpp"
#include "gguf/model.hpp"

namespace {

const dq::gguf::GgufFile *first_file(const dq_model *m) {
  return m && !m->parts.empty() ? &m->parts[0]->file : nullptr;
}

// Writes `value` into out->field only when the caller's struct_size covers that field.
#define DQ_SET_FIELD(out, field, value)                                                    \
  do {                                                                                     \
    if ((out)->struct_size >= offsetof(dq_tensor_info, field) + sizeof((out)->field))      \
      (out)->field = (value);                                                              \
  } while (0)

}  // namespace

extern "C" {

DQ_API dq_status dq_model_open(dq_context *ctx, const char *path, dq_model **out) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  if (!path || !out)
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                               "dq_model_open: path and out must not be NULL");
  *out = nullptr;
  try {
    *out = dq::gguf::open_model(path).release();
    return DQ_OK;
  } catch (const dq::gguf::Error &e) {
    return dq::core::set_error(ctx, e.status(), e.what());
  } catch (const std::bad_alloc &) {
    return dq::core::set_error(ctx, DQ_ERR_OUT_OF_MEMORY, "out of memory while reading the file");
  } catch (const std::exception &e) {
    return dq::core::set_error(ctx, DQ_ERR_INTERNAL, e.what());
  }
}

DQ_API void dq_model_close(dq_model *model) { delete model; }

DQ_API uint32_t dq_model_gguf_version(const dq_model *model) {
  const auto *f = first_file(model);
  return f ? f->version : 0;
}

DQ_API uint32_t dq_model_alignment(const dq_model *model) {
  const auto *f = first_file(model);
  return f ? f->alignment : 0;
}

DQ_API uint32_t dq_model_split_count(const dq_model *model) {
  return model ? static_cast<uint32_t>(model->parts.size()) : 0;
}

DQ_API uint64_t dq_model_data_offset(const dq_model *model, uint32_t split) {
  if (!model || split >= model->parts.size()) return 0;
  return model->parts[split]->file.data_offset;
}

DQ_API int64_t dq_model_kv_count(const dq_model *model) {
  return model ? static_cast<int64_t>(model->kvs.size()) : 0;
}

DQ_API int64_t dq_model_kv_find(const dq_model *model, const char *key) {
  if (!model || !key) return -1;
  auto it = model->kv_index.find(key);
  return it == model->kv_index.end() ? -1 : it->second;
}

DQ_API const char *dq_model_kv_key(const dq_model *model, int64_t index) {
  if (!model || index < 0 || static_cast<uint64_t>(index) >= model->kvs.size()) return nullptr;
  return model->kvs[static_cast<size_t>(index)]->key.c_str();
}

DQ_API const dq_value *dq_model_kv_value(const dq_model *model, int64_t index) {
  if (!model || index < 0 || static_cast<uint64_t>(index) >= model->kvs.size()) return nullptr;
  return &model->kvs[static_cast<size_t>(index)]->value;
}

DQ_API int64_t dq_model_tensor_count(const dq_model *model) {
  return model ? static_cast<int64_t>(model->tensors.size()) : 0;
}

DQ_API int64_t dq_model_tensor_find(const dq_model *model, const char *name) {
  if (!model || !name) return -1;
  auto it = model->tensor_index.find(name);
  return it == model->tensor_index.end() ? -1 : it->second;
}

DQ_API dq_status dq_model_tensor_info(const dq_model *model, int64_t index,
                                      dq_tensor_info *out) {
  if (!model || !out || out->struct_size < sizeof(size_t)) return DQ_ERR_INVALID_ARGUMENT;
  if (index < 0 || static_cast<uint64_t>(index) >= model->tensors.size()) return DQ_ERR_INVALID_ARGUMENT;
  const dq_model::Tensor &t = model->tensors[static_cast<size_t>(index)];
  const dq::gguf::TensorInfo &info = *t.info;
  DQ_SET_FIELD(out, name, info.name.c_str());
  DQ_SET_FIELD(out, type, info.type);
  DQ_SET_FIELD(out, n_dims, info.n_dims);
  if (out->struct_size >= offsetof(dq_tensor_info, ne) + sizeof(out->ne))
    for (int d = 0; d < 4; ++d) out->ne[d] = info.ne[d];
  DQ_SET_FIELD(out, n_elements, info.n_elements);
  DQ_SET_FIELD(out, n_bytes, info.n_bytes);
  DQ_SET_FIELD(out, split, t.split);
  DQ_SET_FIELD(out, file_offset, t.file_offset);
  DQ_SET_FIELD(out, data, static_cast<const void *>(t.data));
  return DQ_OK;
}

DQ_API dq_status dq_model_read_tensor(dq_context *ctx, const dq_model *model, int64_t index,
                                      uint64_t offset, void *dst, uint64_t bytes) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  if (!model || (!dst && bytes > 0))
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                               "dq_model_read_tensor: model and dst must not be NULL");
  if (index < 0 || static_cast<uint64_t>(index) >= model->tensors.size())
    return dq::core::set_error(
        ctx, DQ_ERR_INVALID_ARGUMENT,
        dq::gguf::strf("dq_model_read_tensor: tensor index %lld is out of range (%zu tensors)",
                       static_cast<long long>(index), model->tensors.size()));
  const dq_model::Tensor &t = model->tensors[static_cast<size_t>(index)];
  const dq_model::Part &part = *model->parts[t.split];
  const uint64_t size = t.info->n_bytes;
  if (offset > size || bytes > size - offset)
    return dq::core::set_error(
        ctx, DQ_ERR_SIZE,
        dq::gguf::strf("%s: tensor '%s': %llu bytes at offset %llu pass its end (%llu bytes)",
                       part.path.c_str(), dq::gguf::printable(t.info->name).c_str(),
                       static_cast<unsigned long long>(bytes),
                       static_cast<unsigned long long>(offset),
                       static_cast<unsigned long long>(size)));
  const std::string e = dq::gguf::read_part(part, t.file_offset + offset, dst, bytes);
  if (!e.empty())
    return dq::core::set_error(ctx, DQ_ERR_IO,
                               dq::gguf::strf("%s: tensor '%s': %s", part.path.c_str(),
                                              dq::gguf::printable(t.info->name).c_str(),
                                              e.c_str()));
  return DQ_OK;
}

}  // extern "C"
