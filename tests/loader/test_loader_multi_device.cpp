// Loads over several devices (issue 20) on the fake asynchronous device standing in for 2 and 4
// devices (DQ_FAKEASYNC_DEVICES=4, set below): every tensor of every test model, split in
// rows, in columns (gathered from strided rows), by the tensor-parallel and the layer plans,
// reassembles from its parts to the CPU reference byte for byte.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "loader/synthetic_model.hpp"
#include "loader_test_util.hpp"
#include "scratch_model_path.hpp"

namespace dq::test {
namespace {

// Four fake devices unless the environment says otherwise; read when the plugin first counts
// its devices, so before any test (gtest_discover_tests passes one ENVIRONMENT entry only).
const bool kFourFakeDevices = ::setenv("DQ_FAKEASYNC_DEVICES", "4", 0) == 0;

// The devices under test: fakeasync by default; on a GPU machine DQ_MULTI_TEST_BACKEND=cuda
// and DQ_MULTI_TEST_DEVICES=0,1 (taken in turn, so "0,0" or "0" on one GPU gives every
// "device" its own pipeline to GPU 0; scripts/device-multi-gpu.sh).
std::string test_backend() {
  const char *b = std::getenv("DQ_MULTI_TEST_BACKEND");
  return b && *b ? b : "fakeasync";
}

std::vector<int32_t> test_device_numbers() {
  std::vector<int32_t> out;
  const char *e = std::getenv("DQ_MULTI_TEST_DEVICES");
  std::string list = e && *e ? e : "0,1,2,3";
  for (size_t at = 0; at <= list.size();) {
    const size_t comma = std::min(list.find(',', at), list.size());
    out.push_back(static_cast<int32_t>(std::stol(list.substr(at, comma - at))));
    at = comma + 1;
  }
  return out;
}

int device_count(const Context &ctx, const std::string &backend) {
  for (const auto &b : ctx.backends())
    if (b.name == backend) return b.device_count;
  return 0;
}

#define REQUIRE_FAKE_DEVICES(ctx, n)                                                       \
  do {                                                                                     \
    std::string why_;                                                                      \
    if (!have_device(ctx, test_backend().c_str(), &why_))                                  \
      GTEST_SKIP() << why_ << " (run through ctest, which sets DQ_PLUGIN_PATH)";           \
    for (int32_t d_ : test_device_numbers())                                               \
      if (d_ >= device_count(ctx, test_backend()))                                         \
        GTEST_SKIP() << test_backend() << " has " << device_count(ctx, test_backend())     \
                     << " device(s), the test wants device " << d_                         \
                     << " (DQ_FAKEASYNC_DEVICES, DQ_MULTI_TEST_DEVICES)";                  \
    (void)(n);                                                                             \
  } while (0)

struct Part {
  std::string name;
  int32_t device;
  int64_t r0 = 0, r1 = -1, c0 = 0, c1 = -1;
};

// Which way a hand-made plan cuts each tensor where it can.
enum class Cut { rows, columns };

// Every tensor cut over n devices the `prefer`red way where that is legal, else the other
// way, else whole on every device (replicated).
std::vector<Part> cut_every_tensor(const Model &model, int n, Cut prefer) {
  std::vector<Part> parts;
  for (int64_t i = 0; i < model.tensor_count(); ++i) {
    const TensorInfo t = model.tensor(i);
    const int64_t block = dq_type_block_elements(t.type) > 0 ? dq_type_block_elements(t.type) : 1;
    const int64_t rows = t.n_elements / t.ne[0];
    const bool whole_blocks = t.ne[0] % block == 0;
    const bool can_rows = whole_blocks && rows >= n;
    const bool can_cols = whole_blocks && t.ne[0] / block >= n;
    const bool use_rows = can_rows && (prefer == Cut::rows || !can_cols);
    const bool use_cols = !use_rows && can_cols;
    for (int d = 0; d < n; ++d) {
      Part p{t.name, d};
      if (use_rows) {
        p.r0 = rows * d / n, p.r1 = rows * (d + 1) / n;
      } else if (use_cols) {
        const int64_t blocks = t.ne[0] / block;
        p.c0 = blocks * d / n * block, p.c1 = blocks * (d + 1) / n * block;
      }
      parts.push_back(p);
    }
  }
  return parts;
}

std::vector<Part> from_plan(const dq_load_plan *plan) {
  size_t n = 0;
  const dq_load_part *p = dq_load_plan_parts(plan, &n);
  std::vector<Part> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back({p[i].name, p[i].device, p[i].row_begin, p[i].row_end, p[i].col_begin, p[i].col_end});
  return out;
}

// A generated model at this process's scratch_model_path(name), removed when this goes out of
// scope, failed assertion or not.
struct TempGguf {
  TempGguf(const std::string &name, const loader::synth::ModelSpec &spec)
      : path(scratch_model_path(name)) {
    loader::synth::write_gguf(spec, path);
  }
  ~TempGguf() { std::filesystem::remove(path); }
  TempGguf(const TempGguf &) = delete;
  TempGguf &operator=(const TempGguf &) = delete;

