// The selection rules of docs/ARCHITECTURE.md ("Choosing a backend per tensor").
#include "registry/selection.hpp"

#include <algorithm>

#include "registry/settings.hpp"

namespace dq::core {
namespace {

std::string quoted(std::string_view name) {
  return "backend '" + std::string(name) + "'";
}

std::string job_text(const SelectionQuery &q) {
  return std::string(q.src_type_name) + " to " + std::string(q.dst_type_name);
}

// Why a candidate cannot serve the query, or "" when it can.
std::string unusable_reason(const Candidate &c, const SelectionQuery &q) {
  if (c.state != BackendState::loaded)
    return std::string(backend_state_name(c.state)) + ": " + std::string(c.status);
  if (c.device_count <= 0) return "no device: " + std::string(c.status);
  if (!c.supports) return "does not dequantize " + job_text(q);
  return {};
}

// The candidate of that name that loaded, else the first one tried (its failure is the
// reason to report), else a skipped one; as Registry::index_of.
int find_named(std::span<const Candidate> cs, std::string_view name) {
  int tried = -1, skipped = -1;
  for (int i = 0; i < static_cast<int>(cs.size()); ++i) {
    if (cs[i].name != name) continue;
    if (cs[i].state == BackendState::loaded) return i;
    int &slot = cs[i].state == BackendState::skipped ? skipped : tried;
    if (slot < 0) slot = i;
  }
  return tried >= 0 ? tried : skipped;
}

std::string forced_origin(const SelectionQuery &q, const SelectionPolicy &p) {
  switch (q.forced_by) {
    case ForcedBy::request:
      return "forced by the request";
    case ForcedBy::environment:
      return "DQ_BACKEND=" + p.order_text;
    case ForcedBy::device_memory:
      return "device memory of " + quoted(q.forced);
    case ForcedBy::none:
      break;
  }
  return {};
}

Selection failure(dq_status status, std::string message) {
  Selection s;
  s.status = status;
  s.reason = std::move(message);
  return s;
}

// A forced backend is used or the call fails: never a silent fallback.
Selection select_forced(std::span<const Candidate> cs, const SelectionQuery &q,
                        const SelectionPolicy &p) {
  const std::string origin = forced_origin(q, p);
  const int i = find_named(cs, q.forced);
  if (i < 0)
    return failure(DQ_ERR_NO_BACKEND,
                   quoted(q.forced) + " not found (searched: " + p.searched + "; " + origin + ")");
  const Candidate &c = cs[i];
  if (c.state != BackendState::loaded)
    return failure(
        c.load_status == DQ_OK ? DQ_ERR_NO_BACKEND : c.load_status,
        quoted(q.forced) + " is not usable: " + unusable_reason(c, q) + " (" + origin + ")");
  if (c.device_count <= 0)
    return failure(DQ_ERR_NO_DEVICE, quoted(q.forced) + " has no device: " + std::string(c.status) +
                                         " (" + origin + ")");
  if (!c.supports)
    return failure(DQ_ERR_UNSUPPORTED,
                   quoted(q.forced) + " does not dequantize " + job_text(q) + " (" + origin + ")");
  Selection s;
  s.index = i;
  s.reason = origin;
  return s;
}

// The first device of `b` that one of cuda's devices names (same name, or cuda's name then a
// space or bracket: "NVIDIA H200" and "NVIDIA H200 (NVIDIA 550.54, Vulkan 1.3)"), or "".
std::string shared_device(const Candidate &cuda, const Candidate &b) {
  for (const auto &mine : b.device_names)
    for (const auto &theirs : cuda.device_names) {
      if (theirs.empty() || mine.compare(0, theirs.size(), theirs) != 0) continue;
      if (mine.size() == theirs.size() || mine[theirs.size()] == ' ' || mine[theirs.size()] == '(') return theirs;
    }
  return "";
}

// The vendor's own backend drives its GPU best: cuda moves before any other GPU backend that
// sees one of its devices (vulkan on an NVIDIA GPU), and the debug log says so.
void prefer_cuda_on_shared_gpus(std::span<const Candidate> cs, std::vector<int> &order,
                                std::vector<std::string> &notes) {
  const auto cuda = std::find_if(order.begin(), order.end(), [&](int i) { return cs[i].name == "cuda"; });
  if (cuda == order.end() || !cs[*cuda].is_gpu) return;
  const int cuda_index = *cuda;
  std::vector<int> shared;
  for (int i : order) {
    if (i == cuda_index || !cs[i].is_gpu) continue;
    const std::string device = shared_device(cs[cuda_index], cs[i]);
    if (device.empty()) continue;
    shared.push_back(i);
    notes.push_back("preferring cuda over " + std::string(cs[i].name) + ": both see " + device);
  }
  if (shared.empty()) return;
  // cuda goes right before the first backend that shares its GPU, if it is not already before.
  const auto first_shared = std::find_if(order.begin(), order.end(), [&](int i) {
    return std::find(shared.begin(), shared.end(), i) != shared.end();
  });
  if (first_shared < cuda) {
    order.erase(std::find(order.begin(), order.end(), cuda_index));
    order.insert(first_shared, cuda_index);
  }
}

// Candidate indices in preference order: the DQ_BACKEND list, or GPUs first then the rest.
std::vector<int> preference_order(std::span<const Candidate> cs, const SelectionPolicy &p,
                                  std::vector<std::string> &notes) {
  std::vector<int> order;
  if (!p.order.empty()) {
    for (const auto &name : p.order) {
      const int i = find_named(cs, name);
      if (i < 0)
        notes.push_back("skipped " + name + ": not found");
      else
        order.push_back(i);
    }
    return order;
  }
  for (int i = 0; i < static_cast<int>(cs.size()); ++i) order.push_back(i);
  std::stable_partition(order.begin(), order.end(), [&](int i) { return cs[i].is_gpu; });
  prefer_cuda_on_shared_gpus(cs, order, notes);
  return order;
}

std::vector<int> usable_only(std::span<const Candidate> cs, const std::vector<int> &order,
                             const SelectionQuery &q, std::vector<std::string> &notes) {
  std::vector<int> usable;
  for (int i : order) {
    const std::string why = unusable_reason(cs[i], q);
    if (why.empty())
      usable.push_back(i);
    else if (cs[i].state != BackendState::skipped)
      notes.push_back("skipped " + std::string(cs[i].name) + ": " + why);
  }
  return usable;
}

std::string threshold_text(const SelectionPolicy &p) {
  return "DQ_GPU_MIN_BYTES=" + std::to_string(p.gpu_min_bytes);
}

std::string below_text(const SelectionPolicy &p) {
  if (p.gpu_min_bytes == kGpuNever) return "host->host work stays off GPUs (DQ_GPU_MIN_BYTES=off)";
  return "below " + threshold_text(p);
}

// Below the threshold, GPU backends move behind every other usable one.
Selection apply_threshold(std::span<const Candidate> cs, std::vector<int> usable,
                          const SelectionQuery &q, const SelectionPolicy &p) {
  Selection s;
  const bool small = q.src_bytes < p.gpu_min_bytes;
  const bool gpu_first = cs[usable.front()].is_gpu;
  if (small)
    std::stable_partition(usable.begin(), usable.end(), [&](int i) { return !cs[i].is_gpu; });
  s.index = usable.front();
  const std::string where = p.order.empty() ? "automatic order" : "DQ_BACKEND=" + p.order_text;
  if (cs[s.index].is_gpu)
    s.reason =
        small ? below_text(p) + ", but no host backend can do it" : "at least " + threshold_text(p);
  else
    s.reason = (small && gpu_first) ? below_text(p) : "first usable in " + where;
  return s;
}

std::string summary(std::span<const Candidate> cs, const SelectionQuery &q) {
  std::string text;
  for (const auto &c : cs) {
    if (c.state == BackendState::skipped) continue;
    text += (text.empty() ? "" : "; ") + std::string(c.name) + ": " + unusable_reason(c, q);
  }
  return text.empty() ? "no plugin found" : text;
}

}  // namespace

Selection select_backend(std::span<const Candidate> candidates, const SelectionQuery &query,
                         const SelectionPolicy &policy) {
  if (query.forced_by != ForcedBy::none) return select_forced(candidates, query, policy);
  if (policy.order.size() == 1) {
    SelectionQuery forced = query;
    forced.forced_by = ForcedBy::environment;
    forced.forced = policy.order.front();
    return select_forced(candidates, forced, policy);
  }
  std::vector<std::string> notes;
  std::vector<int> usable =
      usable_only(candidates, preference_order(candidates, policy, notes), query, notes);
  Selection s;
  if (usable.empty()) {
    const std::string where = policy.order.empty() ? "" : " among DQ_BACKEND=" + policy.order_text;
    s = failure(DQ_ERR_NO_BACKEND, "no backend" + where + " can dequantize " + job_text(query) +
                                       " (" + summary(candidates, query) + ")");
  } else {
    s = apply_threshold(candidates, std::move(usable), query, policy);
  }
  s.notes = std::move(notes);
  return s;
}

}  // namespace dq::core
