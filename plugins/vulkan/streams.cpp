#include "streams.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "loader.hpp"
#include "memory.hpp"
#include "shader_copy.hpp"
#include "status.hpp"

namespace dq::vulkan {
namespace {

// Every stream and event the caller created, so shutdown can free what it left.
struct Event {
  DeviceContext *ctx = nullptr;
  VkQueryPool queries = VK_NULL_HANDLE;  // one timestamp, when the queue has them
  // One thread may record the event while others wait for it (as CUDA allows).
  std::mutex mutex;
  TimelinePoint point;  // guarded by mutex
  bool timed = false;   // guarded by mutex: a timestamp was written at the last record

  TimelinePoint recorded() {
    std::lock_guard<std::mutex> lock(mutex);
    return point;
  }
};

std::mutex g_registry_mutex;
std::set<Stream *> g_streams;
std::set<Event *> g_events;
// The streams drain_streams calls are waiting on right now (outside g_registry_mutex), once
// per call; guarded by g_registry_mutex. A stream's deleter takes it out of g_streams, so no
// drain starts waiting on it any more, then waits (g_drain_done) until no drain still is
// (concurrent loads segfaulted in a drain's wait on a stream another thread deleted). A drain
// holds only the stream it is waiting on: the deleter waits for nothing but that stream's own
// work, which it waits for anyway, never for other streams or for later drains.
std::multiset<Stream *> g_draining;
std::condition_variable g_drain_done;

// With g_registry_mutex held by `lock`, s already out of g_streams: waits until no drain waits on s.
void wait_for_drains(std::unique_lock<std::mutex> &lock, Stream *s) {
  g_drain_done.wait(lock, [s] { return g_draining.count(s) == 0; });
}

Event *find_event(DeviceContext &c, void *handle, const char *what) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  auto *e = static_cast<Event *>(handle);
  if (!handle || !g_events.count(e) || e->ctx != &c) {
    fail(DQ_ERR_INVALID_ARGUMENT, std::string(what) + ": not an event of this vulkan device");
    return nullptr;
  }
  return e;
}

int32_t find_stream(DeviceContext &c, void *handle, const char *what, Stream **out) {
  *out = stream_of(c, handle);
  if (!*out) return fail(DQ_ERR_INVALID_ARGUMENT, std::string(what) + ": not a stream of this vulkan device");
  return DQ_OK;
}

void full_barrier(VkCommandBuffer cb, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access) {
  VkMemoryBarrier mb{};
  mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  mb.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
  mb.dstAccessMask = dst_access;
  vk().vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, dst_stage, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

}  // namespace

Timeline::~Timeline() {
  if (semaphore) vk().vkDestroySemaphore(device, semaphore, nullptr);
}

Stream::Stream(DeviceContext &ctx, bool is_default) : ctx_(ctx), is_default_(is_default) {}

int32_t Stream::create() {
  queue_index_ = is_default_ ? 0 : ctx_.next_queue.fetch_add(1) % static_cast<uint32_t>(ctx_.queues.size());
  VkSemaphoreTypeCreateInfo ti{};
  ti.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO;
  ti.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  VkSemaphoreCreateInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO;
  si.pNext = &ti;
  timeline_ = std::make_shared<Timeline>();
  timeline_->device = ctx_.device;
  timeline_->queue = ctx_.queues[queue_index_];
  VkResult r = vk().vkCreateSemaphore(ctx_.device, &si, nullptr, &timeline_->semaphore);
  if (r != VK_SUCCESS) return fail_vk(r, "vkCreateSemaphore (timeline)");
  VkCommandPoolCreateInfo cp{};
  cp.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  cp.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  cp.queueFamilyIndex = ctx_.queue_family;
  if ((r = vk().vkCreateCommandPool(ctx_.device, &cp, nullptr, &pool_)) != VK_SUCCESS)
    return fail_vk(r, "vkCreateCommandPool");
  return DQ_OK;
}

Stream::~Stream() {
  wait();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto &s : in_flight_) release(s);
  in_flight_.clear();
  if (pool_) vk().vkDestroyCommandPool(ctx_.device, pool_, nullptr);  // frees its command buffers
}

TimelinePoint Stream::last() const { return {timeline_, last_.load()}; }