  const std::string path;
};

struct MultiLoad {
  dq_loaded_model *lm = nullptr;
  ~MultiLoad() { dq_loaded_free(lm); }
};

// The C side of a load of `parts` onto `devices`: the arrays dq_load takes and options over
// them (a 1 MiB staging budget: many fills per device). It points into its own arrays and into
// `devices` and `parts` (backends, names), so it is not copied and they must outlive it.
struct CMultiLoad {
  CMultiLoad(const std::vector<Location> &devices, const std::vector<Part> &parts,
             int64_t gpu_min_bytes) {
    for (const Location &l : devices) locs.push_back(l.c());
    for (const Part &p : parts) {
      dq_load_part c{};
      c.struct_size = sizeof c;
      c.name = p.name.c_str();
      c.device = p.device;
      c.row_begin = p.r0, c.row_end = p.r1, c.col_begin = p.c0, c.col_end = p.c1;
      cparts.push_back(c);
    }
    dq_load_options_init(&options);
    options.devices = locs.data();
    options.n_devices = locs.size();
    options.parts = cparts.data();
    options.n_parts = cparts.size();
    options.staging_budget = 1ull << 20;
    options.gpu_min_bytes = gpu_min_bytes;
  }
  CMultiLoad(const CMultiLoad &) = delete;
  CMultiLoad &operator=(const CMultiLoad &) = delete;

