// The C API rules of dq.h ("C API rules" in docs/ARCHITECTURE.md), each checked across the
// calls it governs: retired type names, caller struct sizes, NULL contexts, host locations,
// indices out of range, dq_last_error keeping the last failure, a broken plugin file not
// hiding a working one, and settings that cannot be parsed.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "env_fixture.hpp"

namespace fs = std::filesystem;
using dq::test::EnvTest;
using dq::test::plugin_folder;

namespace {

// ------------------------------------------------------------------ type names

TEST(CoreTypeNames, RetiredIdsHaveTheRetiredNamesTheHeaderPromises) {
  const std::pair<int32_t, const char *> retired[] = {
      {4, "retired(Q4_2)"},        {5, "retired(Q4_3)"},        {31, "retired(Q4_0_4_4)"},
      {32, "retired(Q4_0_4_8)"},   {33, "retired(Q4_0_8_8)"},   {36, "retired(IQ4_NL_4_4)"},
      {37, "retired(IQ4_NL_4_8)"}, {38, "retired(IQ4_NL_8_8)"},
  };
  for (const auto &[id, name] : retired) {
    ASSERT_NE(dq_type_name(id), nullptr) << id;
    EXPECT_STREQ(dq_type_name(id), name) << id;
    EXPECT_EQ(dq_type_from_name(name), -1) << name;  // retired: no id by any spelling
    EXPECT_EQ(dq_type_block_elements(id), 0) << id;
  }
  EXPECT_EQ(dq_type_from_name("q4_2"), -1);
  EXPECT_EQ(dq_type_from_name("IQ4_NL_4_4"), -1);
  // Live types keep ggml's spelling and round-trip.
  EXPECT_STREQ(dq_type_name(DQ_TYPE_Q4_K), "q4_K");
  EXPECT_EQ(dq_type_from_name("Q4_K"), DQ_TYPE_Q4_K);
  EXPECT_EQ(dq_type_from_name(dq_type_name(DQ_TYPE_IQ4_NL)), DQ_TYPE_IQ4_NL);
  EXPECT_EQ(dq_type_name(DQ_TYPE_COUNT), nullptr);
  EXPECT_EQ(dq_type_name(-1), nullptr);
}

// ------------------------------------------------------------ request sizes

class CoreStructSizes : public EnvTest {
 protected:
  std::vector<float> src = std::vector<float>(64, 2.5f), dst = std::vector<float>(64);
};

// A caller compiled before `backend` (or `stream`) existed: the call is served, and what lies
// past its struct_size (here: a backend name that does not exist) is never read.
TEST_F(CoreStructSizes, OlderRequestWithoutTrailingFieldsIsServed) {
  dq_context *ctx = context();
  for (size_t size : {offsetof(dq_dequantize_request, backend),
                      offsetof(dq_dequantize_request, stream),
                      static_cast<size_t>(DQ_DEQUANTIZE_REQUEST_MIN_SIZE)}) {
    std::fill(dst.begin(), dst.end(), 0.0f);
    dq_dequantize_request r = dq::test::f32_request(src, dst);
    r.struct_size = size;
    r.backend = "not-a-backend";                      // beyond size: must be ignored
    if (size <= offsetof(dq_dequantize_request, dst_where))
      r.dst_where = {"not-a-backend", 7};             // also beyond size
    ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << size << ": " << dq_last_error(ctx);
    EXPECT_EQ(dst, src) << size;
    EXPECT_STREQ(dq_last_backend(ctx), "cpu");
  }
}

TEST_F(CoreStructSizes, RequestBelowTheMinimumIsRefusedNamingIt) {
  dq_context *ctx = context();
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  r.struct_size = DQ_DEQUANTIZE_REQUEST_MIN_SIZE - 1;
  EXPECT_EQ(dq_dequantize(ctx, &r), DQ_ERR_INVALID_ARGUMENT);
  const std::string msg = dq_last_error(ctx);
  EXPECT_NE(msg.find("DQ_DEQUANTIZE_REQUEST_MIN_SIZE"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(DQ_DEQUANTIZE_REQUEST_MIN_SIZE)), std::string::npos) << msg;
}

TEST_F(CoreStructSizes, OutputStructBelowTheMinimumIsRefusedNamingIt) {
  dq_context *ctx = context();
  dq_backend_info b{};
  b.struct_size = DQ_BACKEND_INFO_MIN_SIZE - 1;
  EXPECT_EQ(dq_backend_get_info(ctx, 0, &b), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx)).find("DQ_BACKEND_INFO_MIN_SIZE"), std::string::npos)
      << dq_last_error(ctx);
  b.struct_size = DQ_BACKEND_INFO_MIN_SIZE;  // knows nothing but struct_size: fine, nothing written
  EXPECT_EQ(dq_backend_get_info(ctx, 0, &b), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(b.name, nullptr);
}

