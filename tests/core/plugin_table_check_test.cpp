// Which plugin tables the registry accepts, and the messages for those it refuses.
#include "registry/plugin_table_check.hpp"

#include <gtest/gtest.h>

namespace dq::core {
namespace {

int32_t ok_init() {
  return 0;
}
void nop() {}
int32_t one() {
  return 1;
}
int32_t props(int32_t, dq_plugin_device_props *) {
  return 0;
}
int32_t supports(int32_t, int32_t) {
  return 1;
}
int32_t deq(const dq_plugin_dequantize_args *) {
  return 0;
}
const char *empty() {
  return "";
}
int32_t alloc(int32_t, size_t, void **) {
  return 0;
}

dq_plugin_api good_table() {
  dq_plugin_api t{};
  t.abi_major = DQ_PLUGIN_ABI_MAJOR;
  t.abi_minor = DQ_PLUGIN_ABI_MINOR;
  t.struct_size = sizeof(t);
  t.name = "cpu";
  t.init = ok_init;
  t.shutdown = nop;
  t.device_count = one;
  t.device_props = props;
  t.supports = supports;
  t.dequantize = deq;
  t.last_error = empty;
  return t;
}

TEST(CorePluginTable, GoodTableIsAccepted) {
  dq_plugin_api t = good_table();
  EXPECT_EQ(check_plugin_table(&t, "libdq-cpu.so", "cpu").status, DQ_OK);
}

TEST(CorePluginTable, OtherMajorIsRefusedNamingBothVersions) {
  dq_plugin_api t = good_table();
  t.abi_major = 2;
  TableVerdict v = check_plugin_table(&t, "libdq-old.so", "cpu");
  EXPECT_EQ(v.status, DQ_ERR_ABI);
  EXPECT_EQ(v.reason, "libdq-old.so: plugin ABI 2." + std::to_string(DQ_PLUGIN_ABI_MINOR) +
                      ", core expects 1.x");
}

TEST(CorePluginTable, NewerMinorIsAccepted) {
  dq_plugin_api t = good_table();
  t.abi_minor = DQ_PLUGIN_ABI_MINOR + 3;
  EXPECT_EQ(check_plugin_table(&t, "libdq-cpu.so", "cpu").status, DQ_OK);
}

TEST(CorePluginTable, TooSmallTableIsRefused) {
  dq_plugin_api t = good_table();
  t.struct_size = offsetof(dq_plugin_api, dequantize);
  TableVerdict v = check_plugin_table(&t, "libdq-cpu.so", "cpu");
  EXPECT_EQ(v.status, DQ_ERR_ABI);
  EXPECT_NE(v.reason.find("table is " + std::to_string(t.struct_size) + " bytes"),
            std::string::npos)
      << v.reason;
}

TEST(CorePluginTable, MissingRequiredEntryIsNamed) {
  dq_plugin_api t = good_table();
  t.supports = nullptr;
  TableVerdict v = check_plugin_table(&t, "libdq-cpu.so", "cpu");
  EXPECT_NE(v.status, DQ_OK);
  EXPECT_NE(v.reason.find("'supports'"), std::string::npos) << v.reason;
}

TEST(CorePluginTable, DeviceMemoryMustComeComplete) {
  dq_plugin_api t = good_table();
  t.mem_alloc = alloc;
  TableVerdict v = check_plugin_table(&t, "libdq-gpu.so", "cpu");
  EXPECT_NE(v.status, DQ_OK);
  EXPECT_NE(v.reason.find("mem_free"), std::string::npos) << v.reason;
}

int32_t stream_create(int32_t, void **) {
  return 0;
}

TEST(CorePluginTable, StreamsComeAsAGroupWithDeviceMemory) {
  dq_plugin_api t = good_table();
  t.stream_create = stream_create;
  TableVerdict v = check_plugin_table(&t, "libdq-gpu.so", "cpu");
  EXPECT_NE(v.status, DQ_OK);
  EXPECT_NE(v.reason.find("has streams/events but 'host_alloc_pinned' is NULL"), std::string::npos)
      << v.reason;
}

TEST(CorePluginTable, NameMustMatchTheFile) {
  dq_plugin_api t = good_table();
  TableVerdict v = check_plugin_table(&t, "libdq-cuda.so", "cuda");
  EXPECT_NE(v.status, DQ_OK);
  EXPECT_NE(v.reason.find("calls itself 'cpu'"), std::string::npos) << v.reason;
}

TEST(CorePluginTable, NullTableIsARefusal) {
  TableVerdict v = check_plugin_table(nullptr, "libdq-x.so", "x");
  EXPECT_NE(v.status, DQ_OK);
  EXPECT_NE(v.reason.find("libdq-x.so"), std::string::npos);
}

}  // namespace
}  // namespace dq::core
