// The loader's C API (dq_loader.h): options, reusable loaders, loads and their results.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "dq_common/type_traits.hpp"
#include "loader/chunking.hpp"
#include "loader/load_error.hpp"
#include "loader/load_trace.hpp"
#include "loader/loaded_model.hpp"
#include "loader/loader_steps.hpp"
#include "loader/pipeline.hpp"
#include "loader/prepared_staging.hpp"
#include "loader/route.hpp"
#include "request_check.hpp"

using dq::loader::LoadError;
using dq::loader::Route;
using dq::loader::TensorJob;

using dq::loader::Clock;
using dq::loader::seconds_since;

namespace {

constexpr uint64_t kArenaAlignment = 256;
uint64_t align_up(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}

}  // namespace

namespace dq::loader {

void setup_loader(dq_loader &l, const dq_load_options &o, uint64_t ring_bytes) {
  const auto t0 = Clock::now();
  l.registry = &dq::core::registry(l.ctx);
  const dq::core::Backend *cpu = l.registry->find("cpu");
  l.cpu_backend = (cpu && cpu->loaded()) ? cpu : nullptr;
  l.budget = o.staging_budget;
  l.pool = std::make_unique<dq::loader::CopyPool>(
      o.copy_threads > 0 ? o.copy_threads : dq::loader::CopyPool::default_threads());
  if (std::string why = dq::core::location_problem(o.device); !why.empty())
    throw LoadError(DQ_ERR_INVALID_ARGUMENT, "device: " + why);
  if (dq::core::is_host(o.device)) {
    l.where = "host";
    l.setup_seconds = seconds_since(t0);
    return;
  }
  const std::string name = o.device.backend;
  const dq::core::Backend *b = l.registry->find(name);
  if (!b)
    throw LoadError(DQ_ERR_NO_BACKEND, "backend '" + name + "' not found (searched: " +
                                           l.registry->searched_text() + ")");
  if (!b->loaded())
    throw LoadError(b->load_status == DQ_OK ? DQ_ERR_NO_BACKEND : b->load_status,
                    "backend '" + name + "' is not usable: " + b->status);
  if (b->device_count <= 0)
    throw LoadError(DQ_ERR_NO_DEVICE, "backend '" + name + "' has no device: " + b->status);
  if (o.device.device < 0 || o.device.device >= b->device_count)
    throw LoadError(DQ_ERR_INVALID_ARGUMENT,
                    "backend '" + name + "' has " + std::to_string(b->device_count) +
                        " device(s); device " + std::to_string(o.device.device) +
                        " does not exist");
  if (!b->has_device_memory || !dq::loader::DeviceApi::can_pipeline(b->api))
    throw LoadError(DQ_ERR_UNSUPPORTED, "backend '" + name +
                                            "' lacks device memory, pinned memory, "
                                            "streams or events, which loading to it needs");
  l.device_backend = b;
  l.where = b->name;
  l.device = o.device.device;
  l.dev = std::make_unique<dq::loader::DeviceApi>(b->api, l.device, b->name);
  l.ring = std::make_unique<dq::loader::StagingRing>(*l.dev, ring_bytes);
  l.setup_seconds = seconds_since(t0);
}

std::vector<dq_tensor_info> tensor_table(const dq_model *model) {
  const int64_t n = dq_model_tensor_count(model);
  std::vector<dq_tensor_info> infos(n < 0 ? 0 : static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    infos[i].struct_size = sizeof(dq_tensor_info);
    const dq_status st = dq_model_tensor_info(model, i, &infos[i]);
    if (st != DQ_OK)
      throw LoadError(st, "reading tensor " + std::to_string(i) + " of the model failed");
  }
  return infos;
}

// The pinned bytes a one-shot dq_load of `model` asks for: no more than the model needs, as
// pinning costs about 0.4 ms per MiB. Upper bound from the tensor table (no callbacks run
// twice): f32 output of everything.
uint64_t one_shot_ring_bytes(const dq_model *model, const dq_load_options &o) {
  uint64_t needed = 0;
  for (const dq_tensor_info &t : tensor_table(model))
    needed +=
        std::max<uint64_t>(t.n_bytes, static_cast<uint64_t>(t.n_elements) * 4) + kPieceAlignment;
  return ring_bytes_for(o, needed);
}

uint64_t ring_bytes_for(const dq_load_options &o, uint64_t needed) {
  return std::min(o.staging_budget,
                  std::max<uint64_t>(1ull << 20, (needed + (1ull << 20) - 1) >> 20 << 20));
}

void *place_outputs(const dq_loader &l, const dq_load_options &o,
                    const std::vector<dq_tensor_info> &infos, std::vector<TensorJob> &jobs,
                    bool use_buffer_fn) {
  uint64_t arena_bytes = 0;
  void *arena = nullptr;
  std::vector<uint64_t> offsets(jobs.size(), 0);
  for (size_t i = 0; i < jobs.size(); ++i) {
    TensorJob &j = jobs[i];
    if (o.buffer_fn && use_buffer_fn) {
      void *p = o.buffer_fn(o.buffer_user, &infos[j.model_index], j.out_type, j.row_begin,
                            j.row_end, j.out_bytes);
      if (p) {
        j.dst = p;
        j.caller_owned = true;
        continue;
      }
    }
    offsets[i] = arena_bytes;
    arena_bytes = align_up(arena_bytes + j.out_bytes, kArenaAlignment);
  }
  if (arena_bytes) {
    if (l.dev) {
      arena = l.dev->alloc(arena_bytes, "the loaded tensors");
    } else {
      arena = std::aligned_alloc(kArenaAlignment, arena_bytes);
      if (!arena)
        throw LoadError(DQ_ERR_OUT_OF_MEMORY,
                        "allocating " + std::to_string(arena_bytes) +
                            " bytes of host memory for the loaded tensors failed");
    }
  }
  for (size_t i = 0; i < jobs.size(); ++i)
    if (!jobs[i].caller_owned) jobs[i].dst = static_cast<uint8_t *>(arena) + offsets[i];
  return arena;
}

void route_jobs(const dq_loader &l, const dq_load_options &o, std::vector<TensorJob> &jobs) {
  RouteInputs routes;
  routes.registry = l.registry;
  routes.device = l.device_backend;
  routes.cpu = l.cpu_backend;
  routes.gpu_min_bytes = loader_gpu_min_bytes(l.registry->settings(), o.gpu_min_bytes);
  assign_routes(jobs, routes);
}

void fill_stats(const dq_loader &l, const std::vector<TensorJob> &jobs, const std::string &where,
                dq_load_stats &s) {
  s.struct_size = sizeof s;
  s.tensors = static_cast<int64_t>(jobs.size());
  for (const TensorJob &j : jobs) {
    s.file_bytes += j.src_bytes;
    s.output_bytes += j.out_bytes;
    switch (j.route) {
      case Route::device:
        s.tensors_device++, s.file_bytes_device += j.src_bytes;
        break;
      case Route::cpu:
        s.tensors_cpu++, s.file_bytes_cpu += j.src_bytes;
        break;
      case Route::copy:
        s.tensors_copied++, s.file_bytes_copied += j.src_bytes;
        break;
    }
  }
  s.staging_budget = l.budget;
  s.staging_high_water = l.ring ? l.ring->ledger().high_water() : 0;
  s.device_staging_bytes = l.ring ? l.ring->device_bytes() : 0;
  s.copy_threads = l.pool->threads();
  s.device_backend = where.c_str();
  s.staging_pinned = l.ring ? l.ring->pinned_how() : "none";
}

}  // namespace dq::loader

