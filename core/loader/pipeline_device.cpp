// The device pipeline (see pipeline.hpp). Per slot fill k, slot s = k mod N:
//   host:   wait `uploaded[s]` (its pinned buffer is free), copy file bytes in (threads),
//           run CPU-route pieces into it
//   copy:   wait `consumed[s]` (kernels done reading the device slot), upload, record uploaded
//   compute: wait uploaded, dequantize / place each piece, record consumed
// The host fills slot k+1 while slot k uploads and slot k-1 is dequantized.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "dq_common/dequantize_args.hpp"
#include "dq_common/type_traits.hpp"
#include "loader/chunking.hpp"
#include "loader/load_error.hpp"
#include "loader/load_trace.hpp"
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

// The file bytes of a fill's pieces that the device dequantizes or copies (CPU-route pieces
// are dequantized into the slot by cpu_pieces instead).
std::vector<CopySegment> file_segments(const FileSource *files, const std::vector<TensorJob> &jobs,
                                       const SlotFill &fill, uint8_t *host) {
  std::vector<CopySegment> segs;
  segs.reserve(fill.pieces.size());
  for (const Piece &p : fill.pieces) {
    const TensorJob &j = jobs[p.job];
    if (j.route != Route::cpu)
      append_source_segments(files, j, host + p.slot_offset, p.src_offset, p.src_bytes, segs);
  }
  return segs;
}

void cpu_pieces(const dq_plugin_api *cpu, CpuSourceReader &sources,
                const std::vector<TensorJob> &jobs, const SlotFill &fill, uint8_t *host) {
  for (const Piece &p : fill.pieces) {
    const TensorJob &j = jobs[p.job];
    if (j.route == Route::cpu)
      cpu_dequantize(cpu, j.src_type, j.out_type, sources.read(j, p.src_offset, p.src_bytes),
                     p.src_bytes, p.n_elements, host + p.slot_offset, p.slot_bytes, j.name);
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

// DQ_LOAD_TRACE=1: where the host thread's time went, one line on stderr per load. Fill
// time near the pipeline time means the host copy limits the load; time waiting for uploads
// means the bus does.
class PipelineTrace {
 public:
  using Clock = std::chrono::steady_clock;
  PipelineTrace() : on_(enabled()), t0_(Clock::now()) {}
  Clock::time_point now() const { return on_ ? Clock::now() : Clock::time_point{}; }
  void wait(Clock::time_point t) { wait_ += since(t); }
  void wait_pinned(Clock::time_point t) { pinned_ += since(t); }
  void copy(Clock::time_point t, uint64_t bytes, size_t fill) {
    const double ms = since(t);
    copy_ += ms;
    copied_ += bytes;
    if (ms > slowest_) slowest_ = ms, slowest_fill_ = fill;
  }
  void submit(Clock::time_point t) {
    submit_ += since(t);
    if (first_ < 0) first_ = since(t0_);
  }
  void print(size_t fills) const {
    if (!on_) return;
    std::fprintf(stderr,
                 "dq: load trace: %zu fills in %.1f ms; host fills %.1f ms (%.1f GB/s while "
                 "filling, slowest fill %zu: %.2f ms), waiting for uploads %.1f ms, submitting "
                 "%.1f ms (of which waiting for slots to be pinned %.2f ms), first fill "
                 "submitted at %.2f ms\n",
                 fills, since(t0_), copy_, copy_ > 0 ? copied_ / copy_ / 1e6 : 0.0, slowest_fill_,
                 slowest_, wait_, submit_, pinned_, first_);
  }

 private:
  static bool enabled() { return load_trace_enabled(); }
  double since(Clock::time_point t) const {
    return on_ ? std::chrono::duration<double, std::milli>(Clock::now() - t).count() : 0.0;
  }
  bool on_;
  Clock::time_point t0_;
  double wait_ = 0, copy_ = 0, submit_ = 0, pinned_ = 0, slowest_ = 0, first_ = -1;
  uint64_t copied_ = 0;
  size_t slowest_fill_ = 0;
};

}  // namespace

void cpu_dequantize(const dq_plugin_api *cpu, int32_t src_type, int32_t dst_type, const void *src,
                    uint64_t src_bytes, int64_t n_elements, void *dst, uint64_t dst_bytes,
                    const std::string &tensor) {
  if (!cpu)
    throw LoadError(DQ_ERR_NO_BACKEND, "tensor " + tensor + ": the cpu plugin is not loaded");
  const dq_plugin_dequantize_args a = make_dequantize_args(
      src_type, dst_type, src, src_bytes, n_elements, dst, dst_bytes, /*on_host=*/true);
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
  // Column parts are gathered from strided rows: only staging does that.
  const bool any_strided = std::any_of(jobs.begin(), jobs.end(), is_strided);
  if (hybrid.fraction > 0 && !any_strided && DeviceApi::can_register(dev.api())) {
    static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    direct = std::make_unique<DirectUploader>(
        dev, plan_direct(jobs, fills, hybrid.fraction, hybrid.window_bytes, page),
        hybrid.wait_for_pins);
  }
  PipelineTrace trace;
  CpuSourceReader sources(pool, files);
  // Fill k's upload and kernels are queued while the copy threads fill k + 1 (`due` holds
  // the fill whose submission is pending), so the ~30 us of API calls per fill overlap the copy.
  struct Due {
    size_t k;
    int slot;
  };
  std::optional<Due> due;
  auto submit_due = [&] {
    if (!due) return;
    const auto t = trace.now();
    // Every slot is pinned before the load; the trace still times the (now empty) wait.
    ring.upload_source(due->slot, fills[due->k].used);
    trace.wait_pinned(t);
    submit_slot(dev, ring, ring.slot(due->slot), jobs, fills[due->k], nullptr);
    trace.submit(t);
    if (direct) direct->submitted(due->k, ring.copy_stream());
    done += fills[due->k].file_bytes;
    progress.report(done);
    due.reset();
  };
  try {
    // Slots in turn (at least 2, so consecutive fills never share a slot).
    int next_slot = 0;
    for (size_t k = 0; k < fills.size(); ++k) {
      const int slot_index = next_slot;
      next_slot = (slot_index + 1) % ring.usable_slots();
      StagingRing::Slot &slot = ring.slot(slot_index);
      // Hybrid loads submit each fill before deciding the next (the pin thread may wait for
      // a window's last upload to be queued), so they do not overlap submission and copy.
      if (direct) submit_due();
      // A direct fill leaves slot.host alone: no need to wait for its previous upload.
      const bool go_direct = direct && direct->acquire(k, jobs, fills[k]);
      if (go_direct) {
        submit_slot(dev, ring, slot, jobs, fills[k], direct.get());
        direct->submitted(k, ring.copy_stream());
        done += fills[k].file_bytes;
        progress.report(done);
        continue;
      }
      auto t = trace.now();
      // The slot's previous fill (k - N) was submitted by now: N >= 2 and only k - 1 is due.
      if (slot.in_flight) dev.event_synchronize(slot.uploaded);
      trace.wait(t);
      t = trace.now();
      const std::vector<CopySegment> segs = file_segments(files, jobs, fills[k], slot.host);
      pool.begin(segs);
      try {
        submit_due();
      } catch (...) {
        try {
          pool.finish();  // the helpers write into the slot: let them end first
        } catch (...) {
        }
        throw;
      }
      pool.finish();
      cpu_pieces(cpu, sources, jobs, fills[k], slot.host);
      trace.copy(t, fills[k].file_bytes, k);
      due = Due{k, slot_index};
    }
    submit_due();
    ring.drain();
    trace.print(fills.size());
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
