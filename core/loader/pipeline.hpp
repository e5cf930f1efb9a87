// Moving the planned bytes: the device pipeline (file -> pinned slot -> device slot ->
// dequantize into the destination, overlapped across slots) and the host path (file ->
// CPU plugin or copy -> host destination).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "dq/dq_plugin.h"
#include "loader/copy_pool.hpp"
#include "loader/device_api.hpp"
#include "loader/direct_upload.hpp"
#include "loader/file_source.hpp"
#include "loader/load_plan.hpp"
#include "loader/staging_ring.hpp"

namespace dq::loader {

struct ProgressSink {
  dq_load_progress_fn fn = nullptr;
  void *user = nullptr;
  uint64_t total = 0;
  void report(uint64_t done) const {
    if (fn) fn(user, done, total);
  }
};

// Bytes [offset, offset + bytes) of job `j`'s source, to `dst`: read from its file where
// `files` has it (always, for a model opened from a file), else copied from memory.
inline CopySegment file_segment(const FileSource *files, const TensorJob &j, void *dst,
                                uint64_t offset, uint64_t bytes) {
  CopySegment s{dst, j.src + offset, bytes};
  if (files && files->fd(j.split) >= 0) {
    s.fd = files->fd(j.split);
    s.file_offset = j.file_offset + offset;
    s.file = files->path(j.split);
  }
  return s;
}

// The same bytes of a job of any layout, appended to `out`: one segment for a contiguous job,
// one per row run for a column part (its source offsets count the gathered bytes).
inline void append_source_segments(const FileSource *files, const TensorJob &j, void *dst,
                                   uint64_t offset, uint64_t bytes, std::vector<CopySegment> &out) {
  if (!is_strided(j)) {
    out.push_back(file_segment(files, j, dst, offset, bytes));
    return;
  }
  auto *d = static_cast<uint8_t *>(dst);
  while (bytes > 0) {
    const uint64_t row = offset / j.src_row_bytes, within = offset % j.src_row_bytes;
    const uint64_t n = std::min(bytes, j.src_row_bytes - within);
    CopySegment s = file_segment(files, j, d, row * j.src_row_stride + within, n);
    out.push_back(s);
    d += n, offset += n, bytes -= n;
  }
}

// The source bytes a CPU-route piece is dequantized from: read with pread() (through `pool`'s
// threads) into a buffer it keeps, where `files` has the part's descriptor, so a truncated file
// gives LoadError(DQ_ERR_IO) naming it instead of SIGBUS; else the job's memory itself.
class CpuSourceReader {
 public:
  CpuSourceReader(CopyPool &pool, const FileSource *files) : pool_(pool), files_(files) {}
  // Valid until the next call.
  const uint8_t *read(const TensorJob &j, uint64_t offset, uint64_t bytes);

 private:
  CopyPool &pool_;
  const FileSource *files_;
  std::unique_ptr<uint8_t[]> buffer_;  // not a vector: no zero-fill of up to 64 MiB
  uint64_t capacity_ = 0;
};

// Dequantizes host memory with the CPU plugin; throws LoadError naming the tensor.
void cpu_dequantize(const dq_plugin_api *cpu, int32_t src_type, int32_t dst_type, const void *src,
                    uint64_t src_bytes, int64_t n_elements, void *dst, uint64_t dst_bytes,
                    const std::string &tensor);

// Every job's dst must be set (device memory). `files` (may be null) gives the descriptors
// every source byte is read from with pread(); without one a part is copied from memory.
// Returns the number of slot fills. On return all work is complete; on a throw, the ring is
// drained before the exception leaves. `hybrid.fraction` > 0 uploads the last fills straight
// from the pinned mapping where the plugin has host_register (direct_upload.hpp: not safe
// against truncation); without it every fill goes through staging.
int64_t run_device_pipeline(const DeviceApi &dev, const dq_plugin_api *cpu, StagingRing &ring,
                            CopyPool &pool, const FileSource *files,
                            const std::vector<TensorJob> &jobs, const ProgressSink &progress,
                            const HybridOptions &hybrid = {});

// Every job's dst must be set (host memory); routes are cpu or copy. Returns pieces done.
int64_t run_host_path(const dq_plugin_api *cpu, CopyPool &pool, const FileSource *files,
                      const std::vector<TensorJob> &jobs, const ProgressSink &progress);

}  // namespace dq::loader
