// Tensor info parsing and layout checks.
#include "gguf/tensor_table.hpp"

#include <algorithm>
#include <numeric>

#include "dq_common/type_traits.hpp"

namespace dq::gguf {
namespace {
using ull = unsigned long long;
using ll = long long;
}  // namespace

std::string tensor_label(uint64_t index, const std::string &name) {
  return strf("tensor %llu ('%s')", static_cast<ull>(index), printable(name).c_str());
}

TensorInfo parse_tensor_info(Cursor &cur, uint64_t index, const Limits &limits) {
  TensorInfo t;
  t.info_pos = cur.pos();
  cur.set_context(strf("tensor %llu", static_cast<ull>(index)));
  const uint64_t name_pos = cur.pos();
  std::string_view name = cur.string("name", limits.max_tensor_name_bytes);
  if (name.find('\0') != std::string_view::npos)
    cur.fail_at(name_pos, DQ_ERR_BAD_FILE, "name contains a NUL byte");
  t.name.assign(name);
  cur.set_context(tensor_label(index, t.name));

  const uint64_t dims_pos = cur.pos();
  t.n_dims = cur.u32("n_dims");
  if (t.n_dims > limits.max_dims)
    cur.fail_at(dims_pos, DQ_ERR_BAD_FILE,
                strf("n_dims %u exceeds the maximum of %u", t.n_dims, limits.max_dims));
  int64_t n_elements = 1;
  for (uint32_t d = 0; d < t.n_dims; ++d) {
    const uint64_t pos = cur.pos();
    const uint64_t ne = cur.u64("dimension");
    if (ne == 0) cur.fail_at(pos, DQ_ERR_BAD_FILE, strf("ne[%u] is 0", d));
    if (ne > static_cast<uint64_t>(INT64_MAX))
      cur.fail_at(pos, DQ_ERR_BAD_FILE,
                  strf("ne[%u] = %llu does not fit in int64", d, static_cast<ull>(ne)));
    t.ne[d] = static_cast<int64_t>(ne);
    if (__builtin_mul_overflow(n_elements, t.ne[d], &n_elements))
      cur.fail_at(pos, DQ_ERR_BAD_FILE,
                  strf("element count overflows int64 (ne[%u] = %lld)", d, static_cast<ll>(ne)));
  }
  t.n_elements = n_elements;

  const uint64_t type_pos = cur.pos();
  const uint32_t type = cur.u32("type");
  const TypeTraits *traits = type_traits(type <= INT32_MAX ? static_cast<int32_t>(type) : -1);
  if (!traits)
    cur.fail_at(type_pos, DQ_ERR_UNKNOWN_TYPE, strf("unknown tensor type id %u", type));
  if (traits->retired)
    cur.fail_at(type_pos, DQ_ERR_UNKNOWN_TYPE,
                strf("tensor type %u (%s) is retired and no longer readable", type, traits->name));
  if (!type_has_layout(traits->id))
    cur.fail_at(type_pos, DQ_ERR_UNKNOWN_TYPE,
                strf("tensor type %u (%s) has no known block layout", type, traits->name));
  t.type = traits->id;
  if (t.ne[0] % traits->block_elements != 0)
    cur.fail_at(type_pos, DQ_ERR_BAD_FILE,
                strf("ne[0] = %lld is not a multiple of %s's block of %lld elements",
                     static_cast<ll>(t.ne[0]), traits->name,
                     static_cast<ll>(traits->block_elements)));
  auto bytes = type_nbytes(t.type, t.n_elements);
  if (!bytes)
    cur.fail_at(type_pos, DQ_ERR_BAD_FILE,
                strf("byte size of %lld %s elements overflows", static_cast<ll>(t.n_elements),
                     traits->name));
  t.n_bytes = *bytes;

  t.offset_pos = cur.pos();
  t.offset = cur.u64("offset");
  return t;
}

void check_tensor_layout(const std::vector<TensorInfo> &tensors, uint64_t data_offset,
                         uint64_t file_size, uint32_t alignment) {
  const uint64_t data_size = file_size > data_offset ? file_size - data_offset : 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo &t = tensors[i];
    if (t.offset % alignment != 0)
      fail(DQ_ERR_BAD_FILE,
           strf("%s: offset %llu is not a multiple of the alignment %u at byte %llu",
                tensor_label(i, t.name).c_str(), static_cast<ull>(t.offset), alignment,
                static_cast<ull>(t.offset_pos)));
    uint64_t end = 0;
    if (__builtin_add_overflow(t.offset, t.n_bytes, &end) || end > data_size)
      fail(DQ_ERR_BAD_FILE,
           strf("%s: offset %llu + %llu bytes past end of data section (data section at byte "
                "%llu, %llu bytes; file size %llu) at byte %llu",
                tensor_label(i, t.name).c_str(), static_cast<ull>(t.offset),
                static_cast<ull>(t.n_bytes), static_cast<ull>(data_offset),
                static_cast<ull>(data_size), static_cast<ull>(file_size),
                static_cast<ull>(t.offset_pos)));
  }
  // Overlap: sort by offset, then each tensor must end before the next begins.
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tensors[a].offset != tensors[b].offset ? tensors[a].offset < tensors[b].offset : a < b;
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo &prev = tensors[order[k - 1]];
    const TensorInfo &cur = tensors[order[k]];
    if (prev.offset + prev.n_bytes > cur.offset) {  // no overflow: both ends checked above
      size_t later = std::max(order[k - 1], order[k]);
      size_t earlier = std::min(order[k - 1], order[k]);
      const TensorInfo &a = tensors[later];
      const TensorInfo &b = tensors[earlier];
      fail(DQ_ERR_BAD_FILE,
           strf("%s: bytes [%llu, %llu) overlap %s bytes [%llu, %llu) at byte %llu",
                tensor_label(later, a.name).c_str(), static_cast<ull>(a.offset),
                static_cast<ull>(a.offset + a.n_bytes), tensor_label(earlier, b.name).c_str(),
                static_cast<ull>(b.offset), static_cast<ull>(b.offset + b.n_bytes),
                static_cast<ull>(a.offset_pos)));
    }
  }
}

}  // namespace dq::gguf
