// Unit tests of the loader's pure parts: the plan (selection, row ranges, output types),
// slot packing, the staging layout and ledger, and the threaded copy.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>

#include "dq_common/type_traits.hpp"
#include "loader/chunking.hpp"
#include "loader/copy_pool.hpp"
#include "loader/device_api.hpp"
#include "loader/direct_upload.hpp"
#include "loader/file_source.hpp"
#include "loader/load_error.hpp"
#include "loader/load_plan.hpp"
#include "loader/staging_ring.hpp"
#include "loader/synthetic_model.hpp"

namespace dq::loader {
namespace {

struct FakeModel {
  std::vector<std::string> names;
  std::vector<dq_tensor_info> infos;
  std::vector<uint8_t> bytes;
  void add(const std::string &name, int32_t type, int64_t ne0, int64_t ne1) {
    names.push_back(name);
    dq_tensor_info t{};
    t.struct_size = sizeof t;
    t.type = type;
    t.n_dims = 2;
    t.ne[0] = ne0;
    t.ne[1] = ne1;
    t.ne[2] = t.ne[3] = 1;
    t.n_elements = ne0 * ne1;
    const auto *tt = type_traits(type);
    t.n_bytes = static_cast<uint64_t>(t.n_elements / tt->block_elements) * tt->block_bytes;
    t.file_offset = bytes.size();
    bytes.resize(bytes.size() + t.n_bytes);
    infos.push_back(t);
  }
  std::vector<dq_tensor_info> table() {
    for (size_t i = 0; i < infos.size(); ++i) {
      infos[i].name = names[i].c_str();
      infos[i].data = bytes.data() + infos[i].file_offset;
    }
    return infos;
  }
};

dq_load_options defaults() {
  dq_load_options o;
  dq_load_options_init(&o);
  return o;
}

dq_status status_of(const std::function<void()> &f, std::string *msg = nullptr) {
  try {
    f();
  } catch (const LoadError &e) {
    if (msg) *msg = e.what();
    return e.status();
  }
  return DQ_OK;
}

TEST(LoadPlan, WholeModelDefaultsToF16AndKeepsIntegers) {
  FakeModel m;
  m.add("a", DQ_TYPE_Q4_K, 512, 4);
  m.add("b", DQ_TYPE_I32, 8, 2);
  m.add("c", DQ_TYPE_F16, 16, 2);
  const auto jobs = build_plan(m.table(), defaults());
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].out_type, DQ_TYPE_F16);
  EXPECT_EQ(jobs[0].out_bytes, 512u * 4 * 2);
  EXPECT_EQ(jobs[0].route, Route::device);
  EXPECT_TRUE(jobs[1].keep) << "nothing dequantizes i32: kept";
  EXPECT_EQ(jobs[1].out_type, DQ_TYPE_I32);
  EXPECT_TRUE(jobs[2].keep) << "f16 to f16 is a copy";
  EXPECT_EQ(jobs[2].route, Route::copy);
}

TEST(LoadPlan, RowRangeOffsetsAreWholeBlocks) {
  FakeModel m;
  m.add("w", DQ_TYPE_Q6_K, 512, 10);  // 2 blocks (420 bytes) per row
  auto table = m.table();
  const char *names[] = {"w"};
  int64_t b[] = {3}, e[] = {7};
  dq_load_options o = defaults();
  o.names = names;
  o.n_names = 1;
  o.row_begin = b;
  o.row_end = e;
  const auto jobs = build_plan(table, o);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].src, static_cast<const uint8_t *>(table[0].data) + 3 * 420);
  EXPECT_EQ(jobs[0].src_bytes, 4u * 420);
  EXPECT_EQ(jobs[0].n_elements, 4 * 512);
  EXPECT_EQ(jobs[0].ne[1], 4);
  e[0] = -1;  // to the last row
  EXPECT_EQ(build_plan(table, o)[0].row_end, 10);
}

TEST(LoadPlan, RowsThatAreNotWholeBlocksCannotBeCut) {
  FakeModel m;
  m.add("odd", DQ_TYPE_Q4_0, 16, 4);  // 64 elements = 2 blocks, but a row is half a block
  auto table = m.table();
  const char *names[] = {"odd"};
  int64_t b[] = {1}, e[] = {3};
  dq_load_options o = defaults();
  o.names = names;
  o.n_names = 1;
  o.row_begin = b;
  o.row_end = e;
  std::string msg;
  EXPECT_EQ(status_of([&] { build_plan(table, o); }, &msg), DQ_ERR_SIZE);
  EXPECT_NE(msg.find("odd"), std::string::npos) << msg;
  EXPECT_NE(msg.find("block"), std::string::npos) << msg;
  b[0] = 0;
  e[0] = 4;  // the whole tensor is fine
  EXPECT_EQ(status_of([&] { build_plan(table, o); }), DQ_OK);
}

