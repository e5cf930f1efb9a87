// Files that change or are not what they seem while dq uses them: tensor reads of a file
// truncated after opening (dq_model_read_tensor: DQ_ERR_IO, not SIGBUS), FIFOs given as the
// model or as a part of a split model (refused, never a hang).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "reader_test_util.hpp"

namespace dq::test {
namespace {

// A model with one 1 MiB F32 tensor "big" after a small one.
GgufBuilder two_tensor_model() {
  GgufBuilder g;
  g.kv("general.architecture", kString, enc_string("llama"));
  g.tensor("small", 0, {8}, 32);
  g.tensor("big", 0, {256 * 1024}, 1 << 20);
  return g;
}

void truncate_file(const std::filesystem::path &p, uint64_t size) {
  ASSERT_EQ(::truncate(p.c_str(), static_cast<off_t>(size)), 0) << p;
}

TEST(GgufReadTensor, ReadsTheTensorBytesAtAnOffset) {
  ScratchDir dir;
  GgufBuilder g = two_tensor_model();
  const Bytes file = g.build();
  write_bytes(dir / "m.gguf", file);
  Opened o(dir / "m.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  const int64_t big = dq_model_tensor_find(o.model, "big");
  const dq_tensor_info t = tensor_info(o.model, big);
  std::vector<uint8_t> got(1000);
  ASSERT_EQ(dq_model_read_tensor(o.ctx, o.model, big, 12345, got.data(), got.size()), DQ_OK)
      << dq_last_error(o.ctx);
  EXPECT_EQ(0, std::memcmp(got.data(), file.data() + t.file_offset + 12345, got.size()));
  // The whole tensor, and an empty read at its very end.
  std::vector<uint8_t> all(t.n_bytes);
  ASSERT_EQ(dq_model_read_tensor(o.ctx, o.model, big, 0, all.data(), all.size()), DQ_OK);
  EXPECT_EQ(0, std::memcmp(all.data(), t.data, all.size()));
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, big, t.n_bytes, all.data(), 0), DQ_OK);
}

TEST(GgufReadTensor, RefusesBadArgumentsAndReadsPastTheEnd) {
  ScratchDir dir;
  write_bytes(dir / "m.gguf", two_tensor_model().build());
  Opened o(dir / "m.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  uint8_t buf[64];
  EXPECT_EQ(dq_model_read_tensor(nullptr, o.model, 0, 0, buf, 4), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_model_read_tensor(o.ctx, nullptr, 0, 0, buf, 4), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, 0, 0, nullptr, 4), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, -1, 0, buf, 4), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, 2, 0, buf, 4), DQ_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dq_last_error(o.ctx)).find("out of range"), std::string::npos);
  // "small" holds 32 bytes.
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, 0, 0, buf, 33), DQ_ERR_SIZE);
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, 0, 30, buf, 4), DQ_ERR_SIZE);
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, 0, UINT64_MAX, buf, 4), DQ_ERR_SIZE);
  EXPECT_NE(std::string(dq_last_error(o.ctx)).find("'small'"), std::string::npos)
      << dq_last_error(o.ctx);
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, 0, 28, buf, 4), DQ_OK);
}

TEST(GgufReadTensor, FileTruncatedAfterOpeningGivesIoErrorNamingTheFile) {
  ScratchDir dir;
  GgufBuilder g = two_tensor_model();
  write_bytes(dir / "m.gguf", g.build());
  Opened o(dir / "m.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  const int64_t big = dq_model_tensor_find(o.model, "big");
  const dq_tensor_info t = tensor_info(o.model, big);
  // Cut the file in the middle of "big": its second half is gone (a read of those pages
  // through t.data would raise SIGBUS).
  truncate_file(dir / "m.gguf", t.file_offset + t.n_bytes / 2);
  std::vector<uint8_t> buf(t.n_bytes);
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, big, 0, buf.data(), buf.size()), DQ_ERR_IO);
  const std::string msg = dq_last_error(o.ctx);
  EXPECT_NE(msg.find((dir / "m.gguf").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("'big'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ends early"), std::string::npos) << msg;
  // The bytes before the cut still read.
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, big, 0, buf.data(), t.n_bytes / 2), DQ_OK);
  // Removing the path changes nothing: the model holds the file open.
  std::filesystem::remove(dir / "m.gguf");
  EXPECT_EQ(dq_model_read_tensor(o.ctx, o.model, big, 0, buf.data(), t.n_bytes / 2), DQ_OK);
}

TEST(GgufReadTensor, ReadsTheOpenedFileEvenWhenThePathIsReplaced) {
  ScratchDir dir;
  GgufBuilder g = two_tensor_model();
  const Bytes file = g.build();
  write_bytes(dir / "m.gguf", file);
  Opened o(dir / "m.gguf");
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  write_bytes(dir / "other.gguf", Bytes(file.size(), 0xee));
  std::filesystem::rename(dir / "other.gguf", dir / "m.gguf");
  const dq_tensor_info t = tensor_info(o.model, 1);
  std::vector<uint8_t> buf(t.n_bytes);
  ASSERT_EQ(dq_model_read_tensor(o.ctx, o.model, 1, 0, buf.data(), buf.size()), DQ_OK);
  EXPECT_EQ(0, std::memcmp(buf.data(), file.data() + t.file_offset, buf.size()));
}

// Runs dq_model_open on `path` in another thread; fails (instead of hanging the suite) when
// it does not return within a few seconds. A hung open leaks its thread: the test then ends
// the process after reporting, by design.
struct TimedOpen {
  dq_status status = DQ_ERR_INTERNAL;
  std::string message;
  bool returned = false;
};
TimedOpen open_with_deadline(const std::filesystem::path &path) {
  auto task = std::make_shared<std::packaged_task<TimedOpen()>>([path] {
    TimedOpen r;
    Opened o(path);
    r.status = o.status;
    r.message = o.message;
    r.returned = true;
    return r;
  });
  std::future<TimedOpen> f = task->get_future();
  std::thread([task] { (*task)(); }).detach();
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "dq_model_open(" << path << ") did not return within 10 s";
    std::fflush(nullptr);
    std::_Exit(1);  // the open is stuck in the kernel: nothing else can end it
  }
  return f.get();
}

TEST(GgufFifo, AFifoAsTheModelIsRefusedWithoutWaitingForAWriter) {
  ScratchDir dir;
  const auto path = dir / "pipe.gguf";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  const TimedOpen r = open_with_deadline(path);
  EXPECT_EQ(r.status, DQ_ERR_IO);
  EXPECT_NE(r.message.find("not a regular file"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find(path.string()), std::string::npos) << r.message;
}

TEST(GgufFifo, AFifoAsPartTwoOfASplitModelIsRefusedWithoutWaiting) {
  ScratchDir dir;
  GgufBuilder g;
  g.kv("split.no", kU16, enc<uint16_t>(0));
  g.kv("split.count", kU16, enc<uint16_t>(2));
  g.tensor("a", 0, {8}, 32);
  write_bytes(dir / "m-00001-of-00002.gguf", g.build());
  const auto part2 = dir / "m-00002-of-00002.gguf";
  ASSERT_EQ(::mkfifo(part2.c_str(), 0600), 0);
  const TimedOpen r = open_with_deadline(dir / "m-00001-of-00002.gguf");
  EXPECT_EQ(r.status, DQ_ERR_IO);
  EXPECT_NE(r.message.find("not a regular file"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find(part2.string()), std::string::npos) << r.message;
}

}  // namespace
}  // namespace dq::test