  std::vector<dq_location> locs;
  std::vector<dq_load_part> cparts;
  dq_load_options options;
};

// Loads `parts` onto `devices` and checks every part against the CPU reference slice and the
// reassembly of every tensor from its parts; returns the number of parts checked.
int load_and_check(const Context &ctx, const Model &model, const std::vector<Location> &devices,
                   const std::vector<Part> &parts, int32_t out_type, int64_t gpu_min_bytes,
                   const std::string &what) {
  CMultiLoad c(devices, parts, gpu_min_bytes);
  const std::vector<dq_location> &locs = c.locs;
  dq_load_options &o = c.options;
  o.output_type = out_type;
  o.copy_threads = 4;
  uint64_t last_done = 0, last_total = 0;
  o.progress = [](void *u, uint64_t d, uint64_t t) {
    auto *p = static_cast<std::pair<uint64_t *, uint64_t *> *>(u);
    EXPECT_GE(d, *p->first) << "progress went backwards";
    *p->first = d, *p->second = t;
  };
  std::pair<uint64_t *, uint64_t *> progress{&last_done, &last_total};
  o.progress_user = &progress;
  MultiLoad m;
  const dq_status st = dq_load(ctx.get(), model.get(), &o, &m.lm);
  EXPECT_EQ(st, DQ_OK) << what << ": " << dq_last_error(ctx.get());
  if (st != DQ_OK) return 0;
  EXPECT_EQ(dq_loaded_count(m.lm), static_cast<int64_t>(parts.size())) << what;
  EXPECT_EQ(dq_loaded_device_count(m.lm), static_cast<int32_t>(devices.size())) << what;
  dq_load_stats sum{};
  sum.struct_size = sizeof sum;
  EXPECT_EQ(dq_loaded_get_stats(m.lm, &sum), DQ_OK);
  uint64_t device_bytes = 0;
  for (int32_t d = 0; d < dq_loaded_device_count(m.lm); ++d) {
    dq_load_stats s{};
    s.struct_size = sizeof s;
    EXPECT_EQ(dq_loaded_get_device_stats(m.lm, d, &s), DQ_OK);
    device_bytes += s.file_bytes;
  }
  EXPECT_EQ(device_bytes, sum.file_bytes) << what;
  EXPECT_EQ(last_done, last_total) << what;
  EXPECT_EQ(last_total, sum.file_bytes) << what;

  std::map<std::string, std::vector<uint8_t>> refs, assembled, covered;
  int checked = 0;
  for (int64_t i = 0; i < dq_loaded_count(m.lm); ++i) {
    dq_loaded_tensor t{};
    t.struct_size = sizeof t;
    EXPECT_EQ(dq_loaded_get_tensor(m.lm, i, &t), DQ_OK);
    const Part &p = parts[static_cast<size_t>(i)];
    EXPECT_EQ(t.name, p.name) << what;
    EXPECT_EQ(t.device_index, p.device) << what;
    if (locs[p.device].backend) {
      EXPECT_STREQ(t.where.backend, locs[p.device].backend) << what;
    }
    EXPECT_EQ(t.where.device, locs[p.device].device) << what;
    const TensorInfo info = *model.tensor(t.name);
    auto &ref = refs[t.name];
    if (ref.empty()) ref = cpu_reference(ctx, info, t.type);
    const int64_t rows = info.n_elements / info.ne[0];
    const uint64_t row_bytes = ref.size() / static_cast<uint64_t>(rows);
    // Columns are whole blocks: their byte offsets in a row are exact fractions of it.
    const uint64_t b0 = row_bytes * static_cast<uint64_t>(t.col_begin) / info.ne[0];
    const uint64_t b1 = row_bytes * static_cast<uint64_t>(t.col_end) / info.ne[0];
    const uint64_t part_row = b1 - b0;
    EXPECT_EQ(t.n_bytes, part_row * static_cast<uint64_t>(t.row_end - t.row_begin))
        << t.name << ", " << what;
    if (t.n_bytes != part_row * static_cast<uint64_t>(t.row_end - t.row_begin)) continue;
    Location where{t.where.backend, t.where.device};
    std::vector<uint8_t> got(t.n_bytes);
    ctx.memcpy(got.data(), Location::host(), t.data, where, t.n_bytes);
    auto &whole = assembled[t.name];
    auto &cover = covered[t.name];
    if (whole.empty()) whole.assign(ref.size(), 0), cover.assign(ref.size(), 0);
    int64_t bad = -1;
    for (int64_t r = t.row_begin; r < t.row_end; ++r) {
      const uint8_t *g = got.data() + static_cast<uint64_t>(r - t.row_begin) * part_row;
      const uint64_t at = static_cast<uint64_t>(r) * row_bytes + b0;
      if (bad < 0 && std::memcmp(g, ref.data() + at, part_row) != 0) bad = r;
      std::memcpy(whole.data() + at, g, part_row);
      std::memset(cover.data() + at, 1, part_row);
    }
    EXPECT_EQ(bad, -1) << t.name << " rows [" << t.row_begin << ", " << t.row_end << ") columns ["
                       << t.col_begin << ", " << t.col_end << ") on device " << t.device_index
                       << " via " << t.backend << " differs from the cpu reference at row "
                       << bad << ", " << what;
    ++checked;
  }
  for (const auto &[name, whole] : assembled) {
    const auto &cover = covered[name];
    EXPECT_EQ(std::count(cover.begin(), cover.end(), 0), 0) << name << " not fully covered, " << what;
    EXPECT_EQ(first_difference(whole, refs[name]), -1) << name << " reassembled, " << what;
  }
  return checked;
}

std::vector<Location> fake_devices(int n) {
  const std::vector<int32_t> numbers = test_device_numbers();
  std::vector<Location> d;
  for (int i = 0; i < n; ++i) d.push_back({test_backend(), numbers[i % numbers.size()]});
  return d;
}

// Every test model, hand-cut in rows and in columns, over 2 and 4 fake devices, as f16 and as
// the file's bytes; small tensors through the CPU route, then everything on the device.
TEST(LoaderMultiDevice, EveryTensorSplitInRowsAndColumnsReassembles) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  REQUIRE_FAKE_DEVICES(ctx, 4);
  int parts = 0, column_parts = 0;
  for (const auto &path : loader_models(dir)) {
    Model model(ctx, path.string());
    for (int n : {2, 4})
      for (Cut cut : {Cut::rows, Cut::columns}) {
        const auto plan = cut_every_tensor(model, n, cut);
        for (const Part &p : plan) column_parts += p.c1 >= 0;
        for (int32_t to : {int32_t{DQ_TYPE_F16}, int32_t{DQ_LOAD_KEEP}})
          for (int64_t gpu_min : {int64_t{-1}, int64_t{0}})
            parts += load_and_check(ctx, model, fake_devices(n), plan, to, gpu_min,
                                    path.filename().string() + " over " + std::to_string(n) +
                                        (cut == Cut::rows ? " by rows" : " by columns") + " to " +
                                        (to == DQ_LOAD_KEEP ? "keep" : "f16") +
                                        " gpu_min_bytes " + std::to_string(gpu_min));
      }
  }
  EXPECT_GT(column_parts, 100) << "column splits were expected for most quantized tensors";
  std::printf("checked %d parts\n", parts);
}

// The plans of dq_plan_tensor_parallel (where the model's shapes allow it) and dq_plan_layers.
TEST(LoaderMultiDevice, TensorParallelAndLayerPlansReassemble) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  REQUIRE_FAKE_DEVICES(ctx, 4);
  int tensor_plans = 0, layer_plans = 0;
  for (const auto &path : loader_models(dir)) {
    Model model(ctx, path.string());
    for (int n : {2, 4}) {
      const std::string what = path.filename().string() + " over " + std::to_string(n);
      dq_load_plan *plan = nullptr;
      if (dq_plan_tensor_parallel(ctx.get(), model.get(), n, -1, &plan) == DQ_OK) {
        load_and_check(ctx, model, fake_devices(n), from_plan(plan), DQ_TYPE_F32, 0,
                       what + " tensor-parallel");
        ++tensor_plans;
      } else {
        // Refused only for a cut that is not whole blocks or too few rows, named.
        const std::string e = dq_last_error(ctx.get());
        EXPECT_NE(e.find("tensor "), std::string::npos) << e;
        EXPECT_TRUE(e.find("block size") != std::string::npos || e.find("rows") != std::string::npos) << e;
      }
      dq_load_plan_free(plan);
      plan = nullptr;
      ASSERT_EQ(dq_plan_layers(ctx.get(), model.get(), n, &plan), DQ_OK) << dq_last_error(ctx.get());
      load_and_check(ctx, model, fake_devices(n), from_plan(plan), DQ_TYPE_F16, -1,
                     what + " by layers");
      ++layer_plans;
      dq_load_plan_free(plan);
    }
  }
  EXPECT_GT(tensor_plans, 2);
  EXPECT_GT(layer_plans, 2);
}