TEST(LoadPlan, ExplicitFloatOutputOfAnIntegerTensorIsRefused) {
  FakeModel m;
  m.add("ids", DQ_TYPE_I32, 8, 1);
  const char *on[] = {"ids"};
  const int32_t ot[] = {DQ_TYPE_F32};
  dq_load_options o = defaults();
  o.override_names = on;
  o.override_types = ot;
  o.n_overrides = 1;
  std::string msg;
  EXPECT_EQ(status_of([&] { build_plan(m.table(), o); }, &msg), DQ_ERR_UNSUPPORTED);
  EXPECT_NE(msg.find("DQ_LOAD_KEEP"), std::string::npos) << msg;
}

std::vector<TensorJob> jobs_for(FakeModel &m, Route r) {
  auto jobs = build_plan(m.table(), defaults());
  for (auto &j : jobs)
    if (!j.keep) j.route = r;
  return jobs;
}

// Every block of every job lands in exactly one piece, in order, inside its slot, aligned.
void check_fills(const std::vector<TensorJob> &jobs, const std::vector<SlotFill> &fills, uint64_t slot) {
  std::vector<int64_t> next(jobs.size(), 0);
  for (const SlotFill &f : fills) {
    ASSERT_FALSE(f.pieces.empty());
    EXPECT_LE(f.used, slot);
    uint64_t file = 0, end = 0;
    for (const Piece &p : f.pieces) {
      EXPECT_EQ(p.slot_offset % kPieceAlignment, 0u);
      EXPECT_GE(p.slot_offset, end) << "pieces overlap";
      end = p.slot_offset + p.slot_bytes;
      EXPECT_LE(end, slot);
      EXPECT_EQ(p.elem_offset, next[p.job]);
      next[p.job] += p.n_elements;
      file += p.src_bytes;
    }
    EXPECT_EQ(f.used, end);
    EXPECT_EQ(f.file_bytes, file);
  }
  for (size_t j = 0; j < jobs.size(); ++j) EXPECT_EQ(next[j], jobs[j].n_elements) << jobs[j].name;
}

TEST(Chunking, LargeTensorsSplitAtBlocksSmallOnesShareSlots) {
  FakeModel m;
  m.add("big", DQ_TYPE_Q4_K, 4096, 64);  // 147456 bytes
  m.add("n1", DQ_TYPE_F32, 64, 1);
  m.add("n2", DQ_TYPE_F32, 64, 1);
  m.add("q6", DQ_TYPE_Q6_K, 256, 100);
  for (Route r : {Route::device, Route::cpu}) {
    const auto jobs = jobs_for(m, r);
    for (uint64_t slot : {4096ull, 10000ull, 65536ull, 1ull << 20}) {
      SCOPED_TRACE(std::string(route_name(r)) + " slot " + std::to_string(slot));
      const auto fills = plan_fills(jobs, slot);
      check_fills(jobs, fills, slot);
    }
  }
  const auto jobs = jobs_for(m, Route::device);
  EXPECT_EQ(plan_fills(jobs, 1ull << 20).size(), 1u) << "everything fits one 1 MiB slot";
}