namespace {

using dq::loader::fill_stats;
using dq::loader::place_outputs;
using dq::loader::setup_loader;
using dq::loader::tensor_table;

dq_status load_with(dq_loader &l, const dq_model *model, const dq_load_options &o,
                    dq_loaded_model **out, Clock::time_point t0, double extra_setup) {
  auto lm = std::make_unique<dq_loaded_model>();
  lm->ctx = l.ctx;
  lm->where = l.where;
  lm->device = l.device;
  lm->device_api = l.dev ? l.dev->api() : nullptr;

  const auto t_plan = Clock::now();
  const auto infos = tensor_table(model);
  lm->jobs = dq::loader::build_plan(infos, o);
  dq::loader::route_jobs(l, o, lm->jobs);
  // Tensors in the order of the file, so reads stream forward through the mapping.
  const auto t_alloc = Clock::now();
  lm->arena = place_outputs(l, o, infos, lm->jobs, true);
  const double alloc_seconds = seconds_since(t_alloc);

  dq::loader::ProgressSink progress{o.progress, o.progress_user, 0};
  for (const TensorJob &j : lm->jobs) progress.total += j.src_bytes;
  progress.report(0);
  const auto t_pipe = Clock::now();
  const dq_plugin_api *cpu = l.cpu_backend ? l.cpu_backend->api : nullptr;
  // Every file byte is read with pread() on the model's descriptors (never through the
  // mapping: a file truncated meanwhile would raise SIGBUS); the copy method applies to
  // models in memory.
  const dq::loader::FileSource files(model);
  lm->stats.copy_method = files.open_count() > 0 ? "pread"
                                                 : dq::loader::copy_method_name(l.pool->method());
  const dq::loader::HybridOptions hybrid = dq::loader::hybrid_options_from_env();
  if (l.dev && hybrid.fraction > 0 && dq::loader::DeviceApi::can_register(l.dev->api()) &&
      std::none_of(lm->jobs.begin(), lm->jobs.end(), dq::loader::is_strided))
    lm->stats.copy_method = "hybrid";
  int64_t chunks = l.dev ? dq::loader::run_device_pipeline(*l.dev, cpu, *l.ring, *l.pool,
                                                           &files, lm->jobs, progress, hybrid)
                         : dq::loader::run_host_path(cpu, *l.pool, &files, lm->jobs, progress);
  lm->stats.seconds_pipeline = seconds_since(t_pipe);
  lm->stats.chunks = chunks;
  fill_stats(l, lm->jobs, lm->where, lm->stats);
  lm->stats.seconds_setup = extra_setup + alloc_seconds;
  lm->stats.seconds_setup_staging = extra_setup;
  lm->stats.seconds_setup_outputs = alloc_seconds;
  lm->stats.seconds_total = seconds_since(t0);
  // After the clock stopped: the trace reads /proc (huge pages). "time:" lets scripts that keep
  // `dq load`'s "time:" lines (scripts/device-speed.sh) keep this one too.
  if (dq::loader::load_trace_enabled())
    std::fprintf(stderr,
                 "dq: load set-up time: loader %.2f ms (%s), plan %.2f ms, outputs %.2f ms\n",
                 extra_setup * 1e3, l.ring ? l.ring->setup_trace().c_str() : "host: no ring",
                 std::chrono::duration<double, std::milli>(t_alloc - t_plan).count(),
                 alloc_seconds * 1e3);
  *out = lm.release();
  return DQ_OK;
}

template <class F>
dq_status guarded(dq_context *ctx, F &&f) {
  try {
    return f();
  } catch (const LoadError &e) {
    return dq::core::set_error(ctx, e.status(), e.what());
  } catch (const std::bad_alloc &) {
    return dq::core::set_error(ctx, DQ_ERR_OUT_OF_MEMORY, "loader: out of host memory");
  } catch (const std::exception &e) {
    return dq::core::set_error(ctx, DQ_ERR_INTERNAL, std::string("loader: ") + e.what());
  }
}

}  // namespace

