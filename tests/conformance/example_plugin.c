/*
 * example_plugin.c: the smallest complete dq backend plugin, and the template for third
 * parties (docs/PLUGINS.md walks through it). It dequantizes Q8_0 to f32 on the host and
 * nothing else, and passes every check of dq-conformance.
 *
 * Build it against the installed headers only:
 *   cc -std=c11 -O2 -fPIC -shared -fvisibility=hidden -I<prefix>/include \
 *      example_plugin.c -o libdq-example.so
 * The file name must be libdq-<name>.so with <name> equal to the table's `name` (rule P4).
 *
 * The tests build the same file again with one of these defined, each breaking one rule, to
 * prove that the suite notices (tests/conformance/CMakeLists.txt):
 *   BROKEN_WRONG_VALUE   one output element is off by one bit          (P9)
 *   BROKEN_IGNORE_COUNT  always converts 8 blocks, whatever n_elements  (P10)
 *   BROKEN_CRASH_ZERO    dereferences NULL when n_elements is 0        (P12)
 *   BROKEN_ABI           reports another ABI major version             (P2)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dq/dq_plugin.h" /* the only header a plugin needs (it includes dq.h) */

#define EXAMPLE_NAME "example"
#define QK8_0 32                       /* elements per Q8_0 block */
#define Q8_0_BLOCK_BYTES (2 + QK8_0)   /* f16 scale, then 32 int8 quants */

/* ------------------------------------------------------------------ errors (rule P7)
 * Every failing call returns a status and leaves a message for last_error() on the calling
 * thread. Thread-local storage keeps concurrent callers from seeing each other's messages. */
static _Thread_local char t_error[256];

static int32_t fail(int32_t status, const char *message) {
  snprintf(t_error, sizeof t_error, "%s: %s", EXAMPLE_NAME, message);
  return status;
}

static int32_t ok(void) {
  t_error[0] = '\0';
  return DQ_OK;
}

static const char *example_last_error(void) { return t_error; } /* never NULL */

/* ------------------------------------------------------------------ type ids (rule P11)
 * Unknown and retired ids get DQ_ERR_UNKNOWN_TYPE; known types this plugin does not do get
 * DQ_ERR_UNSUPPORTED. Retired ids: 4, 5 (Q4_2, Q4_3), 31-33 and 36-38 (repacked layouts). */
static int is_known_type(int32_t id) {
  if (id < 0 || id >= DQ_TYPE_COUNT) return 0;
  return !(id == 4 || id == 5 || (id >= 31 && id <= 33) || (id >= 36 && id <= 38));
}

/* ------------------------------------------------------------------ the kernel (rule P9)
 * Bit-identical to ggml's dequantize_row_q8_0: y = (float)qs[j] * d, d widened exactly from
 * IEEE binary16. Fields are read with memcpy: blocks are 34 bytes, so the f16 scale can sit at
 * any address (rule P10). */
static float f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  uint32_t bits;
  float f;
  if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact in f32 */
    f = (float)mant * 5.9604644775390625e-08f;
    memcpy(&bits, &f, 4);
    bits |= sign;
  } else if (exp == 31) { /* inf or NaN */
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  memcpy(&f, &bits, 4);
  return f;
}

static void dequantize_q8_0(const uint8_t *src, float *dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t *block = src + b * Q8_0_BLOCK_BYTES;
    uint16_t d_bits;
    memcpy(&d_bits, block, 2);
    const float d = f16_to_f32(d_bits);
    for (int j = 0; j < QK8_0; ++j) dst[b * QK8_0 + j] = (float)(int8_t)block[2 + j] * d;
  }
#ifdef BROKEN_WRONG_VALUE
  if (n_blocks > 0) { /* flip the lowest bit of element 5 */
    uint32_t bits;
    memcpy(&bits, &dst[5], 4);
    bits ^= 1u;
    memcpy(&dst[5], &bits, 4);
  }
#endif
}

/* ------------------------------------------------------------------ the table's entries */
static const char *example_describe(void) { return "portable C, Q8_0 -> f32 only"; }

/* init must succeed also where there is no device (rule P6); this plugin has nothing to set
 * up. A GPU plugin would query its runtime here and remember why there is no device. */
static int32_t example_init(void) { return ok(); }

/* Drains and frees everything (rule P15); nothing is held here. */
static void example_shutdown(void) {}

static int32_t example_device_count(void) { return 1; } /* device 0: the host */

static const char *example_no_device_reason(void) { return ""; }

static int32_t example_device_props(int32_t device, dq_plugin_device_props *out) {
  if (device != 0) return fail(DQ_ERR_INVALID_ARGUMENT, "only device 0 exists");
  if (!out || out->struct_size < sizeof *out)
    return fail(DQ_ERR_INVALID_ARGUMENT, "device props: NULL or too small struct");
  snprintf(out->name, sizeof out->name, "host (example plugin)");
  out->total_memory = 0; /* unknown */
  out->free_memory = 0;
  out->is_gpu = 0;
  return ok();
}

