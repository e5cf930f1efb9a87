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
#include <thread>
#include <vector>

#include "devices.hpp"

namespace dq::vulkan {

struct Timeline {
  VkDevice device = VK_NULL_HANDLE;
  VkSemaphore semaphore = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;  // the queue of the stream that signals it
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
  std::vector<VkDescriptorPool> descriptor_pools;
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

  // Batch mode (dequantize_batch): until end_batch, the submit() calls of the calling thread
  // append their commands to one open command buffer (no barriers between them: a batch's
  // requests write disjoint outputs) instead of submitting; *value is then the value the
  // batch will signal, so nothing may wait for it before end_batch. end_batch(true) submits
  // the command buffer; end_batch(false) discards it and frees what the calls gave it
  // (nothing ran).
  int32_t begin_batch();
  int32_t end_batch(bool run);

 private:
  void reclaim_locked();
  void release(Submission &s);
  // Allocates (or reuses) a command buffer into s, begins it, records the leading barrier.
  int32_t open_locked(Submission &s);
  // Trailing barrier, end, submit with the pending waits (plus `others`), keep s in flight.
  int32_t close_and_submit_locked(Submission &s, std::vector<TimelinePoint> others, uint64_t *value);
  // The NULL stream's extra waits: the latest work of the device's streams on other queues.
  std::vector<TimelinePoint> others_to_wait_for() const;

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
  std::unique_ptr<Submission> batch_;  // open in batch mode
  std::thread::id batch_owner_;
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

struct BufferSpan;  // memory.hpp

// Submits on `s` a copy of the first `bytes` that both span lists cover, cut at every boundary
// of either: on the compute units when `shader` (shader_copy.hpp), else by vkCmdCopyBuffer.
// Asynchronous; DQ_OK or the failure (mem_copy's device-to-device copies, and dequantize's
// F32 -> f32 identity).
int32_t submit_span_copy(DeviceContext &c, Stream &s, uint64_t bytes, const std::vector<BufferSpan> &src,
                         const std::vector<BufferSpan> &dst, bool shader);

}  // namespace dq::vulkan
