// Issue 17: dq_dequantize and dq_dequantize_batch on device memory with a caller stream are
// capture-safe. Each test captures the calls into a CUDA graph in the strictest mode (global:
// any allocation, synchronization or other unsafe call anywhere in the process fails the
// capture), checks that the graph holds kernel launches only (no allocation node; one per
// (type, output) group for a batch), replays it twice over changed inputs and compares every
// output with the cpu plugin. A last test compares a mixed batch with single calls on the
// GPU. Everything goes through the public C API; the capture calls come from libcuda, opened
// at run time (the tests link no CUDA). Runs in a process of its own so the kernels' first
// use (attributes, occupancy, tables) happens during capture too.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "device_fixture.hpp"
#include "dq/dq.h"
#include "dq_common/type_traits.hpp"

namespace {

// The driver entry points the test needs (CUresult is an int; handles are pointers).
struct Driver {
  int (*stream_create)(void **stream, unsigned flags) = nullptr;                 // cuStreamCreate
  int (*stream_destroy)(void *stream) = nullptr;                                  // cuStreamDestroy_v2
  int (*begin_capture)(void *stream, int mode) = nullptr;                         // cuStreamBeginCapture_v2
  int (*end_capture)(void *stream, void **graph) = nullptr;                       // cuStreamEndCapture
  int (*instantiate)(void **exec, void *graph, unsigned long long flags) = nullptr;  // cuGraphInstantiateWithFlags
  int (*launch)(void *exec, void *stream) = nullptr;                              // cuGraphLaunch
  int (*exec_destroy)(void *exec) = nullptr;                                      // cuGraphExecDestroy
  int (*graph_destroy)(void *graph) = nullptr;                                    // cuGraphDestroy
  int (*get_nodes)(void *graph, void **nodes, size_t *n) = nullptr;               // cuGraphGetNodes
  int (*node_type)(void *node, int *type) = nullptr;                              // cuGraphNodeGetType
  std::string error;  // why the driver is unusable
};

constexpr int kCaptureModeGlobal = 0;  // CU_STREAM_CAPTURE_MODE_GLOBAL
constexpr int kStreamNonBlocking = 1;  // CU_STREAM_NON_BLOCKING
constexpr int kNodeKernel = 0;         // CU_GRAPH_NODE_TYPE_KERNEL
constexpr int kNodeMemcpy = 1;         // CU_GRAPH_NODE_TYPE_MEMCPY (F32 -> F32 is a copy)

const Driver &driver() {
  static const Driver d = [] {
    Driver r;
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      r.error = "libcuda.so.1 not loadable";
      return r;
    }
    auto get = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(h, name));
      if (!fn && r.error.empty()) r.error = std::string("libcuda has no ") + name;
    };
    get(r.stream_create, "cuStreamCreate");
    get(r.stream_destroy, "cuStreamDestroy_v2");
    get(r.begin_capture, "cuStreamBeginCapture_v2");
    get(r.end_capture, "cuStreamEndCapture");
    get(r.instantiate, "cuGraphInstantiateWithFlags");
    get(r.launch, "cuGraphLaunch");
    get(r.exec_destroy, "cuGraphExecDestroy");
    get(r.graph_destroy, "cuGraphDestroy");
    get(r.get_nodes, "cuGraphGetNodes");
    get(r.node_type, "cuGraphNodeGetType");
    return r;
  }();
  return d;
}

constexpr dq_location kHost{nullptr, 0};
constexpr dq_location kGpu{"cuda", 0};

// One tensor: host source, device source and destination, and its cpu reference.
struct Tensor {
  int32_t type, out;
  int64_t n;
  size_t dst_offset;  // bytes into the device destination (misaligned stores when not 16)
  std::vector<uint8_t> src;
  void *d_src = nullptr, *d_dst = nullptr;
  size_t src_bytes() const { return src.size(); }
  size_t dst_bytes() const { return static_cast<size_t>(n) * dq::output_type_size(out); }
  uint8_t *dst() const { return static_cast<uint8_t *>(d_dst) + dst_offset; }
};

