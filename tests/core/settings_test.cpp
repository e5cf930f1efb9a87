// Parsing of the registry's environment variables.
#include "registry/settings.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace dq::core {
namespace {

TEST(CoreSettings, ByteCounts) {
  uint64_t v = 0;
  ASSERT_TRUE(parse_byte_count("67108864", &v));
  EXPECT_EQ(v, 67108864u);
  ASSERT_TRUE(parse_byte_count("64M", &v));
  EXPECT_EQ(v, 64ull << 20);
  ASSERT_TRUE(parse_byte_count(" 2 GiB ", &v));
  EXPECT_EQ(v, 2ull << 30);
  ASSERT_TRUE(parse_byte_count("0", &v));
  EXPECT_EQ(v, 0u);
  ASSERT_TRUE(parse_byte_count("off", &v));
  EXPECT_EQ(v, kGpuNever);
}

TEST(CoreSettings, BadByteCountsAreRejected) {
  uint64_t v = 7;
  EXPECT_FALSE(parse_byte_count("", &v));
  EXPECT_FALSE(parse_byte_count("abc", &v));
  EXPECT_FALSE(parse_byte_count("-1", &v));
  EXPECT_FALSE(parse_byte_count("12X", &v));
  EXPECT_FALSE(parse_byte_count("99999999999999999999", &v));
  EXPECT_FALSE(parse_byte_count("17179869184G", &v));  // overflows 64 bits
  EXPECT_EQ(v, 7u);
}

TEST(CoreSettings, ListsDropEmptyPartsAndBlanks) {
  EXPECT_EQ(split_list("a::b: c :", ':'), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_list(" cuda , cpu", ','), (std::vector<std::string>{"cuda", "cpu"}));
  EXPECT_TRUE(split_list("", ',').empty());
}

TEST(CoreSettings, LogLevels) {
  EXPECT_EQ(parse_log_level("DEBUG"), LogLevel::debug);
  EXPECT_EQ(parse_log_level("info"), LogLevel::info);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::warn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::error);
  EXPECT_EQ(parse_log_level(""), LogLevel::off);
  EXPECT_FALSE(Logger(LogLevel::warn).enabled(LogLevel::info));
  EXPECT_TRUE(Logger(LogLevel::warn).enabled(LogLevel::error));
  EXPECT_FALSE(Logger().enabled(LogLevel::error));
}

TEST(CoreSettings, ReadFromEnvironment) {
  setenv("DQ_PLUGIN_PATH", "/a:/b", 1);
  setenv("DQ_BACKEND", "cuda,cpu", 1);
  setenv("DQ_GPU_MIN_BYTES", "1M", 1);
  setenv("DQ_LOG", "debug", 1);
  Settings s = settings_from_environment();
  EXPECT_EQ(s.plugin_path, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(s.backend_order, (std::vector<std::string>{"cuda", "cpu"}));
  EXPECT_EQ(s.gpu_min_bytes, 1u << 20);
  EXPECT_TRUE(s.gpu_min_bytes_from_env);
  EXPECT_EQ(s.log_level, LogLevel::debug);
  setenv("DQ_GPU_MIN_BYTES", "lots", 1);
  s = settings_from_environment();
  EXPECT_EQ(s.gpu_min_bytes, kDefaultGpuMinBytes);
  EXPECT_EQ(s.gpu_min_bytes_error, "lots");
  for (const char *v : {"DQ_PLUGIN_PATH", "DQ_BACKEND", "DQ_GPU_MIN_BYTES", "DQ_LOG"}) unsetenv(v);
}

}  // namespace
}  // namespace dq::core
