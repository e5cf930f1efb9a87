// dq load --bench-model: the loader benchmark (generated llama-like model, loader vs pinned
// host-to-device bandwidth vs the old path, all measured in one run).
#pragma once

#include <cstdint>
#include <string>

#include "dq/dq.hpp"

namespace dq::tool {

// A file in the temp folder, removed when the object goes away.
class TempFile {
 public:
  TempFile() = default;
  static TempFile create(const std::string &stem);
  TempFile(TempFile &&o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempFile &operator=(TempFile &&o) noexcept;
  ~TempFile();
  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

struct BenchConfig {
  Location where;
  int32_t to;
  uint64_t budget;
  int threads;
  double gigabytes;
  int repeat;
};

int run_load_bench(const Context &ctx, const BenchConfig &cfg);

}  // namespace dq::tool
