// dq dequant: one tensor of a GGUF file to raw little-endian f32/f16/bf16 values.
//
// The tensor is streamed: read from the file (pread, so a file truncated meanwhile is an I/O
// error rather than SIGBUS) a whole number of blocks at a time, dequantized, written. Memory
// stays near two chunk buffers whatever the tensor's size. The output appears only when
// complete (atomic_output.hpp).
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "atomic_output.hpp"
#include "commands.hpp"
#include "dq/dq.h"
#include "dq_common/type_traits.hpp"
#include "name_suggestions.hpp"
#include "path_option.hpp"
#include "report.hpp"
#include "terminal_text.hpp"

namespace dq::tool {
namespace {

static_assert(std::endian::native == std::endian::little,
              "dq dequant writes host-order values; add a byte swap for big-endian hosts");

// Output bytes per chunk: large enough that per-call costs vanish, small next to memory.
constexpr uint64_t kChunkOutputBytes = 64ull << 20;

struct Options {
  std::string file, tensor, to = "f32", backend, out;
  bool verbose = false;
};

struct ContextCloser {
  void operator()(dq_context *c) const { dq_context_destroy(c); }
};
struct ModelCloser {
  void operator()(dq_model *m) const { dq_model_close(m); }
};

int fail(const std::string &where, const std::string &problem, int code = kExitFailure) {
  return report_failure(where, problem, code);
}

std::string quoted(const std::string &name) { return "'" + terminal_safe(name) + "'"; }

// Every file the model was read from: the path given and, for a split model, its other parts
// ("NAME-00001-of-00003.gguf": the same name with the part number changed, as the core finds
// them; its split-name helpers are not exported from libdq-core).
std::vector<std::string> input_files(const std::string &path, const dq_model *model) {
  std::vector<std::string> files{path};
  const uint32_t parts = dq_model_split_count(model);
  const std::string tail = "-00000-of-00000.gguf";
  if (parts <= 1 || path.size() < tail.size()) return files;
  const size_t number_at = path.size() - tail.size() + 1;
  for (uint32_t p = 1; p <= parts && p <= 99999; ++p) {
    char digits[8];
    std::snprintf(digits, sizeof digits, "%05u", p);
    files.push_back(path.substr(0, number_at) + digits + path.substr(number_at + 5));
  }
  return files;
}

// "no tensor named 'X'" and, when some name is a likely typo of it, "; did you mean 'Y'?".
std::string no_such_tensor(const dq_model *model, const std::string &wanted) {
  std::vector<std::string> names;
  const int64_t n = dq_model_tensor_count(model);
  for (int64_t i = 0; i < n; ++i) {
    dq_tensor_info t{};
    t.struct_size = sizeof(t);
    if (dq_model_tensor_info(model, i, &t) == DQ_OK) names.emplace_back(t.name);
  }
  std::string msg = "no tensor named " + quoted(wanted);
  const auto close = closest_names(wanted, names);
  for (size_t i = 0; i < close.size(); ++i)
    msg += (i == 0 ? "; did you mean " : i + 1 == close.size() ? " or " : ", ") + quoted(close[i]);
  return close.empty() ? msg : msg + "?";
}

// Elements per chunk: a whole number of blocks, about kChunkOutputBytes of output.
uint64_t chunk_elements(const TypeTraits &t, size_t out_size) {
  const uint64_t block = static_cast<uint64_t>(t.block_elements);
  const uint64_t blocks = std::max<uint64_t>(1, kChunkOutputBytes / out_size / block);
  return blocks * block;
}

int stream_tensor(dq_context *ctx, const dq_model *model, int64_t index, const Options &o,
                  const dq_tensor_info &t, int32_t out_type, AtomicOutput &out) {
  const TypeTraits *traits = type_traits(t.type);
  const size_t out_size = out_type == DQ_TYPE_F32 ? 4 : 2;
  const std::string what = "tensor " + quoted(o.tensor);
  if (!traits || traits->block_elements <= 0 || !traits->dequantizable)
    return fail(o.file, what + ": type " + dq_type_name(t.type) + " cannot be dequantized");
  const uint64_t total = static_cast<uint64_t>(t.n_elements);
  const uint64_t step = chunk_elements(*traits, out_size);
  const uint64_t block = static_cast<uint64_t>(traits->block_elements);
  std::vector<unsigned char> src(step / block * traits->block_bytes), dst(step * out_size);
  for (uint64_t done = 0; done < total;) {
    const uint64_t n = std::min(step, total - done);
    const uint64_t src_offset = done / block * traits->block_bytes;
    const uint64_t src_bytes = (n + block - 1) / block * traits->block_bytes;
    if (dq_model_read_tensor(ctx, model, index, src_offset, src.data(), src_bytes) != DQ_OK)
      return fail(o.file, dq_last_error(ctx));
    dq_dequantize_request req{};
    req.struct_size = sizeof(req);
    req.src_type = t.type;
    req.dst_type = out_type;
    req.src = src.data();
    req.src_bytes = src_bytes;
    req.n_elements = static_cast<int64_t>(n);
    req.dst = dst.data();
    req.dst_bytes = n * out_size;
    req.backend = o.backend.empty() ? nullptr : o.backend.c_str();
    if (dq_dequantize(ctx, &req) != DQ_OK) return fail(o.file, what + ": " + dq_last_error(ctx));
    if (!out.write(dst.data(), n * out_size)) return fail("", out.problem());
    done += n;
  }
  if (o.verbose)
    std::fprintf(stderr, "dq: %s: %s %" PRId64 " elements -> %s on %s\n",
                 terminal_safe(o.tensor).c_str(), dq_type_name(t.type), t.n_elements,
                 o.to.c_str(), dq_last_backend(ctx));
  return kExitOk;
}

int run_dequant(const Options &o) {
  dq_context *raw_ctx = nullptr;
  if (dq_context_create(&raw_ctx) != DQ_OK) return fail(o.file, "cannot create a context");
  std::unique_ptr<dq_context, ContextCloser> ctx(raw_ctx);
  if (!o.backend.empty() && dq_backend_find(ctx.get(), o.backend.c_str()) < 0)
    return fail("--backend " + quoted(o.backend), "no such backend (dq backends lists them)",
                kExitUsage);
  dq_model *raw_model = nullptr;
  if (dq_model_open(ctx.get(), o.file.c_str(), &raw_model) != DQ_OK)
    return fail(o.file, dq_last_error(ctx.get()));
  std::unique_ptr<dq_model, ModelCloser> model(raw_model);
  const int64_t index = dq_model_tensor_find(model.get(), o.tensor.c_str());
  if (index < 0) return fail(o.file, no_such_tensor(model.get(), o.tensor));
  dq_tensor_info t{};
  t.struct_size = sizeof(t);
  if (dq_model_tensor_info(model.get(), index, &t) != DQ_OK)
    return fail(o.file, dq_last_error(ctx.get()));
  AtomicOutput out;
  if (!out.open(o.out, input_files(o.file, model.get())))
    return fail("", out.problem(), out.usage_error() ? kExitUsage : kExitFailure);
  const int rc = stream_tensor(ctx.get(), model.get(), index, o, t,
                               dq_type_from_name(o.to.c_str()), out);
  if (rc != kExitOk) return rc;  // `out` removes its temporary file
  if (!out.commit()) return fail("", out.problem());
  return kExitOk;
}

}  // namespace

Action register_dequant(CLI::App &app) {
  auto *cmd = app.add_subcommand("dequant", "Dequantize one tensor to raw little-endian values");
  auto o = std::make_shared<Options>();
  cmd->add_option("file", o->file, "GGUF file")->required()->check(non_empty_path());
  cmd->add_option("--tensor", o->tensor, "Tensor name")->required();
  cmd->add_option("--to", o->to, "Output type (default f32)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  cmd->add_option("--backend", o->backend, "Force a backend (default: chosen per tensor)");
  cmd->add_option("--out", o->out, "Output file ('-' for stdout)")
      ->required()
      ->check(non_empty_path());
  cmd->add_flag("-v,--verbose", o->verbose, "Say which backend did the work");
  return [o] { return run_dequant(*o); };
}

}  // namespace dq::tool
