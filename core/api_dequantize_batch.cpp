// dq_dequantize_batch: validate every request and choose each one's backend before any work,
// then hand each backend its group (one batch call where the plugin has the entry).
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "api_guard.hpp"
#include "context.hpp"
#include "dequantize_common.hpp"
#include "plugin_call.hpp"
#include "registry/registry.hpp"
#include "request_check.hpp"
#include "small_buffer.hpp"

using dq::core::set_error;

namespace {

// Batches up to this many requests keep their scratch on the stack (no allocation per call).
constexpr size_t kInline = 16;

struct Planned {
  const dq::core::Backend *backend = nullptr;
  dq_plugin_dequantize_args args{};
};

// A buffer of one request, for the cross-request overlap check.
struct Range {
  uintptr_t start = 0, end = 0;  // end saturates instead of wrapping
  bool written = false;          // a destination
  size_t request = 0;
};

std::string request_text(size_t i) { return "dq_dequantize_batch: request " + std::to_string(i) + ": "; }

const char *buffer_name(const Range &r) { return r.written ? "dst" : "src"; }

Range range_of(const void *p, size_t bytes, bool written, size_t request) {
  const auto start = reinterpret_cast<uintptr_t>(p);
  uintptr_t end = 0;
  if (__builtin_add_overflow(start, bytes, &end)) end = UINTPTR_MAX;
  return {start, end, written, request};
}

// Host buffers of different requests: a destination must not overlap any other buffer (two
// requests reading one source is fine). Sorted sweep, O(n log n). Returns "" when fine.
std::string host_overlap(std::span<const dq_dequantize_request> reqs) {
  dq::core::SmallBuffer<Range, 2 * kInline> buffer(2 * reqs.size());
  size_t count = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    const dq_dequantize_request &r = reqs[i];
    if (dq::core::is_host(r.src_where)) buffer[count++] = range_of(r.src, r.src_bytes, false, i);
    if (dq::core::is_host(r.dst_where)) buffer[count++] = range_of(r.dst, r.dst_bytes, true, i);
  }
  const std::span<Range> ranges = buffer.first(count);
  std::sort(ranges.begin(), ranges.end(),
            [](const Range &a, const Range &b) { return a.start < b.start; });
  const Range *furthest_any = nullptr, *furthest_written = nullptr;
  for (const Range &r : ranges) {
    // Every earlier range starts at or before r; the one reaching furthest decides.
    const Range *hit = r.written ? furthest_any : furthest_written;
    if (hit && hit->end > r.start && hit->request != r.request) {
      const Range &later = hit->request > r.request ? *hit : r;
      const Range &earlier = hit->request > r.request ? r : *hit;
      return request_text(later.request) + "its " + buffer_name(later) + " overlaps the " +
             buffer_name(earlier) + " of request " + std::to_string(earlier.request) +
             " (host buffers of a batch must not overlap a destination)";
    }
    if (!furthest_any || r.end > furthest_any->end) furthest_any = &r;
    if (r.written && (!furthest_written || r.end > furthest_written->end)) furthest_written = &r;
  }
  return {};
}

// Validates request i and chooses its backend; on failure sets the error on ctx.
dq_status plan_one(dq_context *ctx, const dq_dequantize_request *req, size_t i,
                   dq_dequantize_request *widened, Planned *out) {
  const dq::core::Verdict v = dq::core::check_request(req, widened);
  if (v.status != DQ_OK) return set_error(ctx, v.status, request_text(i) + v.message);
  const dq_dequantize_request &r = *widened;
  dq::core::DequantizeTarget target{r.src_type, r.dst_type, r.src_bytes, r.backend,
                                    dq::core::device_backend_of(r)};
  dq::core::Choice choice = dq::core::registry(ctx).select(target);
  if (!choice.backend) return set_error(ctx, choice.status, request_text(i) + choice.reason);
  out->backend = choice.backend;
  out->args = dq::core::plugin_args(r);
  if (out->args.device < 0 || out->args.device >= choice.backend->device_count)
    return set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                     request_text(i) + "device " + std::to_string(out->args.device) +
                         " of backend '" + choice.backend->name + "' does not exist (" +
                         std::to_string(choice.backend->device_count) + " devices)");
  return DQ_OK;
}

