// GGUF header, metadata and tensor-info parsing for one in-memory file.
#include "gguf/gguf_file.hpp"

#include <unordered_set>

#include "gguf/cursor.hpp"
#include "gguf/value_parser.hpp"

namespace dq::gguf {
namespace {

using ull = unsigned long long;

constexpr uint8_t kMagic[4] = {'G', 'G', 'U', 'F'};
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;       // key length, 1-byte key, type, u8 value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset
// Memory besides the record itself that each kv / tensor costs once indexed (hash set and
// map nodes with their buckets, the model's views): charged to the ParseBudget.
constexpr uint64_t kKvIndexBytes = 96;
constexpr uint64_t kTensorIndexBytes = 160;

uint32_t read_version(Cursor &cur) {
  const uint8_t *magic = cur.take(4, "magic");
  if (std::memcmp(magic, kMagic, 4) != 0)
    cur.fail_at(0, DQ_ERR_BAD_FILE,
                strf("not a GGUF file: magic is %02x %02x %02x %02x, expected 'GGUF'", magic[0],
                     magic[1], magic[2], magic[3]));
  const uint32_t version = cur.u32("version");
  if (version == 1)
    cur.fail_at(4, DQ_ERR_BAD_FILE, "GGUF version 1 is not supported (obsolete since 2023)");
  if (version != 0 && (version & 0xffffu) == 0)
    cur.fail_at(4, DQ_ERR_BAD_FILE,
                strf("big-endian GGUF files are not supported (convert to little-endian; the "
                     "version field reads 0x%08x, version %u byte-swapped)",
                     version, __builtin_bswap32(version)));
  if (version != 2 && version != 3)
    cur.fail_at(4, DQ_ERR_BAD_FILE,
                strf("GGUF version %u is not supported (this reader handles versions 2 and 3)",
                     version));
  return version;
}

// Reads a count and checks that `count` records of at least `min_bytes` each fit in the bytes
// left, so later reservations are bounded by the file size.
uint64_t read_count(Cursor &cur, const char *field, uint64_t min_bytes) {
  const uint64_t pos = cur.pos();
  const uint64_t count = cur.u64(field);
  uint64_t need = 0;
  if (__builtin_mul_overflow(count, min_bytes, &need) || need > cur.remaining())
    cur.fail_at(pos, DQ_ERR_BAD_FILE,
                strf("%s %llu cannot fit in the %llu bytes left (file size %llu)", field,
                     static_cast<ull>(count), static_cast<ull>(cur.remaining()),
                     static_cast<ull>(cur.size())));
  return count;
}

void read_metadata(Cursor &cur, uint64_t n_kv, const Limits &limits, ParseBudget &budget,
                   GgufFile &out) {
  std::unordered_set<std::string_view> seen;
  budget.charge(n_kv, sizeof(KeyValue) + kKvIndexBytes);
  out.kvs.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    cur.set_context(strf("kv %llu", static_cast<ull>(i)));
    const uint64_t key_pos = cur.pos();
    std::string_view key = cur.string("key", limits.max_key_bytes);
    if (key.empty()) cur.fail_at(key_pos, DQ_ERR_BAD_FILE, "key is empty");
    if (key.find('\0') != std::string_view::npos)
      cur.fail_at(key_pos, DQ_ERR_BAD_FILE, "key contains a NUL byte");
    cur.set_context(strf("kv %llu ('%s')", static_cast<ull>(i), printable(key).c_str()));
    if (!seen.insert(key).second) cur.fail_at(key_pos, DQ_ERR_BAD_FILE, "duplicate key");
    const uint64_t type_pos = cur.pos();
    const uint32_t type = cur.u32("value type");
    budget.charge(0, key.size());
    KeyValue kv;
    kv.key.assign(key);
    kv.type_pos = type_pos;
    kv.value = parse_value(cur, type, type_pos, limits, budget);
    out.kvs.push_back(std::move(kv));
  }
}

// general.alignment: a u32 power of two (ggml's rule), default 32.
uint32_t alignment_of(const GgufFile &file, const Limits &limits) {
  const int64_t k = file.find_key("general.alignment");
  if (k < 0) return kDefaultAlignment;
  const KeyValue &kv = file.kvs[static_cast<size_t>(k)];
  const dq_value &v = kv.value;
  if (v.type != DQ_VALUE_UINT32)
    fail(DQ_ERR_BAD_FILE,
         strf("kv %lld ('general.alignment'): type is %s, expected u32 at byte %llu",
              static_cast<long long>(k), value_type_name(v.type),
              static_cast<ull>(kv.type_pos)));
  const uint32_t a = load_le<uint32_t>(v.bytes);
  if (a == 0 || (a & (a - 1)) != 0 || a > limits.max_alignment)
    fail(DQ_ERR_BAD_FILE,
         strf("kv %lld ('general.alignment'): %u is not a power of two between 1 and %u at "
              "byte %llu",
              static_cast<long long>(k), a, limits.max_alignment,
              static_cast<ull>(kv.type_pos)));
  return a;
}

}  // namespace

int64_t GgufFile::find_key(std::string_view key) const {
  for (size_t i = 0; i < kvs.size(); ++i)
    if (kvs[i].key == key) return static_cast<int64_t>(i);
  return -1;
}

GgufFile parse_gguf(const uint8_t *data, uint64_t size, const Limits &limits) {
  GgufFile out;
  out.base = data;
  out.file_size = size;
  Cursor cur(data, size);
  ParseBudget budget(limits, size);
  cur.set_context("header");
  out.version = read_version(cur);
  const uint64_t n_tensors = read_count(cur, "tensor count", kMinTensorInfoBytes);
  const uint64_t n_kv = read_count(cur, "metadata kv count", kMinKvBytes);

  read_metadata(cur, n_kv, limits, budget, out);
  out.alignment = alignment_of(out, limits);

  // The infos after the metadata must still fit.
  cur.set_context("header");
  if (n_tensors > cur.remaining() / kMinTensorInfoBytes)
    cur.fail_at(8, DQ_ERR_BAD_FILE,
                strf("tensor count %llu cannot fit in the %llu bytes left after the "
                     "metadata (file size %llu)",
                     static_cast<ull>(n_tensors), static_cast<ull>(cur.remaining()),
                     static_cast<ull>(size)));
  budget.charge(n_tensors, sizeof(TensorInfo) + kTensorIndexBytes);
  out.tensors.reserve(n_tensors);
  std::unordered_set<std::string_view> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t = parse_tensor_info(cur, i, limits);
    budget.charge(0, t.name.size());
    if (!names.insert(std::string_view(reinterpret_cast<const char *>(data) + t.info_pos + 8,
                                       t.name.size()))
             .second)
      cur.fail_at(t.info_pos, DQ_ERR_BAD_FILE, "duplicate tensor name");
    out.tensors.push_back(std::move(t));
  }
  cur.set_context({});

  // Data section: the end of the infos rounded up to the alignment.
  const uint64_t end = cur.pos();
  const uint64_t rem = end % out.alignment;
  out.data_offset = end;
  if (rem != 0 && __builtin_add_overflow(end, out.alignment - rem, &out.data_offset))
    fail(DQ_ERR_BAD_FILE, "data section offset overflows");
  check_tensor_layout(out.tensors, out.data_offset, size, out.alignment);
  return out;
}

}  // namespace dq::gguf
