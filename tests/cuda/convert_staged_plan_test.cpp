// The staged element-conversion kernel's index arithmetic (kernels_float.cu's
// convert_elements_staged, which runs every F32/F16/BF16 conversion between 16-byte aligned
// buffers; plugins/gpu-common/kernels/convert_staged_plan.hpp), emulated on the host: every
// block and thread of a launch over n elements, for sizes around the chunk and 16-byte word
// boundaries. Each output must be written exactly once, each staged word loaded once, and no
// read may pass the source's end. Also which launches take it (runs_staged). No GPU needed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/convert_staged_plan.hpp"

namespace {

namespace staged = dq::gpu::staged;

// The sizes: tiny, around the 8-element word group, around one and several chunks.
const std::vector<int64_t> kSizes = {1,    2,    7,    8,    9,     15,    16,    17,    100,   8183,
                                     8184, 8191, 8192, 8193, 8199,  8200,  8201,  16383, 16384, 16385,
                                     24575, 3 * 8192 + 8, 5 * 8192 + 7, 7 * 8192 - 1};

// One launch of convert_elements_staged as kThreads-thread blocks: kInBytes a source element
// (4 f32, 2 f16/bf16), kVec outputs a 16-byte output vector (4 f32, 8 f16/bf16).
template <int kThreads, int kInBytes, int kVec>
void emulate_launch(int64_t n) {
  SCOPED_TRACE(::testing::Message() << "n=" << n << " threads=" << kThreads << " in=" << kInBytes
                                    << "B vec=" << kVec);
  constexpr int kWholeWords = staged::kChunkElems * kInBytes / 16;
  constexpr int kWholeVecs = staged::kChunkElems / kVec;
  std::vector<int> writes(static_cast<size_t>(n), 0);
  const int64_t chunks = staged::chunk_count(n);
  ASSERT_GE(chunks, 1);
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const staged::ChunkPlan plan = staged::chunk_plan(chunk, n);
    ASSERT_EQ(plan.first, chunk * staged::kChunkElems);
    ASSERT_EQ(plan.staged % staged::kWholeWordElems, 0);
    ASSERT_GE(plan.tail, 0);
    ASSERT_LT(plan.tail, staged::kWholeWordElems);
    ASSERT_EQ(plan.staged + plan.tail, std::min<int64_t>(staged::kChunkElems, n - plan.first));
    if (chunk + 1 < chunks) {
      ASSERT_EQ(plan.staged, staged::kChunkElems) << "only the last chunk is partial";
    }
    const bool whole = plan.staged == staged::kChunkElems;
    // Staging: word w of the chunk's source into shared memory.
    const int words = plan.staged * kInBytes / 16;
    ASSERT_EQ(words * 16, plan.staged * kInBytes) << "staged source is whole 16-byte words";
    std::vector<int> loads(kWholeWords, 0);
    for (int t = 0; t < kThreads; ++t) {
      auto stage = [&](int w) {
        ASSERT_GE(w, 0);
        ASSERT_LT(w, words);
        ASSERT_LE(plan.first * kInBytes + 16 * (w + 1), n * kInBytes) << "read past the source";
        ++loads[static_cast<size_t>(w)];
      };
      if (whole) {
        staged::for_each_mine<kThreads, true, kWholeWords>(t, 0, stage);
      } else {
        staged::for_each_mine<kThreads, false, kWholeWords>(t, words, stage);
      }
    }
    for (int w = 0; w < words; ++w) ASSERT_EQ(loads[static_cast<size_t>(w)], 1) << "word " << w;
    // Conversion: output vector c from shared memory; then the tail from global memory.
    ASSERT_EQ(plan.staged % kVec, 0);
    for (int t = 0; t < kThreads; ++t) {
      auto convert = [&](int c) {
        ASSERT_GE(c, 0);
        ASSERT_LE((c + 1) * kVec * kInBytes, words * 16) << "reads shared memory nobody staged";
        for (int j = 0; j < kVec; ++j) ++writes[static_cast<size_t>(plan.first + c * kVec + j)];
      };
      if (whole) {
        staged::for_each_mine<kThreads, true, kWholeVecs>(t, 0, convert);
      } else {
        staged::for_each_mine<kThreads, false, kWholeVecs>(t, plan.staged / kVec, convert);
      }
      for (int i = plan.staged + t; i < plan.staged + plan.tail; i += kThreads) {
        ++writes[static_cast<size_t>(plan.first + i)];
      }
    }
  }
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(writes[static_cast<size_t>(i)], 1) << "element " << i;
}

template <int kThreads>
void emulate_every_pair() {
  for (const int64_t n : kSizes) {
    emulate_launch<kThreads, 2, 4>(n);  // f16/bf16 -> f32
    emulate_launch<kThreads, 2, 8>(n);  // f16 <-> bf16
    emulate_launch<kThreads, 4, 8>(n);  // f32 -> f16/bf16
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(ConvertStagedPlan, EveryElementOnceAt256Threads) { emulate_every_pair<256>(); }

// DQ_GPU_THREADS may be any whole number of warps: 96 does not divide a chunk's words or
// vectors, so the whole-chunk loop's remainder step runs.
TEST(ConvertStagedPlan, EveryElementOnceAt96Threads) { emulate_every_pair<96>(); }

TEST(ConvertStagedPlan, EveryElementOnceAt1024Threads) { emulate_every_pair<1024>(); }

// launch_convert's choice: the staged kernel needs both buffers 16-byte aligned (its 16-byte
// loads and stores) and a grid that fits gridDim.x; the rest goes to convert_elements.
TEST(ConvertStagedPlan, RunsStagedOnlyForAlignedBuffersAndLaunchableGrids) {
  constexpr uintptr_t kBase = 0x7f0000000000;  // any 256-byte aligned device address
  EXPECT_TRUE(staged::runs_staged(kBase, kBase + 4096, 1));
  EXPECT_TRUE(staged::runs_staged(kBase + 16, kBase + 48, 8193));
  // An f16 buffer 2 bytes in, an f32 buffer 4 or 8 bytes in: element-aligned, not 16-byte.
  EXPECT_FALSE(staged::runs_staged(kBase + 2, kBase + 4096, 8192));
  EXPECT_FALSE(staged::runs_staged(kBase, kBase + 4, 8192));
  EXPECT_FALSE(staged::runs_staged(kBase + 8, kBase + 8, 8192));
  EXPECT_FALSE(staged::runs_staged(kBase, kBase + 4096, 0));
  const int64_t max_staged = int64_t{INT32_MAX} * staged::kChunkElems;
  EXPECT_TRUE(staged::runs_staged(kBase, kBase + 4096, max_staged));
  EXPECT_FALSE(staged::runs_staged(kBase, kBase + 4096, max_staged + 1)) << "a grid past INT32_MAX blocks";
}

TEST(ConvertStagedPlan, GridIsTheChunkCount) {
  EXPECT_EQ(staged::chunk_count(1), 1);
  EXPECT_EQ(staged::chunk_count(staged::kChunkElems), 1);
  EXPECT_EQ(staged::chunk_count(staged::kChunkElems + 1), 2);
  EXPECT_EQ(staged::chunk_count(int64_t{1} << 28), (int64_t{1} << 28) / staged::kChunkElems);
}

}  // namespace