// The same device twice is two pipelines to one device (what one GPU can show of N links).
TEST(LoaderMultiDevice, OneDeviceTwicePipelinesInParallel) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  REQUIRE_FAKE_DEVICES(ctx, 1);
  const auto models = loader_models(dir);
  ASSERT_FALSE(models.empty());
  Model model(ctx, models.front().string());
  const std::vector<Location> twice{{test_backend(), 0}, {test_backend(), 0}};
  EXPECT_GT(load_and_check(ctx, model, twice, cut_every_tensor(model, 2, Cut::columns),
                           DQ_TYPE_F32, 0, "fakeasync:0 twice"),
            0);
}

// A layer plan puts whole tensors on devices by layer number, the head on the last device.
TEST(LoaderMultiDevice, LayerPlanFollowsLayerNumbers) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model model(ctx, (dir / "mini-llama-q4_k_m.gguf").string());
  dq_load_plan *plan = nullptr;
  ASSERT_EQ(dq_plan_layers(ctx.get(), model.get(), 2, &plan), DQ_OK);
  std::set<int32_t> devices;
  for (const Part &p : from_plan(plan)) {
    EXPECT_EQ(p.r1, -1);
    EXPECT_EQ(p.c1, -1);
    devices.insert(p.device);
    const int32_t want = p.name == "output_norm.weight"          ? 1
                         : p.name.rfind("blk.0.", 0) == 0 ||
                                   p.name == "token_embd.weight" ? 0
                                                                 : p.device;
    EXPECT_EQ(p.device, want) << p.name;
  }
  EXPECT_EQ(devices.size(), 2u);
  dq_load_plan_free(plan);
}

