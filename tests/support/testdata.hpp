// Locating ../shared/testdata for tests: DQ_TESTDATA, else the path CMake baked in.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifndef DQ_TESTDATA_DEFAULT
#define DQ_TESTDATA_DEFAULT ""
#endif

namespace dq::test {

// The test-data folder, or an empty path when absent (tests then GTEST_SKIP with a reason).
inline std::filesystem::path testdata_dir() {
  if (const char *env = std::getenv("DQ_TESTDATA"); env && *env) return env;
  std::filesystem::path p = DQ_TESTDATA_DEFAULT;
  std::error_code ec;
  if (!p.empty() && std::filesystem::exists(p / "manifest.tsv", ec)) return p;
  return {};
}

inline std::vector<unsigned char> read_file(const std::filesystem::path &p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace dq::test

#define DQ_REQUIRE_TESTDATA(dir)                                                        \
  const std::filesystem::path dir = ::dq::test::testdata_dir();                         \
  if (dir.empty())                                                                      \
  GTEST_SKIP() << "test data not found: set DQ_TESTDATA or place ../shared/testdata "   \
                  "beside the checkout"
