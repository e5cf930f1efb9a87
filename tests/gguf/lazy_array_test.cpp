// dq_value_array_get on arrays of numbers: element records are made a chunk at a time on
// demand, so reading one element of a 64M-element u8 array costs a chunk of records, not a
// 56-byte record per element (3.5 GB here; a 1 GB hostile array asked for 56 GB); concurrent
// first reads of the same and of different chunks agree; every value read equals its raw
// bytes (dq_value_array_data).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstring>
#include <fstream>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "dq/dq.hpp"
#include "reader_test_util.hpp"

namespace dq::test {
namespace {

constexpr uint64_t kChunk = 4096;  // core/gguf/value.hpp LazyElements::kChunk
// 64M + 123 u8: a 64 MB file whose last chunk is partial.
constexpr uint64_t kBigCount = (uint64_t{64} << 20) + 123;

// Byte i of the big array: varies within and across chunks, so a record pointing at the
// wrong byte reads a wrong value.
uint8_t pattern(uint64_t i) { return static_cast<uint8_t>((i * 0x9E3779B1u) >> 24 ^ (i >> 12)); }

// Anonymous resident memory of this process in KiB (heap; the mapped file is not counted).
uint64_t rss_anon_kib() { return proc_status_kib("RssAnon"); }

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DQ_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define DQ_TEST_SANITIZED 1
#endif
#endif

#ifndef DQ_TEST_SANITIZED
// Virtual memory of this process in KiB (VmSize).
uint64_t vm_size_kib() { return proc_status_kib("VmSize"); }
#endif

// Caps the address space at its current size + 2 GB while alive, so a regression to a record
// per element (3.5 GB in one allocation) fails as a NULL element at once instead of taking
// 3.5 GB of the CI machine. Not under sanitizers, whose shadow memory needs terabytes.
class AddressSpaceCap {
 public:
  AddressSpaceCap() {
#ifndef DQ_TEST_SANITIZED
    const uint64_t vm = vm_size_kib();
    if (vm == 0 || ::getrlimit(RLIMIT_AS, &old_) != 0) return;
    rlimit cap = old_;
    cap.rlim_cur = std::min<rlim_t>(old_.rlim_max, (vm << 10) + (uint64_t{2} << 30));
    set_ = ::setrlimit(RLIMIT_AS, &cap) == 0;
#endif
  }
  ~AddressSpaceCap() {
    if (set_) ::setrlimit(RLIMIT_AS, &old_);
  }
  AddressSpaceCap(const AddressSpaceCap &) = delete;
  AddressSpaceCap &operator=(const AddressSpaceCap &) = delete;

 private:
  rlimit old_{};
  bool set_ = false;
};

// Writes a GGUF whose only kv is "big", an array of kBigCount u8, streaming the elements so
// the test never holds them in memory.
void write_big_array_file(const std::filesystem::path &path) {
  GgufBuilder g;
  g.write_data = false;
  g.kv("big", kArray, enc_array(kU8, kBigCount, {}));  // type and count; elements follow
  Bytes header = g.build();
  header.resize(g.layout.infos_end);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char *>(header.data()),
          static_cast<std::streamsize>(header.size()));
  std::vector<char> block(1 << 20);
  for (uint64_t at = 0; at < kBigCount; at += block.size()) {
    const uint64_t n = std::min<uint64_t>(block.size(), kBigCount - at);
    for (uint64_t k = 0; k < n; ++k) block[k] = static_cast<char>(pattern(at + k));
    f.write(block.data(), static_cast<std::streamsize>(n));
  }
  const uint64_t end = header.size() + kBigCount;
  const std::vector<char> pad((g.alignment - end % g.alignment) % g.alignment, 0);
  f.write(pad.data(), static_cast<std::streamsize>(pad.size()));
  ASSERT_TRUE(f.good()) << path;
}

class GgufLazyArray : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    write_big_array_file(*dir_ / "big.gguf");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  // A fresh open per test: no chunk has been made yet.
  void SetUp() override {
    opened_ = std::make_unique<Opened>(*dir_ / "big.gguf");
    ASSERT_EQ(opened_->status, DQ_OK) << opened_->message;
    big_ = kv(opened_->model, "big");
    ASSERT_EQ(dq_value_array_count(big_), kBigCount);
    const void *raw = nullptr;
    uint64_t bytes = 0;
    ASSERT_EQ(dq_value_array_data(big_, &raw, &bytes), DQ_OK);
    ASSERT_EQ(bytes, kBigCount);
    raw_ = static_cast<const uint8_t *>(raw);
  }

  // Element i read through dq_value_array_get, checked against the file's byte and the raw
  // view; returns its record.
  const dq_value *expect_element(uint64_t i) const {
    const dq_value *e = dq_value_array_get(big_, i);
    EXPECT_NE(e, nullptr) << "element " << i;
    if (!e) return nullptr;
    uint64_t u = 0;
    EXPECT_EQ(dq_value_get_u64(e, &u), DQ_OK) << "element " << i;
    EXPECT_EQ(u, pattern(i)) << "element " << i;
    EXPECT_EQ(u, raw_[i]) << "element " << i;
    return e;
  }

  static ScratchDir *dir_;
  AddressSpaceCap cap_;  // before opened_: lifted only after the model is closed
  std::unique_ptr<Opened> opened_;
  const dq_value *big_ = nullptr;
  const uint8_t *raw_ = nullptr;
};

ScratchDir *GgufLazyArray::dir_ = nullptr;

