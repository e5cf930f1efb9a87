// Recipes over base models (see gguf_recipe.hpp).
#include "gguf_recipe.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "generated_models.hpp"

namespace dq::fuzz {
namespace {

constexpr uint64_t kMaxBaseBytes = uint64_t{3} << 19;  // 1.5 MiB: keeps each run fast
constexpr int kMaxEdits = 32;

// Walks a GGUF header (v2/v3 layout) recording where each field is; stops at the first
// thing that does not fit, keeping what it found.
class HeaderScan {
 public:
  explicit HeaderScan(Base &b) : b_(b) {}

  void run() {
    if (b_.bytes.size() < 24) return;
    field(4, 4, FieldKind::kVersion);
    uint64_t tensors = 0, kvs = 0;
    pos_ = 8;  // magic and version before
    if (!number(8, FieldKind::kCount, &tensors) || !number(8, FieldKind::kCount, &kvs)) return;
    for (uint64_t i = 0; i < kvs; ++i) {
      uint32_t type = 0;
      if (!string() || !number32(FieldKind::kValueType, &type) || !value(type, 0)) return;
    }
    for (uint64_t i = 0; i < tensors; ++i) {
      uint32_t dims = 0, type = 0;
      uint64_t unused = 0;
      if (!string() || !number32(FieldKind::kTensorDims, &dims) || dims > 8) return;
      for (uint32_t d = 0; d < dims; ++d)
        if (!number(8, FieldKind::kTensorDim, &unused)) return;
      if (!number32(FieldKind::kTensorType, &type) ||
          !number(8, FieldKind::kTensorOffset, &unused))
        return;
    }
  }

 private:
  void field(uint64_t pos, uint8_t width, FieldKind kind) { b_.fields.push_back({pos, width, kind}); }

  bool fits(uint64_t n) const { return n <= b_.bytes.size() && pos_ <= b_.bytes.size() - n; }

  bool number(uint8_t width, FieldKind kind, uint64_t *out) {
    if (!fits(width)) return false;
    uint64_t v = 0;
    std::memcpy(&v, b_.bytes.data() + pos_, width);
    field(pos_, width, kind);
    pos_ += width;
    *out = v;
    b_.header_end = std::max(b_.header_end, pos_);
    return true;
  }
  bool number32(FieldKind kind, uint32_t *out) {
    uint64_t v = 0;
    if (!number(4, kind, &v)) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  }
  bool string() {
    uint64_t len = 0;
    if (!number(8, FieldKind::kStringLength, &len) || !fits(len)) return false;
    pos_ += len;
    return true;
  }
  bool value(uint32_t type, int depth) {
    static constexpr uint8_t kSize[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) return string();
    if (type == 9) {
      uint32_t elem = 0;
      uint64_t count = 0;
      if (depth > 4 || !number32(FieldKind::kValueType, &elem) ||
          !number(8, FieldKind::kArrayCount, &count) || elem > 12)
        return false;
      if (kSize[elem]) {
        if (count > b_.bytes.size() / kSize[elem] || !fits(count * kSize[elem])) return false;
        pos_ += count * kSize[elem];
        return true;
      }
      for (uint64_t j = 0; j < count; ++j)
        if (!value(elem, depth + 1)) return false;
      return true;
    }
    if (type > 12 || !fits(kSize[type])) return false;
    pos_ += kSize[type];
    return true;
  }

