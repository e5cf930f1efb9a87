// The device pipeline on a fake asynchronous device (see fake_async_device.cpp): every test
// model, every output type, small and default budgets, byte for byte against the CPU
// reference. Runs without a GPU, so CI checks the slot/event ordering of the pipeline.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "loader/synthetic_model.hpp"
#include "model_checks.hpp"
#include "scratch_model_path.hpp"

namespace dq::test {
namespace {

const Location kFake{"fakeasync", 0};

// A small generated llama-like model (about 3 MB, tensors larger than small slots) at this
// process's scratch_model_path, removed at the end of the scope.
struct GeneratedModelFile {
  std::string path;
  static loader::synth::LlamaShape small_shape() {
    const loader::synth::LlamaShape s{
        .n_embd = 512, .n_ff = 1024, .n_vocab = 2048, .n_layers = 2, .n_head = 4, .n_head_kv = 2};
    return s;
  }
  explicit GeneratedModelFile(const char *tag, const loader::synth::LlamaShape &s = small_shape()) {
    path = scratch_model_path("dq-loader-" + std::string(tag));
    loader::synth::write_gguf(loader::synth::llama_like(s), path);
  }
  ~GeneratedModelFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  GeneratedModelFile(const GeneratedModelFile &) = delete;
  GeneratedModelFile &operator=(const GeneratedModelFile &) = delete;
};

#define REQUIRE_FAKE(ctx)                                                        \
  do {                                                                           \
    std::string why_;                                                            \
    if (!have_device(ctx, "fakeasync", &why_))                                   \
      GTEST_SKIP() << why_ << " (run through ctest, which sets DQ_PLUGIN_PATH)"; \
  } while (0)

TEST(LoaderFakeDevice, EveryModelOneMebibyteBudget) {
  {
    Context ctx;
    REQUIRE_FAKE(ctx);
  }
  LoadCase c{kFake};
  c.gpu_min_bytes = 0;
  c.budget = 1ull << 20;
  check_every_model(c);
}

TEST(LoaderFakeDevice, EveryModelDefaultRouting) {
  {
    Context ctx;
    REQUIRE_FAKE(ctx);
  }
  check_every_model({kFake});
}

TEST(LoaderFakeDevice, GeneratedModelAcrossManySlots) {
  Context ctx;
  REQUIRE_FAKE(ctx);
  const GeneratedModelFile file("fake");
  const std::string &path = file.path;
  {
    Model model(ctx, path);
    for (int32_t to : {int32_t{DQ_TYPE_F16}, int32_t{DQ_TYPE_F32}, int32_t{DQ_LOAD_KEEP}}) {
      LoadOptions o;
      o.device(kFake).output(to).staging_budget(1ull << 20).copy_threads(3);
      LoadedModel lm = load(ctx, model, o);
      const auto st = lm.stats();
      EXPECT_LE(st.staging_high_water, 1ull << 20);
      EXPECT_GT(st.chunks, 4);
      expect_equal_to_cpu_reference(ctx, model, lm, "to " + std::to_string(to));
    }
  }
}

// Every copy method gives the same bytes; a model file replaced on disk after the model was
// opened is not read: pread() goes to the descriptor the model holds, the opened file.
TEST(LoaderFakeDevice, EveryCopyMethodAndAReplacedFile) {
  Context ctx;
  REQUIRE_FAKE(ctx);
  const loader::synth::LlamaShape s{
      .n_embd = 256, .n_ff = 512, .n_vocab = 1024, .n_layers = 2, .n_head = 4, .n_head_kv = 2};
  const std::string path = scratch_model_path("dq-loader-copy");
  const std::string other = scratch_model_path("dq-loader-copy-other");  // same folder: rename()
  auto spec = loader::synth::llama_like(s);
  loader::synth::write_gguf(spec, path);
  const char *prev = std::getenv("DQ_LOAD_COPY");
  const std::string saved = prev ? prev : "";
  auto check = [&](const Model &model, const char *method, const char *expect) {
    ::setenv("DQ_LOAD_COPY", method, 1);
    LoadOptions o;
    o.device(kFake).output(DQ_TYPE_F16).staging_budget(2ull << 20).copy_threads(3).gpu_min_bytes(0);
    LoadedModel lm = load(ctx, model, o);
    EXPECT_STREQ(lm.stats().copy_method, expect) << method;
    expect_equal_to_cpu_reference(ctx, model, lm, std::string("DQ_LOAD_COPY=") + method);
  };
  {
    Model model(ctx, path);
    // Files are always read with pread() (a truncated file must not raise SIGBUS): the
    // method only applies to models in memory.
    check(model, "pread", "pread");
    check(model, "stream", "pread");
    check(model, "memcpy", "pread");
    check(model, "prefetch", "pread");
    // Same layout, other random blocks, moved over the path: the model's descriptor keeps
    // reading the file it opened.
    spec.seed += 1;
    loader::synth::write_gguf(spec, other);
    std::filesystem::rename(other, path);
    check(model, "pread", "pread");
  }
  if (prev)
    ::setenv("DQ_LOAD_COPY", saved.c_str(), 1);
  else
    ::unsetenv("DQ_LOAD_COPY");
  std::filesystem::remove(path);
}

// Staging slots are pinned by registering anonymous memory where the plugin can, else by
// host_alloc_pinned; DQ_LOAD_PIN=alloc forces the latter. Same bytes every way, and a loader reused
// for several loads keeps its slots. The fake refuses registration unless
// DQ_FAKEASYNC_HOST_REGISTER=1, and zeroes a copy whose registration is gone when it runs.
TEST(LoaderFakeDevice, StagingPinnedByRegistrationOrAllocation) {
  Context ctx;
  REQUIRE_FAKE(ctx);
  const GeneratedModelFile file("pin");
  const std::string &path = file.path;
  struct Case {
    const char *reg, *pin, *expect;
  };
  {
    Model model(ctx, path);
    for (const Case &c : {Case{"1", "", "registered"}, Case{"0", "", "allocated"},
                          Case{"1", "alloc", "allocated"}}) {
      SCOPED_TRACE(std::string("register ") + c.reg + " DQ_LOAD_PIN=" + c.pin);
      ScopedEnv on("DQ_FAKEASYNC_HOST_REGISTER", c.reg), pin("DQ_LOAD_PIN", c.pin);
      LoadOptions o;
      // 1 MiB: 2 slots of 512 KiB, each filled several times.
      o.device(kFake)
          .output(DQ_TYPE_F16)
          .staging_budget(1ull << 20)
          .copy_threads(2)
          .gpu_min_bytes(0);
      Loader loader(ctx, o);
      for (int round = 0; round < 2; ++round) {
        LoadedModel lm = loader.load(model, o);
        EXPECT_STREQ(lm.stats().staging_pinned, c.expect);
        EXPECT_GT(lm.stats().chunks, 4);
        expect_equal_to_cpu_reference(ctx, model, lm, "round " + std::to_string(round));
      }
    }
  }
}

// Hybrid uploads: the last fills come straight from registered windows of the mapping. The
// fake checks each copy stays inside one registration and that the registration is still
// there when the copy runs (else it writes garbage); the trace line says how many fills went
// direct. With registration refused by the plugin every fill goes through staging.
TEST(LoaderFakeDevice, HybridUploadsFromRegisteredWindows) {
  Context ctx;
  REQUIRE_FAKE(ctx);
  const GeneratedModelFile file("hybrid");
  const std::string &path = file.path;
  // DQ_LOAD_HYBRID_WAIT: the pipeline waits for each window's pin instead of giving it to
  // staging when the pin thread is late, so "some fills went direct" holds on a busy machine.
  ScopedEnv copy("DQ_LOAD_COPY", "hybrid"), trace("DQ_LOAD_HYBRID_TRACE", "1"),
      window("DQ_LOAD_REGISTER_WINDOW_MIB", "1"), wait("DQ_LOAD_HYBRID_WAIT", "1");
  {
    Model model(ctx, path);
    for (const char *reg : {"1", "0"})
      for (const char *fraction : {"0.3", "1"})
        for (int32_t to : {int32_t{DQ_TYPE_F16}, int32_t{DQ_LOAD_KEEP}}) {
          SCOPED_TRACE(std::string("register ") + reg + " fraction " + fraction + " to " +
                       std::to_string(to));
          ScopedEnv on("DQ_FAKEASYNC_HOST_REGISTER", reg), f("DQ_LOAD_REGISTER_FRACTION", fraction);
          LoadOptions o;
          o.device(kFake).output(to).staging_budget(2ull << 20).copy_threads(3).gpu_min_bytes(0);
          testing::internal::CaptureStderr();
          LoadedModel lm = load(ctx, model, o);
          const std::string err = testing::internal::GetCapturedStderr();
          EXPECT_STREQ(lm.stats().copy_method, "hybrid");
          size_t direct = 0, fills = 0;
          ASSERT_EQ(std::sscanf(err.c_str() + std::min(err.size(), err.find("dq: hybrid: ")),
                                "dq: hybrid: %zu of %zu fills direct", &direct, &fills),
                    2)
              << err;
          EXPECT_EQ(fills, static_cast<size_t>(lm.stats().chunks));
          if (*reg == '1') {
            EXPECT_GT(direct, 0u) << err;
          } else {
            // Without registration nothing goes direct (whether the pin thread reached a
            // window and logged the refusal before the pipeline passed it is timing).
            EXPECT_EQ(direct, 0u) << err;
          }
          expect_equal_to_cpu_reference(ctx, model, lm, "hybrid");
        }
  }
}

// The staging ring (registered slot by slot before the load) loads every model byte for byte,
// on the fake device and on the host path. DQ_FAKEASYNC_STRICT_PINNED=1 fails any upload from
// memory that is not pinned at that moment; a slow registration (DQ_FAKEASYNC_REGISTER_DELAY_MS)
// must not let the pipeline start before it ends.

// About 20 MB: more fills than the 4 slots of a 16 MiB ring.
loader::synth::LlamaShape ring_filling_shape() {
  loader::synth::LlamaShape shape = GeneratedModelFile::small_shape();
  shape.n_embd = 1024;
  shape.n_ff = 3072;
  shape.n_vocab = 4096;
  return shape;
}

TEST(RingPin, EveryModelOnTheFakeDeviceAndTheHost) {
  {
    Context ctx;
    REQUIRE_FAKE(ctx);
  }
  ScopedEnv reg("DQ_FAKEASYNC_HOST_REGISTER", "1"), strict("DQ_FAKEASYNC_STRICT_PINNED", "1"),
      slow("DQ_FAKEASYNC_REGISTER_DELAY_MS", "2");
  LoadCase small{kFake};
  small.gpu_min_bytes = 0;
  small.budget = 1ull << 20;
  check_every_model(small);
  check_every_model({kFake});
  check_every_model({Location::host()});
}

TEST(RingPin, ManySlotsWithSlowRegistrationAndAReusedLoader) {
  Context ctx;
  REQUIRE_FAKE(ctx);
  const GeneratedModelFile file("ringpin", ring_filling_shape());
  ScopedEnv reg("DQ_FAKEASYNC_HOST_REGISTER", "1"), strict("DQ_FAKEASYNC_STRICT_PINNED", "1"),
      slow("DQ_FAKEASYNC_REGISTER_DELAY_MS", "20"), trace("DQ_LOAD_TRACE", "1");
  Model model(ctx, file.path);
  for (uint64_t budget : {1ull << 20, 16ull << 20}) {  // 2 slots of 512 KiB, 4 of 4 MiB
    SCOPED_TRACE("budget " + std::to_string(budget >> 20) + " MiB");
    LoadOptions o;
    o.device(kFake).output(DQ_TYPE_F16).staging_budget(budget).copy_threads(3).gpu_min_bytes(0);
    testing::internal::CaptureStderr();
    {
      Loader loader(ctx, o);
      for (int round = 0; round < 2; ++round) {
        LoadedModel lm = loader.load(model, o);
        EXPECT_STREQ(lm.stats().staging_pinned, "registered");
        EXPECT_GT(lm.stats().chunks, 4);
        expect_equal_to_cpu_reference(ctx, model, lm, "round " + std::to_string(round));
      }
    }
    const std::string err = testing::internal::GetCapturedStderr();
    // The set-up pieces, for the device runs (DQ_LOAD_TRACE=1).
    EXPECT_NE(err.find("dq: load set-up time:"), std::string::npos) << err;
    EXPECT_NE(err.find("pin=register:"), std::string::npos) << err;
    EXPECT_NE(err.find("fault-in"), std::string::npos) << err;
    EXPECT_NE(err.find("outputs"), std::string::npos) << err;
  }
}

// A device that refuses registration: every slot falls back to host_alloc_pinned, as before.
// One that takes only one registration: the other slots get host_alloc_pinned memory.
TEST(RingPin, RefusedRegistrationFallsBackToAllocation) {
  Context ctx;
  REQUIRE_FAKE(ctx);
  const GeneratedModelFile file("ringpin-refused", ring_filling_shape());
  struct Case {
    const char *reg, *max, *expect;
  };
  Model model(ctx, file.path);
  for (const Case &c : {Case{"0", "", "allocated"}, Case{"1", "1", "mixed"}}) {
    SCOPED_TRACE(std::string("register ") + c.reg + ", at most " + c.max);
    ScopedEnv reg("DQ_FAKEASYNC_HOST_REGISTER", c.reg), max("DQ_FAKEASYNC_REGISTER_MAX", c.max),
        strict("DQ_FAKEASYNC_STRICT_PINNED", "1"), slow("DQ_FAKEASYNC_REGISTER_DELAY_MS", "10");
    LoadOptions o;
    o.device(kFake).output(DQ_TYPE_F16).staging_budget(16ull << 20).copy_threads(3).gpu_min_bytes(0);
    Loader loader(ctx, o);
    for (int round = 0; round < 2; ++round) {
      LoadedModel lm = loader.load(model, o);
      EXPECT_STREQ(lm.stats().staging_pinned, c.expect);
      expect_equal_to_cpu_reference(ctx, model, lm, "round " + std::to_string(round));
    }
  }
}

// DQ_LOAD_RING_PIN once picked one of six ways of pinning; only the default (register) remains.
// "register" loads silently; any other value (a removed way, or nonsense) gets one warning line
// naming the variable, then the default way.
TEST(LoaderFakeDevice, UnknownRingPinWarnsAndLoads) {
  Context ctx;
  REQUIRE_FAKE(ctx);
  const GeneratedModelFile file("ringpin-unknown");
  ScopedEnv reg("DQ_FAKEASYNC_HOST_REGISTER", "1");
  Model model(ctx, file.path);
  LoadOptions o;
  o.device(kFake).output(DQ_TYPE_F16).staging_budget(2ull << 20).gpu_min_bytes(0);
  {
    ScopedEnv pin("DQ_LOAD_RING_PIN", "register");
    testing::internal::CaptureStderr();
    LoadedModel lm = load(ctx, model, o);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    EXPECT_STREQ(lm.stats().staging_pinned, "registered");
  }
  ScopedEnv pin("DQ_LOAD_RING_PIN", "populate");
  testing::internal::CaptureStderr();
  LoadedModel lm = load(ctx, model, o);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("DQ_LOAD_RING_PIN=populate is ignored: only the default way of pinning "
                     "the staging ring (register) remains"),
            std::string::npos)
      << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_STREQ(lm.stats().staging_pinned, "registered");
  expect_equal_to_cpu_reference(ctx, model, lm, "removed DQ_LOAD_RING_PIN");
}

// The ring faulted in ahead (dq_load_prepare, and the ring's own start before its device
// calls; core/loader/prepared_staging.hpp). Strict pinning on the fake: an upload from memory
// not registered at that moment fails the load, so an adopted block must be registered before
// the pipeline runs, as a block mapped by the loading thread is.

// The loader's staging-preparing threads of this process now (by their name, in /proc).
size_t thread_count() {
  size_t n = 0;
  for (const auto &e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(e.path() / "comm");
    std::string name;
    n += std::getline(comm, name) && name == "dq-prep-staging";
  }
  return n;
}

// The trace's "the load waited X ms" for the prepared ring, or -1 when the ring was not
// prepared ahead.
double prepared_wait_ms(const std::string &err) {
  const size_t at = err.find("the load waited ");
  if (at == std::string::npos) return -1;
  return std::atof(err.c_str() + at + std::strlen("the load waited "));
}

// A hinted load whose block is still held back (DQ_LOAD_PREPARE_DELAY_MS) waits for it, then
// loads every byte from it; the preparing thread is gone after the load.
TEST(Prepare, ALoadWaitsForAPreparedRingNotReadyYet) {
  Context ctx;
  REQUIRE_FAKE(ctx);
  const GeneratedModelFile file("prepare-wait", ring_filling_shape());
  ScopedEnv reg("DQ_FAKEASYNC_HOST_REGISTER", "1"), strict("DQ_FAKEASYNC_STRICT_PINNED", "1"),
      on("DQ_LOAD_PREPARE", "1"), delay("DQ_LOAD_PREPARE_DELAY_MS", "300"),
      trace("DQ_LOAD_TRACE", "1");
  Model model(ctx, file.path);
  LoadOptions o;
  o.device(kFake)
      .output(DQ_TYPE_F16)
      .staging_budget(16ull << 20)
      .copy_threads(3)
      .gpu_min_bytes(0);
  prepare_load(ctx, model, o);
  EXPECT_EQ(thread_count(), 1u) << "no preparing thread";
  testing::internal::CaptureStderr();
  LoadedModel lm = load(ctx, model, o);
  const std::string err = testing::internal::GetCapturedStderr();
  // A joined thread can stay listed in /proc for a moment after pthread_join returned.
  for (int i = 0; i < 100 && thread_count() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(thread_count(), 0u) << "the preparing thread was not joined";
  EXPECT_NE(err.find("prepared on a background thread"), std::string::npos) << err;
  EXPECT_GE(prepared_wait_ms(err), 100.0) << err;
  EXPECT_STREQ(lm.stats().staging_pinned, "registered");
  EXPECT_GT(lm.stats().chunks, 4);
  expect_equal_to_cpu_reference(ctx, model, lm, "prepared ring, waited for");
}

// Without a hint the ring still faults itself in on a background thread while its device
// calls run; DQ_LOAD_PREPARE=0 leaves it to the loading thread (the trace says which). Same
// bytes each way, through a reused loader too; a hint for a model that needs less than the
// loader's ring is not adopted by it.
TEST(Prepare, DefaultAndOffLoadTheSameBytes) {
  Context ctx;
  REQUIRE_FAKE(ctx);
  const GeneratedModelFile file("prepare-off", ring_filling_shape());
  ScopedEnv reg("DQ_FAKEASYNC_HOST_REGISTER", "1"), strict("DQ_FAKEASYNC_STRICT_PINNED", "1"),
      trace("DQ_LOAD_TRACE", "1"), slow("DQ_FAKEASYNC_REGISTER_DELAY_MS", "5");
  Model model(ctx, file.path);
  for (const char *prepare : {"1", "0"}) {
    SCOPED_TRACE(std::string("DQ_LOAD_PREPARE=") + prepare);
    ScopedEnv on("DQ_LOAD_PREPARE", prepare);
    LoadOptions o;
    o.device(kFake)
        .output(DQ_TYPE_F16)
        .staging_budget(16ull << 20)
        .copy_threads(3)
        .gpu_min_bytes(0);
    testing::internal::CaptureStderr();
    {
      LoadedModel lm = load(ctx, model, o);
      EXPECT_STREQ(lm.stats().staging_pinned, "registered");
      expect_equal_to_cpu_reference(ctx, model, lm, "one-shot");
      Loader loader(ctx, o);
      LoadedModel again = loader.load(model, o);
      expect_equal_to_cpu_reference(ctx, model, again, "reused loader");
    }
    const std::string err = testing::internal::GetCapturedStderr();
    if (*prepare == '1') {
      EXPECT_GE(prepared_wait_ms(err), 0.0) << err;
      EXPECT_EQ(err.find("(1 thread, touch"), std::string::npos) << err;
    } else {
      EXPECT_LT(prepared_wait_ms(err), 0.0) << err;
      EXPECT_NE(err.find("(1 thread, touch"), std::string::npos) << err;
    }
  }
}

// A hint needs a context and a model; for the host it does nothing.
TEST(Prepare, ArgumentsAndTheHost) {
  Context ctx;
  const GeneratedModelFile file("prepare-args");
  Model model(ctx, file.path);
  dq_load_options o;
  dq_load_options_init(&o);
  EXPECT_EQ(dq_load_prepare(nullptr, model.get(), &o), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_load_prepare(ctx.get(), nullptr, &o), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx.get())).find("dq_load_prepare"), std::string::npos);
  EXPECT_EQ(dq_load_prepare(ctx.get(), model.get(), &o), DQ_OK);  // host: nothing to prepare
  EXPECT_EQ(thread_count(), 0u);
}

