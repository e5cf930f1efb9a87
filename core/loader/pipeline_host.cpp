// The host path (see pipeline.hpp): no staging; the file's bytes are read (pread) straight
// into the destination, or into a buffer the CPU plugin dequantizes from, in pieces so
// progress moves.
#include "dq_common/type_traits.hpp"
#include "loader/chunking.hpp"
#include "loader/pipeline.hpp"

namespace dq::loader {

int64_t run_host_path(const dq_plugin_api *cpu, CopyPool &pool, const FileSource *files,
                      const std::vector<TensorJob> &jobs, const ProgressSink &progress) {
  constexpr uint64_t kPieceBytes = 64ull << 20;
  const std::vector<Piece> pieces = plan_host_pieces(jobs, kPieceBytes);
  CpuSourceReader sources(pool, files);
  uint64_t done = 0;
  for (const Piece &p : pieces) {
    const TensorJob &j = jobs[p.job];
    uint8_t *dst = static_cast<uint8_t *>(j.dst);
    if (j.route == Route::copy) {
      std::vector<CopySegment> segs;
      append_source_segments(files, j, dst + p.src_offset, p.src_offset, p.src_bytes, segs);
      pool.copy(segs);
    } else {
      const uint64_t out_size = output_type_size(j.out_type);
      const uint8_t *src = sources.read(j, p.src_offset, p.src_bytes);
      cpu_dequantize(cpu, j.src_type, j.out_type, src, p.src_bytes, p.n_elements,
                     dst + static_cast<uint64_t>(p.elem_offset) * out_size,
                     static_cast<uint64_t>(p.n_elements) * out_size, j.name);
    }
    done += p.src_bytes;
    progress.report(done);
  }
  return static_cast<int64_t>(pieces.size());
}

}  // namespace dq::loader