class CudaGraphCapture : public ::testing::Test {
 protected:
  dq_context *ctx = nullptr;
  void *stream = nullptr;
  std::vector<Tensor> tensors;

  void SetUp() override {
    ASSERT_EQ(dq_context_create(&ctx), DQ_OK);
    const int32_t b = dq_backend_find(ctx, "cuda");
    if (b < 0) GTEST_SKIP() << "no cuda plugin in this build";
    dq_backend_info info{};
    info.struct_size = sizeof info;
    ASSERT_EQ(dq_backend_get_info(ctx, b, &info), DQ_OK);
    if (!info.loaded || info.device_count < 1) GTEST_SKIP() << "cuda: " << info.status;
    if (!driver().error.empty()) GTEST_SKIP() << driver().error;
    // A device allocation makes the primary context current on this thread for the driver.
    void *probe = nullptr;
    ASSERT_EQ(dq_malloc(ctx, kGpu, 256, &probe), DQ_OK) << dq_last_error(ctx);
    ASSERT_EQ(dq_free(ctx, kGpu, probe), DQ_OK);
    ASSERT_EQ(driver().stream_create(&stream, kStreamNonBlocking), 0);
  }
  void TearDown() override {
    for (Tensor &t : tensors) {
      if (t.d_src) dq_free(ctx, kGpu, t.d_src);
      if (t.d_dst) dq_free(ctx, kGpu, t.d_dst);
    }
    if (stream) driver().stream_destroy(stream);
    dq_context_destroy(ctx);
  }

  void add(int32_t type, int32_t out, int64_t n_blocks, size_t dst_offset = 0) {
    Tensor t{type, out, n_blocks * dq::type_traits(type)->block_elements, dst_offset, {}};
    t.src = dq::test::random_bytes(n_blocks * dq::type_traits(type)->block_bytes, 1000 + tensors.size());
    ASSERT_EQ(dq_malloc(ctx, kGpu, t.src_bytes(), &t.d_src), DQ_OK) << dq_last_error(ctx);
    ASSERT_EQ(dq_malloc(ctx, kGpu, t.dst_bytes() + dst_offset, &t.d_dst), DQ_OK) << dq_last_error(ctx);
    tensors.push_back(std::move(t));
    upload(tensors.back());
  }
  void upload(const Tensor &t) {
    ASSERT_EQ(dq_memcpy(ctx, t.d_src, kGpu, t.src.data(), kHost, t.src_bytes()), DQ_OK) << dq_last_error(ctx);
    const std::vector<uint8_t> fill(t.dst_bytes(), 0xEE);  // visible when not written
    ASSERT_EQ(dq_memcpy(ctx, t.dst(), kGpu, fill.data(), kHost, fill.size()), DQ_OK) << dq_last_error(ctx);
  }
  // New source bytes for every tensor (a replay must read the current contents).
  void refresh(uint64_t seed) {
    for (size_t i = 0; i < tensors.size(); ++i) {
      tensors[i].src = dq::test::random_bytes(tensors[i].src_bytes(), seed + i);
      upload(tensors[i]);
    }
  }
  dq_dequantize_request device_request(const Tensor &t, void *on_stream) const {
    dq_dequantize_request r{};
    r.struct_size = sizeof r;
    r.src_type = t.type;
    r.dst_type = t.out;
    r.src = t.d_src;
    r.src_bytes = t.src_bytes();
    r.n_elements = t.n;
    r.dst = t.dst();
    r.dst_bytes = t.dst_bytes();
    r.src_where = r.dst_where = kGpu;
    r.stream = on_stream;
    return r;
  }
  std::vector<uint8_t> download(const Tensor &t) {
    std::vector<uint8_t> out(t.dst_bytes());
    EXPECT_EQ(dq_memcpy(ctx, out.data(), kHost, t.dst(), kGpu, out.size()), DQ_OK) << dq_last_error(ctx);
    return out;
  }
  std::vector<uint8_t> reference(const Tensor &t) {
    std::vector<uint8_t> out(t.dst_bytes());
    dq_dequantize_request r{};
    r.struct_size = sizeof r;
    r.src_type = t.type;
    r.dst_type = t.out;
    r.src = t.src.data();
    r.src_bytes = t.src_bytes();
    r.n_elements = t.n;
    r.dst = out.data();
    r.dst_bytes = out.size();
    r.backend = "cpu";
    EXPECT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
    return out;
  }
  void expect_outputs_match_cpu(const std::string &when) {
    ASSERT_EQ(dq_synchronize(ctx, kGpu, stream), DQ_OK) << dq_last_error(ctx);
    for (size_t i = 0; i < tensors.size(); ++i) {
      const Tensor &t = tensors[i];
      EXPECT_EQ(dq::test::compare_outputs(download(t), reference(t), t.out), "")
          << when << ": tensor " << i << " (" << dq::type_traits(t.type)->name << " -> out " << t.out << ")";
    }
  }

