// Event timing of device work for `dq bench`: samples of calls queued back to back between two
// events, optionally lengthened to a minimum duration (so the GPU's clocks cannot drop
// between short bursts) and optionally repeated on each of the two buffer sets alone (so a
// set placed in slower memory shows as one slow set instead of a bimodal median).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dq/dq_plugin.h"

namespace dq::tool {

struct DeviceTimer {
  const dq_plugin_api &api;
  void *stream = nullptr;
  void *ev0 = nullptr, *ev1 = nullptr;  // null: steady clock around launch + synchronize
  int repeat = 1;
  int min_sample_ms = 0;  // 0: kMinCallsPerSample calls per sample, however short
  // Untimed calls for this long before the samples (after a first estimate of a call's time):
  // NVIDIA's clocks fall to ~345 MHz while the host prepares the next row and take ~200 ms of
  // load to come back, which a row's first samples otherwise pay.
  int warmup_ms = 0;
  bool per_set = false;   // also time each buffer set on its own
};

// Seconds per call of each sample (alternating sets, and each set alone when per_set).
struct DeviceTiming {
  int calls = 0;  // calls per sample
  std::vector<double> alternating, set[2];
  std::vector<double> events_over_wall;  // event time / host wall time of each event sample
  double median() const;
  double best() const;
};

constexpr int kMinCallsPerSample = 4;

// Times `launch(i)` (i & 1 picks the buffer set; i counts calls inside a sample) after a
// warm-up of both sets. False when a launch or an event call fails.
bool time_device(const DeviceTimer &timer, const std::function<bool(int)> &launch, DeviceTiming *out);

// "  q4_0 row: set0 812.40 set1 409.80 min 401.20 max 830.10 GB/s; 96 calls/sample; events/wall 99%":
// the median of each set, the slowest and fastest sample over all of them, for `bytes` per call.
std::string describe_sets(const char *type, const char *what, const DeviceTiming &t, double bytes);

}  // namespace dq::tool
