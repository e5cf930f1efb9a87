// dq backends: every plugin found, whether it loaded, its devices and what it converts.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "context.hpp"
#include "dq/dq.h"
#include "dq/dq_plugin.h"
#include "registry/registry.hpp"

namespace dq::tool {
namespace {

constexpr int32_t kOutputs[] = {DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16};

// loaded / refused / failed / skipped: finer than dq_backend_info.loaded, so from the registry.
const char *state_of(dq_context *ctx, int32_t backend) {
  return dq::core::backend_state_name(dq::core::registry(ctx).backends()[backend].state);
}

std::string outputs_of(dq_context *ctx, int32_t backend, int32_t type) {
  std::string outs;
  for (int32_t o : kOutputs)
    if (dq_backend_supports(ctx, backend, type, o))
      outs += (outs.empty() ? "" : " ") + std::string(dq_type_name(o));
  return outs;
}

// Types the backend dequantizes to at least one output, with their outputs.
std::vector<std::pair<int32_t, std::string>> supported(dq_context *ctx, int32_t backend) {
  std::vector<std::pair<int32_t, std::string>> list;
  for (int32_t t = 0; t < DQ_TYPE_COUNT; ++t)
    if (std::string outs = outputs_of(ctx, backend, t); !outs.empty()) list.emplace_back(t, outs);
  return list;
}

void print_devices(dq_context *ctx, int32_t backend, const dq_backend_info &b) {
  for (int32_t d = 0; d < b.device_count; ++d) {
    dq_device_info dev{};
    dev.struct_size = sizeof(dev);
    if (dq_backend_get_device(ctx, backend, d, &dev) != DQ_OK) continue;
    std::printf("    device %d: %s, %.1f GiB (%.1f GiB free)%s\n", d, dev.name,
                dev.total_memory / 1073741824.0, dev.free_memory / 1073741824.0,
                dev.is_gpu ? ", gpu" : "");
  }
}

void print_backend(dq_context *ctx, int32_t i, int name_width, bool verbose) {
  dq_backend_info b{};
  b.struct_size = sizeof(b);
  if (dq_backend_get_info(ctx, i, &b) != DQ_OK) return;
  const auto types = supported(ctx, i);
  const std::string abi =
      b.abi_major ? std::to_string(b.abi_major) + "." + std::to_string(b.abi_minor) : "-";
  std::printf("%-*s %-5s %-8s %7d %6zu  %s\n", name_width, b.name, abi.c_str(), state_of(ctx, i),
              b.device_count, types.size(), b.description);
  std::printf("    path: %s\n", b.path);
  print_devices(ctx, i, b);
  if (*b.status)
    std::printf("    %s%s\n", b.loaded && b.device_count == 0 ? "no device: " : "", b.status);
  if (!verbose) return;
  for (const auto &[type, outs] : types)
    std::printf("    %-10s -> %s\n", dq_type_name(type), outs.c_str());
}

// Width of the NAME column: the longest name, at least 8.
int name_width(dq_context *ctx) {
  size_t width = 8;
  for (const auto &b : dq::core::registry(ctx).backends()) width = std::max(width, b.name.size());
  return static_cast<int>(width);
}

int run_backends(bool verbose) {
  dq_context *ctx = nullptr;
  if (dq_context_create(&ctx) != DQ_OK) {
    std::fprintf(stderr, "dq: backends: cannot create a context\n");
    return kExitFailure;
  }
  const int32_t n = dq_backend_count(ctx);
  const int width = name_width(ctx);
  std::printf("%-*s %-5s %-8s %7s %6s  %s\n", width, "NAME", "ABI", "STATE", "DEVICES", "TYPES",
              "DESCRIPTION");
  for (int32_t i = 0; i < n; ++i) print_backend(ctx, i, width, verbose);
  std::printf("searched: %s\n", dq::core::registry(ctx).searched_text().c_str());
  dq_context_destroy(ctx);
  return n > 0 ? kExitOk : kExitFailure;
}

}  // namespace

Action register_backends(CLI::App &app) {
  auto *cmd =
      app.add_subcommand("backends", "List the backend plugins found, their devices and types");
  auto verbose = std::make_shared<bool>(false);
  cmd->add_flag("-v,--verbose", *verbose, "Also list each supported type and its outputs");
  return [verbose] { return run_backends(*verbose); };
}

}  // namespace dq::tool
