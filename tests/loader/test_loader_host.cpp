// Loader to host memory (the CPU path; runs everywhere): every test model byte for byte,
// row ranges, selections, output-type choices, caller buffers and bad requests.
#include <gtest/gtest.h>

#include <map>

#include "model_checks.hpp"

namespace dq::test {
namespace {

TEST(LoaderHost, EveryModelEqualsCpuReferenceAndGolden) { check_every_model({Location::host()}); }

TEST(LoaderHost, EveryModelWithOneCopyThread) {
  LoadCase c{Location::host()};
  c.copy_threads = 1;
  check_every_model(c);
}

// Rows [begin, end) of every matrix equal the same rows of the CPU reference.
TEST(LoaderHost, RowRangesEqualSlices) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  int checked = 0;
  for (const auto &path : loader_models(dir)) {
    Model model(ctx, path.string());
    for (int32_t to : {int32_t{DQ_TYPE_F16}, int32_t{DQ_TYPE_F32}, int32_t{DQ_LOAD_KEEP}}) {
      LoadOptions o;
      o.output(to);
      std::map<std::string, std::pair<int64_t, int64_t>> ranges;
      for (const auto &t : model.tensors()) {
        const int64_t rows = t.n_elements / t.ne[0];
        if (rows < 3) continue;
        const int64_t b = rows / 3, e = rows - rows / 4;
        o.rows(t.name, b, e);
        ranges[t.name] = {b, e};
      }
      if (ranges.empty()) continue;
      SCOPED_TRACE(path.filename().string());
      LoadedModel lm = load(ctx, model, o);
      ASSERT_EQ(lm.size(), static_cast<int64_t>(ranges.size()));
      for (const auto &t : lm.tensors()) {
        const auto [b, e] = ranges.at(t.name);
        const TensorInfo info = *model.tensor(t.name.c_str());
        EXPECT_EQ(t.row_begin, b);
        EXPECT_EQ(t.row_end, e);
        EXPECT_EQ(t.ne[0], info.ne[0]);
        EXPECT_EQ(t.ne[1], e - b);
        EXPECT_EQ(t.n_elements, (e - b) * info.ne[0]);
        const int32_t want = (to == DQ_LOAD_KEEP || !type_is_dequantizable(info.type)) ? info.type : to;
        EXPECT_EQ(first_difference(read_back(ctx, t), cpu_reference(ctx, info, want, b, e)), -1)
            << t.name << " rows [" << b << ", " << e << ")";
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 50);
}

TEST(LoaderHost, SelectionLoadsOnlyTheNamedTensorsInOrder) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model model(ctx, (dir / "mini-llama-q4_k_m.gguf").string());
  LoadOptions o;
  o.tensor("output.weight").tensor("blk.0.attn_q.weight").tensor("token_embd.weight");
  LoadedModel lm = load(ctx, model, o);
  ASSERT_EQ(lm.size(), 3);
  EXPECT_EQ(lm.tensor(0).name, "output.weight");
  EXPECT_EQ(lm.tensor(1).name, "blk.0.attn_q.weight");
  EXPECT_EQ(lm.tensor(2).name, "token_embd.weight");
  EXPECT_FALSE(lm.find("blk.1.attn_q.weight"));
  EXPECT_EQ(lm.stats().tensors, 3);
}

TEST(LoaderHost, OverridesAndCallbackChooseOutputTypes) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model model(ctx, (dir / "mini-llama-q4_k_m.gguf").string());
  LoadOptions o;
  o.output(DQ_TYPE_BF16).output("output.weight", DQ_TYPE_F32);
  int calls = 0;
  o.output_fn([&](const dq_tensor_info &t, int32_t proposed) {
    ++calls;
    if (std::string(t.name) == "output.weight") {
      EXPECT_EQ(proposed, DQ_TYPE_F32);
    }
    return std::string(t.name) == "token_embd.weight" ? DQ_LOAD_KEEP : proposed;
  });
  LoadedModel lm = load(ctx, model, o);
  EXPECT_EQ(calls, model.tensor_count());
  EXPECT_EQ(lm.find("output.weight")->type, DQ_TYPE_F32);
  EXPECT_EQ(lm.find("token_embd.weight")->type, DQ_TYPE_Q4_K);
  EXPECT_EQ(lm.find("token_embd.weight")->backend, "copy");
  EXPECT_EQ(lm.find("blk.0.attn_q.weight")->type, DQ_TYPE_BF16);
  EXPECT_EQ(lm.find("blk.0.attn_q.weight")->backend, "cpu");
}

TEST(LoaderHost, CallerBuffersAreUsedAndNotFreed) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model model(ctx, (dir / "mini-llama-q4_k_m.gguf").string());
  std::map<std::string, std::vector<uint8_t>> mine;
  LoadOptions o;
  o.output(DQ_TYPE_F32).buffers([&](const dq_tensor_info &t, int32_t out, int64_t, int64_t, uint64_t bytes) -> void * {
    EXPECT_EQ(out, DQ_TYPE_F32);
    if (std::string(t.name).find("ffn") == std::string::npos) return nullptr;
    auto &v = mine[t.name];
    v.assign(bytes, 0xEE);
    return v.data();
  });
  {
    LoadedModel lm = load(ctx, model, o);
    ASSERT_FALSE(mine.empty());
    for (const auto &t : lm.tensors()) {
      const bool ours = mine.count(t.name) != 0;
      EXPECT_EQ(t.caller_owned, ours) << t.name;
      if (ours) {
        EXPECT_EQ(t.data, mine[t.name].data());
      }
    }
  }
  // Still ours and filled after the loaded model is gone.
  for (auto &[name, bytes] : mine)
    EXPECT_EQ(first_difference(bytes, cpu_reference(ctx, *model.tensor(name.c_str()), DQ_TYPE_F32)), -1) << name;
}