// ------------------------------------------------------------- NULL contexts

// Every function taking a context refuses a NULL one and touches nothing else.
TEST(CoreNullContext, EveryCallRefusesIt) {
  std::vector<float> src(32, 1.0f), dst(32);
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  const dq_location host{nullptr, 0};
  dq_load_options o;
  dq_load_options_init(&o);
  void *p = nullptr;
  dq_model *model = nullptr;
  dq_loaded_model *lm = nullptr;
  dq_loader *loader = nullptr;
  dq_backend_info bi{};
  bi.struct_size = sizeof bi;
  dq_device_info di{};
  di.struct_size = sizeof di;
  double bps = 0;
  void *host_block = std::malloc(64);  // must survive dq_free(NULL, ...)
  std::memset(host_block, 0x5A, 64);
  const std::pair<const char *, std::function<dq_status()>> calls[] = {
      {"dq_backend_get_info", [&] { return dq_backend_get_info(nullptr, 0, &bi); }},
      {"dq_backend_get_device", [&] { return dq_backend_get_device(nullptr, 0, 0, &di); }},
      {"dq_malloc", [&] { return dq_malloc(nullptr, host, 16, &p); }},
      {"dq_free", [&] { return dq_free(nullptr, host, host_block); }},
      {"dq_free (NULL ptr)", [&] { return dq_free(nullptr, host, nullptr); }},
      {"dq_memcpy", [&] { return dq_memcpy(nullptr, dst.data(), host, src.data(), host, 4); }},
      {"dq_synchronize", [&] { return dq_synchronize(nullptr, host, nullptr); }},
      {"dq_dequantize", [&] { return dq_dequantize(nullptr, &r); }},
      {"dq_model_open", [&] { return dq_model_open(nullptr, "/nonexistent.gguf", &model); }},
      {"dq_load", [&] { return dq_load(nullptr, nullptr, &o, &lm); }},
      {"dq_load_file", [&] { return dq_load_file(nullptr, "/nonexistent.gguf", &o, &lm); }},
      {"dq_loader_create", [&] { return dq_loader_create(nullptr, &o, &loader); }},
      {"dq_measure_h2d_bandwidth",
       [&] { return dq_measure_h2d_bandwidth(nullptr, {"cuda", 0}, 0, 0, &bps); }},
  };
  for (const auto &[name, call] : calls) EXPECT_EQ(call(), DQ_ERR_INVALID_ARGUMENT) << name;
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(dst[0], 0.0f);
  EXPECT_EQ(static_cast<unsigned char *>(host_block)[63], 0x5A);  // not freed
  std::free(host_block);
  EXPECT_EQ(dq_backend_count(nullptr), 0);
  EXPECT_EQ(dq_backend_find(nullptr, "cpu"), -1);
  EXPECT_EQ(dq_backend_supports(nullptr, 0, DQ_TYPE_F32, DQ_TYPE_F32), 0);
  EXPECT_STREQ(dq_last_error(nullptr), "ctx is NULL");
  EXPECT_STREQ(dq_last_backend(nullptr), "");
  dq_context_destroy(nullptr);  // handles: NULL accepted
  dq_model_close(nullptr);
  dq_loaded_free(nullptr);
  dq_loader_destroy(nullptr);
}

// -------------------------------------------------------------- host locations

class CoreLocations : public EnvTest {};