/* 1 exactly for the pairs dequantize implements (rule P8). */
static int32_t example_supports(int32_t src_type, int32_t dst_type) {
  return src_type == DQ_TYPE_Q8_0 && dst_type == DQ_TYPE_F32;
}

/* Validates everything before touching memory (rule P12), then converts. The checks return
 * the status dq.h pins for each case. */
static int32_t example_dequantize(const dq_plugin_dequantize_args *a) {
  if (!a) return fail(DQ_ERR_INVALID_ARGUMENT, "NULL arguments");
#ifdef BROKEN_CRASH_ZERO
  if (a->n_elements == 0) *(volatile int *)0 = 0;
#endif
  /* Read only fields the caller's struct_size covers (rule P3): all of minor 0 are needed. */
  if (a->struct_size < offsetof(dq_plugin_dequantize_args, stream) + sizeof(void *))
    return fail(DQ_ERR_INVALID_ARGUMENT, "arguments struct_size too small");
  if (!is_known_type(a->src_type)) return fail(DQ_ERR_UNKNOWN_TYPE, "unknown or retired type id");
  if (a->dst_type != DQ_TYPE_F32 && a->dst_type != DQ_TYPE_F16 && a->dst_type != DQ_TYPE_BF16)
    return fail(DQ_ERR_INVALID_ARGUMENT, "output type must be f32, f16 or bf16");
  if (!example_supports(a->src_type, a->dst_type))
    return fail(DQ_ERR_UNSUPPORTED, "only q8_0 -> f32 is implemented");
  if (a->device != 0) return fail(DQ_ERR_INVALID_ARGUMENT, "only device 0 exists");
  if (a->src_on_host != 1 || a->dst_on_host != 1)
    return fail(DQ_ERR_INVALID_ARGUMENT, "host memory only");
  if (a->n_elements <= 0) return fail(DQ_ERR_INVALID_ARGUMENT, "element count must be positive");
  if (a->n_elements % QK8_0 != 0)
    return fail(DQ_ERR_SIZE, "element count is not a multiple of the 32-element block");
  /* Sizes in 64 bits, with the overflow checks done by division. */
  const uint64_t n = (uint64_t)a->n_elements, n_blocks = n / QK8_0;
  if (n_blocks > SIZE_MAX / Q8_0_BLOCK_BYTES || a->src_bytes < n_blocks * Q8_0_BLOCK_BYTES)
    return fail(DQ_ERR_SIZE, "source is shorter than n_elements need");
  if (n > SIZE_MAX / sizeof(float) || a->dst_bytes < n * sizeof(float))
    return fail(DQ_ERR_SIZE, "destination is shorter than n_elements outputs");
  if (!a->src || !a->dst) return fail(DQ_ERR_INVALID_ARGUMENT, "NULL source or destination");
#ifdef BROKEN_IGNORE_COUNT
  dequantize_q8_0((const uint8_t *)a->src, (float *)a->dst, 8);
#else
  dequantize_q8_0((const uint8_t *)a->src, (float *)a->dst, (int64_t)n_blocks);
#endif
  return ok();
}

/* Host-only: nothing to wait for, but the entry is cheap to provide. */
static int32_t example_synchronize(int32_t device, void *stream) {
  (void)stream;
  return device == 0 ? ok() : fail(DQ_ERR_INVALID_ARGUMENT, "only device 0 exists");
}

/* ------------------------------------------------------------------ the entry (rules P1-P5)
 * One exported symbol. Unlisted entries are NULL: a host-only plugin has no mem_* functions,
 * streams or events. */
static const dq_plugin_api example_api = {
#ifdef BROKEN_ABI
    .abi_major = DQ_PLUGIN_ABI_MAJOR + 1,
#else
    .abi_major = DQ_PLUGIN_ABI_MAJOR,
#endif
    .abi_minor = DQ_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(dq_plugin_api),
    .name = EXAMPLE_NAME,
    .version = "1.0.0",
    .describe = example_describe,
    .init = example_init,
    .shutdown = example_shutdown,
    .device_count = example_device_count,
    .no_device_reason = example_no_device_reason,
    .device_props = example_device_props,
    .supports = example_supports,
    .dequantize = example_dequantize,
    .synchronize = example_synchronize,
    .last_error = example_last_error,
};

DQ_PLUGIN_EXPORT const dq_plugin_api *dq_plugin_entry(uint32_t host_abi_major,
                                                      uint32_t host_abi_minor) {
  (void)host_abi_minor; /* a newer minor host reads only what struct_size covers */
#ifndef BROKEN_ABI
  if (host_abi_major != DQ_PLUGIN_ABI_MAJOR) return NULL; /* refuse a host we cannot serve */
#else
  (void)host_abi_major;
#endif
  return &example_api;
}