  Base &b_;
  uint64_t pos_ = 0;
};

Base make_base(std::string name, std::vector<uint8_t> bytes) {
  Base b{std::move(name), std::move(bytes), {}, 0};
  HeaderScan(b).run();
  return b;
}

std::vector<Base> load_bases() {
  std::vector<Base> bases;
  for (auto &[name, bytes] : generated_models()) bases.push_back(make_base(name, bytes));
  const char *dir = std::getenv("DQ_TESTDATA");
  std::error_code ec;
  if (!dir || !std::filesystem::is_directory(dir, ec)) return bases;
  std::vector<std::filesystem::path> files;
  for (const auto &e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".gguf" && e.file_size(ec) <= kMaxBaseBytes)
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto &p : files) {
    std::ifstream f(p, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                               std::istreambuf_iterator<char>());
    bases.push_back(make_base(p.filename().string(), std::move(bytes)));
  }
  return bases;
}

// Reads the recipe; past its end every read gives zeros.
class Reader {
 public:
  Reader(const uint8_t *data, size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  uint64_t next(size_t bytes) {
    uint64_t v = 0;
    for (size_t k = 0; k < bytes; ++k, ++at_)
      if (at_ < size_) v |= static_cast<uint64_t>(data_[at_]) << (8 * k);
    return v;
  }

 private:
  const uint8_t *data_;
  size_t size_;
  size_t at_ = 0;
};

uint64_t read_field(const std::vector<uint8_t> &b, const Field &f) {
  uint64_t v = 0;
  std::memcpy(&v, b.data() + f.pos, f.width);
  return v;
}

void write_field(std::vector<uint8_t> &b, const Field &f, uint64_t v) {
  if (f.pos + f.width <= b.size()) std::memcpy(b.data() + f.pos, &v, f.width);
}

// Values that sit on the edges the reader checks.
uint64_t interesting(const Base &base, uint8_t pick) {
  const uint64_t size = base.bytes.size();
  const uint64_t table[] = {0,          1,          2,          3,           4,
                            13,         31,         32,         33,          64,
                            255,        256,        4096,       0x7fffffff,  0x80000000,
                            0xffffffff, 1ull << 32, 1ull << 62, INT64_MAX,   UINT64_MAX,
                            size,       size - 1,   size + 1,   base.header_end,
                            size - base.header_end};
  return table[pick % std::size(table)];
}

}  // namespace

const std::vector<Base> &recipe_bases() {
  static const std::vector<Base> bases = load_bases();
  return bases;
}

std::vector<const Base *> bases_with_header_up_to(uint64_t max_header_bytes) {
  std::vector<const Base *> out;
  for (const Base &b : recipe_bases())
    if (b.header_end <= max_header_bytes) out.push_back(&b);
  return out;
}

std::vector<uint8_t> apply_recipe(const uint8_t *data, size_t size,
                                  const std::vector<const Base *> &bases) {
  Reader r(data, size);
  const Base &base = *bases[r.next(1) % bases.size()];
  std::vector<uint8_t> b = base.bytes;
  const size_t nf = base.fields.size();
  for (int edit = 0; edit < kMaxEdits && !r.done(); ++edit) {
    switch (r.next(1) % 6) {
      case 0: {  // set a header field
        if (nf == 0) break;
        const Field &f = base.fields[r.next(2) % nf];
        uint64_t v = 0;
        switch (r.next(1) % 4) {
          case 0: v = r.next(8); break;
          case 1: v = read_field(base.bytes, f) + static_cast<int8_t>(r.next(1)); break;
          case 2: v = interesting(base, static_cast<uint8_t>(r.next(1))); break;
          default: {  // the value of another field of the same kind (overlaps, duplicates)
            const uint64_t start = r.next(2) % nf;
            for (uint64_t k = 0; k < nf; ++k) {
              const Field &g = base.fields[(start + k) % nf];
              if (g.kind == f.kind && g.pos != f.pos) {
                v = read_field(base.bytes, g);
                break;
              }
            }
          }
        }
        write_field(b, f, v);
        break;
      }
      case 1: {  // set a byte of the header
        const uint64_t pos = r.next(4) % std::max<uint64_t>(base.header_end, 1);
        const uint8_t v = static_cast<uint8_t>(r.next(1));
        if (pos < b.size()) b[pos] = v;
        break;
      }
      case 2:  // truncate
        b.resize(r.next(4) % (b.size() + 1));
        break;
      case 3: {  // set a byte anywhere
        const uint64_t pos = r.next(4) % std::max<uint64_t>(b.size(), 1);
        const uint8_t v = static_cast<uint8_t>(r.next(1));
        if (pos < b.size()) b[pos] = v;
        break;
      }
      case 4: {  // overwrite the start of a string (keys, names, values) with recipe bytes
        if (nf == 0) break;
        const Field &f = base.fields[r.next(2) % nf];
        const size_t n = r.next(1) % 8 + 1;
        if (f.kind != FieldKind::kStringLength) {
          r.next(n);
          break;
        }
        const uint64_t len = read_field(base.bytes, f);
        for (size_t k = 0; k < n; ++k) {
          const uint8_t v = static_cast<uint8_t>(r.next(1));
          if (k < len && f.pos + 8 + k < b.size()) b[f.pos + 8 + k] = v;
        }
        break;
      }
      default: {  // append recipe bytes
        const size_t n = r.next(1) % 64;
        for (size_t k = 0; k < n; ++k) b.push_back(static_cast<uint8_t>(r.next(1)));
      }
    }
  }
  return b;
}

}  // namespace dq::fuzz