namespace {
void free_arena(const dq_plugin_api *api, int32_t device, void *arena) {
  if (!arena) return;
  if (api)
    api->mem_free(device, arena);
  else
    std::free(arena);
}
}  // namespace

dq_loaded_model::~dq_loaded_model() {
  free_arena(device_api, device, arena);
  for (const DevicePart &p : parts) free_arena(p.device_api, p.device, p.arena);
}

extern "C" {

// Binaries built before dq_load_options_init became a macro call this symbol without a
// size: it writes the layout of that time (through buffer_user), never more, so appending
// fields can never make it write past such a caller's struct.
DQ_API void(dq_load_options_init)(dq_load_options *o) {
  dq_load_options_init_sized(o, offsetof(dq_load_options, buffer_user) + sizeof(void *));
}

DQ_API dq_status dq_load_options_init_sized(dq_load_options *o, size_t struct_size) {
  if (!o || struct_size < sizeof(size_t)) return DQ_ERR_INVALID_ARGUMENT;
  const dq_load_options defaults = dq::loader::default_load_options();
  const size_t known = std::min(struct_size, sizeof defaults);
  std::memcpy(o, &defaults, known);
  // Fields of a newer header than this library: zero, the "unset" of every field so far.
  if (struct_size > known) std::memset(reinterpret_cast<char *>(o) + known, 0, struct_size - known);
  o->struct_size = struct_size;
  return DQ_OK;
}

DQ_API dq_status dq_loader_create(dq_context *ctx, const dq_load_options *options,
                                  dq_loader **out) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  if (!out)
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "dq_loader_create: out is NULL");
  *out = nullptr;
  return guarded(ctx, [&] {
    const dq_load_options o = dq::loader::read_load_options(options);
    dq::loader::check_staging_budget(o.staging_budget);
    auto l = std::make_unique<dq_loader>();
    l->ctx = ctx;
    setup_loader(*l, o, o.staging_budget);
    *out = l.release();
    return DQ_OK;
  });
}

