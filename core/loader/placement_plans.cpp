// The usual placements built from llama-style GGUF tensor names (dq_loader.h:
// dq_plan_tensor_parallel, dq_plan_layers). Names decide the kind of split, shapes and block
// sizes decide the cuts.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "api_guard.hpp"
#include "context.hpp"
#include "dq_common/type_traits.hpp"
#include "loader/load_error.hpp"

struct dq_load_plan {
  std::deque<std::string> names;  // a deque: growing it never moves the strings parts point at
  std::vector<dq_load_part> parts;
  void add(const char *name, int32_t device, int64_t r0 = 0, int64_t r1 = -1, int64_t c0 = 0,
           int64_t c1 = -1) {
    names.emplace_back(name);
    dq_load_part p{};
    p.struct_size = sizeof p;
    p.name = names.back().c_str();
    p.device = device;
    p.row_begin = r0, p.row_end = r1, p.col_begin = c0, p.col_end = c1;
    parts.push_back(p);
  }
};

namespace {

using dq::loader::LoadError;

enum class Split { replicate, rows, columns };

// "blk.12.attn_q.weight" -> layer 12, kind "attn_q", suffix "weight"; no layer: -1.
struct NameParts {
  int64_t layer = -1;
  std::string kind, suffix;
};
NameParts parse_name(const std::string &name) {
  NameParts p;
  std::string rest = name;
  if (name.rfind("blk.", 0) == 0) {
    const size_t dot = name.find('.', 4);
    int64_t layer = -1;
    // from_chars: a number too large for int64 (a hostile file) is no layer, not a throw.
    if (dot != std::string::npos && dot > 4 &&
        std::from_chars(name.data() + 4, name.data() + dot, layer).ptr == name.data() + dot &&
        layer >= 0 && layer < (int64_t{1} << 31)) {
      p.layer = layer;
      rest = name.substr(dot + 1);
    }
  }
  const size_t last = rest.rfind('.');
  p.kind = last == std::string::npos ? rest : rest.substr(0, last);
  p.suffix = last == std::string::npos ? "" : rest.substr(last + 1);
  return p;
}

bool one_of(const std::string &s, std::initializer_list<const char *> names) {
  return std::any_of(names.begin(), names.end(), [&](const char *n) { return s == n; });
}

// Megatron-style tensor parallelism in ggml's layout (ne[0] = in-features, ne[1] = out):
// column-parallel layers split their outputs (rows), row-parallel ones their inputs (columns).
Split tensor_parallel_split(const dq_tensor_info &t) {
  const NameParts p = parse_name(t.name);
  const bool column_parallel = one_of(p.kind, {"attn_q", "attn_k", "attn_v", "attn_qkv",
                                               "ffn_gate", "ffn_up", "output", "token_embd"});
  const bool row_parallel = one_of(p.kind, {"attn_output", "ffn_down"});
  if (t.n_dims == 1 && p.suffix == "bias" && column_parallel) return Split::columns;
  if (t.n_dims != 2) return Split::replicate;  // norms, experts' 3-D tensors, scalars
  if (column_parallel) return Split::rows;
  if (row_parallel) return Split::columns;
  return Split::replicate;
}

// Cut `units` into n balanced runs; [begin, end) of run i.
std::pair<int64_t, int64_t> run_of(int64_t units, int32_t n, int32_t i) {
  return {units * i / n, units * (i + 1) / n};
}

std::vector<dq_tensor_info> tensors_of(const dq_model *model) {
  const int64_t count = dq_model_tensor_count(model);
  std::vector<dq_tensor_info> out(count < 0 ? 0 : static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    out[i].struct_size = sizeof(dq_tensor_info);
    const dq_status st = dq_model_tensor_info(model, i, &out[i]);
    if (st != DQ_OK) throw LoadError(st, "reading tensor " + std::to_string(i) + " failed");
  }
  return out;
}

void tensor_parallel(dq_load_plan &plan, const dq_model *model, int32_t n, int32_t rank) {
  for (const dq_tensor_info &t : tensors_of(model)) {
    const Split split = tensor_parallel_split(t);
    const std::string name = t.name;
    const dq::TypeTraits *tt = dq::type_traits(t.type);
    const int64_t block = tt ? tt->block_elements : 1;
    const int64_t rows = t.ne[0] > 0 ? t.n_elements / t.ne[0] : 0;
    int64_t units = 0;
    if (split == Split::rows) {
      units = rows;
      if (units < n)
        throw LoadError(DQ_ERR_SIZE, "tensor " + name + ": " + std::to_string(rows) +
                                         " rows cannot be split over " + std::to_string(n) +
                                         " devices");
    } else if (split == Split::columns) {
      if (t.ne[0] % block != 0 || t.ne[0] / block < n)
        throw LoadError(DQ_ERR_SIZE, "tensor " + name + ": " + std::to_string(t.ne[0]) +
                                         " columns cannot be split over " + std::to_string(n) +
                                         " devices at whole " + (tt ? tt->name : "?") +
                                         " blocks (block size " + std::to_string(block) +
                                         " elements)");
      units = t.ne[0] / block;
    }
    for (int32_t d = 0; d < n; ++d) {
      if (rank >= 0 && d != rank) continue;
      const int32_t device = rank >= 0 ? 0 : d;
      const auto [a, b] = run_of(units, n, d);
      switch (split) {
        case Split::replicate:
          plan.add(t.name, device);
          break;
        case Split::rows:
          plan.add(t.name, device, a, b);
          break;
        case Split::columns:
          plan.add(t.name, device, 0, -1, a * block, b * block);
          break;
      }
    }
  }
}

void layers(dq_load_plan &plan, const dq_model *model, int32_t n) {
  const auto tensors = tensors_of(model);
  int64_t n_layers = 0;
  for (const dq_tensor_info &t : tensors)
    n_layers = std::max(n_layers, parse_name(t.name).layer + 1);
  for (const dq_tensor_info &t : tensors) {
    const NameParts p = parse_name(t.name);
    int32_t device = 0;
    if (p.layer >= 0)
      device = static_cast<int32_t>(p.layer * n / n_layers);
    else if (one_of(p.kind, {"output", "output_norm"}))
      device = n - 1;  // the head sits after the last layer
    plan.add(t.name, device);
  }
}

template <class F>
dq_status build(dq_context *ctx, const dq_model *model, int32_t n, dq_load_plan **out,
                const char *what, F &&fill) {
  if (!ctx) return DQ_ERR_INVALID_ARGUMENT;
  if (!out) return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT, std::string(what) + ": out is NULL");
  *out = nullptr;
  if (!model)
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT, std::string(what) + ": model is NULL");
  if (n < 1)
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                               std::string(what) + ": n_devices is " + std::to_string(n) +
                                   ", must be at least 1");
  try {
    auto plan = std::make_unique<dq_load_plan>();
    fill(*plan);
    *out = plan.release();
    return DQ_OK;
  } catch (const LoadError &e) {
    return dq::core::set_error(ctx, e.status(), std::string(what) + ": " + e.what());
  } catch (const std::bad_alloc &) {
    return dq::core::set_error(ctx, DQ_ERR_OUT_OF_MEMORY, std::string(what) + ": out of memory");
  } catch (const std::exception &e) {
    return dq::core::set_error(ctx, DQ_ERR_INTERNAL, std::string(what) + ": " + e.what());
  }
}

}  // namespace

