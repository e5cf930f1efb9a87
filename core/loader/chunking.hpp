// Cutting the jobs of a load into staging-slot fills. A fill packs pieces of one or more
// tensors; large tensors are cut at block boundaries so no piece is larger than a slot.
// Pure arithmetic: tested on its own.
#pragma once

#include <cstdint>
#include <vector>

#include "loader/load_plan.hpp"

namespace dq::loader {

// Alignment of every piece inside a slot (device kernels and DMA like aligned starts).
inline constexpr uint64_t kPieceAlignment = 256;

struct Piece {
  uint32_t job = 0;
  uint64_t src_offset = 0;  // bytes into the job's source
  uint64_t src_bytes = 0;
  int64_t elem_offset = 0;  // elements into the job's output
  int64_t n_elements = 0;
  uint64_t slot_offset = 0;  // where its bytes sit in the slot
  uint64_t slot_bytes = 0;   // source bytes, or output bytes for the cpu route
};

struct SlotFill {
  std::vector<Piece> pieces;
  uint64_t used = 0;        // bytes of the slot in use (end of the last piece)
  uint64_t file_bytes = 0;  // source bytes read for this fill
};

// Bytes a piece occupies in a slot per block: output bytes for cpu-route jobs (the host
// writes their result into the slot), source bytes otherwise.
uint64_t slot_bytes_per_block(const TensorJob &job);

// Packs `jobs` (in order) into fills of at most `slot_bytes`. Throws LoadError(DQ_ERR_SIZE)
// when one block does not fit a slot.
std::vector<SlotFill> plan_fills(const std::vector<TensorJob> &jobs, uint64_t slot_bytes);

// Cuts each job into pieces of at most `max_src_bytes` source bytes (the host path, where
// pieces go straight from the file to the destination). slot_offset is unused (0).
std::vector<Piece> plan_host_pieces(const std::vector<TensorJob> &jobs, uint64_t max_src_bytes);

}  // namespace dq::loader