// Hybrid uploads: the last fills holding the fraction, windows disjoint and page-aligned,
// every byte of every direct candidate inside exactly one window, and each window's fill
// range the fills that read it; cpu-route fills are never direct.
TEST(DirectPlan, WindowsCoverTheLastFillsOnce) {
  FakeModel m;
  m.add("a", DQ_TYPE_Q4_K, 4096, 96);
  m.add("n", DQ_TYPE_F32, 64, 1);
  m.add("b", DQ_TYPE_Q6_K, 4096, 80);
  m.add("c", DQ_TYPE_Q4_K, 4096, 128);
  auto jobs = jobs_for(m, Route::device);
  jobs[1].route = Route::cpu;
  const uint64_t page = 4096, slot = 65536;
  const auto fills = plan_fills(jobs, slot);
  ASSERT_GT(fills.size(), 8u);
  uint64_t total = 0;
  for (const auto &f : fills) total += f.file_bytes;
  EXPECT_TRUE(plan_direct(jobs, fills, 0.0, 1 << 20, page).windows.empty());
  for (double fraction : {0.1, 0.35, 0.6, 1.0})
    for (uint64_t window : {4096ull, 3 * 4096ull + 17, 65536ull, 1ull << 20}) {
      SCOPED_TRACE("fraction " + std::to_string(fraction) + " window " + std::to_string(window));
      const DirectPlan plan = plan_direct(jobs, fills, fraction, window, page);
      uint64_t tail = 0;
      for (size_t k = plan.first_fill; k < fills.size(); ++k) tail += fills[k].file_bytes;
      EXPECT_GE(static_cast<double>(tail), fraction * total);
      if (plan.first_fill + 1 < fills.size()) {
        EXPECT_LT(static_cast<double>(tail - fills[plan.first_fill].file_bytes), fraction * total);
      }
      ASSERT_FALSE(plan.windows.empty());
      for (size_t i = 0; i < plan.windows.size(); ++i) {
        const RegisterWindow &w = plan.windows[i];
        EXPECT_EQ(w.lo % page, 0u);
        EXPECT_EQ(w.hi % page, 0u);
        EXPECT_LT(w.lo, w.hi);
        EXPECT_LE(w.first_fill, w.last_fill);
        EXPECT_GE(w.first_fill, plan.first_fill);
        if (i) {
          EXPECT_LE(plan.windows[i - 1].hi, w.lo) << "windows overlap";
        }
      }
      for (size_t k = 0; k < fills.size(); ++k) {
        const bool candidate = k >= plan.first_fill && fill_can_go_direct(jobs, fills[k]);
        for (const Piece &p : fills[k].pieces) {
          if (jobs[p.job].route == Route::cpu) {
            EXPECT_FALSE(fill_can_go_direct(jobs, fills[k]));
          }
          if (!candidate) continue;
          const uintptr_t a = reinterpret_cast<uintptr_t>(jobs[p.job].src) + p.src_offset;
          const uintptr_t b = a + p.src_bytes;
          uint64_t covered = 0;
          for (const RegisterWindow &w : plan.windows) {
            const uintptr_t lo = std::max(a, w.lo), hi = std::min(b, w.hi);
            if (lo >= hi) continue;
            covered += hi - lo;
            EXPECT_LE(w.first_fill, k);
            EXPECT_GE(w.last_fill, k);
          }
          EXPECT_EQ(covered, p.src_bytes) << "fill " << k;
        }
      }
    }
}

// A table of ABI 1.0 (shorter struct_size) is never read past its end, even when the bytes
// beyond would look like functions.
TEST(DirectPlan, RegistrationNeedsAnAbi11Table) {
  dq_plugin_api t{};
  t.struct_size = sizeof t;
  t.host_register = [](void *, size_t, uint32_t, void **) -> int32_t { return DQ_OK; };
  t.host_unregister = [](void *) -> int32_t { return DQ_OK; };
  EXPECT_TRUE(DeviceApi::can_register(&t));
  t.struct_size = offsetof(dq_plugin_api, last_error) + sizeof t.last_error;
  EXPECT_FALSE(DeviceApi::can_register(&t));
  t.struct_size = sizeof t;
  t.host_unregister = nullptr;
  EXPECT_FALSE(DeviceApi::can_register(&t));
  EXPECT_FALSE(DeviceApi::can_register(nullptr));
}

TEST(Chunking, BlockLargerThanSlotIsAnError) {
  FakeModel m;
  m.add("q6", DQ_TYPE_Q6_K, 256, 4);
  EXPECT_EQ(status_of([&] { plan_fills(jobs_for(m, Route::device), 200); }), DQ_ERR_SIZE);
}

TEST(Chunking, HostPiecesCoverEveryBlock) {
  FakeModel m;
  m.add("a", DQ_TYPE_Q8_0, 1024, 33);
  m.add("b", DQ_TYPE_F32, 7, 3);
  const auto jobs = jobs_for(m, Route::cpu);
  const auto pieces = plan_host_pieces(jobs, 5000);
  std::vector<uint64_t> bytes(jobs.size(), 0);
  for (const Piece &p : pieces) {
    EXPECT_LE(p.src_bytes, 5000u);
    EXPECT_EQ(p.src_offset, bytes[p.job]);
    bytes[p.job] += p.src_bytes;
  }
  for (size_t j = 0; j < jobs.size(); ++j) EXPECT_EQ(bytes[j], jobs[j].src_bytes);
}

