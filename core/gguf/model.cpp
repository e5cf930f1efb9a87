// Opening GGUF models: mapping, parsing, joining split parts, building lookup indexes.
#include "gguf/model.hpp"

#include <cstring>

#include "gguf/error.hpp"
#include "gguf/split.hpp"

namespace dq::gguf {
namespace {

using ull = unsigned long long;

std::unique_ptr<dq_model::Part> open_part(const std::string &path, const Limits &limits) {
  auto part = std::make_unique<dq_model::Part>();
  part->path = path;
  part->map = std::make_unique<MappedFile>(path);
  part->file = parse_gguf(part->map->data(), part->map->size(), limits);
  return part;
}

// Runs `fn`, prefixing any Error it throws with the part it concerns.
template <typename Fn>
auto in_part(uint32_t number, uint32_t count, const std::string &path, Fn &&fn) {
  try {
    return fn();
  } catch (const Error &e) {
    throw Error(e.status(), strf("split part %u of %u (%s): %s", number, count, path.c_str(),
                                 e.what()));
  }
}

// Fills the model's merged views and indexes from its parts.
void index_model(dq_model &model) {
  const GgufFile &first = model.parts[0]->file;
  model.kvs.reserve(first.kvs.size());
  for (const KeyValue &kv : first.kvs) {
    model.kv_index.emplace(kv.key, static_cast<int64_t>(model.kvs.size()));
    model.kvs.push_back(&kv);
  }
  for (uint32_t s = 0; s < model.parts.size(); ++s) {
    const dq_model::Part &part = *model.parts[s];
    for (const TensorInfo &t : part.file.tensors) {
      const uint64_t file_offset = part.file.data_offset + t.offset;  // checked by the parser
      const int64_t index = static_cast<int64_t>(model.tensors.size());
      if (!model.tensor_index.emplace(t.name, index).second)
        fail(DQ_ERR_BAD_FILE,
             strf("split part %u of %zu (%s): %s: name already used by an earlier part", s + 1,
                  model.parts.size(), part.path.c_str(),
                  tensor_label(&t - part.file.tensors.data(), t.name).c_str()));
      model.tensors.push_back({&t, s, file_offset, part.file.base + file_offset});
    }
  }
}

}  // namespace

namespace {

std::unique_ptr<dq_model> open_model_parts(const std::string &path, const Limits &limits) {
  auto model = std::make_unique<dq_model>();
  std::unique_ptr<dq_model::Part> opened = open_part(path, limits);
  const SplitKeys keys = read_split_keys(opened->file);
  if (!keys.present || keys.count == 1) {
    model->parts.push_back(std::move(opened));
    index_model(*model);
    return model;
  }

  // A split model: find every part from the name, check each part's keys.
  const auto name = parse_split_name(path);
  if (!name)
    fail(DQ_ERR_BAD_FILE,
         strf("split.count is %llu but the file name does not follow "
              "NAME-00001-of-%05llu.gguf, so the other parts cannot be found",
              static_cast<ull>(keys.count), static_cast<ull>(keys.count)));
  if (name->count != keys.count || name->number != keys.no + 1)
    fail(DQ_ERR_BAD_FILE,
         strf("file name says part %u of %u but split.no %llu / split.count %llu say part "
              "%llu of %llu",
              name->number, name->count, static_cast<ull>(keys.no), static_cast<ull>(keys.count),
              static_cast<ull>(keys.no + 1), static_cast<ull>(keys.count)));
  if (keys.count > limits.max_split_count)
    fail(DQ_ERR_BAD_FILE, strf("split.count %llu exceeds the limit of %u",
                               static_cast<ull>(keys.count), limits.max_split_count));
  const uint32_t count = static_cast<uint32_t>(keys.count);
  for (uint32_t number = 1; number <= count; ++number) {
    if (number == name->number) {
      model->parts.push_back(std::move(opened));
      continue;
    }
    const std::string part_path = split_part_path(*name, number);
    model->parts.push_back(in_part(number, count, part_path, [&] {
      auto part = open_part(part_path, limits);
      const SplitKeys k = read_split_keys(part->file);
      if (!k.present || k.count != count || k.no != number - 1)
        fail(DQ_ERR_BAD_FILE,
             strf("split keys say part %llu of %llu, expected part %u of %u",
                  static_cast<ull>(k.no + 1), static_cast<ull>(k.count), number, count));
      return part;
    }));
  }

  const SplitKeys first_keys = read_split_keys(model->parts[0]->file);
  index_model(*model);
  if (first_keys.tensors_count && *first_keys.tensors_count != model->tensors.size())
    fail(DQ_ERR_BAD_FILE,
         strf("split.tensors.count is %llu but the %u parts hold %zu tensors",
              static_cast<ull>(*first_keys.tensors_count), count, model->tensors.size()));
  return model;
}

}  // namespace

std::unique_ptr<dq_model> open_model(const std::string &path, const Limits &limits) {
  try {
    return open_model_parts(path, limits);
  } catch (const Error &e) {
    // Every message names a file: errors about another part already name it (in_part).
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) throw;
    throw Error(e.status(), path + ": " + what);
  }
}

std::string read_part(const dq_model::Part &part, uint64_t file_offset, void *dst,
                      uint64_t bytes) {
  if (!part.map) {
    uint64_t end = 0;
    if (__builtin_add_overflow(file_offset, bytes, &end) || end > part.file.file_size)
      return strf("reading %llu bytes at byte %llu failed: past the end (%llu bytes)",
                  static_cast<ull>(bytes), static_cast<ull>(file_offset),
                  static_cast<ull>(part.file.file_size));
    if (bytes) std::memcpy(dst, part.file.base + file_offset, static_cast<size_t>(bytes));
    return {};
  }
  std::string e = pread_exact(part.map->fd(), dst, bytes, file_offset);
  if (e.empty()) return e;
  return strf("reading %llu bytes at byte %llu failed: %s", static_cast<ull>(bytes),
              static_cast<ull>(file_offset), e.c_str());
}

std::unique_ptr<dq_model> model_from_memory(const uint8_t *data, uint64_t size,
                                            const Limits &limits) {
  auto model = std::make_unique<dq_model>();
  auto part = std::make_unique<dq_model::Part>();
  part->path = "<memory>";
  part->file = parse_gguf(data, size, limits);
  model->parts.push_back(std::move(part));
  index_model(*model);
  return model;
}

}  // namespace dq::gguf