void Stream::add_wait(TimelinePoint p) {
  if (p.value == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  waits_.push_back(std::move(p));
}

int32_t Stream::wait_for(uint64_t value) {
  if (value == 0) return DQ_OK;
  VkSemaphoreWaitInfo wi{};
  wi.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO;
  wi.semaphoreCount = 1;
  wi.pSemaphores = &timeline_->semaphore;
  wi.pValues = &value;
  const VkResult r = vk().vkWaitSemaphores(ctx_.device, &wi, UINT64_MAX);
  if (r != VK_SUCCESS) return fail_vk(r, "waiting for a vulkan stream");
  std::lock_guard<std::mutex> lock(mutex_);
  reclaim_locked();
  return DQ_OK;
}

int32_t Stream::wait() { return wait_for(last_.load()); }

void Stream::release(Submission &s) {
  for (auto &b : s.buffers) free_buffer(ctx_, b);
  s.buffers.clear();
  for (VkDescriptorPool p : s.descriptor_pools) vk().vkDestroyDescriptorPool(ctx_.device, p, nullptr);
  s.descriptor_pools.clear();
  if (s.command_buffer) free_.push_back(s.command_buffer);
  s.command_buffer = VK_NULL_HANDLE;
}

void Stream::reclaim_locked() {
  if (in_flight_.empty()) return;
  uint64_t done = 0;
  if (vk().vkGetSemaphoreCounterValue(ctx_.device, timeline_->semaphore, &done) != VK_SUCCESS) return;
  while (!in_flight_.empty() && in_flight_.front().value <= done) {
    release(in_flight_.front());
    in_flight_.pop_front();
  }
}

std::vector<TimelinePoint> Stream::others_to_wait_for() const {
  std::vector<TimelinePoint> others;
  if (!is_default_) return others;
  // As CUDA's legacy stream. Streams on this queue are ordered by the leading barrier already.
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  for (Stream *o : g_streams)
    if (&o->ctx_ == &ctx_ && o->queue_index_ != queue_index_) others.push_back(o->last());
  return others;
}

int32_t Stream::open_locked(Submission &s) {
  VkResult r = VK_SUCCESS;
  if (free_.empty()) {
    VkCommandBufferAllocateInfo ca{};
    ca.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    ca.commandPool = pool_;
    ca.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ca.commandBufferCount = 1;
    VkCommandBuffer cb = VK_NULL_HANDLE;
    if ((r = vk().vkAllocateCommandBuffers(ctx_.device, &ca, &cb)) != VK_SUCCESS)
      return fail_vk(r, "vkAllocateCommandBuffers");
    free_.push_back(cb);
  }
  s.command_buffer = free_.back();
  free_.pop_back();
  VkCommandBuffer cb = s.command_buffer;
  if ((r = vk().vkResetCommandBuffer(cb, 0)) != VK_SUCCESS) return fail_vk(r, "vkResetCommandBuffer");
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  if ((r = vk().vkBeginCommandBuffer(cb, &bi)) != VK_SUCCESS) return fail_vk(r, "vkBeginCommandBuffer");
  // After everything submitted to this queue before (stream order).
  full_barrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
  return DQ_OK;
}

int32_t Stream::close_and_submit_locked(Submission &s, std::vector<TimelinePoint> others, uint64_t *value) {
  VkCommandBuffer cb = s.command_buffer;
  // Writes visible to the host once the timeline value is reached.
  full_barrier(cb, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  VkResult r = vk().vkEndCommandBuffer(cb);
  if (r != VK_SUCCESS) return fail_vk(r, "vkEndCommandBuffer");

  for (auto &o : others) waits_.push_back(std::move(o));
  // One wait per timeline (its highest value), and none on a timeline signalled from this
  // queue (this stream's own, or another stream's on the same queue: every value of an event
  // or of last() is already submitted, and the leading barrier orders this command buffer
  // after all earlier submissions of the queue, memory included). Each semaphore wait costs
  // the queue a scheduling round trip. A wait on another queue's timeline stays even when the
  // host has seen the value reached: the wait is what makes that queue's writes visible here.
  const VkQueue queue = ctx_.queues[queue_index_];
  std::vector<TimelinePoint> waits;
  for (const auto &w : waits_) {
    if (!w.value || w.timeline->queue == queue) continue;
    auto same = std::find_if(waits.begin(), waits.end(), [&](const TimelinePoint &x) { return x.timeline == w.timeline; });
    if (same == waits.end()) waits.push_back(w);
    else same->value = std::max(same->value, w.value);
  }
  std::vector<VkSemaphore> wait_sems;
  std::vector<uint64_t> wait_values;
  std::vector<VkPipelineStageFlags> wait_stages;
  for (const auto &w : waits) {
    wait_sems.push_back(w.timeline->semaphore);
    wait_values.push_back(w.value);
    wait_stages.push_back(VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
  }
  const uint64_t signal = last_.load() + 1;
  VkTimelineSemaphoreSubmitInfo ts{};
  ts.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
  ts.waitSemaphoreValueCount = static_cast<uint32_t>(wait_values.size());
  ts.pWaitSemaphoreValues = wait_values.data();
  ts.signalSemaphoreValueCount = 1;
  ts.pSignalSemaphoreValues = &signal;
  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.pNext = &ts;
  si.waitSemaphoreCount = static_cast<uint32_t>(wait_sems.size());
  si.pWaitSemaphores = wait_sems.data();
  si.pWaitDstStageMask = wait_stages.data();
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  si.signalSemaphoreCount = 1;
  si.pSignalSemaphores = &timeline_->semaphore;
  {
    std::lock_guard<std::mutex> q(ctx_.queue_mutexes[queue_index_]);
    r = vk().vkQueueSubmit(ctx_.queues[queue_index_], 1, &si, VK_NULL_HANDLE);
  }
  if (r != VK_SUCCESS) return fail_vk(r, "vkQueueSubmit");
  // A waited-on semaphore outlives the wait: its stream waits for its own work (which
  // signals the value) before destroying it.
  waits_.clear();
  s.value = signal;
  last_.store(signal);
  in_flight_.push_back(std::move(s));
  if (value) *value = signal;
  return DQ_OK;
}

int32_t Stream::submit(const std::function<int32_t(VkCommandBuffer)> &record, std::vector<MappedBuffer> keep,
                       VkDescriptorPool descriptor_pool, uint64_t *value) {
  Submission s;
  s.buffers = std::move(keep);
  if (descriptor_pool) s.descriptor_pools.push_back(descriptor_pool);
  std::vector<TimelinePoint> others = others_to_wait_for();
  std::lock_guard<std::mutex> lock(mutex_);
  reclaim_locked();
  if (batch_ && batch_owner_ == std::this_thread::get_id()) {
    // Appended to the open batch, which owns what this call keeps from now on.
    for (auto &b : s.buffers) batch_->buffers.push_back(b);
    for (VkDescriptorPool p : s.descriptor_pools) batch_->descriptor_pools.push_back(p);
    if (value) *value = last_.load() + 1;
    return record(batch_->command_buffer);
  }
  auto give_back = [&](int32_t st) {
    release(s);
    return st;
  };
  if (int32_t st = open_locked(s); st != DQ_OK) return give_back(st);
  if (int32_t st = record(s.command_buffer); st != DQ_OK) {
    vk().vkEndCommandBuffer(s.command_buffer);
    return give_back(st);
  }
  if (int32_t st = close_and_submit_locked(s, std::move(others), value); st != DQ_OK) return give_back(st);
  return DQ_OK;
}

int32_t Stream::begin_batch() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (batch_) return fail(DQ_ERR_INVALID_ARGUMENT, "a batch is already open on this vulkan stream");
  reclaim_locked();
  auto b = std::make_unique<Submission>();
  if (int32_t st = open_locked(*b); st != DQ_OK) {
    release(*b);
    return st;
  }
  batch_ = std::move(b);
  batch_owner_ = std::this_thread::get_id();
  return DQ_OK;
}

int32_t Stream::end_batch(bool run) {
  std::vector<TimelinePoint> others = run ? others_to_wait_for() : std::vector<TimelinePoint>{};
  std::lock_guard<std::mutex> lock(mutex_);
  if (!batch_) return fail(DQ_ERR_INVALID_ARGUMENT, "no batch is open on this vulkan stream");
  std::unique_ptr<Submission> b = std::move(batch_);
  batch_owner_ = std::thread::id{};
  if (run) {
    if (int32_t st = close_and_submit_locked(*b, std::move(others), nullptr); st == DQ_OK) return DQ_OK;
  } else {
    vk().vkEndCommandBuffer(b->command_buffer);  // never submitted: reset on its next use
  }
  release(*b);
  return run ? DQ_ERR_BACKEND : DQ_OK;
}

Stream *stream_of(DeviceContext &c, void *handle) {
  if (!handle) return c.default_stream.get();
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  auto *s = static_cast<Stream *>(handle);
  return g_streams.count(s) && &s->context() == &c ? s : nullptr;
}

int32_t drain_streams(DeviceContext &c) {
  std::vector<Stream *> all;
  {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    for (Stream *s : g_streams)
      if (&s->context() == &c) all.push_back(s);
  }
  int32_t st = c.default_stream ? c.default_stream->wait() : DQ_OK;
  for (Stream *s : all) {
    {
      // Destroyed since it was listed (its deleter waited for its work): nothing to wait for.
      // The address may be a newer stream's by now; waiting on that one is harmless.
      std::lock_guard<std::mutex> lock(g_registry_mutex);
      if (!g_streams.count(s) || &s->context() != &c) continue;
      g_draining.insert(s);
    }
    const int32_t w = s->wait();
    {
      std::lock_guard<std::mutex> lock(g_registry_mutex);
      g_draining.erase(g_draining.find(s));
    }
    g_drain_done.notify_all();
    if (w != DQ_OK) st = w;
  }
  return st;
}

void streams_shutdown(DeviceContext &c) {
  std::vector<Stream *> streams;
  std::vector<Event *> events;
  {
    std::unique_lock<std::mutex> lock(g_registry_mutex);
    for (auto it = g_streams.begin(); it != g_streams.end();)
      if (&(*it)->context() == &c) streams.push_back(*it), it = g_streams.erase(it);
      else ++it;
    for (auto it = g_events.begin(); it != g_events.end();)
      if ((*it)->ctx == &c) events.push_back(*it), it = g_events.erase(it);
      else ++it;
    for (Stream *s : streams) wait_for_drains(lock, s);
  }
  for (Stream *s : streams) delete s;
  for (Event *e : events) {
    if (e->queries) vk().vkDestroyQueryPool(c.device, e->queries, nullptr);
    delete e;
  }
  c.default_stream.reset();
}

int32_t stream_create(int32_t device, void **out) {
  if (!out) return fail(DQ_ERR_INVALID_ARGUMENT, "stream_create: null out");
  *out = nullptr;
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "stream_create", &c); st != DQ_OK) return st;
  auto s = std::make_unique<Stream>(*c, false);
  if (int32_t st = s->create(); st != DQ_OK) return st;
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  g_streams.insert(s.get());
  *out = s.release();
  return ok();
}

