// Moving the planned bytes: the device pipeline (file -> pinned slot -> device slot ->
// dequantize into the destination, overlapped across slots) and the host path (file ->
// CPU plugin or copy -> host destination).
#pragma once

#include <cstdint>
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

// Bytes [offset, offset + bytes) of job `j`'s source, to `dst`: from its file where `files`
// has it open, else from the mapping.
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

// Dequantizes host memory with the CPU plugin; throws LoadError naming the tensor.
void cpu_dequantize(const dq_plugin_api *cpu, int32_t src_type, int32_t dst_type, const void *src,
                    uint64_t src_bytes, int64_t n_elements, void *dst, uint64_t dst_bytes,
                    const std::string &tensor);

// Every job's dst must be set (device memory). `files` (may be null) gives the descriptors
// the pool's pread method reads; without one a part is copied from the mapping. Returns the number
// of slot fills. On return all work is complete; on a throw, the ring is drained before the
// exception leaves. `hybrid.fraction` > 0 uploads the last fills straight from the pinned mapping
// where the plugin has host_register (direct_upload.hpp); without it every fill goes through
// staging.
int64_t run_device_pipeline(const DeviceApi &dev, const dq_plugin_api *cpu, StagingRing &ring,
                            CopyPool &pool, const FileSource *files,
                            const std::vector<TensorJob> &jobs, const ProgressSink &progress,
                            const HybridOptions &hybrid = {});

// Every job's dst must be set (host memory); routes are cpu or copy. Returns pieces done.
int64_t run_host_path(const dq_plugin_api *cpu, CopyPool &pool, const FileSource *files,
                      const std::vector<TensorJob> &jobs, const ProgressSink &progress);

}  // namespace dq::loader
