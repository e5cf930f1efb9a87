// Streams and events.
//
// A stream is one of the device's queues plus a timeline semaphore: every operation is one
// command buffer submitted to that queue, which waits on what stream_wait_event asked for and
// signals the stream's next timeline value. Each command buffer begins with a full memory
// barrier, which orders it after everything submitted to its queue earlier (so a stream's
// operations run in order, and streams sharing a queue run in submission order), and ends
// with a barrier making its writes visible to the host. Resources an operation needs until it
// completes (staging buffers, descriptor sets) stay with its submission and are freed once
// the timeline has passed it.
//
// An event is a (timeline, value) pair captured by event_record, plus a timestamp query
// written at that point for event_elapsed_ms. The NULL stream is a per-device stream whose
// submissions also wait for the latest submission of every other stream.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "devices.hpp"

namespace dq::vulkan {

struct Timeline {
  VkDevice device = VK_NULL_HANDLE;
  VkSemaphore semaphore = VK_NULL_HANDLE;
  ~Timeline();
};

struct TimelinePoint {
  std::shared_ptr<Timeline> timeline;
  uint64_t value = 0;
};

// One submitted command buffer and what it keeps alive.
struct Submission {
  uint64_t value = 0;
  VkCommandBuffer command_buffer = VK_NULL_HANDLE;
  VkDescriptorPool descriptor_pool = VK_NULL_HANDLE;
  std::vector<MappedBuffer> buffers;
};

class Stream {
 public:
  Stream(DeviceContext &ctx, bool is_default);
  ~Stream();  // waits for its work, frees everything
  Stream(const Stream &) = delete;
  Stream &operator=(const Stream &) = delete;
  int32_t create();  // DQ_OK or the failure (message set)

  DeviceContext &context() { return ctx_; }
  // The point of the latest submission (value 0: nothing submitted yet).
  TimelinePoint last() const;
  void add_wait(TimelinePoint p);
  // Waits for everything submitted so far.
  int32_t wait();
  int32_t wait_for(uint64_t value);

  // Records one command buffer with `record` (between the leading and trailing barriers),
  // submits it and keeps `keep` (and the descriptor pool) until it completes. *value gets
  // the submission's timeline value.
  int32_t submit(const std::function<int32_t(VkCommandBuffer)> &record, std::vector<MappedBuffer> keep,
                 VkDescriptorPool descriptor_pool, uint64_t *value);

 private:
  void reclaim_locked();
  void release(Submission &s);

  DeviceContext &ctx_;
  bool is_default_;
  uint32_t queue_index_ = 0;
  std::shared_ptr<Timeline> timeline_;
  std::atomic<uint64_t> last_{0};
  std::mutex mutex_;  // guards everything below
  VkCommandPool pool_ = VK_NULL_HANDLE;
  std::vector<VkCommandBuffer> free_;
  std::deque<Submission> in_flight_;
  std::vector<TimelinePoint> waits_;
};

// The stream a caller's handle names (NULL: the device's default stream).
Stream *stream_of(DeviceContext &c, void *handle);
// Waits until every stream of the device (the default one included) has finished its work.
int32_t drain_streams(DeviceContext &c);
// Destroys the streams and events the caller left (shutdown).
void streams_shutdown(DeviceContext &c);

int32_t stream_create(int32_t device, void **out);
int32_t stream_destroy(int32_t device, void *stream);
int32_t synchronize(int32_t device, void *stream);
int32_t event_create(int32_t device, void **out);
int32_t event_destroy(int32_t device, void *event);
int32_t event_record(int32_t device, void *event, void *stream);
int32_t event_synchronize(int32_t device, void *event);
int32_t stream_wait_event(int32_t device, void *stream, void *event);
int32_t event_elapsed_ms(int32_t device, void *start, void *end, float *ms);
int32_t mem_copy(int32_t device, void *dst, const void *src, size_t bytes, int32_t kind, void *stream);

}  // namespace dq::vulkan