TEST(LoaderHost, ReusableLoaderGivesTheSameBytesTwice) {
  DQ_REQUIRE_TESTDATA(dir);
  Context ctx;
  Model model(ctx, (dir / "stories260K-q4_k_m.gguf").string());
  LoadOptions o;
  Loader loader(ctx, o);
  LoadedModel a = loader.load(model, o), b = loader.load(model, o);
  ASSERT_EQ(a.size(), b.size());
  for (int64_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(first_difference(read_back(ctx, a.tensor(i)), read_back(ctx, b.tensor(i))), -1);
  EXPECT_EQ(a.stats().staging_high_water, 0u) << "host loads need no staging";
}

// ------------------------------------------------------------- bad requests (C API)

class LoaderErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testdata_dir();
    if (dir_.empty()) GTEST_SKIP() << "test data not found: set DQ_TESTDATA";
    ASSERT_EQ(dq_context_create(&ctx_), DQ_OK);
    ASSERT_EQ(dq_model_open(ctx_, (dir_ / "mini-llama-q4_k_m.gguf").c_str(), &model_), DQ_OK);
    dq_load_options_init(&o_);
  }
  void TearDown() override {
    dq_model_close(model_);
    dq_context_destroy(ctx_);
  }
  // Loads; expects `want` and a message containing every fragment; nothing returned.
  void expect_failure(dq_status want, std::initializer_list<const char *> fragments) {
    dq_loaded_model *lm = reinterpret_cast<dq_loaded_model *>(0x1);
    const dq_status st = dq_load(ctx_, model_, &o_, &lm);
    EXPECT_EQ(st, want) << dq_last_error(ctx_);
    EXPECT_EQ(lm, nullptr);
    const std::string msg = dq_last_error(ctx_);
    for (const char *f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
    if (st == DQ_OK) dq_loaded_free(lm);
  }
  std::filesystem::path dir_;
  dq_context *ctx_ = nullptr;
  dq_model *model_ = nullptr;
  dq_load_options o_{};
};

TEST_F(LoaderErrors, UnknownTensorName) {
  const char *names[] = {"blk.0.attn_q.weight", "blk.9.nonexistent"};
  o_.names = names;
  o_.n_names = 2;
  expect_failure(DQ_ERR_NOT_FOUND, {"blk.9.nonexistent", "not found"});
}

TEST_F(LoaderErrors, RowRangeOutOfBounds) {
  const char *names[] = {"blk.0.attn_q.weight"};  // 256 x 256
  int64_t b[] = {200}, e[] = {300};
  o_.names = names;
  o_.n_names = 1;
  o_.row_begin = b;
  o_.row_end = e;
  expect_failure(DQ_ERR_SIZE, {"blk.0.attn_q.weight", "[200, 300)", "256 rows"});
  b[0] = -1;
  e[0] = 10;
  expect_failure(DQ_ERR_SIZE, {"outside"});
  b[0] = 10;
  e[0] = 10;
  expect_failure(DQ_ERR_SIZE, {"empty"});
}

