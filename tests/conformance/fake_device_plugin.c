/*
 * fake_device_plugin.c: a test plugin with "device memory" made of host memory, so the
 * suite's device-memory checks (memory/..., <TYPE>/<out>/device-memory) run and are tested on
 * machines without a GPU. Q8_0 -> f32 like the example plugin; see example_plugin.c for the
 * commented template. Built twice:
 *   (plain)       passes every check
 *   BROKEN_LEAK   leaks one allocation per device-memory dequantize: memory/balance fails
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dq/dq_plugin.h"

#define QK8_0 32
#define Q8_0_BLOCK_BYTES 34
#define HEADER 16 /* each allocation remembers its size in front of the bytes handed out */

static _Thread_local char t_error[256];
static atomic_uint_fast64_t g_allocations, g_bytes;

static int32_t fail(int32_t status, const char *message) {
  snprintf(t_error, sizeof t_error, "fakedev: %s", message);
  return status;
}
static int32_t ok(void) {
  t_error[0] = '\0';
  return DQ_OK;
}
static const char *fd_last_error(void) { return t_error; }

static float f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  uint32_t bits;
  float f;
  if (exp == 0) {
    f = (float)mant * 5.9604644775390625e-08f;
    memcpy(&bits, &f, 4);
    bits |= sign;
  } else {
    bits = sign | (exp == 31 ? 0x7f800000u | (mant << 13) : ((exp + 112u) << 23) | (mant << 13));
  }
  memcpy(&f, &bits, 4);
  return f;
}

/* ---------------------------------------------------------------- "device" memory */
static int32_t fd_mem_alloc(int32_t device, size_t bytes, void **out) {
  if (device != 0 || !out) return fail(DQ_ERR_INVALID_ARGUMENT, "bad device or NULL out");
  if (bytes > ((size_t)1 << 40)) return fail(DQ_ERR_OUT_OF_MEMORY, "allocation too large");
  unsigned char *p = malloc(bytes + HEADER);
  if (!p) return fail(DQ_ERR_OUT_OF_MEMORY, "out of memory");
  memcpy(p, &bytes, sizeof bytes);
  atomic_fetch_add(&g_allocations, 1);
  atomic_fetch_add(&g_bytes, bytes);
  *out = p + HEADER;
  return ok();
}

static int32_t fd_mem_free(int32_t device, void *ptr) {
  if (device != 0) return fail(DQ_ERR_INVALID_ARGUMENT, "bad device");
  if (!ptr) return ok();
  unsigned char *p = (unsigned char *)ptr - HEADER;
  size_t bytes;
  memcpy(&bytes, p, sizeof bytes);
  atomic_fetch_sub(&g_allocations, 1);
  atomic_fetch_sub(&g_bytes, bytes);
  free(p);
  return ok();
}

static int32_t fd_mem_copy(int32_t device, void *dst, const void *src, size_t bytes, int32_t kind,
                           void *stream) {
  (void)stream;
  if (device != 0 || kind < DQ_COPY_HOST_TO_DEVICE || kind > DQ_COPY_DEVICE_TO_DEVICE)
    return fail(DQ_ERR_INVALID_ARGUMENT, "bad device or copy kind");
  if (bytes && (!dst || !src)) return fail(DQ_ERR_INVALID_ARGUMENT, "NULL pointer");
  if (bytes) memcpy(dst, src, bytes);
  return ok();
}

static int32_t fd_mem_in_use(int32_t device, uint64_t *allocations, uint64_t *bytes) {
  if (device != 0 || !allocations || !bytes) return fail(DQ_ERR_INVALID_ARGUMENT, "bad argument");
  *allocations = atomic_load(&g_allocations);
  *bytes = atomic_load(&g_bytes);
  return ok();
}

static int32_t fd_synchronize(int32_t device, void *stream) {
  (void)stream;
  return device == 0 ? ok() : fail(DQ_ERR_INVALID_ARGUMENT, "bad device");
}

/* ---------------------------------------------------------------- the table */
static int32_t fd_init(void) { return ok(); }
static void fd_shutdown(void) {}
static int32_t fd_device_count(void) { return 1; }
static const char *fd_no_device_reason(void) { return ""; }