extern "C" {

DQ_API dq_status dq_plan_tensor_parallel(dq_context *ctx, const dq_model *model, int32_t n_devices,
                                         int32_t rank, dq_load_plan **out) {
  if (ctx && rank >= n_devices && n_devices >= 1)
    return dq::core::set_error(ctx, DQ_ERR_INVALID_ARGUMENT,
                               "dq_plan_tensor_parallel: rank " + std::to_string(rank) +
                                   " of a world of " + std::to_string(n_devices));
  return build(ctx, model, n_devices, out, "dq_plan_tensor_parallel",
               [&](dq_load_plan &p) { tensor_parallel(p, model, n_devices, rank); });
}

DQ_API dq_status dq_plan_layers(dq_context *ctx, const dq_model *model, int32_t n_devices,
                                dq_load_plan **out) {
  return build(ctx, model, n_devices, out, "dq_plan_layers",
               [&](dq_load_plan &p) { layers(p, model, n_devices); });
}

DQ_API const dq_load_part *dq_load_plan_parts(const dq_load_plan *plan, size_t *n_parts) {
  if (n_parts) *n_parts = plan ? plan->parts.size() : 0;
  return plan && !plan->parts.empty() ? plan->parts.data() : nullptr;
}

DQ_API void dq_load_plan_free(dq_load_plan *plan) {
  delete plan;
}

}  // extern "C"
