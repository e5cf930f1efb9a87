// The shared test data's manifest.tsv, read by one parser for the test suites and the
// conformance runner: typed rows, the tensor bytes a row points at (read straight from its
// GGUF file, so no GGUF reader is involved) and ggml's golden f32 output. A malformed manifest
// throws, naming the line, so a check fails rather than silently covering fewer tensors.
#pragma once

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace dq::testdata {

// One line of manifest.tsv: a tensor, or (tensor empty) a GGUF file that holds none.
struct ManifestRow {
  std::string file;         // GGUF file name inside the test-data folder
  std::string tensor;       // tensor name; empty on a tensor-less file's row
  std::string type;         // ggml type name, e.g. "q4_K"
  int32_t type_id = -1;     // ggml type id
  std::vector<int64_t> ne;  // dimensions, innermost first
  int64_t n_elements = 0;
  uint64_t file_offset = 0;  // of the tensor's bytes within `file`
  uint64_t nbytes = 0;
  std::string sha256;  // of the tensor's bytes (of the whole file on a tensor-less row)
  std::string golden;  // ggml's f32 output, relative to the folder; empty when none
  std::string golden_sha256;

  bool has_tensor() const { return !tensor.empty(); }
  bool has_golden() const { return !golden.empty(); }
};

namespace manifest_detail {

// All fields, empty ones included (std::getline would drop a trailing empty field).
inline std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  for (size_t start = 0;;) {
    const size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

[[noreturn]] inline void fail(const std::filesystem::path &path, size_t line,
                              const std::string &what) {
  throw std::runtime_error(path.string() + ":" + std::to_string(line) + ": " + what);
}

// The whole field as a number; an empty field gives `empty_value` unless `required`.
template <typename T>
T number(const std::string &field, bool required, T empty_value, const std::filesystem::path &path,
         size_t line, const char *column) {
  if (field.empty()) {
    if (required) fail(path, line, std::string("empty ") + column);
    return empty_value;
  }
  T v{};
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec != std::errc() || end != field.data() + field.size())
    fail(path, line, std::string("bad ") + column + " '" + field + "'");
  return v;
}

}  // namespace manifest_detail

// Every row of dir/manifest.tsv in file order. Columns are found by their header names.
inline std::vector<ManifestRow> read_manifest(const std::filesystem::path &dir) {
  namespace md = manifest_detail;
  const std::filesystem::path path = dir / "manifest.tsv";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());

  // Column names, in the order of this enum.
  enum Column : size_t {
    kFile,
    kTensor,
    kType,
    kTypeId,
    kNe,
    kNElements,
    kFileOffset,
    kNBytes,
    kSha256,
    kGolden,
    kGoldenSha256,
    kCount
  };
  static constexpr const char *kColumns[kCount] = {
      "file",        "tensor", "type",   "type_id", "ne",           "n_elements",
      "file_offset", "nbytes", "sha256", "golden",  "golden_sha256"};
  size_t at[kCount];  // field index of each column
  std::string text;
  size_t line_no = 1;
  if (!std::getline(in, text)) md::fail(path, line_no, "no header");
  if (!text.empty() && text.back() == '\r') text.pop_back();
  const std::vector<std::string> header = md::split(text, '\t');
  for (size_t c = 0; c < kCount; ++c) {
    size_t i = 0;
    while (i < header.size() && header[i] != kColumns[c]) ++i;
    if (i == header.size()) md::fail(path, line_no, std::string("no column '") + kColumns[c] + "'");
    at[c] = i;
  }

  std::vector<ManifestRow> rows;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty()) continue;
    const std::vector<std::string> f = md::split(text, '\t');
    if (f.size() != header.size())
      md::fail(path, line_no,
               std::to_string(f.size()) + " fields, header has " + std::to_string(header.size()));
    auto col = [&](size_t c) -> const std::string & { return f[at[c]]; };
    ManifestRow r;
    r.file = col(kFile);
    r.tensor = col(kTensor);
    r.type = col(kType);
    if (r.file.empty()) md::fail(path, line_no, "empty file");
    const bool tensor = r.has_tensor();  // a tensor row must state every number
    r.type_id = md::number<int32_t>(col(kTypeId), tensor, -1, path, line_no, "type_id");
    if (!col(kNe).empty())
      for (const std::string &d : md::split(col(kNe), ','))
        r.ne.push_back(md::number<int64_t>(d, true, 0, path, line_no, "ne"));
    if (tensor && r.ne.empty()) md::fail(path, line_no, "empty ne");
    r.n_elements = md::number<int64_t>(col(kNElements), tensor, 0, path, line_no, "n_elements");
    r.file_offset = md::number<uint64_t>(col(kFileOffset), tensor, 0, path, line_no, "file_offset");
    r.nbytes = md::number<uint64_t>(col(kNBytes), tensor, 0, path, line_no, "nbytes");
    r.sha256 = col(kSha256);
    r.golden = col(kGolden);
    r.golden_sha256 = col(kGoldenSha256);
    rows.push_back(std::move(r));
  }
  return rows;
}

// The tensor rows that have a golden file (tensor-less files have none).
inline std::vector<ManifestRow> golden_rows(const std::filesystem::path &dir) {
  std::vector<ManifestRow> out;
  for (ManifestRow &r : read_manifest(dir))
    if (r.has_tensor() && r.has_golden()) out.push_back(std::move(r));
  return out;
}

// file -> its tensor rows in manifest order; a file without tensors maps to an empty list.
inline std::map<std::string, std::vector<ManifestRow>> manifest_by_file(
    const std::vector<ManifestRow> &rows) {
  std::map<std::string, std::vector<ManifestRow>> out;
  for (const ManifestRow &r : rows) {
    auto &list = out[r.file];
    if (r.has_tensor()) list.push_back(r);
  }
  return out;
}

// The row's tensor bytes at its recorded offset; empty when the file is shorter than that.
inline std::vector<uint8_t> read_tensor_bytes(const std::filesystem::path &dir,
                                              const ManifestRow &r) {
  std::ifstream f(dir / r.file, std::ios::binary);
  std::vector<uint8_t> bytes(r.nbytes);
  f.seekg(static_cast<std::streamoff>(r.file_offset));
  f.read(reinterpret_cast<char *>(bytes.data()), static_cast<std::streamsize>(r.nbytes));
  if (!f || static_cast<uint64_t>(f.gcount()) != r.nbytes) return {};
  return bytes;
}

// ggml's golden f32 values for the row (raw little-endian f32, as on the hosts we run on);
// empty when the file is missing or its size is not a whole number of floats, so a size
// check against n_elements fails.
inline std::vector<float> read_golden_f32(const std::filesystem::path &dir, const ManifestRow &r) {
  if (!r.has_golden()) return {};
  std::ifstream f(dir / r.golden, std::ios::binary | std::ios::ate);
  if (!f) return {};
  const std::streamoff size = f.tellg();
  if (size < 0 || size % static_cast<std::streamoff>(sizeof(float)) != 0) return {};
  std::vector<float> out(static_cast<size_t>(size) / sizeof(float));
  f.seekg(0);
  f.read(reinterpret_cast<char *>(out.data()), size);
  if (static_cast<std::streamoff>(f.gcount()) != size) return {};
  return out;
}

}  // namespace dq::testdata