// {"cpu", 0} is host memory in every call, as it already was for dq_load.
TEST_F(CoreLocations, CpuDeviceZeroIsHostMemoryEverywhere) {
  dq_context *ctx = context();
  const dq_location cpu{"cpu", 0};
  void *a = nullptr, *b = nullptr;
  ASSERT_EQ(dq_malloc(ctx, cpu, 256, &a), DQ_OK) << dq_last_error(ctx);
  ASSERT_EQ(dq_malloc(ctx, {"", 0}, 256, &b), DQ_OK) << dq_last_error(ctx);
  std::vector<float> src(64, -1.25f);
  ASSERT_EQ(dq_memcpy(ctx, a, cpu, src.data(), {nullptr, 0}, 256), DQ_OK) << dq_last_error(ctx);
  dq_dequantize_request r{};
  r.struct_size = sizeof r;
  r.src_type = r.dst_type = DQ_TYPE_F32;
  r.src = a;
  r.src_bytes = 256;
  r.n_elements = 64;
  r.dst = b;
  r.dst_bytes = 256;
  r.src_where = cpu;
  r.dst_where = {"host", 0};
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(std::memcmp(b, src.data(), 256), 0);
  EXPECT_EQ(dq_synchronize(ctx, cpu, nullptr), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(dq_free(ctx, cpu, a), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(dq_free(ctx, {"", 0}, b), DQ_OK) << dq_last_error(ctx);
}

// Host memory has device 0 only; every call says so the same way.
TEST_F(CoreLocations, HostLocationWithAnotherDeviceIsRefusedEverywhere) {
  dq_context *ctx = context();
  std::vector<float> src(32, 1.0f), dst(32);
  void *p = nullptr;
  for (const dq_location bad : {dq_location{"cpu", 1}, dq_location{"host", 2}, dq_location{nullptr, -1}}) {
    dq_dequantize_request r = dq::test::f32_request(src, dst);
    r.src_where = bad;
    const std::pair<const char *, std::function<dq_status()>> calls[] = {
        {"dq_malloc", [&] { return dq_malloc(ctx, bad, 16, &p); }},
        {"dq_free", [&] { return dq_free(ctx, bad, nullptr); }},
        {"dq_memcpy", [&] { return dq_memcpy(ctx, dst.data(), bad, src.data(), {}, 4); }},
        {"dq_synchronize", [&] { return dq_synchronize(ctx, bad, nullptr); }},
        {"dq_dequantize", [&] { return dq_dequantize(ctx, &r); }},
    };
    for (const auto &[name, call] : calls) {
      EXPECT_EQ(call(), DQ_ERR_INVALID_ARGUMENT) << name << " device " << bad.device;
      EXPECT_NE(std::string(dq_last_error(ctx)).find("host memory has only device 0"),
                std::string::npos)
          << name << ": " << dq_last_error(ctx);
    }
  }
  EXPECT_EQ(p, nullptr);
}

// ------------------------------------------------------------- dq_last_error

class CoreLastError : public EnvTest {};

TEST_F(CoreLastError, SuccessKeepsTheMessageOfTheLastFailure) {
  dq_context *ctx = context();
  void *p = nullptr;
  EXPECT_STREQ(dq_last_error(ctx), "");
  ASSERT_EQ(dq_malloc(ctx, {nullptr, 0}, 0, &p), DQ_ERR_INVALID_ARGUMENT);
  const std::string failure = dq_last_error(ctx);
  ASSERT_NE(failure, "");
  ASSERT_EQ(dq_malloc(ctx, {nullptr, 0}, 16, &p), DQ_OK);
  EXPECT_EQ(dq_last_error(ctx), failure);
  EXPECT_EQ(dq_free(ctx, {nullptr, 0}, p), DQ_OK);
  EXPECT_EQ(dq_backend_count(ctx) > 0, true);
  EXPECT_EQ(dq_last_error(ctx), failure);
}

// A context made after another was destroyed starts with no message, even at the same address.
TEST_F(CoreLastError, NewContextStartsEmpty) {
  for (int i = 0; i < 4; ++i) {
    dq_context *ctx = nullptr;
    ASSERT_EQ(dq_context_create(&ctx), DQ_OK);
    EXPECT_STREQ(dq_last_error(ctx), "") << "round " << i;
    void *p = nullptr;
    dq_malloc(ctx, {nullptr, 0}, 0, &p);
    EXPECT_STRNE(dq_last_error(ctx), "");
    dq_context_destroy(ctx);
  }
}

// ------------------------------------------------ a broken file does not shadow

class CoreShadowing : public EnvTest {};

TEST_F(CoreShadowing, BrokenFileOfANameDoesNotHideTheWorkingOne) {
  const fs::path dir = fs::path(::testing::TempDir()) / "dq_shadow_text_cpu";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "libdq-cpu.so") << "this is not a shared object\n";
  set("DQ_PLUGIN_PATH", dir.string());
  dq_context *ctx = context();

  int failed = -1, loaded = -1;
  for (int32_t i = 0; i < dq_backend_count(ctx); ++i) {
    dq_backend_info b = info(ctx, i);
    if (std::string(b.name) != "cpu") continue;
    if (b.loaded) loaded = i;
    else if (fs::path(b.path) == dir / "libdq-cpu.so") failed = i;
  }
  ASSERT_GE(failed, 0) << "the text file must be listed with its failure";
  ASSERT_GE(loaded, 0) << "the built-in cpu plugin must still load";
  EXPECT_LT(failed, loaded);  // search order is kept
  dq_backend_info f = info(ctx, failed);
  EXPECT_EQ(f.loaded, 0);
  EXPECT_NE(std::string(f.status), "") << "a failed entry says why";
  EXPECT_EQ(std::string(f.status).find("skipped"), std::string::npos) << f.status;
  EXPECT_EQ(dq_backend_find(ctx, "cpu"), loaded);

  std::vector<float> src{1.0f, -2.0f, 3.5f, 0.25f}, dst(4);
  dq_dequantize_request r = dq::test::f32_request(src, dst);
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  EXPECT_EQ(dst, src);
  r.backend = "cpu";  // forced by name: the one that loaded
  ASSERT_EQ(dq_dequantize(ctx, &r), DQ_OK) << dq_last_error(ctx);
  fs::remove_all(dir);
}

// ------------------------------------------------------------- settings warnings

class CoreSettingsWarnings : public EnvTest {
 protected:
  std::string stderr_of_first_use() {
    dq_context *ctx = context();
    ::testing::internal::CaptureStderr();
    dq_backend_count(ctx);
    return ::testing::internal::GetCapturedStderr();
  }
};

// Without DQ_LOG, a value that cannot be used still gets exactly one line naming it.
TEST_F(CoreSettingsWarnings, UnparsableValuesWarnOnceWithoutDqLog) {
  const std::pair<const char *, const char *> cases[] = {
      {"DQ_GPU_MIN_BYTES", "abc"}, {"DQ_LOG", "loud"}, {"DQ_BACKEND", "cpu;cuda"}};
  for (const auto &[var, value] : cases) {
    for (const char *v : {"DQ_GPU_MIN_BYTES", "DQ_LOG", "DQ_BACKEND"}) unsetenv(v);
    set(var, value);
    const std::string err = stderr_of_first_use();
    const std::string head = std::string("dq: ") + var + "='" + value + "'";
    EXPECT_EQ(err.find(head), 0u) << var << ": " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << var << ": " << err;
  }
}

TEST_F(CoreSettingsWarnings, UnknownBackendNameIsNamedWithWhatWasFound) {
  set("DQ_BACKEND", "cdua,cpu");
  const std::string err = stderr_of_first_use();
  EXPECT_NE(err.find("DQ_BACKEND='cdua,cpu': no plugin named 'cdua' was found (found: "),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("cpu"), std::string::npos) << err;
}

TEST_F(CoreSettingsWarnings, GoodValuesStayQuiet) {
  set("DQ_GPU_MIN_BYTES", "64K");
  set("DQ_BACKEND", "cpu");
  set("DQ_LOG", "off");
  EXPECT_EQ(stderr_of_first_use(), "");
}

}  // namespace
