// Slot fills and host pieces (see chunking.hpp).
#include "loader/chunking.hpp"

#include <algorithm>

#include "dq_common/type_traits.hpp"
#include "loader/load_error.hpp"

namespace dq::loader {

namespace {

struct BlockShape {
  int64_t elements;
  uint64_t src_bytes;
};

BlockShape block_of(const TensorJob &j) {
  const TypeTraits *t = type_traits(j.src_type);
  return {t->block_elements, t->block_bytes};
}

uint64_t align_up(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}

}  // namespace

uint64_t slot_bytes_per_block(const TensorJob &j) {
  const BlockShape b = block_of(j);
  if (j.route == Route::cpu)
    return static_cast<uint64_t>(b.elements) * output_type_size(j.out_type);
  return b.src_bytes;
}

std::vector<SlotFill> plan_fills(const std::vector<TensorJob> &jobs, uint64_t slot_bytes) {
  std::vector<SlotFill> fills;
  SlotFill cur;
  auto close = [&] {
    if (!cur.pieces.empty()) fills.push_back(std::move(cur));
    cur = SlotFill{};
  };
  for (uint32_t ji = 0; ji < jobs.size(); ++ji) {
    const TensorJob &j = jobs[ji];
    const BlockShape b = block_of(j);
    const uint64_t per_block = slot_bytes_per_block(j);
    if (per_block > slot_bytes)
      throw LoadError(DQ_ERR_SIZE, "tensor " + j.name + ": one block (" +
                                       std::to_string(per_block) +
                                       " bytes) does not fit a staging slot of " +
                                       std::to_string(slot_bytes) + " bytes; raise the budget");
    const int64_t total_blocks = j.n_elements / b.elements;
    int64_t done = 0;
    while (done < total_blocks) {
      uint64_t start = align_up(cur.used, kPieceAlignment);
      if (start + per_block > slot_bytes) {
        close();
        start = 0;
      }
      const int64_t fit = static_cast<int64_t>((slot_bytes - start) / per_block);
      const int64_t n = std::min(fit, total_blocks - done);
      Piece p;
      p.job = ji;
      p.src_offset = static_cast<uint64_t>(done) * b.src_bytes;
      p.src_bytes = static_cast<uint64_t>(n) * b.src_bytes;
      p.elem_offset = done * b.elements;
      p.n_elements = n * b.elements;
      p.slot_offset = start;
      p.slot_bytes = static_cast<uint64_t>(n) * per_block;
      cur.used = start + p.slot_bytes;
      cur.file_bytes += p.src_bytes;
      cur.pieces.push_back(p);
      done += n;
    }
  }
  close();
  return fills;
}

std::vector<Piece> plan_host_pieces(const std::vector<TensorJob> &jobs, uint64_t max_src_bytes) {
  std::vector<Piece> out;
  for (uint32_t ji = 0; ji < jobs.size(); ++ji) {
    const TensorJob &j = jobs[ji];
    const BlockShape b = block_of(j);
    const int64_t total_blocks = j.n_elements / b.elements;
    const int64_t per = std::max<int64_t>(1, static_cast<int64_t>(max_src_bytes / b.src_bytes));
    for (int64_t done = 0; done < total_blocks; done += per) {
      const int64_t n = std::min(per, total_blocks - done);
      Piece p;
      p.job = ji;
      p.src_offset = static_cast<uint64_t>(done) * b.src_bytes;
      p.src_bytes = static_cast<uint64_t>(n) * b.src_bytes;
      p.elem_offset = done * b.elements;
      p.n_elements = n * b.elements;
      out.push_back(p);
    }
  }
  return out;
}

}  // namespace dq::loader