int32_t stream_destroy(int32_t device, void *stream) {
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "stream_destroy", &c); st != DQ_OK) return st;
  Stream *s = static_cast<Stream *>(stream);
  {
    std::unique_lock<std::mutex> lock(g_registry_mutex);
    if (!stream || !g_streams.count(s) || &s->context() != c)
      return fail(DQ_ERR_INVALID_ARGUMENT, "stream_destroy: not a stream of vulkan device " + std::to_string(device));
    g_streams.erase(s);
    wait_for_drains(lock, s);
  }
  delete s;  // waits for its work
  return ok();
}

int32_t synchronize(int32_t device, void *stream) {
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "synchronize", &c); st != DQ_OK) return st;
  if (!stream) return drain_streams(*c) == DQ_OK ? ok() : DQ_ERR_BACKEND;
  Stream *s = nullptr;
  if (int32_t st = find_stream(*c, stream, "synchronize", &s); st != DQ_OK) return st;
  const int32_t st = s->wait();
  return st == DQ_OK ? ok() : st;
}

int32_t event_create(int32_t device, void **out) {
  if (!out) return fail(DQ_ERR_INVALID_ARGUMENT, "event_create: null out");
  *out = nullptr;
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "event_create", &c); st != DQ_OK) return st;
  auto e = std::make_unique<Event>();
  e->ctx = c;
  if (c->timestamps) {
    VkQueryPoolCreateInfo qi{};
    qi.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qi.queryCount = 1;
    if (VkResult r = vk().vkCreateQueryPool(c->device, &qi, nullptr, &e->queries); r != VK_SUCCESS)
      return fail_vk(r, "vkCreateQueryPool");
  }
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  g_events.insert(e.get());
  *out = e.release();
  return ok();
}