// Runs the requests of `plan` whose group is `group` (all on backend b): one batch call, or
// one call each. `args` is scratch of plan's length.
dq_status run_group(dq_context *ctx, const dq::core::Backend &b, std::span<const Planned> plan,
                    std::span<const uint32_t> group_of, uint32_t group,
                    std::span<dq_plugin_dequantize_args> args) {
  if (dq::core::has_batch_entry(*b.api)) {
    size_t count = 0;
    for (size_t i = 0; i < plan.size(); ++i)
      if (group_of[i] == group) args[count++] = plan[i].args;
    return dq::core::plugin_call(ctx, b, "dequantize_batch",
                                 b.api->dequantize_batch(args.data(), count));
  }
  for (size_t i = 0; i < plan.size(); ++i) {
    if (group_of[i] != group) continue;
    const int32_t rc = b.api->dequantize(&plan[i].args);
    if (rc == DQ_OK) continue;  // the text below is built only for a failure
    const std::string what = "dequantize (request " + std::to_string(i) + ")";
    return dq::core::plugin_call(ctx, b, what.c_str(), rc);
  }
  return DQ_OK;
}

dq_status run_batch(dq_context *ctx, const dq_dequantize_request *reqs, size_t n) {
  // The caller's array steps by its own sizeof, which is the first request's struct_size.
  const size_t stride = reqs[0].struct_size;
  if (stride < dq::core::kRequestRequiredSize) {
    const dq::core::Verdict v = dq::core::check_request(reqs);
    return set_error(ctx, v.status, request_text(0) + v.message);
  }
  const auto *base = reinterpret_cast<const unsigned char *>(reqs);
  dq::core::SmallBuffer<dq_dequantize_request, kInline> widened(n);
  dq::core::SmallBuffer<Planned, kInline> plan(n);
  for (size_t i = 0; i < n; ++i) {
    const auto *req = reinterpret_cast<const dq_dequantize_request *>(base + i * stride);
    if (req->struct_size != stride)
      return set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                       request_text(i) + "struct_size " + std::to_string(req->struct_size) +
                           " differs from request 0's " + std::to_string(stride) +
                           " (the array's element size)");
    if (dq_status st = plan_one(ctx, req, i, &widened[i], &plan[i]); st != DQ_OK) return st;
  }
  if (std::string why = host_overlap(widened.all()); !why.empty())
    return set_error(ctx, DQ_ERR_INVALID_ARGUMENT, why);

  // Groups in order of first appearance; requests keep their order inside a group.
  dq::core::SmallBuffer<const dq::core::Backend *, kInline> order(n);
  dq::core::SmallBuffer<uint32_t, kInline> group_of(n);
  uint32_t groups = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t g = 0;
    while (g < groups && order[g] != plan[i].backend) ++g;
    if (g == groups) order[groups++] = plan[i].backend;
    group_of[i] = g;
  }
  dq::core::SmallBuffer<dq_plugin_dequantize_args, kInline> args(n);
  for (uint32_t g = 0; g < groups; ++g)
    if (dq_status st = run_group(ctx, *order[g], plan.all(), group_of.all(), g, args.first(n));
        st != DQ_OK)
      return st;
  dq::core::record_last_backend(ctx, plan[n - 1].backend->name);
  return DQ_OK;
}

}  // namespace

extern "C" {

DQ_API dq_status dq_dequantize_batch(dq_context *ctx, const dq_dequantize_request *reqs,
                                     size_t n) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  return dq::core::guarded(ctx, [&] {
    if (n == 0) return DQ_OK;
    if (!reqs)
      return set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                       "dq_dequantize_batch: reqs is NULL but n is " + std::to_string(n));
    return run_batch(ctx, reqs, n);
  });
}

}  // extern "C"
