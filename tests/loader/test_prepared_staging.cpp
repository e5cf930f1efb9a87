// The staging ring faulted in ahead (core/loader/prepared_staging.*): who gets the block, that
// its pages are there when it is handed over, that a block not ready yet is waited for, and
// DQ_LOAD_PREPARE=0. (Loads that adopt it: test_loader_fake_device.cpp, Prepare.*.)
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "loader/prepared_staging.hpp"
#include "loader_test_util.hpp"

namespace dq::loader {
namespace {

using dq::test::ScopedEnv;
constexpr uint64_t kMiB = 1ull << 20;

// Pages of [p, p + bytes) resident now (mincore): a prepared block's are all faulted in.
size_t resident_pages(const uint8_t *p, uint64_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> v((bytes + page - 1) / page);
  if (::mincore(const_cast<uint8_t *>(p), bytes, v.data()) != 0) return 0;
  size_t n = 0;
  for (unsigned char c : v) n += c & 1;
  return n;
}

void free_block(const PreparedBlock &b) {
  ASSERT_EQ(::munmap(b.block, b.block_bytes), 0);
}

TEST(PreparedStaging, ABlockAtA2MiBBoundaryWithEveryPageFaultedIn) {
  ScopedEnv on("DQ_LOAD_PREPARE", "1");
  prepare_staging(8 * kMiB);
  const auto b = take_prepared_staging(8 * kMiB);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b->ring) % (2 * kMiB), 0u);
  EXPECT_GE(b->ring, b->block);
  EXPECT_LE(b->ring + b->ring_bytes, b->block + b->block_bytes);
  EXPECT_EQ(b->ring_bytes, 8 * kMiB);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(resident_pages(b->ring, b->ring_bytes), b->ring_bytes / page);
  EXPECT_NE(b->trace().find("prepared on a background thread"), std::string::npos) << b->trace();
  std::memset(b->ring, 0x5A, b->ring_bytes);  // writable, all of it
  free_block(*b);
  EXPECT_FALSE(take_prepared_staging(kMiB).has_value()) << "handed out twice";
}

// A larger block serves a smaller ring; a smaller one is dropped, and nothing is handed out.
TEST(PreparedStaging, LargerServesSmallerDroppedOtherwise) {
  ScopedEnv on("DQ_LOAD_PREPARE", "1");
  prepare_staging(4 * kMiB);
  prepare_staging(2 * kMiB);  // the 4 MiB one under way will do
  auto b = take_prepared_staging(3 * kMiB);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->ring_bytes, 4 * kMiB);
  free_block(*b);
  prepare_staging(2 * kMiB);
  EXPECT_FALSE(take_prepared_staging(4 * kMiB).has_value());
  EXPECT_FALSE(take_prepared_staging(kMiB).has_value()) << "the dropped block came back";
}

// The taker waits for a block that is not ready yet (the thread holds back for 200 ms first).
TEST(PreparedStaging, TakingABlockNotReadyYetWaitsForIt) {
  ScopedEnv on("DQ_LOAD_PREPARE", "1"), delay("DQ_LOAD_PREPARE_DELAY_MS", "200");
  const auto t = std::chrono::steady_clock::now();
  prepare_staging(4 * kMiB);
  const auto b = take_prepared_staging(4 * kMiB);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  ASSERT_TRUE(b.has_value());
  EXPECT_GE(ms, 190.0);
  EXPECT_GE(b->waited_ms, 150.0) << b->trace();
  EXPECT_GE(b->ready_after_ms, 190.0) << b->trace();
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(resident_pages(b->ring, b->ring_bytes), b->ring_bytes / page);
  free_block(*b);
}

// Dropping a block still in its delay cancels it instead of waiting the delay out.
TEST(PreparedStaging, DroppingAPendingBlockCancelsIt) {
  ScopedEnv on("DQ_LOAD_PREPARE", "1"), delay("DQ_LOAD_PREPARE_DELAY_MS", "60000");
  const auto t = std::chrono::steady_clock::now();
  prepare_staging(2 * kMiB);
  EXPECT_FALSE(take_prepared_staging(4 * kMiB).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - t, std::chrono::seconds(10));
}

TEST(PreparedStaging, OffPreparesNothing) {
  ScopedEnv off("DQ_LOAD_PREPARE", "0");
  EXPECT_FALSE(staging_prepare_enabled());
  prepare_staging(2 * kMiB);
  EXPECT_FALSE(take_prepared_staging(2 * kMiB).has_value());
}

}  // namespace
}  // namespace dq::loader