int32_t event_destroy(int32_t device, void *event) {
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "event_destroy", &c); st != DQ_OK) return st;
  Event *e = static_cast<Event *>(event);
  {
    // Looked up and taken out at once: of two destroys of one event, one deletes it.
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    if (!event || !g_events.count(e) || e->ctx != c)
      return fail(DQ_ERR_INVALID_ARGUMENT, "event_destroy: not an event of this vulkan device");
    g_events.erase(e);
  }
  // A timestamp write may still be queued.
  if (const TimelinePoint p = e->recorded(); p.value) {
    VkSemaphoreWaitInfo wi{};
    wi.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO;
    wi.semaphoreCount = 1;
    wi.pSemaphores = &p.timeline->semaphore;
    wi.pValues = &p.value;
    vk().vkWaitSemaphores(c->device, &wi, UINT64_MAX);
  }
  if (e->queries) vk().vkDestroyQueryPool(c->device, e->queries, nullptr);
  delete e;
  return ok();
}

int32_t event_record(int32_t device, void *event, void *stream) {
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "event_record", &c); st != DQ_OK) return st;
  Event *e = find_event(*c, event, "event_record");
  if (!e) return DQ_ERR_INVALID_ARGUMENT;
  Stream *s = nullptr;
  if (int32_t st = find_stream(*c, stream, "event_record", &s); st != DQ_OK) return st;
  // Its own submission, so the point covers the stream's pending waits too.
  uint64_t value = 0;
  const VkQueryPool q = e->queries;
  const int32_t st = s->submit(
      [q](VkCommandBuffer cb) {
        if (q) {
          vk().vkCmdResetQueryPool(cb, q, 0, 1);
          vk().vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, q, 0);
        }
        return DQ_OK;
      },
      {}, VK_NULL_HANDLE, &value);
  if (st != DQ_OK) return st;
  std::lock_guard<std::mutex> lock(e->mutex);
  e->point = s->last();
  e->point.value = value;
  e->timed = q != VK_NULL_HANDLE;
  return ok();
}

