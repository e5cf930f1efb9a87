// Files over 4 GiB: 64-bit offsets and sizes end to end (a sparse file, so no disk is used).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "reader_test_util.hpp"

namespace dq::test {
namespace {

TEST(GgufLarge, TensorsBeyond4GiBAreMappedAndViewed) {
  ScratchDir dir;
  const uint64_t far = (uint64_t{9} << 29);  // 4.5 GiB into the data section
  GgufBuilder g;
  g.write_data = false;
  g.tensor("near", 0, {8}, 32, 0);
  g.tensor("far", 8, {64, 2}, 4 * 34, far);  // q8_0
  const Bytes header = g.build();
  const uint64_t data_offset = g.layout.data_offset;
  const uint64_t size = data_offset + far + 4 * 34;
  const auto path = dir / "big.gguf";
  write_bytes(path, header);
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  const uint8_t marker[4] = {0xde, 0xad, 0xbe, 0xef};
  ASSERT_EQ(::pwrite(fd, marker, 4, static_cast<off_t>(data_offset + far + 4 * 34 - 4)), 4);
  ::close(fd);

  Opened o(path);
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  const dq_tensor_info t = tensor_info(o.model, dq_model_tensor_find(o.model, "far"));
  EXPECT_EQ(t.file_offset, data_offset + far);
  EXPECT_GT(t.file_offset, uint64_t{1} << 32);
  EXPECT_EQ(t.n_bytes, 136u);
  const auto *bytes = static_cast<const uint8_t *>(t.data);
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[132], 0xde);
  EXPECT_EQ(bytes[135], 0xef);

  // One byte short: the far tensor now ends past the data section.
  fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size - 1)), 0);
  ::close(fd);
  Opened cut(path);
  EXPECT_EQ(cut.status, DQ_ERR_BAD_FILE);
  EXPECT_NE(cut.message.find("past end of data section"), std::string::npos) << cut.message;
  EXPECT_NE(cut.message.find(std::to_string(size - 1)), std::string::npos) << cut.message;
}

// Files of 16 MiB and more are mapped at a 2 MiB boundary (so the kernel may map them in huge
// pages); every byte still reads back as written, at the start, middle and end.
TEST(GgufLarge, LargeFilesMapAtA2MiBBoundaryAndReadBack) {
  ScratchDir dir;
  const uint64_t n = 20u << 20;  // f32 elements: 80 MiB of data
  GgufBuilder g;
  g.write_data = false;
  g.tensor("w", 0, {static_cast<int64_t>(n)}, n * 4, 0);
  const Bytes header = g.build();
  const uint64_t data_offset = g.layout.data_offset;
  const auto path = dir / "aligned.gguf";
  write_bytes(path, header);
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(data_offset + n * 4)), 0);
  const uint64_t probes[] = {0, n * 2 + 12345, n * 4 - 4};
  for (uint64_t at : probes) {
    const uint8_t v[4] = {static_cast<uint8_t>(at), 0x5a, 0xa5, static_cast<uint8_t>(at >> 8)};
    ASSERT_EQ(::pwrite(fd, v, 4, static_cast<off_t>(data_offset + at)), 4);
  }
  ::close(fd);

  Opened o(path);
  ASSERT_EQ(o.status, DQ_OK) << o.message;
  const dq_tensor_info t = tensor_info(o.model, dq_model_tensor_find(o.model, "w"));
  const auto *bytes = static_cast<const uint8_t *>(t.data);
#if defined(__linux__)
  EXPECT_EQ((reinterpret_cast<uintptr_t>(bytes) - t.file_offset) % (2u << 20), 0u)
      << "the mapping of a large file starts at a 2 MiB boundary";
#endif
  for (uint64_t at : probes) {
    EXPECT_EQ(bytes[at], static_cast<uint8_t>(at));
    EXPECT_EQ(bytes[at + 1], 0x5a);
    EXPECT_EQ(bytes[at + 2], 0xa5);
    EXPECT_EQ(bytes[at + 3], static_cast<uint8_t>(at >> 8));
  }
}

}  // namespace
}  // namespace dq::test