  // Captures `calls` on the stream; returns the graph (null on failure, with a test failure).
  template <typename Calls>
  void *capture(Calls &&calls) {
    EXPECT_EQ(driver().begin_capture(stream, kCaptureModeGlobal), 0);
    calls();
    void *graph = nullptr;
    const int rc = driver().end_capture(stream, &graph);
    EXPECT_EQ(rc, 0) << "the capture was invalidated: a call during it was not capture-safe";
    return rc == 0 ? graph : nullptr;
  }
  // Node types of the graph.
  std::vector<int> node_types(void *graph) {
    size_t n = 0;
    EXPECT_EQ(driver().get_nodes(graph, nullptr, &n), 0);
    std::vector<void *> nodes(n);
    EXPECT_EQ(driver().get_nodes(graph, nodes.data(), &n), 0);
    std::vector<int> types;
    for (void *node : nodes) {
      int type = -1;
      EXPECT_EQ(driver().node_type(node, &type), 0);
      types.push_back(type);
    }
    return types;
  }
  // Instantiates the graph and replays it twice, over fresh inputs each time.
  void replay_and_check(void *graph) {
    void *exec = nullptr;
    ASSERT_EQ(driver().instantiate(&exec, graph, 0), 0);
    for (int round = 0; round < 2; ++round) {
      refresh(7000 + 100 * round);
      ASSERT_EQ(driver().launch(exec, stream), 0);
      expect_outputs_match_cpu("replay " + std::to_string(round));
    }
    driver().exec_destroy(exec);
  }
};

TEST_F(CudaGraphCapture, SingleCallsCaptureAsKernelsAndReplay) {
  add(DQ_TYPE_Q4_K, DQ_TYPE_F16, 96);
  add(DQ_TYPE_Q8_0, DQ_TYPE_BF16, 700, 2);  // misaligned destination
  add(DQ_TYPE_IQ2_XS, DQ_TYPE_F32, 40);     // a grid table in shared memory
  add(DQ_TYPE_F16, DQ_TYPE_F32, 5000);      // the element kernel
  if (HasFatalFailure()) return;
  void *graph = capture([&] {
    for (const Tensor &t : tensors) {
      const dq_dequantize_request r = device_request(t, stream);
      EXPECT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
    }
  });
  ASSERT_NE(graph, nullptr);
  const std::vector<int> types = node_types(graph);
  EXPECT_EQ(types.size(), tensors.size()) << "one launch per call";
  for (int t : types) EXPECT_EQ(t, kNodeKernel) << "only kernel launches may be captured";
  replay_and_check(graph);
  driver().graph_destroy(graph);
}

