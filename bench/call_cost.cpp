// ns per call of the smallest dq_dequantize / dq_dequantize_batch calls (one 32-element block),
// and of the same work handed straight to the plugin's table: the difference is the core's own
// host cost per call (validation, backend choice, bookkeeping), which diffusers, ComfyUI-GGUF
// and vLLM pay for every weight matrix on every forward pass.
//
//   DQ_THREADS=1 DQ_PLUGIN_PATH=<dir of libdq-fakedev.so> dq_call_cost [reps] [calls per rep]
//
// Cases run interleaved (rep by rep) so machine noise spreads over all of them; each line
// prints the median and the minimum over the reps.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dq/dq.h"
#include "dq/dq_plugin.h"

namespace {

constexpr int kBatch = 8;
constexpr int64_t kBlock = 32;

[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "dq_call_cost: %s\n", what.c_str());
  std::exit(1);
}

void check(dq_context *ctx, dq_status st, const char *what) {
  if (st != DQ_OK) die(std::string(what) + ": " + dq_last_error(ctx));
}

struct Case {
  std::string name;
  std::function<void()> call;  // one call (a batch counts as one call)
  std::vector<double> ns{};    // per rep
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The plugin's own table, from the same file the core opened (same handle: already
// initialized by the core).
const dq_plugin_api *plugin_table(dq_context *ctx, const char *name) {
  const int32_t i = dq_backend_find(ctx, name);
  if (i < 0) return nullptr;
  dq_backend_info info{};
  info.struct_size = sizeof info;
  if (dq_backend_get_info(ctx, i, &info) != DQ_OK || !info.loaded) return nullptr;
  void *lib = dlopen(info.path, RTLD_NOW | RTLD_NOLOAD);
  if (!lib) return nullptr;
  auto entry = reinterpret_cast<dq_plugin_entry_fn>(dlsym(lib, DQ_PLUGIN_ENTRY_SYMBOL));
  return entry ? entry(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR) : nullptr;
}

dq_plugin_dequantize_args args_of(const dq_dequantize_request &r, bool on_host) {
  dq_plugin_dequantize_args a{};
  a.struct_size = sizeof a;
  a.src_type = r.src_type;
  a.dst_type = r.dst_type;
  a.src = r.src;
  a.src_bytes = r.src_bytes;
  a.n_elements = r.n_elements;
  a.dst = r.dst;
  a.dst_bytes = r.dst_bytes;
  a.src_on_host = a.dst_on_host = on_host ? 1 : 0;
  return a;
}

// One block of `type` (all bytes 0x11: finite scales) into f32, 8 times over for the batch.
struct Buffers {
  std::vector<dq_dequantize_request> reqs;
};

Buffers host_requests(int32_t type, std::vector<std::vector<unsigned char>> &keep) {
  Buffers b;
  uint64_t src_bytes = 0;  // 32 elements: one block of a quantized type, 32 values of f16
  if (dq_type_nbytes(type, kBlock, &src_bytes) != DQ_OK) die("dq_type_nbytes failed");
  for (int i = 0; i < kBatch; ++i) {
    keep.emplace_back(src_bytes, 0x11);
    const void *src = keep.back().data();
    keep.emplace_back(kBlock * sizeof(float), 0);
    dq_dequantize_request r{};
    r.struct_size = sizeof r;
    r.src_type = type;
    r.dst_type = DQ_TYPE_F32;
    r.src = src;
    r.src_bytes = src_bytes;
    r.n_elements = kBlock;
    r.dst = keep.back().data();
    r.dst_bytes = kBlock * sizeof(float);
    b.reqs.push_back(r);
  }
  return b;
}

}  // namespace

