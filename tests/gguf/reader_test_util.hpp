// Helpers for the GGUF reader tests: a scratch folder, file writing, opening through the
// public API with the status and message captured.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "dq/dq.h"
#include "gguf_builder.hpp"

namespace dq::test {

// A fresh folder under the system temp dir, removed with its contents at the end.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("dq-gguf-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path &path() const { return path_; }
  std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path &p, const Bytes &b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char *>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A context plus the result of one dq_model_open.
struct Opened {
  dq_context *ctx = nullptr;
  dq_model *model = nullptr;
  dq_status status = DQ_ERR_INTERNAL;
  std::string message;

  explicit Opened(const std::filesystem::path &p) {
    dq_context_create(&ctx);
    status = dq_model_open(ctx, p.c_str(), &model);
    message = dq_last_error(ctx);
  }
  ~Opened() {
    dq_model_close(model);
    dq_context_destroy(ctx);
  }
  Opened(const Opened &) = delete;
  Opened &operator=(const Opened &) = delete;
};

inline dq_tensor_info tensor_info(const dq_model *m, int64_t i) {
  dq_tensor_info t{};
  t.struct_size = sizeof t;
  dq_model_tensor_info(m, i, &t);
  return t;
}

inline const dq_value *kv(const dq_model *m, const char *key) {
  return dq_model_kv_value(m, dq_model_kv_find(m, key));
}

// A "Field:   N kB" line of /proc/self/status (VmHWM, VmRSS, RssAnon, VmSize) in KiB; 0 if absent.
inline uint64_t proc_status_kib(const std::string &field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string key = field + ":";
  while (std::getline(status, line))
    if (line.rfind(key, 0) == 0) return std::stoull(line.substr(key.size()));
  return 0;
}

}  // namespace dq::test
