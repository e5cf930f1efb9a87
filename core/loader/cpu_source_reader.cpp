// Source bytes of CPU-route pieces, read with pread() (see pipeline.hpp).
#include "loader/pipeline.hpp"

namespace dq::loader {

const uint8_t *CpuSourceReader::read(const TensorJob &j, uint64_t offset, uint64_t bytes) {
  if (!files_ || files_->fd(j.split) < 0) return j.src + offset;
  if (bytes > capacity_) {
    buffer_.reset(new uint8_t[bytes]);
    capacity_ = bytes;
  }
  pool_.copy({file_segment(files_, j, buffer_.get(), offset, bytes)});
  return buffer_.get();
}

}  // namespace dq::loader