TEST(Staging, LayoutStaysWithinEveryBudget) {
  for (uint64_t budget : {1ull << 20, (1ull << 20) + 12345, 5ull << 20, 16ull << 20, 100ull << 20,
                          256ull << 20, 1ull << 30}) {
    const SlotLayout l = layout_for_budget(budget);
    EXPECT_GE(l.slots, 2);
    EXPECT_LE(l.slots * l.slot_bytes, budget) << budget;
    EXPECT_GE(l.slot_bytes, 256u << 10);
  }
  // The budget is a ceiling: the ring is min(budget, ring size), 4 slots from 16 MiB up.
  EXPECT_EQ(layout_for_budget(256ull << 20).slots, 4);
  EXPECT_EQ(layout_for_budget(256ull << 20).slot_bytes, 8ull << 20);
  EXPECT_EQ(layout_for_budget(256ull << 20, 64ull << 20).slot_bytes, 16ull << 20);
  EXPECT_EQ(layout_for_budget(32ull << 20).slot_bytes, 8ull << 20);
  EXPECT_EQ(layout_for_budget(8ull << 20).slots, 2);
  EXPECT_EQ(layout_for_budget(1ull << 30, 512ull << 20).slot_bytes, 128ull << 20);
  EXPECT_EQ(status_of([] { layout_for_budget(1000); }), DQ_ERR_SIZE);
}

TEST(Staging, LedgerRefusesToExceedTheBudgetAndKeepsTheHighWater) {
  StagingLedger l(100);
  l.take(60);
  l.take(40);
  EXPECT_EQ(l.high_water(), 100u);
  EXPECT_EQ(status_of([&] { l.take(1); }), DQ_ERR_INTERNAL);
  l.give(70);
  l.take(10);
  EXPECT_EQ(l.in_use(), 40u);
  EXPECT_EQ(l.high_water(), 100u);
}

TEST(CopyPool, ThreadedCopiesEqualMemcpy) {
  std::mt19937_64 rng(7);
  for (int threads : {1, 2, 3, 8})
  for (CopyMethod method : {CopyMethod::memcpy, CopyMethod::stream, CopyMethod::prefetch, CopyMethod::pread}) {
    CopyPool pool(threads, method);
    EXPECT_EQ(pool.method(), method);
    EXPECT_EQ(pool.threads(), threads);
    for (int round = 0; round < 2; ++round) {
      std::vector<std::vector<uint8_t>> src, dst;
      std::vector<CopySegment> segs;
      for (int s = 0; s < 7; ++s) {
        const size_t n = rng() % (1u << 20) + (s == 0 ? 1 : 0);
        src.emplace_back(n);
        for (size_t i = 0; i < n; i += 8) {
          const uint64_t v = rng();
          std::memcpy(src.back().data() + i, &v, std::min<size_t>(8, n - i));
        }
        dst.emplace_back(n, 0);
      }
      for (size_t s = 0; s < src.size(); ++s) segs.push_back({dst[s].data(), src[s].data(), src[s].size()});
      pool.copy(segs, /*min_parallel_bytes=*/1);
      for (size_t s = 0; s < src.size(); ++s)
        EXPECT_EQ(src[s], dst[s]) << threads << " threads, " << copy_method_name(method) << ", segment " << s;
    }
  }
}

// A temporary file of random bytes, removed at the end of the test.
struct RandomFile {
  std::string path;
  std::vector<uint8_t> bytes;
  RandomFile(size_t n, uint64_t seed) : bytes(n) {
    path = (std::filesystem::temp_directory_path() /
            ("dq-copy-pool-" + std::to_string(::getpid()) + "-" + std::to_string(seed))).string();
    std::mt19937_64 rng(seed);
    for (auto &b : bytes) b = static_cast<uint8_t>(rng());
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()), n);
  }
  ~RandomFile() { std::remove(path.c_str()); }
};