// A process that prepares and never loads: exit cancels the preparing thread (here still in a
// 60 s hold-back) and joins it, so the process neither hangs nor dies (a joinable std::thread
// destroyed would abort it).
TEST(Prepare, AProcessThatNeverLoadsExitsAtOnce) {
  {
    Context ctx;
    REQUIRE_FAKE(ctx);
  }
  const GeneratedModelFile file("prepare-exit");
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto t = std::chrono::steady_clock::now();
  EXPECT_EXIT(
      {
        ::setenv("DQ_FAKEASYNC_HOST_REGISTER", "1", 1);
        ::setenv("DQ_LOAD_PREPARE", "1", 1);
        ::setenv("DQ_LOAD_PREPARE_DELAY_MS", "60000", 1);
        Context ctx;
        Model model(ctx, file.path);
        LoadOptions o;
        o.device(kFake).output(DQ_TYPE_F16).staging_budget(16ull << 20);
        prepare_load(ctx, model, o);
        std::fprintf(stderr, "preparing threads: %zu\n", thread_count());
        std::exit(0);
      },
      testing::ExitedWithCode(0), "preparing threads: 1");
  EXPECT_LT(std::chrono::steady_clock::now() - t, std::chrono::seconds(20));
}

// The generated models' names: this process's own, in the folder CTest gives this build tree
// (TEST_TMPDIR), so neither a second process of this binary nor a second build tree testing
// at once can rewrite a model while it loads.
TEST(ScratchModelPath, ThisProcessNameInTheBuildTreeFolder) {
  const std::filesystem::path path = scratch_model_path("dq-loader-name-check");
  EXPECT_EQ(path.filename().string(), "dq-loader-name-check-" + std::to_string(::getpid()) + ".gguf");
  EXPECT_EQ(path.parent_path(), std::filesystem::path(::testing::TempDir()).parent_path());
  EXPECT_TRUE(std::filesystem::is_directory(path.parent_path())) << path;
  if (std::getenv("TEST_TMPDIR") == nullptr)
    GTEST_SKIP() << "TEST_TMPDIR unset (run outside ctest): the models go to " << ::testing::TempDir();
  EXPECT_EQ(path.string().rfind(std::string(DQ_BUILD_DIR) + "/", 0), 0u)
      << path << " is outside the build tree " << DQ_BUILD_DIR;
}

}  // namespace
}  // namespace dq::test
