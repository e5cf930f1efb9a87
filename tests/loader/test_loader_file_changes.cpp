// A model file truncated by another process after dq_model_open, before or during a load:
// every route (copy, CPU dequantization) and every DQ_LOAD_COPY method reads the file with
// pread(), so the load fails with DQ_ERR_IO naming the file; the process never gets SIGBUS.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "../gguf/reader_test_util.hpp"
#include "dq/dq.h"
#include "loader_test_util.hpp"

namespace dq::test {
namespace {

struct LoadResult {
  dq_status status;
  std::string message;
};

LoadResult load_to(dq_context *ctx, const dq_model *model, const char *backend, int32_t out_type,
                   dq_load_progress_fn progress = nullptr, void *user = nullptr) {
  dq_load_options o;
  dq_load_options_init(&o);
  o.device = {backend, 0};
  o.output_type = out_type;
  o.progress = progress;
  o.progress_user = user;
  dq_loaded_model *lm = nullptr;
  const dq_status st = dq_load(ctx, model, &o, &lm);
  LoadResult r{st, st == DQ_OK ? "" : dq_last_error(ctx)};
  dq_loaded_free(lm);
  return r;
}

// "f32" (copied when kept) and "q8" (dequantized by the CPU plugin to F32), 1 MiB each.
GgufBuilder two_tensor_model() {
  GgufBuilder g;
  g.kv("general.architecture", kString, enc_string("llama"));
  g.tensor("f32", DQ_TYPE_F32, {256 * 1024}, 1 << 20);
  std::vector<uint64_t> ne = {32 * 1024, 32};  // 32 rows of 1024 q8_0 blocks (34 bytes)
  g.tensor("q8", DQ_TYPE_Q8_0, ne, 32 * 1024 * 34);
  return g;
}

TEST(LoaderFileChanges, FileTruncatedAfterOpenFailsEveryRouteWithIoError) {
  ScratchDir dir;
  GgufBuilder g = two_tensor_model();
  Bytes bytes = g.build();
  const auto path = dir / "m.gguf";
  write_bytes(path, bytes);
  Opened o(path);
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(g.layout.data_offset + 4096)), 0);
  for (const char *method : {"memcpy", "stream", "prefetch", "pread"}) {
    ScopedEnv copy("DQ_LOAD_COPY", method);
    for (const char *backend : {"host", "cpu"}) {
      for (int32_t out : {int32_t{DQ_LOAD_KEEP}, int32_t{DQ_TYPE_F32}}) {
        SCOPED_TRACE(std::string(method) + " to " + backend + " as " + std::to_string(out));
        const LoadResult r = load_to(o.ctx, o.model, backend, out);
        EXPECT_EQ(r.status, DQ_ERR_IO) << r.message;
        EXPECT_NE(r.message.find(path.string()), std::string::npos) << r.message;
      }
    }
  }
}

// Truncates the file at the first progress report after some bytes arrived: mid-load.
struct TruncateMidLoad {
  std::filesystem::path path;
  uint64_t keep = 0;
  bool done = false;
  static void on_progress(void *user, uint64_t bytes_done, uint64_t) {
    auto *self = static_cast<TruncateMidLoad *>(user);
    if (self->done || bytes_done == 0) return;
    self->done = ::truncate(self->path.c_str(), static_cast<off_t>(self->keep)) == 0;
  }
};

TEST(LoaderFileChanges, FileTruncatedDuringALoadFailsWithIoError) {
  ScratchDir dir;
  // 192 MiB of F32 zeros in a sparse file (no disk used): three 64 MiB pieces on the host path.
  GgufBuilder g;
  g.write_data = false;
  const uint64_t n_bytes = uint64_t{192} << 20;
  g.tensor("big", DQ_TYPE_F32, {n_bytes / 4}, n_bytes);
  const auto path = dir / "big.gguf";
  write_bytes(path, g.build());
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(g.layout.data_offset + n_bytes)), 0);
  Opened o(path);
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  TruncateMidLoad t{path, g.layout.data_offset + (uint64_t{80} << 20)};
  const LoadResult r =
      load_to(o.ctx, o.model, "host", DQ_LOAD_KEEP, &TruncateMidLoad::on_progress, &t);
  EXPECT_TRUE(t.done);
  EXPECT_EQ(r.status, DQ_ERR_IO) << r.message;
  EXPECT_NE(r.message.find(path.string()), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("ends early"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace dq::test
