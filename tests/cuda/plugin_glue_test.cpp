// The ABI glue every plugin shares (common/dq_common/plugin_glue.hpp, plugin_error.hpp): the
// table filled by entry name, forwarding for the entries a plugin does not define, the major
// version check, and the per-thread last-error message.
#include "dq_common/plugin_glue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <type_traits>

#include "dq_common/plugin_error.hpp"

namespace {

const char *describe() {
  return "host only";
}
int32_t no_devices() {
  return 0;
}
const char *empty() {
  return "";
}
int32_t device_props(int32_t, dq_plugin_device_props *) {
  return DQ_OK;
}
int32_t supports(int32_t, int32_t) {
  return 0;
}
int32_t dequantize(const dq_plugin_dequantize_args *) {
  return DQ_OK;
}

// The entries every plugin has, and nothing else.
struct MinimalEntries {
  static constexpr auto describe = ::describe;
  static int32_t init() { return DQ_OK; }
  static void shutdown() {}
  static constexpr auto device_count = no_devices;
  static constexpr auto no_device_reason = empty;
  static constexpr auto device_props = ::device_props;
  static constexpr auto supports = ::supports;
  static constexpr auto dequantize = ::dequantize;
  static constexpr auto last_error = dq::plugin_error::last_error;
};

// Which field a forwarded entry was made for, seen by calling it.
size_t g_forwarded_offset = 0;
template <size_t kOffset, typename Fn>
struct Forwarded;
template <size_t kOffset, typename... Args>
struct Forwarded<kOffset, int32_t (*)(Args...)> {
  static int32_t call(Args...) {
    g_forwarded_offset = kOffset;
    return DQ_ERR_NO_DEVICE;
  }
};

// As the hip loader: its own mem_free, every other entry forwarded.
struct ForwardingEntries : MinimalEntries {
  static int32_t mem_free(int32_t, void *) { return DQ_OK; }
  template <auto Field, size_t kOffset>
  static constexpr auto forward =
      Forwarded<kOffset, std::remove_reference_t<decltype(dq_plugin_api{}.*Field)>>::call;
};

TEST(PluginGlue, TableCarriesTheHandshakeAndTheNamedEntries) {
  const dq_plugin_api api = dq::plugin_glue::make_api<MinimalEntries>("mini", "9.9");
  EXPECT_EQ(api.abi_major, uint32_t{DQ_PLUGIN_ABI_MAJOR});
  EXPECT_EQ(api.abi_minor, uint32_t{DQ_PLUGIN_ABI_MINOR});
  EXPECT_EQ(api.struct_size, sizeof(dq_plugin_api));
  EXPECT_STREQ(api.name, "mini");
  EXPECT_STREQ(api.version, "9.9");
  EXPECT_EQ(api.describe, &describe);
  EXPECT_EQ(api.init, &MinimalEntries::init);
  EXPECT_EQ(api.shutdown, &MinimalEntries::shutdown);
  EXPECT_EQ(api.device_count, &no_devices);
  EXPECT_EQ(api.no_device_reason, &empty);
  EXPECT_EQ(api.device_props, &device_props);
  EXPECT_EQ(api.supports, &supports);
  EXPECT_EQ(api.dequantize, &dequantize);
  EXPECT_EQ(api.last_error, &dq::plugin_error::last_error);
}

TEST(PluginGlue, EntriesThePluginLacksStayNull) {
  const dq_plugin_api api = dq::plugin_glue::make_api<MinimalEntries>("mini", "1");
  EXPECT_EQ(api.mem_alloc, nullptr);
  EXPECT_EQ(api.mem_free, nullptr);
  EXPECT_EQ(api.synchronize, nullptr);
  EXPECT_EQ(api.event_elapsed_ms, nullptr);
  EXPECT_EQ(api.host_register, nullptr);
  EXPECT_EQ(api.dequantize_batch, nullptr);
}

TEST(PluginGlue, ForwardFillsTheRestAndAnOwnEntryWins) {
  const dq_plugin_api api = dq::plugin_glue::make_api<ForwardingEntries>("fwd", "1");
  EXPECT_EQ(api.mem_free, &ForwardingEntries::mem_free);
  ASSERT_NE(api.stream_destroy, nullptr);
  EXPECT_EQ(api.stream_destroy(0, nullptr), DQ_ERR_NO_DEVICE);
  EXPECT_EQ(g_forwarded_offset, offsetof(dq_plugin_api, stream_destroy));
  ASSERT_NE(api.event_destroy, nullptr);
  EXPECT_EQ(api.event_destroy(0, nullptr), DQ_ERR_NO_DEVICE);
  EXPECT_EQ(g_forwarded_offset, offsetof(dq_plugin_api, event_destroy));
  EXPECT_EQ(api.init, &MinimalEntries::init);
}

TEST(PluginGlue, EntryAnswersOnlyTheSameMajorVersion) {
  const dq_plugin_api api = dq::plugin_glue::make_api<MinimalEntries>("mini", "1");
  EXPECT_EQ(dq::plugin_glue::entry(api, DQ_PLUGIN_ABI_MAJOR), &api);
  EXPECT_EQ(dq::plugin_glue::entry(api, DQ_PLUGIN_ABI_MAJOR + 1), nullptr);
}

TEST(PluginError, FailKeepsTheMessageForThisThreadAndOkClearsIt) {
  EXPECT_EQ(dq::plugin_error::fail(DQ_ERR_SIZE, "tensor 'w': too short"), DQ_ERR_SIZE);
  EXPECT_STREQ(dq::plugin_error::last_error(), "tensor 'w': too short");
  std::string other_thread_saw = "unset";
  std::thread([&] { other_thread_saw = dq::plugin_error::last_error(); }).join();
  EXPECT_EQ(other_thread_saw, "");
  EXPECT_STREQ(dq::plugin_error::last_error(), "tensor 'w': too short");
  EXPECT_EQ(dq::plugin_error::ok(), DQ_OK);
  EXPECT_STREQ(dq::plugin_error::last_error(), "");
}

}  // namespace
