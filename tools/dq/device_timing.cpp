#include "device_timing.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace dq::tool {
namespace {

using Clock = std::chrono::steady_clock;

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One sample: an untimed lead-in call, then `calls` calls between the two events, so host-side
// work never leaves the device idle inside the timed window. set < 0 alternates the buffer
// sets (call c uses set c & 1); 0 or 1 uses that set for every call. Seconds per call.
bool sample(const DeviceTimer &t, const std::function<bool(int)> &launch, int calls, int set, double *seconds,
            double *events_over_wall) {
  const dq_plugin_api &api = t.api;
  auto call = [&](int c) { return launch(set < 0 ? c : set); };
  if (!t.ev0) {
    const auto t0 = Clock::now();
    for (int c = 0; c < calls; ++c)
      if (!call(c)) return false;
    if (api.synchronize(0, t.stream) != DQ_OK) return false;
    *seconds = std::chrono::duration<double>(Clock::now() - t0).count() / calls;
    return true;
  }
  if (!call(1) || api.event_record(0, t.ev0, t.stream) != DQ_OK) return false;
  const auto t0 = Clock::now();
  for (int c = 0; c < calls; ++c)
    if (!call(c)) return false;
  float ms = 0;
  if (api.event_record(0, t.ev1, t.stream) != DQ_OK || api.event_synchronize(0, t.ev1) != DQ_OK ||
      api.event_elapsed_ms(0, t.ev0, t.ev1, &ms) != DQ_OK)
    return false;
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  *seconds = ms / 1e3 / calls;
  if (events_over_wall && wall > 0) *events_over_wall = ms / 1e3 / wall;
  return true;
}

}  // namespace

double DeviceTiming::median() const { return median_of(alternating); }

double DeviceTiming::best() const {
  return alternating.empty() ? 0 : *std::min_element(alternating.begin(), alternating.end());
}

bool time_device(const DeviceTimer &t, const std::function<bool(int)> &launch, DeviceTiming *out) {
  *out = DeviceTiming{};
  if (!launch(0) || !launch(1) || t.api.synchronize(0, t.stream) != DQ_OK) return false;
  int calls = kMinCallsPerSample;
  // Two calibration samples say how long a call takes: a short one, then one of the count it
  // gives, run with the clocks already up (a first estimate taken at idle clocks would give
  // samples too short once they rise). An even count keeps both sets equal.
  for (int round = 0; round < 2 && t.min_sample_ms > 0; ++round) {
    double per_call = 0;
    if (!sample(t, launch, calls, -1, &per_call, nullptr)) return false;
    if (round == 0 && t.warmup_ms > 0) {
      const double n = std::ceil(t.warmup_ms / 1e3 / std::max(per_call, 1e-9));
      const int warm_calls = static_cast<int>(std::min(1e6, n));
      for (int c = 0; c < warm_calls; ++c)
        if (!launch(c)) return false;
      if (t.api.synchronize(0, t.stream) != DQ_OK) return false;
    }
    const double wanted = t.min_sample_ms / 1e3 / std::max(per_call, 1e-9);
    calls = static_cast<int>(std::min(65536.0, std::max<double>(kMinCallsPerSample, std::ceil(wanted))));
    calls += calls & 1;
  }
  out->calls = calls;
  // The per-set samples interleave with the alternating ones so all see the same machine.
  for (int r = 0; r < t.repeat; ++r) {
    for (int set = -1; set < (t.per_set ? 2 : 0); ++set) {
      double s = 0, ratio = 0;
      if (!sample(t, launch, calls, set, &s, &ratio)) return false;
      (set < 0 ? out->alternating : out->set[set]).push_back(s);
      if (t.ev0) out->events_over_wall.push_back(ratio);
    }
  }
  return true;
}

std::string describe_sets(const char *type, const char *what, const DeviceTiming &t, double bytes) {
  std::vector<double> all = t.alternating;
  all.insert(all.end(), t.set[0].begin(), t.set[0].end());
  all.insert(all.end(), t.set[1].begin(), t.set[1].end());
  auto rate = [&](double seconds) { return seconds > 0 ? bytes / seconds / 1e9 : 0.0; };
  const auto [fastest, slowest] = std::minmax_element(all.begin(), all.end());
  char ratio[32] = "n/a";
  if (!t.events_over_wall.empty())
    std::snprintf(ratio, sizeof ratio, "%.0f%%", 100.0 * median_of(t.events_over_wall));
  char line[256];
  std::snprintf(line, sizeof line,
                "  %s %s: set0 %.2f set1 %.2f min %.2f max %.2f GB/s; %d calls/sample; events/wall %s", type,
                what, rate(median_of(t.set[0])), rate(median_of(t.set[1])),
                all.empty() ? 0.0 : rate(*slowest), all.empty() ? 0.0 : rate(*fastest), t.calls, ratio);
  return line;
}

}  // namespace dq::tool
