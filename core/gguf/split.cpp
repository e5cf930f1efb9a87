// Split model names and keys.
#include "gguf/split.hpp"

#include <cctype>
#include <cstdio>

namespace dq::gguf {
namespace {

// Parses exactly `n` decimal digits at s[pos..pos+n).
bool parse_digits(const std::string &s, size_t pos, size_t n, uint32_t *out) {
  uint32_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + static_cast<uint32_t>(s[i] - '0');
  }
  *out = v;
  return true;
}

uint64_t read_split_integer(const GgufFile &file, const char *key, bool *found) {
  const int64_t k = file.find_key(key);
  *found = k >= 0;
  if (k < 0) return 0;
  uint64_t v = 0;
  if (value_to_u64(file.kvs[static_cast<size_t>(k)].value, &v) != DQ_OK)
    fail(DQ_ERR_BAD_FILE,
         strf("kv %lld ('%s'): expected a non-negative integer, found %s at byte %llu",
              static_cast<long long>(k), key,
              value_type_name(file.kvs[static_cast<size_t>(k)].value.type),
              static_cast<unsigned long long>(file.kvs[static_cast<size_t>(k)].type_pos)));
  return v;
}

}  // namespace

std::optional<SplitName> parse_split_name(const std::string &path) {
  // NAME-XXXXX-of-YYYYY.gguf (llama.cpp writes 5 digits).
  static constexpr char kSuffix[] = ".gguf";
  const size_t suffix_len = sizeof(kSuffix) - 1;
  if (path.size() < suffix_len || path.compare(path.size() - suffix_len, suffix_len, kSuffix) != 0)
    return std::nullopt;
  const size_t stem_end = path.size() - suffix_len;
  const size_t digits = 5;
  const size_t tail = 1 + digits + 4 + digits;  // "-XXXXX-of-YYYYY"
  if (stem_end < tail + 1) return std::nullopt;
  const size_t start = stem_end - tail;
  if (path[start] != '-' || path.compare(start + 1 + digits, 4, "-of-") != 0) return std::nullopt;
  SplitName name;
  name.digits = static_cast<int>(digits);
  if (!parse_digits(path, start + 1, digits, &name.number) ||
      !parse_digits(path, start + 1 + digits + 4, digits, &name.count))
    return std::nullopt;
  name.prefix = path.substr(0, start);
  return name;
}

std::string split_part_path(const SplitName &name, uint32_t number) {
  return name.prefix + strf("-%0*u-of-%0*u.gguf", name.digits, number, name.digits, name.count);
}

SplitKeys read_split_keys(const GgufFile &file) {
  SplitKeys keys;
  bool found = false;
  keys.count = read_split_integer(file, "split.count", &found);
  keys.present = found;
  if (!found) {
    keys.count = 1;
    return keys;
  }
  keys.no = read_split_integer(file, "split.no", &found);
  if (!found) fail(DQ_ERR_BAD_FILE, "split.count is present but split.no is missing");
  uint64_t tensors = read_split_integer(file, "split.tensors.count", &found);
  if (found) keys.tensors_count = tensors;
  if (keys.count == 0) fail(DQ_ERR_BAD_FILE, "split.count is 0");
  if (keys.no >= keys.count)
    fail(DQ_ERR_BAD_FILE, strf("split.no %llu is not below split.count %llu",
                               static_cast<unsigned long long>(keys.no),
                               static_cast<unsigned long long>(keys.count)));
  return keys;
}

}  // namespace dq::gguf