static int32_t fd_device_props(int32_t device, dq_plugin_device_props *out) {
  if (device != 0 || !out || out->struct_size < sizeof *out)
    return fail(DQ_ERR_INVALID_ARGUMENT, "bad device or props");
  snprintf(out->name, sizeof out->name, "fake device (host memory)");
  out->total_memory = out->free_memory = 0;
  out->is_gpu = 1;
  return ok();
}

static int32_t fd_supports(int32_t src_type, int32_t dst_type) {
  return src_type == DQ_TYPE_Q8_0 && dst_type == DQ_TYPE_F32;
}

static int is_known_type(int32_t id) {
  return id >= 0 && id < DQ_TYPE_COUNT && !(id == 4 || id == 5 || (id >= 31 && id <= 33) ||
                                            (id >= 36 && id <= 38));
}

static int32_t fd_dequantize(const dq_plugin_dequantize_args *a) {
  if (!a) return fail(DQ_ERR_INVALID_ARGUMENT, "NULL arguments");
  if (a->struct_size < offsetof(dq_plugin_dequantize_args, stream) + sizeof(void *))
    return fail(DQ_ERR_INVALID_ARGUMENT, "struct_size too small");
  if (!is_known_type(a->src_type)) return fail(DQ_ERR_UNKNOWN_TYPE, "unknown type id");
  if (a->dst_type != DQ_TYPE_F32 && a->dst_type != DQ_TYPE_F16 && a->dst_type != DQ_TYPE_BF16)
    return fail(DQ_ERR_INVALID_ARGUMENT, "bad output type");
  if (!fd_supports(a->src_type, a->dst_type)) return fail(DQ_ERR_UNSUPPORTED, "only q8_0 -> f32");
  if (a->device != 0) return fail(DQ_ERR_INVALID_ARGUMENT, "bad device");
  if (a->n_elements <= 0) return fail(DQ_ERR_INVALID_ARGUMENT, "element count not positive");
  if (a->n_elements % QK8_0) return fail(DQ_ERR_SIZE, "not a block multiple");
  const uint64_t n = (uint64_t)a->n_elements, blocks = n / QK8_0;
  if (blocks > SIZE_MAX / Q8_0_BLOCK_BYTES || a->src_bytes < blocks * Q8_0_BLOCK_BYTES)
    return fail(DQ_ERR_SIZE, "source too short");
  if (n > SIZE_MAX / 4 || a->dst_bytes < n * 4) return fail(DQ_ERR_SIZE, "destination too short");
  if (!a->src || !a->dst) return fail(DQ_ERR_INVALID_ARGUMENT, "NULL buffer");
#ifdef BROKEN_LEAK
  if (!a->src_on_host) {
    void *scratch;
    fd_mem_alloc(0, 64, &scratch); /* never freed */
  }
#endif
  const unsigned char *src = a->src;
  float *dst = a->dst;
  for (uint64_t b = 0; b < blocks; ++b) {
    uint16_t d_bits;
    memcpy(&d_bits, src + b * Q8_0_BLOCK_BYTES, 2);
    const float d = f16_to_f32(d_bits);
    for (int j = 0; j < QK8_0; ++j)
      dst[b * QK8_0 + j] = (float)(int8_t)src[b * Q8_0_BLOCK_BYTES + 2 + j] * d;
  }
  return ok();
}

static const dq_plugin_api fd_api = {
    .abi_major = DQ_PLUGIN_ABI_MAJOR,
    .abi_minor = DQ_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(dq_plugin_api),
    .name = "fakedev",
    .version = "1.0.0",
    .init = fd_init,
    .shutdown = fd_shutdown,
    .device_count = fd_device_count,
    .no_device_reason = fd_no_device_reason,
    .device_props = fd_device_props,
    .supports = fd_supports,
    .dequantize = fd_dequantize,
    .mem_alloc = fd_mem_alloc,
    .mem_free = fd_mem_free,
    .mem_copy = fd_mem_copy,
    .mem_in_use = fd_mem_in_use,
    .synchronize = fd_synchronize,
    .last_error = fd_last_error,
};

DQ_PLUGIN_EXPORT const dq_plugin_api *dq_plugin_entry(uint32_t host_abi_major,
                                                      uint32_t host_abi_minor) {
  (void)host_abi_minor;
  return host_abi_major == DQ_PLUGIN_ABI_MAJOR ? &fd_api : NULL;
}