// An illegal column cut is refused before anything is allocated, naming tensor and block size.
TEST(LoaderMultiDevice, ColumnsNotAtWholeBlocksAreRefused) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model model(ctx, (dir / "mini-llama-q4_k_m.gguf").string());
  std::string quantized;
  for (int64_t i = 0; i < model.tensor_count() && quantized.empty(); ++i) {
    const TensorInfo t = model.tensor(i);
    if (dq_type_block_elements(t.type) == 256 && t.ne[0] >= 512) quantized = t.name;
  }
  ASSERT_FALSE(quantized.empty()) << "no k-quant tensor of 2+ blocks per row";
  dq_load_part part{};
  part.struct_size = sizeof part;
  part.name = quantized.c_str();
  part.row_end = -1;
  part.col_begin = 0;
  part.col_end = 100;
  dq_load_options o;
  dq_load_options_init(&o);
  o.parts = &part;
  o.n_parts = 1;
  dq_loaded_model *lm = nullptr;
  EXPECT_EQ(dq_load(ctx.get(), model.get(), &o, &lm), DQ_ERR_SIZE);
  EXPECT_EQ(lm, nullptr);
  const std::string e = dq_last_error(ctx.get());
  EXPECT_NE(e.find(quantized), std::string::npos) << e;
  EXPECT_NE(e.find("block size 256"), std::string::npos) << e;
  // A device index past the load's devices is named too.
  part.col_end = -1;
  part.device = 1;
  EXPECT_EQ(dq_load(ctx.get(), model.get(), &o, &lm), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx.get())).find("device index 1"), std::string::npos);
}

// Host destinations take the same parts: a column part to host memory is gathered there too.
TEST(LoaderMultiDevice, ColumnPartsToHostMemory) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  for (const auto &path : loader_models(dir)) {
    Model model(ctx, path.string());
    EXPECT_GT(load_and_check(ctx, model, {Location::host()}, cut_every_tensor(model, 1, Cut::columns),
                             DQ_TYPE_F32, -1, path.filename().string() + " to host"),
              0);
    EXPECT_GT(load_and_check(ctx, model, {Location::host(), Location::host()},
                             cut_every_tensor(model, 2, Cut::columns), DQ_LOAD_KEEP, -1,
                             path.filename().string() + " to host twice"),
              0);
  }
}

}  // namespace
}  // namespace dq::test

namespace dq::test {
namespace {

// A device of the list that does not exist fails the whole load, naming its place in the
// list, and leaves nothing allocated (the other devices' outputs are freed).
TEST(LoaderMultiDevice, AMissingDeviceFailsTheLoadNamingIt) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  REQUIRE_FAKE_DEVICES(ctx, 2);
  Model model(ctx, (dir / "stories260K.gguf").string());
  const std::string backend = test_backend();
  const dq_location devices[2] = {{backend.c_str(), 0}, {backend.c_str(), 99}};
  dq_load_plan *plan = nullptr;
  ASSERT_EQ(dq_plan_layers(ctx.get(), model.get(), 2, &plan), DQ_OK);
  dq_load_options o;
  dq_load_options_init(&o);
  o.devices = devices;
  o.n_devices = 2;
  o.parts = dq_load_plan_parts(plan, &o.n_parts);
  dq_loaded_model *lm = nullptr;
  EXPECT_EQ(dq_load(ctx.get(), model.get(), &o, &lm), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lm, nullptr);
  const std::string e = dq_last_error(ctx.get());
  EXPECT_NE(e.find("devices[1]"), std::string::npos) << e;
  EXPECT_NE(e.find("device 99 does not exist"), std::string::npos) << e;
  // A reusable loader has one device: a list of two is refused, not half-served.
  dq_loader *loader = nullptr;
  o.n_devices = 0;
  ASSERT_EQ(dq_loader_create(ctx.get(), &o, &loader), DQ_OK) << dq_last_error(ctx.get());
  o.n_devices = 2;
  EXPECT_EQ(dq_loader_load(loader, model.get(), &o, &lm), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx.get())).find("dq_loader_load"), std::string::npos);
  dq_loader_destroy(loader);
  dq_load_plan_free(plan);
}

}  // namespace
}  // namespace dq::test

