// Where a loader test writes a model it generates: `<name>-<pid>.gguf` in gtest's TempDir()
// ($TEST_TMPDIR, which CTest sets to a folder of this build tree; else $TMPDIR or /tmp/).
// The pid: ctest -j runs a test binary whole beside its single tests, and a shared name let
// one process rewrite the file another was loading ("the file ends early"). The build-tree
// folder: two build trees testing at once on one machine keep apart even by name.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace dq::test {

inline std::string scratch_model_path(std::string_view name) {
  const std::filesystem::path dir(::testing::TempDir());
  // The build tree's folder is made at configure time; a clean of the build tree may remove it.
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  return (dir / (std::string(name) + "-" + std::to_string(::getpid()) + ".gguf")).string();
}

}  // namespace dq::test