TEST(CopyPool, PreadSegmentsEqualTheFileAndMemorySegmentsStillCopy) {
  RandomFile f(3 << 20, 11);
  const int fd = ::open(f.path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  std::mt19937_64 rng(5);
  for (int threads : {1, 2, 3, 8}) {
    CopyPool pool(threads, CopyMethod::pread);
    for (int round = 0; round < 3; ++round) {
      std::vector<std::vector<uint8_t>> dst;
      std::vector<std::pair<uint64_t, uint64_t>> where;  // offset, bytes
      std::vector<CopySegment> segs;
      for (int s = 0; s < 9; ++s) {
        const uint64_t off = rng() % f.bytes.size();
        const uint64_t n = rng() % (f.bytes.size() - off) + 1;
        where.emplace_back(off, n);
        dst.emplace_back(n, 0);
      }
      for (size_t s = 0; s < dst.size(); ++s) {
        CopySegment c{dst[s].data(), f.bytes.data() + where[s].first, where[s].second};
        if (s % 3 != 2) c.fd = fd, c.file_offset = where[s].first, c.file = "test file";
        segs.push_back(c);
      }
      pool.copy(segs, /*min_parallel_bytes=*/1);
      for (size_t s = 0; s < dst.size(); ++s)
        EXPECT_TRUE(std::equal(dst[s].begin(), dst[s].end(), f.bytes.begin() + where[s].first))
            << threads << " threads, segment " << s << (segs[s].fd >= 0 ? " (pread)" : " (memory)");
    }
  }
  ::close(fd);
}

TEST(CopyPool, ReadPastTheEndOfTheFileIsAnIoErrorNamingTheFile) {
  RandomFile f(1 << 20, 12);
  const int fd = ::open(f.path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  for (int threads : {1, 4}) {
    CopyPool pool(threads, CopyMethod::pread);
    std::vector<uint8_t> dst(2 << 20);
    CopySegment c{dst.data(), nullptr, dst.size(), fd, 0, "model.gguf"};
    try {
      pool.copy({c}, 1);
      ADD_FAILURE() << "no error for a read past the end";
    } catch (const LoadError &e) {
      EXPECT_EQ(e.status(), DQ_ERR_IO);
      EXPECT_NE(std::string(e.what()).find("model.gguf"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("ends early"), std::string::npos) << e.what();
    }
    // The pool is usable after a failure.
    CopySegment ok{dst.data(), nullptr, 1 << 20, fd, 0, "model.gguf"};
    pool.copy({ok}, 1);
    EXPECT_TRUE(std::equal(f.bytes.begin(), f.bytes.end(), dst.begin()));
  }
  ::close(fd);
}

// The pipeline starts a fill with begin(), queues the previous fill's work, then joins with
// finish(): every byte arrives whatever the caller did in between, a failed read surfaces at
// finish(), and finish() without begin() does nothing.
TEST(CopyPool, BeginThenOtherWorkThenFinish) {
  RandomFile f(6 << 20, 13);
  const int fd = ::open(f.path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  for (int threads : {1, 2, 4}) {
    CopyPool pool(threads, CopyMethod::pread);
    pool.finish();  // nothing started: a no-op
    for (int round = 0; round < 4; ++round) {
      std::vector<uint8_t> dst(f.bytes.size(), 0);
      const uint64_t a = 1 << 20, b = 4 << 20;  // memory, file, memory segments
      std::vector<CopySegment> segs = {
          {dst.data(), f.bytes.data(), a},
          {dst.data() + a, nullptr, b - a, fd, a, "model.gguf"},
          {dst.data() + b, f.bytes.data() + b, f.bytes.size() - b}};
      pool.begin(segs, round % 2 ? 1 : 64ull << 20);  // odd rounds parallel, even ones inline
      std::this_thread::sleep_for(std::chrono::milliseconds(round * 5));
      pool.finish();
      EXPECT_EQ(dst, f.bytes) << threads << " threads, round " << round;
    }
    std::vector<uint8_t> dst(2 << 20);
    std::vector<CopySegment> past_end = {{dst.data(), nullptr, dst.size(), fd,
                                          f.bytes.size() - (1 << 20), "model.gguf"}};
    pool.begin(past_end, 1);
    try {
      pool.finish();
      ADD_FAILURE() << "no error for a read past the end";
    } catch (const LoadError &e) {
      EXPECT_EQ(e.status(), DQ_ERR_IO);
      EXPECT_NE(std::string(e.what()).find("model.gguf"), std::string::npos) << e.what();
    }
  }
  ::close(fd);
}

TEST(CopyPool, DefaultMethodFollowsTheEnvironment) {
  const char *prev = std::getenv("DQ_LOAD_COPY");
  const std::string saved = prev ? prev : "";
  ::setenv("DQ_LOAD_COPY", "memcpy", 1);
  EXPECT_EQ(default_copy_method(), CopyMethod::memcpy);
  ::setenv("DQ_LOAD_COPY", "stream", 1);
  EXPECT_EQ(default_copy_method(), CopyMethod::stream);
  ::setenv("DQ_LOAD_COPY", "pread", 1);
  EXPECT_EQ(default_copy_method(), CopyMethod::pread);
  ::setenv("DQ_LOAD_COPY", "prefetch", 1);
  EXPECT_EQ(default_copy_method(), CopyMethod::prefetch);
  if (prev) ::setenv("DQ_LOAD_COPY", saved.c_str(), 1);
  else ::unsetenv("DQ_LOAD_COPY");
}

// ------------------------------------- options and results through the public API

// A caller built with an older, shorter dq_load_options: the sized init fills its fields and
// not one byte past them.
TEST(LoadOptionsInit, SizedInitWritesOnlyTheCallersBytes) {
  const size_t old_size = offsetof(dq_load_options, staging_budget);
  alignas(dq_load_options) unsigned char buf[sizeof(dq_load_options) + 64];
  std::memset(buf, 0xCD, sizeof buf);
  auto *o = reinterpret_cast<dq_load_options *>(buf);
  ASSERT_EQ(dq_load_options_init_sized(o, old_size), DQ_OK);
  EXPECT_EQ(o->struct_size, old_size);
  EXPECT_EQ(o->output_type, DQ_TYPE_F16);
  EXPECT_STREQ(o->device.backend, "host");
  EXPECT_EQ(o->names, nullptr);
  for (size_t i = old_size; i < sizeof buf; ++i) ASSERT_EQ(buf[i], 0xCD) << "byte " << i;
  EXPECT_EQ(dq_load_options_init_sized(o, sizeof(size_t) - 1), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_load_options_init_sized(nullptr, sizeof(dq_load_options)), DQ_ERR_INVALID_ARGUMENT);
}

// A caller with a newer header than the library: the unknown tail is zeroed, never skipped.
TEST(LoadOptionsInit, NewerCallersTailIsZeroedAndTheMacroUsesTheCallersSizeof) {
  alignas(dq_load_options) unsigned char buf[sizeof(dq_load_options) + 16];
  std::memset(buf, 0xCD, sizeof buf);
  auto *o = reinterpret_cast<dq_load_options *>(buf);
  ASSERT_EQ(dq_load_options_init_sized(o, sizeof buf - 8), DQ_OK);
  EXPECT_EQ(o->struct_size, sizeof buf - 8);
  for (size_t i = sizeof(dq_load_options); i < sizeof buf - 8; ++i) ASSERT_EQ(buf[i], 0) << i;
  for (size_t i = sizeof buf - 8; i < sizeof buf; ++i) ASSERT_EQ(buf[i], 0xCD) << i;
  dq_load_options m;
  dq_load_options_init(&m);  // the macro
  EXPECT_EQ(m.struct_size, sizeof m);
  EXPECT_EQ(m.staging_budget, DQ_LOAD_DEFAULT_BUDGET);
  EXPECT_EQ(m.gpu_min_bytes, -1);
  dq_load_options f;
  (dq_load_options_init)(&f);  // the exported symbol old binaries call
  EXPECT_EQ(f.struct_size, offsetof(dq_load_options, buffer_user) + sizeof(void *));
  EXPECT_EQ(f.output_type, DQ_TYPE_F16);
}

class LoadApiRules : public ::testing::Test {
 protected:
  void SetUp() override {
    // One file per test and process: ctest runs these tests in parallel processes.
    const auto *test = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::path(::testing::TempDir()) /
             ("dq_load_api_rules_" + std::string(test->name()) + "_" +
              std::to_string(::getpid()) + ".gguf"))
                .string();
    synth::ModelSpec m;
    m.tensors.push_back({"a.weight", DQ_TYPE_Q8_0, {64, 4}});
    m.tensors.push_back({"b.norm", DQ_TYPE_F32, {64}});
    synth::write_gguf(m, path_);
    ASSERT_EQ(dq_context_create(&ctx_), DQ_OK);
    ASSERT_EQ(dq_model_open(ctx_, path_.c_str(), &model_), DQ_OK) << dq_last_error(ctx_);
    dq_load_options_init(&o_);
  }
  void TearDown() override {
    dq_model_close(model_);
    dq_context_destroy(ctx_);
    std::filesystem::remove(path_);
  }
  std::string path_;
  dq_context *ctx_ = nullptr;
  dq_model *model_ = nullptr;
  dq_load_options o_{};
};

// The documented 1 MiB minimum holds for host loads too, not only where staging is pinned.
TEST_F(LoadApiRules, StagingBudgetUnderOneMiBIsRefusedOnHostLoads) {
  dq_loaded_model *lm = nullptr;
  o_.staging_budget = (1 << 20) - 1;
  for (const char *where : {"host", "cpu"}) {
    o_.device = {where, 0};
    EXPECT_EQ(dq_load(ctx_, model_, &o_, &lm), DQ_ERR_SIZE) << where;
    EXPECT_NE(std::string(dq_last_error(ctx_)).find("1 MiB"), std::string::npos)
        << dq_last_error(ctx_);
    EXPECT_EQ(lm, nullptr);
    dq_loader *l = nullptr;
    EXPECT_EQ(dq_loader_create(ctx_, &o_, &l), DQ_ERR_SIZE) << where;
    EXPECT_EQ(l, nullptr);
  }
  o_.staging_budget = 1 << 20;
  ASSERT_EQ(dq_load(ctx_, model_, &o_, &lm), DQ_OK) << dq_last_error(ctx_);
  dq_loaded_free(lm);
}

TEST_F(LoadApiRules, OptionsBelowTheMinimumSizeAreRefusedNamingIt) {
  dq_loaded_model *lm = nullptr;
  o_.struct_size = DQ_LOAD_OPTIONS_MIN_SIZE - 1;
  EXPECT_EQ(dq_load(ctx_, model_, &o_, &lm), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx_)).find("DQ_LOAD_OPTIONS_MIN_SIZE"), std::string::npos)
      << dq_last_error(ctx_);
  o_.struct_size = DQ_LOAD_OPTIONS_MIN_SIZE;
  o_.staging_budget = 5;  // beyond the caller's size: the default applies
  ASSERT_EQ(dq_load(ctx_, model_, &o_, &lm), DQ_OK) << dq_last_error(ctx_);
  EXPECT_EQ(dq_loaded_count(lm), 2);
  dq_loaded_free(lm);
}

// Indices out of range are INVALID_ARGUMENT everywhere (NOT_FOUND is for names).
TEST_F(LoadApiRules, IndexOutOfRangeIsAnInvalidArgument) {
  dq_loaded_model *lm = nullptr;
  ASSERT_EQ(dq_load(ctx_, model_, &o_, &lm), DQ_OK) << dq_last_error(ctx_);
  dq_loaded_tensor t{};
  t.struct_size = sizeof t;
  EXPECT_EQ(dq_loaded_get_tensor(lm, 2, &t), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_loaded_get_tensor(lm, -1, &t), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_loaded_get_tensor(lm, 1, &t), DQ_OK);
  dq_tensor_info ti{};
  ti.struct_size = sizeof ti;
  EXPECT_EQ(dq_model_tensor_info(model_, 2, &ti), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_model_tensor_info(model_, -1, &ti), DQ_ERR_INVALID_ARGUMENT);
  dq_backend_info bi{};
  bi.struct_size = sizeof bi;
  EXPECT_EQ(dq_backend_get_info(ctx_, dq_backend_count(ctx_), &bi), DQ_ERR_INVALID_ARGUMENT);
  dq_loaded_free(lm);
}

TEST_F(LoadApiRules, HostLocationWithAnotherDeviceIsRefusedLikeEveryCall) {
  dq_loaded_model *lm = nullptr;
  o_.device = {"cpu", 1};
  EXPECT_EQ(dq_load(ctx_, model_, &o_, &lm), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(ctx_)).find("host memory has only device 0"),
            std::string::npos)
      << dq_last_error(ctx_);
  o_.device = {"cpu", 0};
  ASSERT_EQ(dq_load(ctx_, model_, &o_, &lm), DQ_OK) << dq_last_error(ctx_);
  dq_loaded_tensor t{};
  t.struct_size = sizeof t;
  ASSERT_EQ(dq_loaded_get_tensor(lm, 0, &t), DQ_OK);
  EXPECT_STREQ(t.where.backend, "host");
  dq_loaded_free(lm);
}

}  // namespace
}  // namespace dq::loader
