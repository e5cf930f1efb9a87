// dq_cpu_isa_ab: the avx2 and avx512 kernel sets timed against each other in one process,
// call by call (order swapped every round), so both see the same machine load. A shared,
// noisy machine moves whole `dq bench` runs by 2x; the paired ratio of neighbouring calls is
// what the per-type ISA preference table (plugins/cpu/isa_preference.cpp) is based on.
//
//   dq_cpu_isa_ab [--elements N] [--rounds R] [--calls C] [--to f32|f16|bf16|all] [--types a,b]
//                 [--clock cpu|wall]
//
// Prints, per type and output, the median GB/s of each set (bytes read + written) and the
// median of the per-round ratios avx2 time / avx512 time (> 1: avx512 faster). The default
// clock is the calling thread's CPU time: with 5 engineers' jobs on 2 cores, wall time mostly
// measures how long the thread waited to be scheduled.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "dispatch.hpp"
#include "dq_common/type_traits.hpp"
#include "fast_random_blocks.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Options {
  int64_t elements = int64_t{1} << 24;
  int rounds = 15;
  int calls = 1;  // calls per timed sample (raise it for in-cache sizes)
  std::vector<int32_t> outs = {0};
  std::vector<std::string> types;  // empty: every dequantizable type
  bool cpu_clock = true;
};

double now_seconds(bool cpu_clock) {
  if (!cpu_clock) return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

bool parse(int argc, char **argv, Options *o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return false;
    const char *v = argv[++i];
    if (a == "--elements") o->elements = std::atoll(v);
    else if (a == "--rounds") o->rounds = std::atoi(v);
    else if (a == "--calls") o->calls = std::atoi(v);
    else if (a == "--clock") o->cpu_clock = std::string(v) != "wall";
    else if (a == "--to") {
      const std::string s = v;
      o->outs = s == "all" ? std::vector<int32_t>{0, 1, 30}
                : s == "f16" ? std::vector<int32_t>{1}
                : s == "bf16" ? std::vector<int32_t>{30} : std::vector<int32_t>{0};
    } else if (a == "--types") {
      std::string s = v;
      for (size_t p = 0; p <= s.size();) {
        size_t q = s.find(',', p);
        if (q == std::string::npos) q = s.size();
        o->types.push_back(s.substr(p, q - p));
        p = q + 1;
      }
    } else {
      return false;
    }
  }
  return o->elements > 0 && o->rounds > 0 && o->calls > 0;
}

const char *out_name(int32_t out) { return out == 0 ? "f32" : out == 1 ? "f16" : "bf16"; }

}  // namespace

int main(int argc, char **argv) {
  Options o;
  if (!parse(argc, argv, &o)) {
    std::fprintf(stderr, "usage: dq_cpu_isa_ab [--elements N] [--rounds R] [--calls C] "
                         "[--to f32|f16|bf16|all] [--types a,b] [--clock cpu|wall]\n");
    return 2;
  }
  for (const std::string &name : o.types) {
    bool known = false;
    for (int32_t type = 0; type < dq::kTypeCount && !known; ++type)
      known = dq::type_traits(type)->dequantizable && name == dq::type_traits(type)->name;
    if (!known) {
      std::fprintf(stderr, "dq_cpu_isa_ab: --types: '%s' is not a dequantizable type name\n", name.c_str());
      return 2;
    }
  }
  const dq::cpu::KernelSet *sets[2] = {dq::cpu::kernel_set_for(dq::cpu::Isa::kAvx2),
                                       dq::cpu::kernel_set_for(dq::cpu::Isa::kAvx512)};
  if (!sets[0] || !sets[1]) {
    std::fprintf(stderr, "dq_cpu_isa_ab: this CPU or build lacks avx2 or avx512\n");
    return 77;
  }
  // 64-byte aligned and touched once, as `dq bench` does: no page faults in the timing, and
  // large outputs take the streaming kernels like the plugin's calls.
  const size_t out_bytes = static_cast<size_t>(o.elements) * 4;
  auto *out = static_cast<uint8_t *>(std::aligned_alloc(4096, (out_bytes + 4095) / 4096 * 4096));
  if (!out) {
    std::fprintf(stderr, "dq_cpu_isa_ab: cannot allocate %zu bytes of output\n", out_bytes);
    return 1;
  }
  std::memset(out, 0, out_bytes);
  std::printf("%lld elements, %d rounds x %d call(s), 1 thread, %s time; GB/s = (read + written) / time\n",
              static_cast<long long>(o.elements), o.rounds, o.calls, o.cpu_clock ? "thread CPU" : "wall");
  std::printf("%-8s %-4s %10s %10s %12s %8s\n", "type", "out", "avx2 GB/s", "avx512 GB/s",
              "avx2/avx512", "512 wins");
  for (int32_t type = 0; type < dq::kTypeCount; ++type) {
    const dq::TypeTraits *t = dq::type_traits(type);
    if (!t || !t->dequantizable) continue;
    if (!o.types.empty() && std::find(o.types.begin(), o.types.end(), t->name) == o.types.end()) continue;
    if (o.elements % t->block_elements) continue;
    const int64_t n_blocks = o.elements / t->block_elements;
    const std::vector<uint8_t> src = dq::test::random_blocks(type, n_blocks, 1);
    for (int32_t out_type : o.outs) {
      const double bytes = static_cast<double>(src.size()) +
                           static_cast<double>(o.elements) * dq::output_type_size(out_type);
      auto time_set = [&](int s) {
        std::string error;
        const double t0 = now_seconds(o.cpu_clock);
        for (int c = 0; c < o.calls; ++c)
          if (dq::cpu::run_dequantize_with(*sets[s], 1, type, out_type, src.data(), out, n_blocks, &error)) {
            std::fprintf(stderr, "dq_cpu_isa_ab: %s: %s\n", t->name, error.c_str());
            std::exit(1);
          }
        return (now_seconds(o.cpu_clock) - t0) / o.calls;
      };
      time_set(0);  // warm-up of both
      time_set(1);
      std::vector<double> t2, t5, ratio;
      int wins = 0;
      for (int r = 0; r < o.rounds; ++r) {
        double a, b;
        if (r % 2) { b = time_set(1); a = time_set(0); } else { a = time_set(0); b = time_set(1); }
        t2.push_back(a);
        t5.push_back(b);
        ratio.push_back(a / b);
        wins += b < a;
      }
      std::printf("%-8s %-4s %10.2f %10.2f %12.3f %5d/%d\n", t->name, out_name(out_type),
                  bytes / median(t2) / 1e9, bytes / median(t5) / 1e9, median(ratio), wins, o.rounds);
      std::fflush(stdout);
    }
  }
  std::free(out);
  return 0;
}