DQ_API void dq_loader_destroy(dq_loader *loader) {
  delete loader;
}

DQ_API dq_status dq_loader_load(dq_loader *loader, const dq_model *model,
                                const dq_load_options *options, dq_loaded_model **out) {
  if (!loader) return DQ_ERR_INVALID_ARGUMENT;
  dq_context *ctx = loader->ctx;
  if (!model || !out)
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                               "dq_loader_load: model or out is NULL");
  *out = nullptr;
  const auto t0 = Clock::now();
  return guarded(ctx, [&] {
    const dq_load_options o = dq::loader::read_load_options(options);
    if (o.n_devices >= 2)
      throw LoadError(DQ_ERR_INVALID_ARGUMENT,
                      "dq_loader_load loads to its loader's one device; a load over " +
                          std::to_string(o.n_devices) + " devices goes through dq_load");
    return load_with(*loader, model, o, out, t0, 0.0);
  });
}

DQ_API dq_status dq_load(dq_context *ctx, const dq_model *model, const dq_load_options *options,
                         dq_loaded_model **out) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  if (!model || !out)
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "dq_load: model or out is NULL");
  *out = nullptr;
  const auto t0 = Clock::now();
  return guarded(ctx, [&] {
    const dq_load_options o = dq::loader::read_load_options(options);
    dq::loader::check_staging_budget(o.staging_budget);
    if (o.n_devices >= 2 || (o.n_devices == 1 && !o.devices)) {
      if (!o.devices)
        throw LoadError(DQ_ERR_INVALID_ARGUMENT, "n_devices > 0 but devices is NULL");
      *out = dq::loader::load_on_devices(ctx, model, o, t0);
      return DQ_OK;
    }
    dq_load_options one = o;
    if (o.n_devices == 1) one.device = o.devices[0];  // one device: the usual path
    dq_loader l;
    l.ctx = ctx;
    setup_loader(l, one, dq::loader::one_shot_ring_bytes(model, o));
    return load_with(l, model, one, out, t0, l.setup_seconds);
  });
}

DQ_API dq_status dq_load_prepare(dq_context *ctx, const dq_model *model,
                                 const dq_load_options *options) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  if (!model)
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "dq_load_prepare: model is NULL");
  return guarded(ctx, [&] {
    const dq_load_options o = dq::loader::read_load_options(options);
    dq::loader::check_staging_budget(o.staging_budget);
    if (!dq::loader::staging_prepare_enabled() || o.n_devices >= 2) return DQ_OK;
    if (o.n_devices == 1 && !o.devices)
      throw LoadError(DQ_ERR_INVALID_ARGUMENT, "n_devices > 0 but devices is NULL");
    const dq_location where = o.n_devices == 1 ? o.devices[0] : o.device;
    // A hint: a destination the load would refuse is the load's error to report, not this one's.
    if (!dq::core::location_problem(where).empty() || dq::core::is_host(where)) return DQ_OK;
    const dq::core::Backend *b = dq::core::registry(ctx).find(where.backend);
    if (!b || !b->loaded() || where.device < 0 || where.device >= b->device_count ||
        !b->has_device_memory || !dq::loader::DeviceApi::can_pipeline(b->api))
      return DQ_OK;
    const dq::loader::DeviceApi dev(b->api, where.device, b->name);
    const dq::loader::SlotLayout layout = dq::loader::layout_for_budget(
        dq::loader::one_shot_ring_bytes(model, o), dq::loader::default_ring_bytes());
    if (dq::loader::PinnedSlots::will_register(dev, layout.slot_bytes))
      dq::loader::prepare_staging(layout.slot_bytes * static_cast<uint64_t>(layout.slots));
    return DQ_OK;
  });
}

DQ_API dq_status dq_load_file(dq_context *ctx, const char *path, const dq_load_options *options,
                              dq_loaded_model **out) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  if (!path || !out)
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT, "dq_load_file: path or out is NULL");
  dq_model *model = nullptr;
  dq_status st = dq_model_open(ctx, path, &model);
  if (st != DQ_OK) {
    std::string msg = dq_last_error(ctx);
    if (msg.find(path) == std::string::npos) msg = std::string(path) + ": " + msg;
    return dq::core::set_error(ctx, st, std::move(msg));
  }
  st = dq_load(ctx, model, options, out);
  if (st != DQ_OK) {
    std::string msg = std::string(path) + ": " + dq_last_error(ctx);
    dq_model_close(model);
    return dq::core::set_error(ctx, st, std::move(msg));
  }
  dq_model_close(model);
  return st;
}