TEST_F(LoaderErrors, DuplicateNameAndHalfGivenRanges) {
  const char *names[] = {"output.weight", "output.weight"};
  o_.names = names;
  o_.n_names = 2;
  expect_failure(DQ_ERR_INVALID_ARGUMENT, {"output.weight", "twice"});
  int64_t b[] = {0};
  o_.n_names = 1;
  o_.row_begin = b;
  expect_failure(DQ_ERR_INVALID_ARGUMENT, {"row_begin and row_end"});
}

TEST_F(LoaderErrors, BadOutputTypes) {
  o_.output_type = DQ_TYPE_Q4_0;
  expect_failure(DQ_ERR_INVALID_ARGUMENT, {"q4_0", "f32, f16, bf16 or keep"});
  o_.output_type = DQ_TYPE_F16;
  const char *on[] = {"output.weight"};
  const int32_t ot[] = {DQ_TYPE_Q8_0};
  o_.override_names = on;
  o_.override_types = ot;
  o_.n_overrides = 1;
  expect_failure(DQ_ERR_INVALID_ARGUMENT, {"output.weight", "q8_0"});
  const char *unknown[] = {"no.such.tensor"};
  o_.override_names = unknown;
  expect_failure(DQ_ERR_NOT_FOUND, {"no.such.tensor"});
}

TEST_F(LoaderErrors, UnknownDestinationBackend) {
  o_.device = {"nosuchbackend", 0};
  expect_failure(DQ_ERR_NO_BACKEND, {"nosuchbackend", "not found"});
  o_.device = {"host", 3};
  expect_failure(DQ_ERR_INVALID_ARGUMENT, {"device 0"});
}

TEST_F(LoaderErrors, NullArgumentsAndHandles) {
  dq_loaded_model *lm = nullptr;
  EXPECT_EQ(dq_load(nullptr, model_, &o_, &lm), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_load(ctx_, nullptr, &o_, &lm), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_load(ctx_, model_, &o_, nullptr), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_load_file(ctx_, "/nonexistent/model.gguf", &o_, &lm), DQ_ERR_IO);
  EXPECT_NE(std::string(dq_last_error(ctx_)).find("/nonexistent/model.gguf"), std::string::npos);
  EXPECT_EQ(dq_loaded_count(nullptr), 0);
  EXPECT_EQ(dq_loaded_find(nullptr, "x"), -1);
  dq_loaded_free(nullptr);
  dq_loader_destroy(nullptr);
  dq_load_options tiny{};
  tiny.struct_size = 4;
  EXPECT_EQ(dq_load(ctx_, model_, &tiny, &lm), DQ_ERR_INVALID_ARGUMENT);
}

// A caller built against an older, shorter dq_load_options gets the defaults for the rest.
TEST_F(LoaderErrors, ShortOptionsStructGetsDefaults) {
  dq_load_options o{};
  o.struct_size = offsetof(dq_load_options, override_names);
  o.device = {"host", 0};
  o.output_type = DQ_TYPE_F32;
  o.names = reinterpret_cast<const char *const *>(0x1);  // beyond struct_size: must be ignored
  dq_loaded_model *lm = nullptr;
  ASSERT_EQ(dq_load(ctx_, model_, &o, &lm), DQ_OK) << dq_last_error(ctx_);
  EXPECT_EQ(dq_loaded_count(lm), dq_model_tensor_count(model_));
  dq_loaded_tensor t{};
  t.struct_size = offsetof(dq_loaded_tensor, where);  // older caller: only name and data
  ASSERT_EQ(dq_loaded_get_tensor(lm, 0, &t), DQ_OK);
  EXPECT_EQ(t.struct_size, offsetof(dq_loaded_tensor, where));
  EXPECT_NE(t.data, nullptr);
  EXPECT_EQ(dq_loaded_get_tensor(lm, 999, &t), DQ_ERR_INVALID_ARGUMENT);  // index: dq.h
  dq_loaded_free(lm);
}

TEST_F(LoaderErrors, DeviceMeasureOnHostIsUnsupported) {
  double bps = 0;
  EXPECT_EQ(dq_measure_h2d_bandwidth(ctx_, dq_location{"host", 0}, 0, 0, &bps), DQ_ERR_UNSUPPORTED);
}

}  // namespace
}  // namespace dq::test
