// The device pipeline (see pipeline.hpp). Per slot fill k, slot s = k mod N:
//   host:   wait `uploaded[s]` (its pinned buffer is free), copy file bytes in (threads),
//           run CPU-route pieces into it
//   copy:   wait `consumed[s]` (kernels done reading the device slot), upload, record uploaded
//   compute: wait uploaded, dequantize / place each piece, record consumed
// The host fills slot k+1 while slot k uploads and slot k-1 is dequantized.
#include <unistd.h>

#include <memory>

#include "dq_common/type_traits.hpp"
#include "loader/chunking.hpp"
#include "loader/load_error.hpp"
#include "loader/pipeline.hpp"

namespace dq::loader {

namespace {

uint64_t dst_offset(const TensorJob &j, const Piece &p) {
  return j.keep ? p.src_offset
                : static_cast<uint64_t>(p.elem_offset) * output_type_size(j.out_type);
}

uint64_t dst_piece_bytes(const TensorJob &j, const Piece &p) {
  return j.keep ? p.src_bytes : static_cast<uint64_t>(p.n_elements) * output_type_size(j.out_type);
}

void fill_slot(const dq_plugin_api *cpu, CopyPool &pool, const FileSource *files,
               const std::vector<TensorJob> &jobs, const SlotFill &fill, uint8_t *host) {
  std::vector<CopySegment> segs;
  segs.reserve(fill.pieces.size());
  for (const Piece &p : fill.pieces) {
    const TensorJob &j = jobs[p.job];
    if (j.route != Route::cpu)
      segs.push_back(file_segment(files, j, host + p.slot_offset, p.src_offset, p.src_bytes));
  }
  pool.copy(segs);
  for (const Piece &p : fill.pieces) {
    const TensorJob &j = jobs[p.job];
    if (j.route == Route::cpu)
      cpu_dequantize(cpu, j.src_type, j.out_type, j.src + p.src_offset, p.src_bytes, p.n_elements,
                     host + p.slot_offset, p.slot_bytes, j.name);
  }
}

// `direct`: the fill's bytes come straight from the pinned mapping, not from slot.host.
void submit_slot(const DeviceApi &dev, StagingRing &ring, StagingRing::Slot &slot,
                 const std::vector<TensorJob> &jobs, const SlotFill &fill, DirectUploader *direct) {
  void *cs = ring.copy_stream(), *ks = ring.compute_stream();
  if (slot.in_flight) dev.stream_wait_event(cs, slot.consumed);
  if (direct)
    direct->upload(jobs, fill, slot.dev, cs);
  else
    dev.copy_h2d(slot.dev, slot.host, fill.used, cs);
  dev.event_record(slot.uploaded, cs);
  dev.stream_wait_event(ks, slot.uploaded);
  for (const Piece &p : fill.pieces) {
    const TensorJob &j = jobs[p.job];
    uint8_t *dst = static_cast<uint8_t *>(j.dst) + dst_offset(j, p);
    if (j.route == Route::device)
      dev.dequantize(j.src_type, j.out_type, slot.dev + p.slot_offset, p.src_bytes, p.n_elements,
                     dst, dst_piece_bytes(j, p), ks, j.name);
    else
      dev.copy_d2d(dst, slot.dev + p.slot_offset, p.slot_bytes, ks);
  }
  dev.event_record(slot.consumed, ks);
  slot.in_flight = true;
}

}  // namespace

void cpu_dequantize(const dq_plugin_api *cpu, int32_t src_type, int32_t dst_type, const void *src,
                    uint64_t src_bytes, int64_t n_elements, void *dst, uint64_t dst_bytes,
                    const std::string &tensor) {
  if (!cpu)
    throw LoadError(DQ_ERR_NO_BACKEND, "tensor " + tensor + ": the cpu plugin is not loaded");
  dq_plugin_dequantize_args a{};
  a.struct_size = sizeof a;
  a.src_type = src_type;
  a.dst_type = dst_type;
  a.src = src;
  a.src_bytes = src_bytes;
  a.n_elements = n_elements;
  a.dst = dst;
  a.dst_bytes = dst_bytes;
  a.device = 0;
  a.src_on_host = 1;
  a.dst_on_host = 1;
  const int32_t st = cpu->dequantize(&a);
  if (st != DQ_OK) {
    const char *m = cpu->last_error ? cpu->last_error() : "";
    throw LoadError(static_cast<dq_status>(st),
                    "cpu: dequantizing tensor " + tensor + ": " +
                        (m && *m ? m : dq_status_string((dq_status)st)));
  }
}

int64_t run_device_pipeline(const DeviceApi &dev, const dq_plugin_api *cpu, StagingRing &ring,
                            CopyPool &pool, const FileSource *files,
                            const std::vector<TensorJob> &jobs, const ProgressSink &progress,
                            const HybridOptions &hybrid) {
  const std::vector<SlotFill> fills = plan_fills(jobs, ring.slot_bytes());
  uint64_t done = 0;
  // Declared before the try: on a throw it unpins only after the drain below.
  std::unique_ptr<DirectUploader> direct;
  if (hybrid.fraction > 0 && DeviceApi::can_register(dev.api())) {
    static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    direct = std::make_unique<DirectUploader>(
        dev, plan_direct(jobs, fills, hybrid.fraction, hybrid.window_bytes, page),
        hybrid.wait_for_pins);
  }
  try {
    for (size_t k = 0; k < fills.size(); ++k) {
      StagingRing::Slot &slot = ring.slot(static_cast<int>(k % ring.size()));
      // A direct fill leaves slot.host alone: no need to wait for its previous upload.
      const bool go_direct = direct && direct->acquire(k, jobs, fills[k]);
      if (!go_direct) {
        if (slot.in_flight) dev.event_synchronize(slot.uploaded);
        fill_slot(cpu, pool, files, jobs, fills[k], slot.host);
      }
      submit_slot(dev, ring, slot, jobs, fills[k], go_direct ? direct.get() : nullptr);
      if (direct) direct->submitted(k, ring.copy_stream());
      done += fills[k].file_bytes;
      progress.report(done);
    }
    ring.drain();
    if (direct) direct->finish(fills.size());
  } catch (...) {
    try {
      ring.drain();
    } catch (...) {
    }
    throw;
  }
  return static_cast<int64_t>(fills.size());
}

}  // namespace dq::loader