int main(int argc, char **argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 9;
  const long calls = argc > 2 ? std::atol(argv[2]) : 200000;
  if (reps < 1 || calls < 1) die("usage: dq_call_cost [reps >= 1] [calls per rep >= 1]");
  setenv("DQ_THREADS", "1", 0);  // single thread unless the caller says otherwise

  dq_context *ctx = nullptr;
  if (dq_context_create(&ctx) != DQ_OK) die("dq_context_create failed");
  std::vector<std::vector<unsigned char>> keep;
  keep.reserve(64);
  std::vector<Case> cases;

  const dq_plugin_api *cpu = plugin_table(ctx, "cpu");
  if (!cpu) die("no loaded cpu plugin (build dq-cpu)");
  for (int32_t type : {DQ_TYPE_Q4_0, DQ_TYPE_F16}) {
    auto b = std::make_shared<Buffers>(host_requests(type, keep));
    const std::string t = dq_type_name(type);
    check(ctx, dq_dequantize(ctx, &b->reqs[0]), "warm-up");
    if (std::strcmp(dq_last_backend(ctx), "cpu") != 0)
      die(t + " went to backend '" + dq_last_backend(ctx) + "', not cpu");
    auto one = std::make_shared<dq_plugin_dequantize_args>(args_of(b->reqs[0], true));
    cases.push_back({"cpu  " + t + " 1 block: plugin table directly", [cpu, one] {
                       if (cpu->dequantize(one.get()) != 0) die("cpu plugin call failed");
                     }, {}});
    cases.push_back({"cpu  " + t + " 1 block: dq_dequantize", [ctx, b] {
                       check(ctx, dq_dequantize(ctx, &b->reqs[0]), "dq_dequantize");
                     }, {}});
    if (type == DQ_TYPE_Q4_0)
      cases.push_back({"cpu  " + t + " 8 x 1 block: dq_dequantize_batch", [ctx, b] {
                         check(ctx, dq_dequantize_batch(ctx, b->reqs.data(), kBatch), "batch");
                       }, {}});
  }

  // Device pointers of the fake device plugin (host memory behind a device location): the
  // core's path for device memory. It does q8_0 -> f32 only.
  if (const dq_plugin_api *fd = plugin_table(ctx, "fakedev")) {
    auto b = std::make_shared<Buffers>(host_requests(DQ_TYPE_Q8_0, keep));
    const dq_location dev{"fakedev", 0};
    for (auto &r : b->reqs) {
      void *src = nullptr, *dst = nullptr;
      check(ctx, dq_malloc(ctx, dev, r.src_bytes, &src), "dq_malloc");
      check(ctx, dq_malloc(ctx, dev, r.dst_bytes, &dst), "dq_malloc");
      check(ctx, dq_memcpy(ctx, src, dev, r.src, {nullptr, 0}, r.src_bytes), "dq_memcpy");
      r.src = src;
      r.dst = dst;
      r.src_where = r.dst_where = dev;
    }
    check(ctx, dq_dequantize(ctx, &b->reqs[0]), "fakedev warm-up");
    auto one = std::make_shared<dq_plugin_dequantize_args>(args_of(b->reqs[0], false));
    cases.push_back({"fakedev q8_0 1 block: plugin table directly", [fd, one] {
                       if (fd->dequantize(one.get()) != 0) die("fakedev plugin call failed");
                     }, {}});
    cases.push_back({"fakedev q8_0 1 block: dq_dequantize", [ctx, b] {
                       check(ctx, dq_dequantize(ctx, &b->reqs[0]), "dq_dequantize fakedev");
                     }, {}});
    cases.push_back({"fakedev q8_0 8 x 1 block: dq_dequantize_batch", [ctx, b] {
                       check(ctx, dq_dequantize_batch(ctx, b->reqs.data(), kBatch), "batch fakedev");
                     }, {}});
  } else {
    std::printf("(no fakedev plugin loaded: set DQ_PLUGIN_PATH to build/tests/conformance/fakedev)\n");
  }

  for (int rep = 0; rep < reps; ++rep)
    for (auto &c : cases) {
      const auto t0 = std::chrono::steady_clock::now();
      for (long i = 0; i < calls; ++i) c.call();
      const std::chrono::duration<double, std::nano> dt = std::chrono::steady_clock::now() - t0;
      c.ns.push_back(dt.count() / static_cast<double>(calls));
    }

  std::printf("%-50s %10s %10s   (%d reps x %ld calls, DQ_THREADS=%s)\n", "case", "median ns",
              "min ns", reps, calls, std::getenv("DQ_THREADS"));
  for (const auto &c : cases)
    std::printf("%-50s %10.1f %10.1f\n", c.name.c_str(), median(c.ns),
                *std::min_element(c.ns.begin(), c.ns.end()));
  dq_context_destroy(ctx);  // device buffers go with the plugin's own memory at unload
  return 0;
}
