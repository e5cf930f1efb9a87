// Source bytes of CPU-route pieces, read with pread() (see pipeline.hpp).
#include "loader/pipeline.hpp"

namespace dq::loader {

const uint8_t *CpuSourceReader::read(const TensorJob &j, uint64_t offset, uint64_t bytes) {
  const bool from_file = files_ && files_->fd(j.split) >= 0;
  if (!from_file && !is_strided(j)) return j.src + offset;
  if (bytes > capacity_) {
    buffer_.reset(new uint8_t[bytes]);
    capacity_ = bytes;
  }
  std::vector<CopySegment> segs;
  append_source_segments(files_, j, buffer_.get(), offset, bytes, segs);
  pool_.copy(segs);
  return buffer_.get();
}

}  // namespace dq::loader
