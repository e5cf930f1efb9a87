// A fake asynchronous device plugin ("fakeasync") for testing the loader's device pipeline
// without a GPU. Device memory and "pinned" memory are host memory, but every stream is a
// worker thread that runs its queue in order after a random delay, and events complete only
// when their stream reaches them: a pipeline that reuses a staging slot before its upload or
// its kernels are done reads overwritten bytes, and the byte-for-byte checks catch it.
// Dequantization is delegated to the CPU plugin of the build tree (or DQ_FAKEASYNC_CPU_PLUGIN).
#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "dq/dq_plugin.h"
#include "dq_common/plugin_error.hpp"
#include "dq_common/plugin_glue.hpp"

namespace {

// The last-error message in initial-exec TLS (plugin_error.hpp says why: GCC 12's TSan).
using dq::plugin_error::fail;
using dq::plugin_error::ok;

const dq_plugin_api *g_cpu = nullptr;
void *g_cpu_lib = nullptr;

// One in-order queue run by its own thread, with a random delay before each operation.
class Stream {
 public:
  Stream() : rng_(std::random_device{}()), worker_([this] { run(); }) {}
  ~Stream() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  void push(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      q_.push_back(std::move(f));
      ++queued_;
    }
    cv_.notify_all();
  }
  void drain() {
    std::unique_lock<std::mutex> lk(mu_);
    const uint64_t target = queued_;
    done_cv_.wait(lk, [&] { return done_ >= target; });
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        f = std::move(q_.front());
        q_.pop_front();
      }
      std::this_thread::sleep_for(std::chrono::microseconds(rng_() % 300));
      f();
      {
        std::lock_guard<std::mutex> lk(mu_);
        ++done_;
      }
      done_cv_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::deque<std::function<void()>> q_;
  uint64_t queued_ = 0, done_ = 0;
  bool stop_ = false;
  std::minstd_rand rng_;
  std::thread worker_;
};

struct Event {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t recorded = 0, completed = 0;
  void wait_for(uint64_t gen) {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return completed >= gen; });
  }
};

std::mutex g_mu;
std::unordered_map<void *, size_t> g_allocs;  // device allocations
std::string wrong_device(const void *p, int32_t device);
std::unique_ptr<Stream> g_default;

Stream &stream_of(void *s) { return s ? *static_cast<Stream *>(s) : *g_default; }

int32_t fa_init() {
  const char *path = std::getenv("DQ_FAKEASYNC_CPU_PLUGIN");
  if (!path || !*path) path = DQ_FAKEASYNC_DEFAULT_CPU_PLUGIN;
  g_cpu_lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!g_cpu_lib) return fail(DQ_ERR_NO_BACKEND, std::string("cannot open ") + path);
  auto entry = reinterpret_cast<dq_plugin_entry_fn>(dlsym(g_cpu_lib, DQ_PLUGIN_ENTRY_SYMBOL));
  g_cpu = entry ? entry(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR) : nullptr;
  if (!g_cpu || g_cpu->init() != DQ_OK) return fail(DQ_ERR_NO_BACKEND, "cpu plugin did not start");
  g_default = std::make_unique<Stream>();
  return ok();
}

void fa_shutdown() {
  if (g_default) g_default->drain();
  g_default.reset();
  // The cpu plugin is the registry's too: its own shutdown is the registry's business.
  g_cpu = nullptr;
}

// DQ_FAKEASYNC_DEVICES=N (1..8) stands in for N devices (the multi-device load tests); the
// memory of every "device" is host memory, so readings back need no device index.
int32_t fa_device_count() {
  const char *e = std::getenv("DQ_FAKEASYNC_DEVICES");
  const int n = e && *e ? std::atoi(e) : 1;
  return n >= 1 && n <= 8 ? n : 1;
}
int32_t fa_device_props(int32_t, dq_plugin_device_props *p) {
  std::snprintf(p->name, sizeof p->name, "fake asynchronous device");
  p->total_memory = 1ull << 34;
  p->free_memory = 1ull << 34;
  p->is_gpu = 1;
  return ok();
}
int32_t fa_supports(int32_t s, int32_t d) { return g_cpu ? g_cpu->supports(s, d) : 0; }

