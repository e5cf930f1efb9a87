// dq dequant: one tensor of a GGUF file to raw little-endian f32/f16/bf16 values.
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "dq/dq.h"

namespace dq::tool {
namespace {

static_assert(std::endian::native == std::endian::little,
              "dq dequant writes host-order values; add a byte swap for big-endian hosts");

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

int fail(const std::string &where, const std::string &problem) {
  std::fprintf(stderr, "dq: %s: %s\n", where.c_str(), problem.c_str());
  return kExitFailure;
}

int write_raw(const std::string &path, const std::vector<unsigned char> &bytes) {
  FILE *f = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (!f) return fail(path, std::string("cannot open for writing: ") + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = (f == stdout) ? std::fflush(f) == 0 : std::fclose(f) == 0;
  if (!ok || !closed) return fail(path, std::string("write failed: ") + std::strerror(errno));
  return kExitOk;
}

int dequantize(dq_context *ctx, const Options &o, const dq_tensor_info &t, int32_t out_type) {
  const size_t out_size = out_type == DQ_TYPE_F32 ? 4 : 2;
  if (static_cast<uint64_t>(t.n_elements) > SIZE_MAX / out_size)
    return fail(o.file, "tensor " + o.tensor + " is too large for this machine");
  std::vector<unsigned char> out(static_cast<size_t>(t.n_elements) * out_size);
  dq_dequantize_request req{};
  req.struct_size = sizeof(req);
  req.src_type = t.type;
  req.dst_type = out_type;
  req.src = t.data;
  req.src_bytes = t.n_bytes;
  req.n_elements = t.n_elements;
  req.dst = out.data();
  req.dst_bytes = out.size();
  req.backend = o.backend.empty() ? nullptr : o.backend.c_str();
  if (dq_dequantize(ctx, &req) != DQ_OK)
    return fail(o.file, "tensor " + o.tensor + ": " + dq_last_error(ctx));
  if (o.verbose)
    std::fprintf(stderr, "dq: %s: %s %" PRId64 " elements -> %s on %s\n", o.tensor.c_str(),
                 dq_type_name(t.type), t.n_elements, o.to.c_str(), dq_last_backend(ctx));
  return write_raw(o.out, out);
}

int run_dequant(const Options &o) {
  dq_context *raw_ctx = nullptr;
  if (dq_context_create(&raw_ctx) != DQ_OK) return fail(o.file, "cannot create a context");
  std::unique_ptr<dq_context, ContextCloser> ctx(raw_ctx);
  dq_model *raw_model = nullptr;
  if (dq_model_open(ctx.get(), o.file.c_str(), &raw_model) != DQ_OK)
    return fail(o.file, dq_last_error(ctx.get()));
  std::unique_ptr<dq_model, ModelCloser> model(raw_model);
  const int64_t index = dq_model_tensor_find(model.get(), o.tensor.c_str());
  if (index < 0) return fail(o.file, "no tensor named '" + o.tensor + "'");
  dq_tensor_info t{};
  t.struct_size = sizeof(t);
  if (dq_model_tensor_info(model.get(), index, &t) != DQ_OK)
    return fail(o.file, dq_last_error(ctx.get()));
  return dequantize(ctx.get(), o, t, dq_type_from_name(o.to.c_str()));
}

}  // namespace

Action register_dequant(CLI::App &app) {
  auto *cmd = app.add_subcommand("dequant", "Dequantize one tensor to raw little-endian values");
  auto o = std::make_shared<Options>();
  cmd->add_option("file", o->file, "GGUF file")->required();
  cmd->add_option("--tensor", o->tensor, "Tensor name")->required();
  cmd->add_option("--to", o->to, "Output type (default f32)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  cmd->add_option("--backend", o->backend, "Force a backend (default: chosen per tensor)");
  cmd->add_option("--out", o->out, "Output file ('-' for stdout)")->required();
  cmd->add_flag("-v,--verbose", o->verbose, "Say which backend did the work");
  return [o] { return run_dequant(*o); };
}

}  // namespace dq::tool
