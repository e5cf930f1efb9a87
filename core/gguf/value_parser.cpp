// Metadata value parsing with bounds and limits checked before use.
#include "gguf/value_parser.hpp"

namespace dq::gguf {
namespace {

using ull = unsigned long long;

// Smallest number of file bytes one element of `type` can occupy (strings: the u64 length;
// arrays: element type + count), used to bound counts by the bytes left.
uint64_t min_element_bytes(uint32_t type) {
  if (type == DQ_VALUE_STRING) return 8;
  if (type == DQ_VALUE_ARRAY) return 12;
  return value_type_size(type);
}

dq_value parse_array(Cursor &cur, const Limits &limits, ParseBudget &budget, uint32_t depth) {
  if (depth >= limits.max_array_depth)
    cur.fail_at(cur.pos(), DQ_ERR_BAD_FILE,
                strf("arrays nested deeper than %u levels", limits.max_array_depth));
  dq_value v;
  v.type = DQ_VALUE_ARRAY;
  const uint64_t elem_type_pos = cur.pos();
  const uint32_t elem_type = cur.u32("array element type");
  if (!value_type_known(elem_type))
    cur.fail_at(elem_type_pos, DQ_ERR_BAD_FILE,
                strf("unknown array element type %u", elem_type));
  v.array_type = static_cast<dq_value_type>(elem_type);
  const uint64_t count_pos = cur.pos();
  const uint64_t count = cur.u64("array length");
  const uint64_t min_bytes = min_element_bytes(elem_type);
  uint64_t need = 0;
  if (__builtin_mul_overflow(count, min_bytes, &need) || need > cur.remaining())
    cur.fail_at(count_pos, DQ_ERR_BAD_FILE,
                strf("array length %llu of %s (at least %llu bytes each) runs past the end of "
                     "the file: %llu bytes remain (file size %llu)",
                     static_cast<ull>(count), value_type_name(elem_type),
                     static_cast<ull>(min_bytes), static_cast<ull>(cur.remaining()),
                     static_cast<ull>(cur.size())));
  v.count = count;
  if (const uint64_t size = value_type_size(elem_type); size != 0) {
    v.bytes = cur.take(count * size, "array elements");  // count * size <= remaining: checked
    // Its element records are made on demand (value.hpp); the small holder for them is
    // charged, as an array of a million empty u8 arrays would otherwise make a million.
    budget.charge(1, sizeof(LazyElements));
    v.lazy = std::make_unique<LazyElements>(count);
    return v;
  }
  budget.charge(count, sizeof(dq_value));
  v.items.reserve(count);  // bounded: count * min_bytes <= bytes left, and by the budget
  for (uint64_t i = 0; i < count; ++i)
    v.items.push_back(parse_value(cur, elem_type, elem_type_pos, limits, budget, depth + 1));
  return v;
}

}  // namespace

dq_value parse_value(Cursor &cur, uint32_t type, uint64_t type_pos, const Limits &limits,
                     ParseBudget &budget, uint32_t depth) {
  if (!value_type_known(type))
    cur.fail_at(type_pos, DQ_ERR_BAD_FILE, strf("unknown value type %u", type));
  if (type == DQ_VALUE_ARRAY) return parse_array(cur, limits, budget, depth);
  dq_value v;
  v.type = static_cast<dq_value_type>(type);
  if (type == DQ_VALUE_STRING) {
    std::string_view s = cur.string("string", limits.max_string_bytes);
    v.bytes = reinterpret_cast<const uint8_t *>(s.data());
    v.count = s.size();
    return v;
  }
  v.bytes = cur.take(value_type_size(type), value_type_name(type));
  return v;
}

}  // namespace dq::gguf