int32_t fa_dequantize(const dq_plugin_dequantize_args *a) {
  if (a->src_on_host || a->dst_on_host) return fail(DQ_ERR_UNSUPPORTED, "fakeasync: device memory only");
  for (const void *p : {a->src, static_cast<const void *>(a->dst)})
    if (std::string e = wrong_device(p, a->device); !e.empty()) return fail(DQ_ERR_INVALID_ARGUMENT, e);
  dq_plugin_dequantize_args copy = *a;
  copy.src_on_host = copy.dst_on_host = 1;
  copy.device = 0;
  copy.stream = nullptr;
  const int32_t pre = g_cpu->supports(a->src_type, a->dst_type) ? DQ_OK : DQ_ERR_UNSUPPORTED;
  if (pre != DQ_OK) return fail(pre, "fakeasync: unsupported type pair");
  stream_of(a->stream).push([copy] {
    if (g_cpu->dequantize(&copy) != DQ_OK) {
      std::fprintf(stderr, "fakeasync: cpu dequantize failed: %s\n", g_cpu->last_error());
      std::abort();
    }
  });
  if (!a->stream) g_default->drain();
  return ok();
}

// Device of each allocation (start -> end, device): a call on device d touching memory of
// another device fails, as it would on real GPUs, so loads over several fake devices prove
// that every part went to its own device.
std::map<uintptr_t, std::pair<uintptr_t, int32_t>> g_device_of;

// "" or why `p` (an address inside an allocation, or host memory) may not be used on `device`.
std::string wrong_device(const void *p, int32_t device) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = g_device_of.upper_bound(a);
  if (it == g_device_of.begin()) return "";
  --it;
  if (a >= it->second.first || it->second.second == device) return "";
  return "fakeasync: memory of device " + std::to_string(it->second.second) +
         " used by a call on device " + std::to_string(device);
}

int32_t fa_mem_alloc(int32_t device, size_t bytes, void **out) {
  void *p = std::malloc(bytes ? bytes : 1);
  if (!p) return fail(DQ_ERR_OUT_OF_MEMORY, "fakeasync: out of memory");
  std::memset(p, 0xA5, bytes < (4u << 20) ? bytes : (4u << 20));  // poison: unwritten outputs show
  std::lock_guard<std::mutex> lk(g_mu);
  g_allocs[p] = bytes;
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  g_device_of[a] = {a + (bytes ? bytes : 1), device};
  *out = p;
  return ok();
}
int32_t fa_mem_free(int32_t, void *p) {
  if (!p) return ok();
  g_default->drain();
  std::lock_guard<std::mutex> lk(g_mu);
  g_device_of.erase(reinterpret_cast<uintptr_t>(p));
  if (!g_allocs.erase(p)) return fail(DQ_ERR_INVALID_ARGUMENT, "fakeasync: free of an unknown pointer");
  std::free(p);
  return ok();
}
// Registered host ranges (host_register): start -> bytes.
std::map<uintptr_t, size_t> g_registered;

// 0: `src` is in no registered range; 1: inside one; -1: it crosses a range's edge.
int registered_state(const void *src, size_t bytes) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(src), b = a + bytes;
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = g_registered.upper_bound(a);
  if (it != g_registered.begin()) {
    auto prev = std::prev(it);
    if (a < prev->first + prev->second) return b <= prev->first + prev->second ? 1 : -1;
  }
  return it != g_registered.end() && it->first < b ? -1 : 0;
}

// host_alloc_pinned's blocks: start -> bytes.
std::map<uintptr_t, size_t> g_pinned;

bool inside_pinned_alloc(const void *src, size_t bytes) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(src);
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = g_pinned.upper_bound(a);
  if (it == g_pinned.begin()) return false;
  --it;
  return a + bytes <= it->first + it->second;
}

bool env_is(const char *name, const char *value) {
  const char *e = std::getenv(name);
  return e && std::strcmp(e, value) == 0;
}

// DQ_FAKEASYNC_RENDEZVOUS=N (read at each call; one rendezvous per process): the first upload
// to each device waits, up to 10 s, until N distinct devices have begun uploading. A load that
// runs the devices' pipelines at once always meets there, whatever the scheduler does; one that
// runs them one after another never does, and its upload fails saying so.
struct Rendezvous {
  std::mutex mu;
  std::condition_variable cv;
  std::set<int32_t> arrived;
};
Rendezvous g_rendezvous;
int32_t meet_other_devices(int32_t device) {
  const char *e = std::getenv("DQ_FAKEASYNC_RENDEZVOUS");
  if (!e || !*e) return DQ_OK;
  const size_t want = std::strtoul(e, nullptr, 10);
  std::unique_lock<std::mutex> lk(g_rendezvous.mu);
  g_rendezvous.arrived.insert(device);
  g_rendezvous.cv.notify_all();
  if (g_rendezvous.cv.wait_for(lk, std::chrono::seconds(10),
                               [&] { return g_rendezvous.arrived.size() >= want; }))
    return DQ_OK;
  return fail(DQ_ERR_BACKEND, "fakeasync: device " + std::to_string(device) + " waited 10 s for " +
                                  std::to_string(want) + " devices to upload at once, but only " +
                                  std::to_string(g_rendezvous.arrived.size()) +
                                  " began: the devices' pipelines did not run at the same time");
}