int32_t event_synchronize(int32_t device, void *event) {
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "event_synchronize", &c); st != DQ_OK) return st;
  Event *e = find_event(*c, event, "event_synchronize");
  if (!e) return DQ_ERR_INVALID_ARGUMENT;
  const TimelinePoint p = e->recorded();  // its timeline stays alive while waited on
  if (!p.value) return ok();
  VkSemaphoreWaitInfo wi{};
  wi.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO;
  wi.semaphoreCount = 1;
  wi.pSemaphores = &p.timeline->semaphore;
  wi.pValues = &p.value;
  if (VkResult r = vk().vkWaitSemaphores(c->device, &wi, UINT64_MAX); r != VK_SUCCESS)
    return fail_vk(r, "event_synchronize");
  return ok();
}

int32_t stream_wait_event(int32_t device, void *stream, void *event) {
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "stream_wait_event", &c); st != DQ_OK) return st;
  Event *e = find_event(*c, event, "stream_wait_event");
  if (!e) return DQ_ERR_INVALID_ARGUMENT;
  Stream *s = nullptr;
  if (int32_t st = find_stream(*c, stream, "stream_wait_event", &s); st != DQ_OK) return st;
  s->add_wait(e->recorded());
  return ok();
}

int32_t event_elapsed_ms(int32_t device, void *start, void *end, float *ms) {
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "event_elapsed_ms", &c); st != DQ_OK) return st;
  Event *a = find_event(*c, start, "event_elapsed_ms");
  Event *b = a ? find_event(*c, end, "event_elapsed_ms") : nullptr;
  if (!a || !b || !ms) return DQ_ERR_INVALID_ARGUMENT;
  auto timed = [](Event *e) {
    std::lock_guard<std::mutex> lock(e->mutex);
    return e->timed;
  };
  if (!timed(a) || !timed(b))
    return fail(DQ_ERR_UNSUPPORTED, "event_elapsed_ms: the queue has no timestamps or an event was not recorded");
  uint64_t t[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    Event *e = i ? b : a;
    VkResult r = vk().vkGetQueryPoolResults(c->device, e->queries, 0, 1, sizeof(uint64_t), &t[i], sizeof(uint64_t),
                                            VK_QUERY_RESULT_64_BIT);
    if (r == VK_NOT_READY) return fail(DQ_ERR_INVALID_ARGUMENT, "event_elapsed_ms: an event has not completed");
    if (r != VK_SUCCESS) return fail_vk(r, "vkGetQueryPoolResults");
  }
  *ms = static_cast<float>(static_cast<double>(static_cast<int64_t>(t[1] - t[0])) * c->timestamp_period_ns / 1e6);
  return ok();
}

