// The end-to-end check run for each destination: load every test model with each output
// type and compare every tensor read back with the CPU reference (and ggml's golden f32).
#pragma once

#include "loader_test_util.hpp"

namespace dq::test {

struct LoadCase {
  Location where;
  int64_t gpu_min_bytes = -1;  // -1: default rule
  uint64_t budget = 0;         // 0: default
  int32_t copy_threads = 0;
};

inline void check_every_model(const LoadCase &c) {
  DQ_REQUIRE_TESTDATA(dir);
  const auto models = loader_models(dir);
  ASSERT_FALSE(models.empty()) << "no loader models in " << dir;
  Context ctx;
  int goldens = 0, tensors = 0;
  for (const auto &path : models) {
    Model model(ctx, path.string());
    for (int32_t to : {int32_t{DQ_TYPE_F32}, int32_t{DQ_TYPE_F16}, int32_t{DQ_TYPE_BF16}, int32_t{DQ_LOAD_KEEP}}) {
      SCOPED_TRACE(path.filename().string() + " to " + (to == DQ_LOAD_KEEP ? "keep" : dq_type_name(to)));
      LoadOptions o;
      o.device(c.where).output(to).gpu_min_bytes(c.gpu_min_bytes).copy_threads(c.copy_threads);
      if (c.budget) o.staging_budget(c.budget);
      uint64_t last_done = 0, last_total = 0;
      int calls = 0;
      o.progress([&](uint64_t d, uint64_t t) {
        EXPECT_GE(d, last_done) << "progress went backwards";
        last_done = d;
        last_total = t;
        ++calls;
      });
      LoadedModel lm = load(ctx, model, o);
      ASSERT_EQ(lm.size(), model.tensor_count());
      const dq_load_stats s = lm.stats();
      EXPECT_LE(s.staging_high_water, s.staging_budget);
      EXPECT_EQ(last_done, last_total);
      EXPECT_EQ(last_total, s.file_bytes);
      EXPECT_GE(calls, 2);
      for (const LoadedTensor &t : lm.tensors()) {
        const TensorInfo info = *model.tensor(t.name.c_str());
        const int32_t want = (to == DQ_LOAD_KEEP || !dq::type_is_dequantizable(info.type)) ? info.type : to;
        EXPECT_EQ(t.type, want) << t.name;
        EXPECT_EQ(t.src_type, info.type);
        EXPECT_EQ(t.n_elements, info.n_elements);
        for (int d = 0; d < 4; ++d) EXPECT_EQ(t.ne[d], info.ne[d]) << t.name;
        const auto got = read_back(ctx, t);
        const auto ref = cpu_reference(ctx, info, want);
        const int64_t diff = first_difference(got, ref);
        EXPECT_EQ(diff, -1) << t.name << " (" << dq_type_name(info.type) << " via " << t.backend
                            << ") differs from the cpu reference at byte " << diff;
        if (want == DQ_TYPE_F32) {
          const auto g = golden(dir, path, t.name);
          if (!g.empty()) {
            EXPECT_EQ(first_difference(got, g), -1) << t.name << " differs from ggml's golden f32";
            ++goldens;
          }
        }
        ++tensors;
      }
    }
  }
  EXPECT_GT(goldens, 100) << "golden files were expected for most quantized tensors";
  std::printf("checked %d loaded tensors (%d against golden f32)\n", tensors, goldens);
}

}  // namespace dq::test