// DQ_FAKEASYNC_STRICT_PINNED=1: an upload from host memory neither registered nor from
// host_alloc_pinned fails (the loader promises pinned staging; a slot pinned in the background
// must not be uploaded from before its registration ends).
int32_t fa_mem_copy(int32_t device, void *dst, const void *src, size_t bytes, int32_t kind,
                    void *stream) {
  for (const void *p : {static_cast<const void *>(dst), src})
    if (std::string e = wrong_device(p, device); !e.empty()) return fail(DQ_ERR_INVALID_ARGUMENT, e);
  // A copy from registered memory must stay inside one registration, and the registration
  // must still be there when the copy runs: otherwise the destination gets garbage, which
  // the byte-for-byte checks catch (a real device would read unpinned pages).
  const int at_queue = registered_state(src, bytes);
  if (at_queue < 0) return fail(DQ_ERR_INVALID_ARGUMENT, "fakeasync: copy crosses a registration");
  if (kind == DQ_COPY_HOST_TO_DEVICE && at_queue == 0 && env_is("DQ_FAKEASYNC_STRICT_PINNED", "1") &&
      !inside_pinned_alloc(src, bytes))
    return fail(DQ_ERR_INVALID_ARGUMENT, "fakeasync: upload from host memory that is not pinned");
  if (kind == DQ_COPY_HOST_TO_DEVICE)
    if (const int32_t st = meet_other_devices(device); st != DQ_OK) return st;
  stream_of(stream).push([=] {
    if (at_queue == 1 && registered_state(src, bytes) != 1) std::memset(dst, 0xEE, bytes);
    else std::memcpy(dst, src, bytes);
  });
  if (!stream) g_default->drain();
  return ok();
}
int32_t fa_mem_in_use(int32_t, uint64_t *n, uint64_t *bytes) {
  std::lock_guard<std::mutex> lk(g_mu);
  *n = g_allocs.size() + g_registered.size();  // a registration left behind counts as a leak
  *bytes = 0;
  for (auto &[p, b] : g_allocs) *bytes += b;
  return ok();
}
int32_t fa_synchronize(int32_t, void *stream) {
  stream_of(stream).drain();
  return ok();
}
int32_t fa_host_alloc_pinned(size_t bytes, void **out) {
  *out = std::malloc(bytes);
  if (!*out) return fail(DQ_ERR_OUT_OF_MEMORY, "fakeasync: no pinned memory");
  std::lock_guard<std::mutex> lk(g_mu);
  g_pinned[reinterpret_cast<uintptr_t>(*out)] = bytes;
  return ok();
}
int32_t fa_host_free_pinned(void *p) {
  {
    std::lock_guard<std::mutex> lk(g_mu);
    g_pinned.erase(reinterpret_cast<uintptr_t>(p));
  }
  std::free(p);
  return ok();
}
// Works only while DQ_FAKEASYNC_HOST_REGISTER=1 (read at each call); otherwise it fails, as a
// device without read-only registration would, and the loader must fall back to staging.
// DQ_FAKEASYNC_REGISTER_DELAY_MS=N makes each registration take N ms (a slow
// cudaHostRegister: background pinning then really runs beside the load);
// DQ_FAKEASYNC_REGISTER_MAX=N refuses a registration while N ranges are registered (a device
// out of pinnable memory part-way through the ring).
int32_t fa_host_register(void *ptr, size_t bytes, uint32_t, void **handle) {
  *handle = nullptr;
  if (!env_is("DQ_FAKEASYNC_HOST_REGISTER", "1"))
    return fail(DQ_ERR_UNSUPPORTED, "fakeasync: host_register is off");
  if (const char *d = std::getenv("DQ_FAKEASYNC_REGISTER_DELAY_MS"); d && *d)
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(d)));
  if (const char *m = std::getenv("DQ_FAKEASYNC_REGISTER_MAX"); m && *m) {
    std::lock_guard<std::mutex> lk(g_mu);
    if (g_registered.size() >= static_cast<size_t>(std::atoi(m)))
      return fail(DQ_ERR_OUT_OF_MEMORY, "fakeasync: registration limit reached");
  }
  const long page = sysconf(_SC_PAGESIZE);
  if (reinterpret_cast<uintptr_t>(ptr) % page || bytes % page || bytes == 0)
    return fail(DQ_ERR_INVALID_ARGUMENT, "fakeasync: host_register of an unaligned range");
  if (registered_state(ptr, bytes) != 0) return fail(DQ_ERR_INVALID_ARGUMENT, "fakeasync: already registered");
  std::lock_guard<std::mutex> lk(g_mu);
  g_registered[reinterpret_cast<uintptr_t>(ptr)] = bytes;
  *handle = ptr;
  return ok();
}
int32_t fa_host_unregister(void *handle) {
  std::lock_guard<std::mutex> lk(g_mu);
  if (!g_registered.erase(reinterpret_cast<uintptr_t>(handle)))
    return fail(DQ_ERR_INVALID_ARGUMENT, "fakeasync: unregister of an unknown range");
  return ok();
}
int32_t fa_stream_create(int32_t, void **out) {
  *out = new Stream();
  return ok();
}
int32_t fa_stream_destroy(int32_t, void *s) {
  delete static_cast<Stream *>(s);
  return ok();
}
int32_t fa_event_create(int32_t, void **out) {
  *out = new Event();
  return ok();
}
int32_t fa_event_destroy(int32_t, void *e) {
  delete static_cast<Event *>(e);
  return ok();
}
int32_t fa_event_record(int32_t, void *ev, void *stream) {
  Event *e = static_cast<Event *>(ev);
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lk(e->mu);
    gen = ++e->recorded;
  }
  stream_of(stream).push([e, gen] {
    {
      std::lock_guard<std::mutex> lk(e->mu);
      if (gen > e->completed) e->completed = gen;
    }
    e->cv.notify_all();
  });
  return ok();
}
int32_t fa_event_synchronize(int32_t, void *ev) {
  Event *e = static_cast<Event *>(ev);
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lk(e->mu);
    gen = e->recorded;
  }
  e->wait_for(gen);
  return ok();
}
int32_t fa_stream_wait_event(int32_t, void *stream, void *ev) {
  Event *e = static_cast<Event *>(ev);
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lk(e->mu);
    gen = e->recorded;
  }
  stream_of(stream).push([e, gen] { e->wait_for(gen); });
  return ok();
}
const char *fa_describe() { return "fake asynchronous device (loader tests)"; }
const char *fa_no_device_reason() { return ""; }

