/* A configurable fake backend plugin: one source, built several times with -D flags
 * (see CMakeLists.txt) to test how the registry treats good, odd and broken plugins.
 *   FAKE_NAME="x"            table name (the file is libdq-<target name>.so)
 *   FAKE_ABI_MAJOR=n         ABI major reported (default: the real one)
 *   FAKE_DEVICE_COUNT=n      devices (default 1); 0 gives no_device_reason "no fake device"
 *   FAKE_GPU                 offers device memory (host malloc standing in for it)
 *   FAKE_DEVICE_NAME="x"     name of device 0 (default "fake device 0")
 *   FAKE_INIT_FAILS          init() fails with "fake init failure"
 *   FAKE_NO_ENTRY            the entry symbol is not exported
 *   FAKE_SHORT_TABLE         struct_size claims a table that ends before last_error
 *   FAKE_UNRESOLVED          init() calls a function no library defines (lazy-binding trap)
 * DQ_FAKE_EVENT_LOG (environment): file to which init/shutdown append a line, so tests can
 * see when the core calls them. Only F32 -> F32 is "dequantized" (a copy). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dq/dq_plugin.h"

#ifndef FAKE_ABI_MAJOR
#define FAKE_ABI_MAJOR DQ_PLUGIN_ABI_MAJOR
#endif
#ifndef FAKE_DEVICE_COUNT
#define FAKE_DEVICE_COUNT 1
#endif

static _Thread_local const char *g_last_error = "";

static void log_event(const char *event) {
  const char *path = getenv("DQ_FAKE_EVENT_LOG");
  FILE *f = path ? fopen(path, "a") : NULL;
  if (!f) return;
  fprintf(f, "%s %s\n", FAKE_NAME, event);
  fclose(f);
}

static int32_t fail(int32_t status, const char *message) {
  g_last_error = message;
  return status;
}

#ifdef FAKE_UNRESOLVED
void dq_fake_function_nobody_defines(void);
#endif

static int32_t fake_init(void) {
  log_event("init");
#ifdef FAKE_UNRESOLVED
  dq_fake_function_nobody_defines();
#endif
#ifdef FAKE_INIT_FAILS
  return fail(DQ_ERR_BACKEND, "fake init failure");
#else
  return DQ_OK;
#endif
}

static void fake_shutdown(void) {
  log_event("shutdown");
}
static int32_t fake_device_count(void) {
  return FAKE_DEVICE_COUNT;
}
static const char *fake_no_device_reason(void) {
  return FAKE_DEVICE_COUNT ? "" : "no fake device";
}
static const char *fake_describe(void) {
  return "fake plugin for tests";
}
static const char *fake_last_error(void) {
  return g_last_error;
}

static int32_t fake_device_props(int32_t device, dq_plugin_device_props *out) {
  if (device < 0 || device >= FAKE_DEVICE_COUNT)
    return fail(DQ_ERR_INVALID_ARGUMENT, "no such device");
#ifdef FAKE_DEVICE_NAME
  if (device == 0) snprintf(out->name, sizeof(out->name), "%s", FAKE_DEVICE_NAME);
  else
#endif
  snprintf(out->name, sizeof(out->name), "fake device %d", (int)device);
  out->total_memory = 1ull << 30;
  out->free_memory = 1ull << 29;
#ifdef FAKE_GPU
  out->is_gpu = 1;
#endif
  return DQ_OK;
}

static int32_t fake_supports(int32_t src_type, int32_t dst_type) {
  return src_type == DQ_TYPE_F32 && dst_type == DQ_TYPE_F32;
}

static int32_t fake_dequantize(const dq_plugin_dequantize_args *a) {
  if (!fake_supports(a->src_type, a->dst_type))
    return fail(DQ_ERR_UNSUPPORTED, "fake does f32 only");
  memcpy(a->dst, a->src, (size_t)a->n_elements * 4);
  return DQ_OK;
}

#ifdef FAKE_GPU
static int64_t g_allocations;

static int32_t fake_mem_alloc(int32_t device, size_t bytes, void **out) {
  (void)device;
  *out = malloc(bytes);
  if (!*out) return fail(DQ_ERR_OUT_OF_MEMORY, "fake out of memory");
  ++g_allocations;
  return DQ_OK;
}
static int32_t fake_mem_free(int32_t device, void *ptr) {
  (void)device;
  free(ptr);
  --g_allocations;
  return DQ_OK;
}
static int32_t fake_mem_copy(int32_t device, void *dst, const void *src, size_t bytes, int32_t kind,
                             void *stream) {
  (void)device, (void)kind, (void)stream;
  memcpy(dst, src, bytes);
  return DQ_OK;
}
static int32_t fake_mem_in_use(int32_t device, uint64_t *allocations, uint64_t *bytes) {
  (void)device;
  *allocations = (uint64_t)g_allocations;
  *bytes = 0;
  return DQ_OK;
}
static int32_t fake_synchronize(int32_t device, void *stream) {
  (void)device, (void)stream;
  return DQ_OK;
}
#endif

static dq_plugin_api g_api = {
    .abi_major = FAKE_ABI_MAJOR,
    .abi_minor = 0,
#ifdef FAKE_SHORT_TABLE
    .struct_size = offsetof(dq_plugin_api, dequantize),
#else
    .struct_size = sizeof(dq_plugin_api),
#endif
    .name = FAKE_NAME,
    .version = "0.0-test",
    .describe = fake_describe,
    .init = fake_init,
    .shutdown = fake_shutdown,
    .device_count = fake_device_count,
    .no_device_reason = fake_no_device_reason,
    .device_props = fake_device_props,
    .supports = fake_supports,
    .dequantize = fake_dequantize,
#ifdef FAKE_GPU
    .mem_alloc = fake_mem_alloc,
    .mem_free = fake_mem_free,
    .mem_copy = fake_mem_copy,
    .mem_in_use = fake_mem_in_use,
    .synchronize = fake_synchronize,
#endif
    .last_error = fake_last_error,
};

#ifdef FAKE_NO_ENTRY
const dq_plugin_api *fake_not_the_entry(uint32_t major, uint32_t minor);
#define ENTRY_NAME fake_not_the_entry
#else
#define ENTRY_NAME dq_plugin_entry
DQ_PLUGIN_EXPORT
#endif
const dq_plugin_api *ENTRY_NAME(uint32_t host_abi_major, uint32_t host_abi_minor) {
  (void)host_abi_major, (void)host_abi_minor;
  return &g_api;
}
