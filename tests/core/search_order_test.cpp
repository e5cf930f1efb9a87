// Where the core looks for plugins, seen from copies of libdq-core.so placed in temporary
// folders and opened with dlopen (this test does not link the core): the `dq/` folder beside
// the library wins, and the build tree is searched only when that folder holds no plugin.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "dq/dq.h"

namespace fs = std::filesystem;

namespace {

// The subset of the C API this test calls, looked up in one copy of the library.
struct CoreCopy {
  void *handle = nullptr;
  decltype(&dq_context_create) create = nullptr;
  decltype(&dq_context_destroy) destroy = nullptr;
  decltype(&dq_backend_find) find = nullptr;
  decltype(&dq_backend_get_info) info = nullptr;

  explicit CoreCopy(const fs::path &lib) {
    handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) return;
    create = reinterpret_cast<decltype(create)>(dlsym(handle, "dq_context_create"));
    destroy = reinterpret_cast<decltype(destroy)>(dlsym(handle, "dq_context_destroy"));
    find = reinterpret_cast<decltype(find)>(dlsym(handle, "dq_backend_find"));
    info = reinterpret_cast<decltype(info)>(dlsym(handle, "dq_backend_get_info"));
  }
  ~CoreCopy() {
    if (handle) dlclose(handle);
  }
  // Path of the plugin that serves `name`, or "" when none.
  std::string plugin_path(const char *name) const {
    dq_context *ctx = nullptr;
    if (create(&ctx) != DQ_OK) return {};
    std::string path;
    dq_backend_info b{};
    b.struct_size = sizeof(b);
    const int32_t i = find(ctx, name);
    if (i >= 0 && info(ctx, i, &b) == DQ_OK && b.loaded) path = b.path;
    destroy(ctx);
    return path;
  }
};

fs::path fresh_folder(const std::string &name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("dq_search_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

fs::path copy_core(const fs::path &dir) {
  fs::path lib = dir / "libdq-core.so";
  fs::copy_file(DQ_CORE_LIBRARY, lib);
  return lib;
}

class CoreSearchOrder : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("DQ_PLUGIN_PATH");
    unsetenv("DQ_BACKEND");
  }
};

TEST_F(CoreSearchOrder, FolderBesideTheCoreComesFirst) {
  const fs::path dir = fresh_folder("beside");
  fs::create_directories(dir / "dq");
  fs::copy_file(fs::path(DQ_PLUGIN_DIR) / "libdq-cpu.so", dir / "dq" / "libdq-cpu.so");
  CoreCopy core(copy_core(dir));
  ASSERT_NE(core.handle, nullptr) << dlerror();
  EXPECT_EQ(fs::path(core.plugin_path("cpu")), dir / "dq" / "libdq-cpu.so");
}

TEST_F(CoreSearchOrder, BuildTreeIsTheLastResort) {
  const fs::path dir = fresh_folder("alone");  // no dq/ folder beside this copy
  CoreCopy core(copy_core(dir));
  ASSERT_NE(core.handle, nullptr) << dlerror();
  const std::string path = core.plugin_path("cpu");
  ASSERT_FALSE(path.empty()) << "cpu plugin not found through DQ_BUILD_PLUGIN_DIR";
  EXPECT_EQ(fs::canonical(fs::path(path).parent_path()), fs::canonical(DQ_PLUGIN_DIR));
}

TEST_F(CoreSearchOrder, PluginPathComesBeforeBoth) {
  const fs::path dir = fresh_folder("override");
  fs::create_directories(dir / "dq");
  fs::copy_file(fs::path(DQ_PLUGIN_DIR) / "libdq-cpu.so", dir / "dq" / "libdq-cpu.so");
  const fs::path first = fresh_folder("override_first");
  fs::copy_file(fs::path(DQ_PLUGIN_DIR) / "libdq-cpu.so", first / "libdq-cpu.so");
  setenv("DQ_PLUGIN_PATH", first.c_str(), 1);
  CoreCopy core(copy_core(dir));
  ASSERT_NE(core.handle, nullptr) << dlerror();
  EXPECT_EQ(fs::path(core.plugin_path("cpu")), first / "libdq-cpu.so");
  unsetenv("DQ_PLUGIN_PATH");
}

}  // namespace