namespace dq::test {
namespace {

// Parts are read with the stride of the first element's struct_size (a newer caller's larger
// element is served); elements of differing sizes, or under the minimum, are refused.
TEST(LoaderMultiDevice, PartArraysFollowTheStructSizeRules) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model model(ctx, (dir / "stories260K.gguf").string());
  struct NewerPart {
    dq_load_part part;
    int64_t field_of_a_newer_header;
  };
  NewerPart parts[2]{};
  const char *names[2] = {"output_norm.weight", "token_embd.weight"};
  for (int i = 0; i < 2; ++i) {
    parts[i].part.struct_size = sizeof(NewerPart);
    parts[i].part.name = names[i];
    parts[i].part.row_end = parts[i].part.col_end = -1;
    parts[i].field_of_a_newer_header = 0x7777;
  }
  dq_load_options o;
  dq_load_options_init(&o);
  o.output_type = DQ_TYPE_F32;
  o.parts = &parts[0].part;
  o.n_parts = 2;
  dq_loaded_model *lm = nullptr;
  ASSERT_EQ(dq_load(ctx.get(), model.get(), &o, &lm), DQ_OK) << dq_last_error(ctx.get());
  ASSERT_EQ(dq_loaded_count(lm), 2);
  EXPECT_EQ(dq_loaded_find(lm, "token_embd.weight"), 1);
  dq_loaded_free(lm);
  lm = nullptr;
  parts[1].part.struct_size = sizeof(dq_load_part);
  EXPECT_EQ(dq_load(ctx.get(), model.get(), &o, &lm), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx.get())).find("part 1: struct_size"), std::string::npos)
      << dq_last_error(ctx.get());
  parts[0].part.struct_size = parts[1].part.struct_size = sizeof(size_t);
  EXPECT_EQ(dq_load(ctx.get(), model.get(), &o, &lm), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx.get())).find("DQ_LOAD_PART_MIN_SIZE"), std::string::npos);
  EXPECT_EQ(lm, nullptr);
  // Parts and names together are ambiguous.
  parts[0].part.struct_size = parts[1].part.struct_size = sizeof(NewerPart);
  o.names = names;
  o.n_names = 1;
  EXPECT_EQ(dq_load(ctx.get(), model.get(), &o, &lm), DQ_ERR_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace dq::test

namespace dq::test {
namespace {

// The devices' pipelines run at once: each device's first upload waits in the fake plugin until
// both devices are uploading (DQ_FAKEASYNC_RENDEZVOUS), which a load running them one after
// another never reaches (its upload fails after 10 s, naming it). A wall-time comparison
// could not tell that on a busy 2-core machine, where the scheduler may run the two threads
// one after the other. A generated llama-like model of 512-wide rows, so the tensor-parallel
// plan cuts q4_K/q6_K columns at whole blocks, and many slot fills per device (1 MiB budget).
TEST(LoaderMultiDevice, PipelinesRunAtOnceOnAGeneratedModel) {
  Context ctx;
  REQUIRE_FAKE_DEVICES(ctx, 2);
  const loader::synth::LlamaShape shape{
      .n_embd = 1024, .n_ff = 2048, .n_vocab = 2048, .n_layers = 2, .n_head = 8, .n_head_kv = 4};
  const TempGguf file("dq-multi", loader::synth::llama_like(shape));
  Model model(ctx, file.path);
  dq_load_plan *plan = nullptr;
  ASSERT_EQ(dq_plan_tensor_parallel(ctx.get(), model.get(), 2, -1, &plan), DQ_OK)
      << dq_last_error(ctx.get());
  const std::vector<Part> parts = from_plan(plan);
  dq_load_plan_free(plan);
  int column_parts = 0;
  for (const Part &p : parts) column_parts += p.c1 >= 0;
  EXPECT_GE(column_parts, 8) << "attn_output and ffn_down of 2 layers over 2 devices";
  EXPECT_GT(load_and_check(ctx, model, fake_devices(2), parts, DQ_TYPE_F16, 0, "generated"), 0);

  const std::vector<Location> devices = fake_devices(2);
  const CMultiLoad c(devices, parts, 0);
  dq_loaded_model *lm = nullptr;
  ::setenv("DQ_FAKEASYNC_RENDEZVOUS", "2", 1);
  const dq_status loaded = dq_load(ctx.get(), model.get(), &c.options, &lm);
  ::unsetenv("DQ_FAKEASYNC_RENDEZVOUS");
  ASSERT_EQ(loaded, DQ_OK) << dq_last_error(ctx.get());
  dq_load_stats sum{};
  sum.struct_size = sizeof sum;
  ASSERT_EQ(dq_loaded_get_stats(lm, &sum), DQ_OK);
  for (int32_t d = 0; d < 2; ++d) {
    dq_load_stats s{};
    s.struct_size = sizeof s;
    ASSERT_EQ(dq_loaded_get_device_stats(lm, d, &s), DQ_OK);
    EXPECT_GT(s.chunks, 4) << "device " << d;
    EXPECT_GT(s.file_bytes, sum.file_bytes / 3) << "device " << d << " got too little";
  }
  dq_loaded_free(lm);
}

}  // namespace
}  // namespace dq::test

namespace dq::test {
namespace {

// Names decide the plans; odd names (a layer number past int64, a negative one, no layer)
// place the tensor as a layer-less one instead of failing or throwing, and biases of
// column-parallel layers follow their rows.
TEST(LoaderMultiDevice, PlansOfOddNames) {
  Context ctx;
  loader::synth::ModelSpec spec;
  spec.tensors = {
      {"blk.99999999999999999999.attn_q.weight", DQ_TYPE_F32, {64, 8}},
      {"blk.-1.ffn_down.weight", DQ_TYPE_F32, {64, 8}},
      {"blk.3.attn_q.bias", DQ_TYPE_F32, {8}},
      {"blk.3.ffn_down.weight", DQ_TYPE_Q8_0, {64, 8}},
      {"output.weight", DQ_TYPE_F32, {64, 8}},
  };
  const TempGguf file("dq-multi-names", spec);
  Model model(ctx, file.path);
  dq_load_plan *plan = nullptr;
  ASSERT_EQ(dq_plan_layers(ctx.get(), model.get(), 2, &plan), DQ_OK) << dq_last_error(ctx.get());
  std::map<std::string, int32_t> device;
  for (const Part &p : from_plan(plan)) device[p.name] = p.device;
  dq_load_plan_free(plan);
  EXPECT_EQ(device["blk.99999999999999999999.attn_q.weight"], 0);
  EXPECT_EQ(device["blk.-1.ffn_down.weight"], 0);
  EXPECT_EQ(device["blk.3.ffn_down.weight"], 1);  // the last of 4 layers
  EXPECT_EQ(device["output.weight"], 1);
  ASSERT_EQ(dq_plan_tensor_parallel(ctx.get(), model.get(), 2, 1, &plan), DQ_OK)
      << dq_last_error(ctx.get());
  std::map<std::string, Part> rank1;
  for (const Part &p : from_plan(plan)) rank1.emplace(p.name, p);
  dq_load_plan_free(plan);
  EXPECT_EQ(rank1.size(), spec.tensors.size());
  EXPECT_EQ(rank1.at("blk.3.attn_q.bias").c0, 4);  // the bias follows attn_q's rows
  EXPECT_EQ(rank1.at("blk.3.ffn_down.weight").c0, 32);  // one q8_0 block of two
  EXPECT_EQ(rank1.at("output.weight").r0, 4);
  for (const auto &[name, p] : rank1) EXPECT_EQ(p.device, 0) << name;  // one process per rank
  EXPECT_EQ(dq_plan_tensor_parallel(ctx.get(), model.get(), 2, 2, &plan), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_plan_layers(ctx.get(), model.get(), 0, &plan), DQ_ERR_INVALID_ARGUMENT);
  // Three ranks cannot share two q8_0 blocks: refused, naming tensor and block size.
  EXPECT_EQ(dq_plan_tensor_parallel(ctx.get(), model.get(), 3, -1, &plan), DQ_ERR_SIZE);
  const std::string e = dq_last_error(ctx.get());
  EXPECT_NE(e.find("blk.3.ffn_down.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("block size 32"), std::string::npos) << e;
}

}  // namespace
}  // namespace dq::test