namespace {

// Tests: DQ_VULKAN_TEST_COPY_DELAY_MS sleeps between resolving a copy's pinned or registered
// source and submitting the copy, widening the window in which another thread may unregister
// it (the copy must still read the registration's pages).
void test_copy_delay() {
  const char *e = std::getenv("DQ_VULKAN_TEST_COPY_DELAY_MS");
  const long ms = e && *e ? std::strtol(e, nullptr, 10) : 0L;
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(std::min(ms, 10000L)));
}

// A host-visible buffer for staging `bytes`.
int32_t staging(DeviceContext &c, uint64_t bytes, MappedBuffer *out) {
  return alloc_buffer(c, *out, std::max<uint64_t>(4, (bytes + 3) & ~uint64_t{3}), c.host_memory_type,
                      "staging buffer");
}

void record_copies(VkCommandBuffer cb, const BufferSpan &src, const std::vector<BufferSpan> &dst) {
  uint64_t at = 0;
  for (const auto &d : dst) {
    VkBufferCopy r{src.offset + at, d.offset, d.bytes};
    vk().vkCmdCopyBuffer(cb, src.buffer, d.buffer, 1, &r);
    at += d.bytes;
  }
}

void record_copies(VkCommandBuffer cb, const std::vector<BufferSpan> &src, const BufferSpan &dst) {
  uint64_t at = 0;
  for (const auto &s : src) {
    VkBufferCopy r{s.offset, dst.offset + at, s.bytes};
    vk().vkCmdCopyBuffer(cb, s.buffer, dst.buffer, 1, &r);
    at += s.bytes;
  }
}

}  // namespace

