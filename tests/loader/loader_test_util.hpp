// Shared helpers of the loader tests: the test-data models, the CPU reference for any tensor
// slice and output type, and reading loaded tensors back to the host.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "dq/dq.hpp"
#include "dq_common/type_traits.hpp"
#include "testdata.hpp"

namespace dq::test {

// Sets an environment variable for one scope (restores the old value).
class ScopedEnv {
 public:
  ScopedEnv(const char *name, const char *value) : name_(name) {
    const char *prev = std::getenv(name);
    had_ = prev != nullptr;
    if (had_) saved_ = prev;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_)
      ::setenv(name_, saved_.c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char *name_;
  bool had_ = false;
  std::string saved_;
};

// Every model of the test data that has tensors (the ones the loader must load).
inline std::vector<std::filesystem::path> loader_models(const std::filesystem::path &dir) {
  std::vector<std::filesystem::path> out;
  for (const char *name :
       {"mini-llama-q4_k_m.gguf", "mini-llama-lq-q4_k_m.gguf", "stories260K.gguf",
        "stories260K-q4_k_m.gguf", "all-types.gguf", "extra-types.gguf", "random-blocks.gguf"}) {
    if (std::filesystem::exists(dir / name)) out.push_back(dir / name);
  }
  return out;
}

inline size_t out_size(int32_t t) {
  return t == DQ_TYPE_F32 ? 4 : 2;
}

// The CPU plugin's result for rows [row_begin, row_end) of `t` as `out_type`
// (DQ_LOAD_KEEP or the tensor's own type: its raw bytes).
inline std::vector<uint8_t> cpu_reference(const Context &ctx, const TensorInfo &t, int32_t out_type,
                                          int64_t row_begin = 0, int64_t row_end = -1) {
  const int64_t rows = t.n_elements / t.ne[0];
  if (row_end < 0) row_end = rows;
  const uint64_t row_bytes = t.n_bytes / static_cast<uint64_t>(rows);
  const uint8_t *src = static_cast<const uint8_t *>(t.data) + row_bytes * row_begin;
  const uint64_t src_bytes = row_bytes * (row_end - row_begin);
  const int64_t n = (row_end - row_begin) * t.ne[0];
  if (out_type == DQ_LOAD_KEEP || out_type == t.type) return {src, src + src_bytes};
  std::vector<uint8_t> out(static_cast<size_t>(n) * out_size(out_type));
  DequantizeRequest r;
  r.src_type = t.type;
  r.dst_type = out_type;
  r.src = src;
  r.src_bytes = src_bytes;
  r.n_elements = n;
  r.dst = out.data();
  r.dst_bytes = out.size();
  r.backend = "cpu";
  dequantize(ctx, r);
  return out;
}

inline std::vector<uint8_t> read_back(const Context &ctx, const LoadedTensor &t) {
  std::vector<uint8_t> out(t.n_bytes);
  ctx.memcpy(out.data(), Location::host(), t.data, t.where, t.n_bytes);
  return out;
}

// Golden f32 of ggml for a tensor, or empty when there is none.
inline std::vector<uint8_t> golden(const std::filesystem::path &dir,
                                   const std::filesystem::path &model, const std::string &tensor) {
  const auto p = dir / "golden" / (model.stem().string() + "." + tensor + ".f32");
  if (!std::filesystem::exists(p)) return {};
  return read_file(p);
}

// Index of the first differing byte, or -1.
inline int64_t first_difference(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b) {
  if (a.size() != b.size()) return 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return static_cast<int64_t>(i);
  return -1;
}

// Every tensor of `lm`, read back, equals the CPU reference of the same tensor of `model` in
// the type it was loaded as; `what` names the case in failures.
inline void expect_equal_to_cpu_reference(const Context &ctx, const Model &model,
                                          const LoadedModel &lm, const std::string &what) {
  for (const LoadedTensor &t : lm.tensors()) {
    const TensorInfo info = *model.tensor(t.name.c_str());
    EXPECT_EQ(first_difference(read_back(ctx, t), cpu_reference(ctx, info, t.type)), -1)
        << t.name << " via " << t.backend << ", " << what;
  }
}

// Whether a device backend with at least one device is present, and why not.
inline bool have_device(const Context &ctx, const char *backend, std::string *why) {
  for (const auto &b : ctx.backends())
    if (b.name == backend) {
      if (b.loaded && b.device_count > 0) return true;
      *why = std::string(backend) + " backend present but unusable: " + b.status;
      return false;
    }
  *why = std::string("no ") + backend + " backend built or found";
  return false;
}

}  // namespace dq::test