TEST_F(GgufLazyArray, ReadingTheFirstAndLastElementsMakesTwoChunksNotARecordEach) {
  const uint64_t before = rss_anon_kib();
  ASSERT_GT(before, 0u) << "RssAnon not found in /proc/self/status";
  expect_element(0);
  expect_element(kBigCount - 1);
  expect_element(kBigCount / 2);
  const uint64_t growth_kib = rss_anon_kib() - std::min(before, rss_anon_kib());
  RecordProperty("heap_growth_kib", std::to_string(growth_kib));
  // Three chunks of 4096 records: ~0.7 MB. A record per element: 56 * 64M = 3.5 GB.
  EXPECT_LT(growth_kib, 16u << 10) << "heap grew by " << (growth_kib >> 10) << " MiB";
  // Records are made once and stay put: the same pointer each time.
  EXPECT_EQ(dq_value_array_get(big_, 0), dq_value_array_get(big_, 0));
  EXPECT_EQ(dq_value_array_get(big_, kBigCount - 1), dq_value_array_get(big_, kBigCount - 1));
  EXPECT_NE(dq_value_array_get(big_, 1), dq_value_array_get(big_, 0));
  EXPECT_EQ(dq_value_array_get(big_, kBigCount), nullptr);
  EXPECT_EQ(dq_value_array_get(big_, UINT64_MAX), nullptr);
}

TEST_F(GgufLazyArray, ValuesAcrossChunkBoundariesEqualTheRawBytes) {
  // Both sides of many chunk boundaries, a sparse stride through the whole array, and the
  // partial last chunk.
  const uint64_t chunks = (kBigCount + kChunk - 1) / kChunk;
  for (uint64_t c = 1; c < chunks; c += 997)
    for (uint64_t i = c * kChunk - 2; i <= c * kChunk + 1 && i < kBigCount; ++i) expect_element(i);
  for (uint64_t i = 12345; i < kBigCount; i += 1'000'003) expect_element(i);
  for (uint64_t i = (chunks - 1) * kChunk; i < kBigCount; ++i) expect_element(i);
}

TEST_F(GgufLazyArray, ConcurrentFirstReadsOfTheSameAndDifferentChunksAgree) {
  constexpr int kThreads = 8;
  // Shared: the first and last elements of a few chunks every thread reads at once.
  const std::vector<uint64_t> shared = {0, kChunk - 1, kChunk, 5 * kChunk + 7, kBigCount - 1};
  std::vector<std::vector<const dq_value *>> seen(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      start.arrive_and_wait();  // maximize the races on the first reads
      for (uint64_t i : shared) seen[t].push_back(expect_element(i));
      // Own chunks, far apart, plus one element of each neighbour's chunk.
      const uint64_t own = (1000 + 3 * static_cast<uint64_t>(t)) * kChunk;
      for (uint64_t i = own; i < own + 3 * kChunk; i += 511) expect_element(i);
      expect_element(((t + 1) % kThreads * 3 + 1000) * kChunk + 17);
    });
  for (auto &th : threads) th.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t], seen[0]) << "thread " << t;
}

TEST_F(GgufLazyArray, CppValueIndexingReadsInRangeAndRefusesPastTheEnd) {
  const dq::Value big(big_);
  EXPECT_EQ(big[kBigCount - 1].as_u64(), pattern(kBigCount - 1));
  try {
    (void)big[kBigCount];
    ADD_FAILURE() << "no exception past the end";
  } catch (const dq::Error &e) {
    EXPECT_EQ(e.status(), DQ_ERR_NOT_FOUND) << e.what();
  }
}

// Multi-byte element types: every element of arrays a few chunks long, read one by one.
TEST(GgufLazyArrayTypes, EveryElementOfMultiByteArraysMatchesItsBytes) {
  constexpr uint64_t n = 2 * kChunk + 5;
  std::vector<uint32_t> u32(n);
  std::vector<int16_t> i16(n);
  std::vector<double> f64(n);
  for (uint64_t i = 0; i < n; ++i) {
    u32[i] = static_cast<uint32_t>(i * 2654435761u);
    i16[i] = static_cast<int16_t>(static_cast<int64_t>(i) - 5000);
    f64[i] = static_cast<double>(i) * 0.5 - 1.0;
  }
  GgufBuilder g;
  g.kv("u32", kArray, enc_numbers<uint32_t>(kU32, u32));
  g.kv("i16", kArray, enc_numbers<int16_t>(kI16, i16));
  g.kv("f64", kArray, enc_numbers<double>(kF64, f64));
  ScratchDir dir;
  write_bytes(dir / "typed.gguf", g.build());
  Opened o(dir / "typed.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  const dq_value *a32 = kv(o.model, "u32"), *a16 = kv(o.model, "i16"), *a64 = kv(o.model, "f64");
  const void *raw = nullptr;
  uint64_t bytes = 0;
  ASSERT_EQ(dq_value_array_data(a32, &raw, &bytes), DQ_OK);
  ASSERT_EQ(bytes, n * 4);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t u = 0;
    int64_t s = 0;
    double d = 0;
    ASSERT_EQ(dq_value_get_u64(dq_value_array_get(a32, i), &u), DQ_OK) << i;
    uint32_t in_place = 0;
    std::memcpy(&in_place, static_cast<const uint8_t *>(raw) + i * 4, 4);
    ASSERT_EQ(u, u32[i]) << i;
    ASSERT_EQ(u, in_place) << i;
    ASSERT_EQ(dq_value_get_i64(dq_value_array_get(a16, i), &s), DQ_OK) << i;
    ASSERT_EQ(s, i16[i]) << i;
    ASSERT_EQ(dq_value_get_f64(dq_value_array_get(a64, i), &d), DQ_OK) << i;
    ASSERT_EQ(d, f64[i]) << i;
  }
  EXPECT_EQ(dq_value_array_get(a32, n), nullptr);
}

}  // namespace
}  // namespace dq::test