DQ_API int64_t dq_loaded_count(const dq_loaded_model *lm) {
  return lm ? static_cast<int64_t>(lm->jobs.size()) : 0;
}

DQ_API int64_t dq_loaded_find(const dq_loaded_model *lm, const char *name) {
  if (!lm || !name) return -1;
  for (size_t i = 0; i < lm->jobs.size(); ++i)
    if (lm->jobs[i].name == name) return static_cast<int64_t>(i);
  return -1;
}

DQ_API dq_status dq_loaded_get_tensor(const dq_loaded_model *lm, int64_t index,
                                      dq_loaded_tensor *out) {
  if (!lm || !out || out->struct_size < DQ_LOADED_TENSOR_MIN_SIZE) return DQ_ERR_INVALID_ARGUMENT;
  // An index out of range is an argument error; NOT_FOUND is for names (dq.h).
  if (index < 0 || index >= static_cast<int64_t>(lm->jobs.size())) return DQ_ERR_INVALID_ARGUMENT;
  const TensorJob &j = lm->jobs[index];
  dq_loaded_tensor t{};
  t.struct_size = sizeof t;
  t.name = j.name.c_str();
  t.data = j.dst;
  t.where = {lm->where.c_str(), lm->device};
  const char *device_name = lm->where.c_str();
  if (!lm->parts.empty()) {
    const dq_loaded_model::DevicePart &p = lm->parts[static_cast<size_t>(j.device_slot)];
    t.where = {p.where.c_str(), p.device};
    device_name = p.where.c_str();
  }
  t.type = j.out_type;
  t.src_type = j.src_type;
  t.n_dims = j.n_dims;
  for (int d = 0; d < 4; ++d) t.ne[d] = j.ne[d];
  t.n_elements = j.n_elements;
  t.n_bytes = j.out_bytes;
  t.file_bytes = j.src_bytes;
  t.row_begin = j.row_begin;
  t.row_end = j.row_end;
  t.backend = j.route == Route::device ? device_name : j.route == Route::cpu ? "cpu" : "copy";
  t.caller_owned = j.caller_owned ? 1 : 0;
  t.col_begin = j.col_begin;
  t.col_end = j.col_end;
  t.device_index = j.device_slot;
  const size_t n = out->struct_size < sizeof t ? out->struct_size : sizeof t;
  const size_t keep = out->struct_size;
  std::memcpy(out, &t, n);
  out->struct_size = keep;
  return DQ_OK;
}

DQ_API dq_status dq_loaded_get_stats(const dq_loaded_model *lm, dq_load_stats *out) {
  if (!lm || !out || out->struct_size < DQ_LOAD_STATS_MIN_SIZE) return DQ_ERR_INVALID_ARGUMENT;
  const size_t n = out->struct_size < sizeof lm->stats ? out->struct_size : sizeof lm->stats;
  const size_t keep = out->struct_size;
  std::memcpy(out, &lm->stats, n);
  out->struct_size = keep;
  return DQ_OK;
}

DQ_API int32_t dq_loaded_device_count(const dq_loaded_model *lm) {
  if (!lm) return 0;
  return lm->parts.empty() ? 1 : static_cast<int32_t>(lm->parts.size());
}

DQ_API dq_status dq_loaded_get_device_stats(const dq_loaded_model *lm, int32_t index,
                                            dq_load_stats *out) {
  if (!lm || !out || out->struct_size < DQ_LOAD_STATS_MIN_SIZE) return DQ_ERR_INVALID_ARGUMENT;
  if (index < 0 || index >= dq_loaded_device_count(lm)) return DQ_ERR_INVALID_ARGUMENT;
  const dq_load_stats &s = lm->parts.empty() ? lm->stats : lm->parts[index].stats;
  const size_t n = out->struct_size < sizeof s ? out->struct_size : sizeof s;
  const size_t keep = out->struct_size;
  std::memcpy(out, &s, n);
  out->struct_size = keep;
  return DQ_OK;
}

DQ_API void dq_loaded_free(dq_loaded_model *lm) {
  delete lm;
}

}  // extern "C"
