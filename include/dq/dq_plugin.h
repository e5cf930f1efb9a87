/*
 * dq_plugin.h: the ABI every backend plugin implements.
 *
 * A plugin is a shared object named libdq-<name>.so exporting one C symbol,
 * DQ_PLUGIN_ENTRY_SYMBOL, of type dq_plugin_entry_fn. The core calls it with the ABI version
 * it was built for; the plugin returns its table (or NULL to refuse). The core refuses a table
 * whose abi_major differs from its own and names both versions.
 *
 * Versioning rules (docs/PLUGINS.md, rule P1-P3):
 *  - Removing, retyping or reordering anything in this header bumps DQ_PLUGIN_ABI_MAJOR.
 *  - Appending a field to a struct bumps DQ_PLUGIN_ABI_MINOR; readers check struct_size
 *    before touching a field past the ones of minor 0.
 *  - Entries marked (optional) may be NULL.
 *
 * Plugins see nothing of the core: only this header and dq.h's status codes and type ids.
 * Every function returns a dq_status value (as int32_t) unless it says otherwise, and on
 * failure leaves a message for last_error() on the calling thread.
 */
#ifndef DQ_DQ_PLUGIN_H
#define DQ_DQ_PLUGIN_H

#include "dq/dq.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DQ_PLUGIN_ABI_MAJOR 1
#define DQ_PLUGIN_ABI_MINOR 2
#define DQ_PLUGIN_ENTRY_SYMBOL "dq_plugin_entry"

typedef struct dq_plugin_device_props {
  size_t struct_size;
  char name[128];
  uint64_t total_memory;
  uint64_t free_memory;
  int32_t is_gpu;
  int32_t reserved;
} dq_plugin_device_props;

typedef enum dq_plugin_copy_kind {
  DQ_COPY_HOST_TO_DEVICE = 1,
  DQ_COPY_DEVICE_TO_HOST = 2,
  DQ_COPY_DEVICE_TO_DEVICE = 3
} dq_plugin_copy_kind;

typedef struct dq_plugin_dequantize_args {
  size_t struct_size;
  int32_t src_type;   /* ggml type id */
  int32_t dst_type;   /* DQ_TYPE_F32, DQ_TYPE_F16 or DQ_TYPE_BF16 */
  const void *src;
  size_t src_bytes;
  int64_t n_elements;
  void *dst;
  size_t dst_bytes;
  int32_t device;      /* device index for device memory and for the work */
  int32_t src_on_host; /* 1: src is host memory (the plugin uploads it as needed) */
  int32_t dst_on_host; /* 1: dst is host memory (the plugin downloads and waits) */
  int32_t reserved;
  void *stream;        /* native stream or NULL for the plugin's own */
} dq_plugin_dequantize_args;

typedef struct dq_plugin_api {
  uint32_t abi_major;
  uint32_t abi_minor;
  size_t struct_size; /* sizeof(dq_plugin_api) as the plugin was built */
  const char *name;    /* "cpu", "cuda": matches the file libdq-<name>.so */
  const char *version; /* plugin's own version string */

  /* Detail shown by `dq backends` (e.g. "avx512 (auto)"). (optional) */
  const char *(*describe)(void);
  /* Called once after the handshake. Returns DQ_OK also when there is no device. */
  int32_t (*init)(void);
  /* Drains queued work and frees everything; the core calls it before unloading. */
  void (*shutdown)(void);

  int32_t (*device_count)(void);
  /* Why device_count() is 0 ("no CUDA device: ..."), "" otherwise. (optional) */
  const char *(*no_device_reason)(void);
  int32_t (*device_props)(int32_t device, dq_plugin_device_props *out);
  /* 1 when src_type -> dst_type is implemented, else 0. */
  int32_t (*supports)(int32_t src_type, int32_t dst_type);

  int32_t (*dequantize)(const dq_plugin_dequantize_args *args);

  /* Device memory. A host-only plugin (cpu) leaves these NULL. (optional) */
  int32_t (*mem_alloc)(int32_t device, size_t bytes, void **out);
  int32_t (*mem_free)(int32_t device, void *ptr);
  /* Copy; asynchronous on `stream` when it is non-NULL and host memory is pinned. */
  int32_t (*mem_copy)(int32_t device, void *dst, const void *src, size_t bytes, int32_t kind,
                      void *stream);
  /* Live allocations and bytes made through mem_alloc, for leak checks. (optional) */
  int32_t (*mem_in_use)(int32_t device, uint64_t *allocations, uint64_t *bytes);
  int32_t (*synchronize)(int32_t device, void *stream);

  /* Pinned host memory, streams and events for pipelined loading. (optional, all or none) */
  int32_t (*host_alloc_pinned)(size_t bytes, void **out);
  int32_t (*host_free_pinned)(void *ptr);
  int32_t (*stream_create)(int32_t device, void **out);
  int32_t (*stream_destroy)(int32_t device, void *stream);
  int32_t (*event_create)(int32_t device, void **out);
  int32_t (*event_destroy)(int32_t device, void *event);
  int32_t (*event_record)(int32_t device, void *event, void *stream);
  int32_t (*event_synchronize)(int32_t device, void *event);
  int32_t (*stream_wait_event)(int32_t device, void *stream, void *event);
  /* Milliseconds between two recorded, completed events (for benchmarks). (optional) */
  int32_t (*event_elapsed_ms)(int32_t device, void *start, void *end, float *ms);

  /* Message of the calling thread's last failure ("" when none). Never NULL. */
  const char *(*last_error)(void);

  /* ---- ABI 1.1 (readers check struct_size covers these before use) ---- */
  /* Pins existing host memory (page-aligned `ptr` and `bytes`) so the device can read it
   * directly; flags: DQ_HOST_REGISTER_READ_ONLY (the device only reads it, allows read-only
   * mappings). `handle` is what host_unregister takes. (optional, both or none) */
  int32_t (*host_register)(void *ptr, size_t bytes, uint32_t flags, void **handle);
  int32_t (*host_unregister)(void *handle);

  /* ---- ABI 1.2 (readers check struct_size covers this before use) ---- */
  /* Dequantizes n tensors in one call (n >= 1), so a device can serve them in a few launches.
   * args is an array of n structs whose element size is args[0].struct_size (every element
   * has the same); step through it by that size, not by your own sizeof. The core has
   * validated each request as for dequantize, and every element names this plugin's memory
   * and one device; streams may differ between elements. Same rules as dequantize: check
   * every element before starting any work; a refusal writes nothing; work on a caller stream
   * may still run when it returns. On device memory with a caller stream it must be legal
   * during stream capture (no allocation, no synchronization). (optional) */
  int32_t (*dequantize_batch)(const dq_plugin_dequantize_args *args, size_t n);
} dq_plugin_api;

/* host_register flags */
#define DQ_HOST_REGISTER_READ_ONLY 1u

/* The one exported entry point. */
typedef const dq_plugin_api *(*dq_plugin_entry_fn)(uint32_t host_abi_major,
                                                   uint32_t host_abi_minor);

#if defined(_WIN32)
#define DQ_PLUGIN_EXPORT __declspec(dllexport)
#else
#define DQ_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
}
#endif

#endif /* DQ_DQ_PLUGIN_H */