// The ABI entries, named as the fields of dq_plugin_api (dq_common/plugin_glue.hpp).
struct FakeAsyncEntries {
  static constexpr auto describe = fa_describe;
  static constexpr auto init = fa_init;
  static constexpr auto shutdown = fa_shutdown;
  static constexpr auto device_count = fa_device_count;
  static constexpr auto no_device_reason = fa_no_device_reason;
  static constexpr auto device_props = fa_device_props;
  static constexpr auto supports = fa_supports;
  static constexpr auto dequantize = fa_dequantize;
  static constexpr auto mem_alloc = fa_mem_alloc;
  static constexpr auto mem_free = fa_mem_free;
  static constexpr auto mem_copy = fa_mem_copy;
  static constexpr auto mem_in_use = fa_mem_in_use;
  static constexpr auto synchronize = fa_synchronize;
  static constexpr auto host_alloc_pinned = fa_host_alloc_pinned;
  static constexpr auto host_free_pinned = fa_host_free_pinned;
  static constexpr auto stream_create = fa_stream_create;
  static constexpr auto stream_destroy = fa_stream_destroy;
  static constexpr auto event_create = fa_event_create;
  static constexpr auto event_destroy = fa_event_destroy;
  static constexpr auto event_record = fa_event_record;
  static constexpr auto event_synchronize = fa_event_synchronize;
  static constexpr auto stream_wait_event = fa_stream_wait_event;
  static constexpr auto last_error = dq::plugin_error::last_error;
  static constexpr auto host_register = fa_host_register;
  static constexpr auto host_unregister = fa_host_unregister;
};

const dq_plugin_api g_api = dq::plugin_glue::make_api<FakeAsyncEntries>("fakeasync", "1");

}  // namespace

extern "C" DQ_PLUGIN_EXPORT const dq_plugin_api *dq_plugin_entry(uint32_t major, uint32_t) {
  return dq::plugin_glue::entry(g_api, major);
}