// One llama-style layer, scaled down (q, k, v, o, gate, up, down at 1/8 size): Q4_K and Q6_K
// to f16 in one batch call is two kernel launches.
TEST_F(CudaGraphCapture, BatchCapturesOneLaunchPerGroupAndReplays) {
  const int64_t d = 512, kv = 128, ff = 1792;  // elements / 256 = blocks
  add(DQ_TYPE_Q4_K, DQ_TYPE_F16, d * d / 256);
  add(DQ_TYPE_Q4_K, DQ_TYPE_F16, kv * d / 256);
  add(DQ_TYPE_Q6_K, DQ_TYPE_F16, kv * d / 256);
  add(DQ_TYPE_Q4_K, DQ_TYPE_F16, d * d / 256);
  add(DQ_TYPE_Q4_K, DQ_TYPE_F16, ff * d / 256);
  add(DQ_TYPE_Q4_K, DQ_TYPE_F16, ff * d / 256);
  add(DQ_TYPE_Q6_K, DQ_TYPE_F16, d * ff / 256 + 3);  // a partial last tile
  if (HasFatalFailure()) return;
  std::vector<dq_dequantize_request> reqs;
  for (const Tensor &t : tensors) reqs.push_back(device_request(t, stream));
  void *graph = capture([&] {
    EXPECT_EQ(dq_dequantize_batch(ctx, reqs.data(), reqs.size()), DQ_OK) << dq_last_error(ctx);
  });
  ASSERT_NE(graph, nullptr);
  const std::vector<int> types = node_types(graph);
  EXPECT_EQ(types.size(), 2u) << "one launch per (type, output) group";
  for (int t : types) EXPECT_EQ(t, kNodeKernel);
  replay_and_check(graph);
  driver().graph_destroy(graph);
}

// A mixed batch (types, outputs, sizes, alignments, more tensors of one pair than one launch
// takes) gives the bytes of one dq_dequantize per tensor, and the cpu plugin's.
TEST_F(CudaGraphCapture, MixedBatchEqualsSingleCalls) {
  add(DQ_TYPE_Q4_0, DQ_TYPE_F32, 257);
  add(DQ_TYPE_IQ4_XS, DQ_TYPE_BF16, 33, 6);
  add(DQ_TYPE_F16, DQ_TYPE_F32, 4099);
  add(DQ_TYPE_F16, DQ_TYPE_F32, 1);
  add(DQ_TYPE_Q4_K, DQ_TYPE_F16, 1);
  add(DQ_TYPE_IQ3_S, DQ_TYPE_F16, 65, 4);
  for (int i = 0; i < 70; ++i) add(DQ_TYPE_Q8_0, DQ_TYPE_F16, 1 + 97 * (i % 5), i % 3 == 0 ? 2 : 0);
  if (HasFatalFailure()) return;
  std::vector<dq_dequantize_request> reqs;
  for (const Tensor &t : tensors) reqs.push_back(device_request(t, stream));
  ASSERT_EQ(dq_dequantize_batch(ctx, reqs.data(), reqs.size()), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_synchronize(ctx, kGpu, stream), DQ_OK) << dq_last_error(ctx);
  std::vector<std::vector<uint8_t>> batch;
  for (const Tensor &t : tensors) batch.push_back(download(t));
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor &t = tensors[i];
    upload(t);  // destination back to the fill
    const dq_dequantize_request r = device_request(t, stream);
    ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
    ASSERT_EQ(dq_synchronize(ctx, kGpu, stream), DQ_OK) << dq_last_error(ctx);
    const std::vector<uint8_t> single = download(t);
    EXPECT_EQ(batch[i], single) << "tensor " << i << " (" << dq::type_traits(t.type)->name
                                << "): the batch differs from the single call";
    EXPECT_EQ(dq::test::compare_outputs(batch[i], reference(t), t.out), "") << "tensor " << i;
  }
}

}  // namespace