int32_t mem_copy(int32_t device, void *dst, const void *src, size_t bytes, int32_t kind, void *stream) {
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "mem_copy", &c); st != DQ_OK) return st;
  if (!dst || !src) return fail(DQ_ERR_INVALID_ARGUMENT, "mem_copy: null pointer");
  Stream *s = nullptr;
  if (int32_t st = find_stream(*c, stream, "mem_copy", &s); st != DQ_OK) return st;
  if (bytes == 0) return ok();
  std::vector<BufferSpan> dev_src, dev_dst;
  switch (kind) {
    case DQ_COPY_HOST_TO_DEVICE: {
      if (int32_t st = resolve_device(*c, dst, bytes, "mem_copy destination", &dev_dst); st != DQ_OK) return st;
      BufferSpan host;
      HostLease lease;  // the registration stays until the copy is queued
      std::vector<MappedBuffer> keep;
      if (!resolve_host(*c, src, bytes, &host, &lease)) {
        // Pageable memory: read now into staging (as cudaMemcpyAsync does), copied in stream order.
        MappedBuffer b;
        if (int32_t st = staging(*c, bytes, &b); st != DQ_OK) return st;
        std::memcpy(b.mapped, src, bytes);
        host = {b.buffer, 0, bytes};
        keep.push_back(b);
      } else {
        test_copy_delay();
      }
      const int32_t st = s->submit(
          [&](VkCommandBuffer cb) {
            record_copies(cb, host, dev_dst);
            return DQ_OK;
          },
          std::move(keep), VK_NULL_HANDLE, nullptr);
      if (st != DQ_OK) return st;
      return stream ? ok() : (s->wait() == DQ_OK ? ok() : DQ_ERR_BACKEND);
    }
    case DQ_COPY_DEVICE_TO_HOST: {
      if (int32_t st = resolve_device(*c, src, bytes, "mem_copy source", &dev_src); st != DQ_OK) return st;
      BufferSpan host;
      HostLease lease;
      if (stream && resolve_host(*c, dst, bytes, &host, &lease)) {  // pinned: asynchronous
        return s->submit(
                   [&](VkCommandBuffer cb) {
                     record_copies(cb, dev_src, host);
                     return DQ_OK;
                   },
                   {}, VK_NULL_HANDLE, nullptr) == DQ_OK
                   ? ok()
                   : DQ_ERR_BACKEND;
      }
      MappedBuffer b;
      if (int32_t st = staging(*c, bytes, &b); st != DQ_OK) return st;
      uint64_t value = 0;
      const int32_t st = s->submit(
          [&](VkCommandBuffer cb) {
            record_copies(cb, dev_src, BufferSpan{b.buffer, 0, bytes});
            return DQ_OK;
          },
          {}, VK_NULL_HANDLE, &value);
      if (st == DQ_OK && s->wait_for(value) == DQ_OK) {
        std::memcpy(dst, b.mapped, bytes);
        free_buffer(*c, b);
        return ok();
      }
      free_buffer(*c, b);  // a failed submit kept nothing; a failed wait means the device is lost
      return DQ_ERR_BACKEND;
    }
    case DQ_COPY_DEVICE_TO_DEVICE: {
      if (int32_t st = resolve_device(*c, src, bytes, "mem_copy source", &dev_src); st != DQ_OK) return st;
      if (int32_t st = resolve_device(*c, dst, bytes, "mem_copy destination", &dev_dst); st != DQ_OK) return st;
      // DQ_VULKAN_COPY=shader: on the compute units (shader_copy.hpp); else vkCmdCopyBuffer.
      const int32_t st = submit_span_copy(*c, *s, bytes, dev_src, dev_dst, shader_copy_enabled());
      if (st != DQ_OK) return st;
      return stream ? ok() : (s->wait() == DQ_OK ? ok() : DQ_ERR_BACKEND);
    }
    default:
      return fail(DQ_ERR_INVALID_ARGUMENT, "mem_copy: copy kind " + std::to_string(kind) + " is not 1, 2 or 3");
  }
}

int32_t submit_span_copy(DeviceContext &c, Stream &s, uint64_t bytes, const std::vector<BufferSpan> &src,
                         const std::vector<BufferSpan> &dst, bool shader) {
  struct Piece {
    VkBuffer src;
    uint64_t src_offset;
    VkBuffer dst;
    uint64_t dst_offset, bytes;
  };
  std::vector<Piece> pieces;
  uint32_t sets = 0;
  uint64_t done = 0;
  for (size_t i = 0, j = 0, ai = 0, aj = 0; done < bytes && i < src.size() && j < dst.size();) {
    const uint64_t n = std::min({src[i].bytes - ai, dst[j].bytes - aj, bytes - done});
    pieces.push_back({src[i].buffer, src[i].offset + ai, dst[j].buffer, dst[j].offset + aj, n});
    sets += shader_copy_sets(c, n);
    ai += n, aj += n, done += n;
    if (ai == src[i].bytes) ++i, ai = 0;
    if (aj == dst[j].bytes) ++j, aj = 0;
  }
  VkDescriptorPool pool = VK_NULL_HANDLE;  // none: record_device_copy uses vkCmdCopyBuffer
  if (shader)
    if (int32_t st = make_copy_pool(c, std::max<uint32_t>(sets, 1), &pool); st != DQ_OK) return st;
  return s.submit(
      [&](VkCommandBuffer cb) -> int32_t {
        for (const Piece &p : pieces)
          if (int32_t st = record_device_copy(c, cb, p.src, p.src_offset, p.dst, p.dst_offset, p.bytes, pool);
              st != DQ_OK)
            return st;
        return DQ_OK;
      },
      {}, pool, nullptr);
}


}  // namespace dq::vulkan
