// dq_load over several devices (dq_load_options.devices, docs/MULTI_GPU.md): the plan's jobs
// are grouped by device slot; each slot gets a loader of its own (staging ring, streams, copy
// threads) and its own thread running the one-device pipeline, so every link is busy at once.
#include <algorithm>
#include <atomic>
#include <exception>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>

#include "loader/chunking.hpp"
#include "loader/copy_pool.hpp"
#include "loader/load_error.hpp"
#include "loader/loader_steps.hpp"
#include "loader/pipeline.hpp"

namespace dq::loader {

namespace {

// The caller's progress callback sees the sum over the device threads, one call at a time
// (dq_load_progress_fn is not required to be thread-safe).
class SharedProgress {
 public:
  SharedProgress(dq_load_progress_fn fn, void *user, uint64_t total, size_t slots)
      : fn_(fn), user_(user), total_(total), done_(slots, 0), slots_(slots) {
    for (size_t s = 0; s < slots; ++s) slots_[s] = {this, s};
  }
  ProgressSink sink(size_t slot, uint64_t slot_total) {
    return {fn_ ? &SharedProgress::report : nullptr, &slots_[slot], slot_total};
  }
  void start() const {
    if (fn_) fn_(user_, 0, total_);
  }

 private:
  struct Slot {
    SharedProgress *owner;
    size_t index;
  };
  static void report(void *user, uint64_t done, uint64_t) {
    auto *slot = static_cast<Slot *>(user);
    SharedProgress &p = *slot->owner;
    std::lock_guard<std::mutex> lk(p.mu_);
    p.done_[slot->index] = done;
    uint64_t sum = 0;
    for (uint64_t d : p.done_) sum += d;
    // A slot's first report(0) would repeat the start: only forward movement is reported.
    if (sum > p.reported_ || (sum == p.total_ && !p.finished_)) {
      p.reported_ = sum;
      p.finished_ = sum == p.total_;
      p.fn_(p.user_, sum, p.total_);
    }
  }
  dq_load_progress_fn fn_;
  void *user_;
  uint64_t total_;
  std::mutex mu_;
  std::vector<uint64_t> done_;
  std::vector<Slot> slots_;
  uint64_t reported_ = 0;
  bool finished_ = false;
};

void add_stats(dq_load_stats &sum, const dq_load_stats &s) {
  sum.file_bytes += s.file_bytes;
  sum.output_bytes += s.output_bytes;
  sum.tensors += s.tensors;
  sum.tensors_device += s.tensors_device;
  sum.tensors_cpu += s.tensors_cpu;
  sum.tensors_copied += s.tensors_copied;
  sum.file_bytes_device += s.file_bytes_device;
  sum.file_bytes_cpu += s.file_bytes_cpu;
  sum.file_bytes_copied += s.file_bytes_copied;
  sum.staging_budget += s.staging_budget;
  sum.staging_high_water += s.staging_high_water;
  sum.device_staging_bytes += s.device_staging_bytes;
  sum.chunks += s.chunks;
  sum.copy_threads += s.copy_threads;
}

}  // namespace

dq_loaded_model *load_on_devices(dq_context *ctx, const dq_model *model, const dq_load_options &o,
                                 Clock::time_point t0) {
  const size_t n = o.n_devices;
  auto lm = std::make_unique<dq_loaded_model>();
  lm->ctx = ctx;
  lm->where = "devices";
  const auto infos = tensor_table(model);
  lm->jobs = build_plan(infos, o);

  // Jobs of each slot, in plan order (file order within a slot for the usual plans).
  std::vector<std::vector<size_t>> of_slot(n);
  for (size_t i = 0; i < lm->jobs.size(); ++i)
    of_slot[static_cast<size_t>(lm->jobs[i].device_slot)].push_back(i);

  // copy_threads is the load's total: the host feeds every link from one pool of cores.
  const int threads = o.copy_threads > 0 ? o.copy_threads : CopyPool::default_threads(static_cast<int>(n));
  const int per_slot = std::max(1, threads / static_cast<int>(n));

  uint64_t total = 0;
  for (const TensorJob &j : lm->jobs) total += j.src_bytes;
  SharedProgress progress(o.progress, o.progress_user, total, n);
  const FileSource files(model);  // descriptors shared: pread() needs no position

  // One thread per device: its set-up (streams, pinned ring, outputs: 10-30 ms a device,
  // so done at once, not in turn), then, once every device is set up, its pipeline.
  std::vector<std::unique_ptr<dq_loader>> loaders(n);
  std::vector<std::vector<TensorJob>> jobs(n);
  std::vector<double> setup_staging(n, 0), setup_outputs(n, 0), seconds(n, 0);
  std::vector<int64_t> chunks(n, 0);
  std::vector<std::exception_ptr> errors(n);
  std::atomic<bool> setup_failed{false};
  std::latch set_up(static_cast<std::ptrdiff_t>(n) + 1);  // the devices and this thread
  lm->parts.resize(n);
  for (size_t s = 0; s < n; ++s)
    for (size_t i : of_slot[s]) jobs[s].push_back(lm->jobs[i]);

  auto set_up_device = [&](size_t s) {
    dq_load_options os = o;
    os.device = o.devices[s];
    os.copy_threads = per_slot;
    uint64_t needed = 0;
    for (const TensorJob &j : jobs[s]) needed += std::max(j.src_bytes, j.out_bytes) + kPieceAlignment;
    auto l = std::make_unique<dq_loader>();
    l->ctx = ctx;
    setup_loader(*l, os, ring_bytes_for(o, needed));
    setup_staging[s] = l->setup_seconds;
    route_jobs(*l, os, jobs[s]);
    dq_loaded_model::DevicePart &part = lm->parts[s];
    part.device_api = l->dev ? l->dev->api() : nullptr;
    part.device = l->device;
    part.where = l->where;
    const auto t_alloc = Clock::now();
    // buffer_fn cannot say on which device memory must be: the loader allocates.
    part.arena = place_outputs(*l, os, infos, jobs[s], false);
    setup_outputs[s] = seconds_since(t_alloc);
    loaders[s] = std::move(l);
  };
  auto run_device = [&](size_t s) {
    dq_loader &l = *loaders[s];
    const auto t = Clock::now();
    const dq_plugin_api *cpu = l.cpu_backend ? l.cpu_backend->api : nullptr;
    uint64_t slot_total = 0;
    for (const TensorJob &j : jobs[s]) slot_total += j.src_bytes;
    const ProgressSink sink = progress.sink(s, slot_total);
    chunks[s] = l.dev ? run_device_pipeline(*l.dev, cpu, *l.ring, *l.pool, &files, jobs[s], sink,
                                            HybridOptions{})
                      : run_host_path(cpu, *l.pool, &files, jobs[s], sink);
    seconds[s] = seconds_since(t);
  };

  progress.start();  // before any device thread can report
  const auto t_setup = Clock::now();
  Clock::time_point t_pipe;
  {
    std::vector<std::thread> running;
    running.reserve(n);
    try {
      for (size_t s = 0; s < n; ++s)
        running.emplace_back([&, s] {
          try {
            set_up_device(s);
          } catch (...) {
            errors[s] = std::current_exception();
            setup_failed = true;
          }
          set_up.arrive_and_wait();
          if (setup_failed || jobs[s].empty()) return;
          try {
            run_device(s);
          } catch (...) {
            errors[s] = std::current_exception();
          }
        });
    } catch (...) {
      // A thread that could not start: the others must not wait for it, nor load.
      setup_failed = true;
      set_up.count_down(static_cast<std::ptrdiff_t>(n - running.size()));
      set_up.arrive_and_wait();
      for (std::thread &t : running) t.join();
      throw;
    }
    set_up.arrive_and_wait();
    t_pipe = Clock::now();
    for (std::thread &t : running) t.join();
  }
  const double setup_seconds = std::chrono::duration<double>(t_pipe - t_setup).count();
  const double pipeline_seconds = seconds_since(t_pipe);
  for (size_t s = 0; s < n; ++s) {
    if (!errors[s]) continue;
    try {
      std::rethrow_exception(errors[s]);
    } catch (const LoadError &e) {
      throw LoadError(e.status(), "devices[" + std::to_string(s) + "]: " + e.what());
    }
  }

  dq_load_stats &sum = lm->stats;
  sum.struct_size = sizeof sum;
  for (size_t s = 0; s < n; ++s) {
    for (size_t k = 0; k < of_slot[s].size(); ++k) lm->jobs[of_slot[s][k]] = jobs[s][k];
    dq_loaded_model::DevicePart &part = lm->parts[s];
    fill_stats(*loaders[s], jobs[s], part.where, part.stats);
    part.stats.chunks = chunks[s];
    part.stats.seconds_pipeline = seconds[s];
    part.stats.seconds_setup_staging = setup_staging[s];
    part.stats.seconds_setup_outputs = setup_outputs[s];
    part.stats.seconds_setup = setup_staging[s] + setup_outputs[s];
    part.stats.seconds_total = setup_staging[s] + setup_outputs[s] + seconds[s];
    part.stats.copy_method = files.open_count() > 0 ? "pread" : copy_method_name(loaders[s]->pool->method());
    add_stats(sum, part.stats);
  }
  sum.device_backend = lm->where.c_str();
  sum.copy_method = lm->parts.empty() ? "none" : lm->parts[0].stats.copy_method;
  sum.staging_pinned = lm->parts.empty() ? "none" : lm->parts[0].stats.staging_pinned;
  for (const auto &p : lm->parts)
    if (std::string(p.stats.staging_pinned) != sum.staging_pinned) sum.staging_pinned = "mixed";
  sum.seconds_setup = setup_seconds;
  // The devices set up at once: the slowest one's parts.
  sum.seconds_setup_staging = *std::max_element(setup_staging.begin(), setup_staging.end());
  sum.seconds_setup_outputs = *std::max_element(setup_outputs.begin(), setup_outputs.end());
  sum.seconds_pipeline = pipeline_seconds;
  // The loaders (rings, pools) end here; the destinations stay with lm.
  loaders.clear();
  sum.seconds_total = seconds_since(t0);
  return lm.release();
}

}  // namespace dq::loader
