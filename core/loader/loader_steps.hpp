// The steps of one load, shared by the one-device path (loader_api.cpp) and the load over
// several devices (multi_device_load.cpp).
#pragma once

#include <chrono>
#include <vector>

#include "loader/loaded_model.hpp"

namespace dq::loader {

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The model's tensor table, in file order.
std::vector<dq_tensor_info> tensor_table(const dq_model *model);

// Resolves o.device into `l` (device backend or host) and sets up its staging of
// `ring_bytes` (at most the budget) and copy threads.
void setup_loader(dq_loader &l, const dq_load_options &o, uint64_t ring_bytes);

// Pinned staging one load of `jobs_bytes` needs at most: min(budget, that, 1 MiB granules).
uint64_t ring_bytes_for(const dq_load_options &o, uint64_t needed_bytes);
// The same for a one-shot dq_load of `model` (its tensor table's f32 upper bound).
uint64_t one_shot_ring_bytes(const dq_model *model, const dq_load_options &o);

// Destination memory of `jobs`: the caller's buffers (buffer_fn, when `use_buffer_fn`) where
// given, one arena at l's destination for the rest (returned; null when none was needed).
void *place_outputs(const dq_loader &l, const dq_load_options &o,
                    const std::vector<dq_tensor_info> &infos, std::vector<TensorJob> &jobs,
                    bool use_buffer_fn);

// Counts of `jobs` and l's staging into `s` (struct_size, tensors, bytes, routes, staging).
void fill_stats(const dq_loader &l, const std::vector<TensorJob> &jobs, const std::string &where,
                dq_load_stats &s);

// Sets the routes of `jobs` for l's destination (route.hpp).
void route_jobs(const dq_loader &l, const dq_load_options &o, std::vector<TensorJob> &jobs);

// dq_load over o.n_devices >= 2 destinations (multi_device_load.cpp).
dq_loaded_model *load_on_devices(dq_context *ctx, const dq_model *model, const dq_load_options &o,
                                 Clock::time_point t0);

}  // namespace dq::loader
