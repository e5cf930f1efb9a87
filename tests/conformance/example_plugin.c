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
 *   BROKEN_STRUCT_SIZE_LAX      accepts args that end before `dst`            (P3)
 *   BROKEN_DEVICE_INDEX         device_props accepts negative indices         (P6)
 *   BROKEN_ERROR_NULL_INITIALLY last_error() is NULL until a call fails       (P7)
 *   BROKEN_ERROR_NULL_AFTER_SUCCESS  last_error() is NULL after a success     (P7)
 *   BROKEN_WRITES_SOURCE        scribbles on src and puts it back             (P10)
 *   BROKEN_ALIGNED_STORE        16-byte aligned vector stores into dst        (P10)
 *   BROKEN_WRITE_PAST_OUTPUT    zeroes dst up to dst_bytes                    (P10)
 *   BROKEN_READ_BEFORE_SOURCE   reads the byte before src                     (P10)
 *   BROKEN_FORGET_ONE_PAIR      adds F16 -> f32 without the size checks       (P12)
 *   BROKEN_SHARED_SCRATCH       converts through one static scratch buffer    (P13)
 *   BROKEN_GLOBAL_ERROR         one process-wide error message                (P13)
 *   BROKEN_THREAD_LEFT_RUNNING  init starts a thread shutdown never stops     (P15)
 *   BROKEN_LEAK_PER_CALL        leaks 64 bytes per dequantize call            (P15)
 *   BROKEN_FLUSH_DENORMALS      sets flush-to-zero / denormals-are-zero       (P9)
 *   BROKEN_FLUSH_IN_CALL        the same, inside each successful dequantize   (P9)
 *   BROKEN_FLUSH_IN_SUPPORTS    the same, inside supports() (Q8_0 values stay
 *                               exact, so only the environment shows it)     (P9)
 *   BROKEN_DEFERRED_CRASH       a success after a failure hands clean-up to a
 *                               thread that crashes 100 ms later              (P15)
 * and, not broken, EXAMPLE_ABI_1_0: the same plugin as an ABI 1.0 table (no host_register),
 * which hosts of a newer minor must accept.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#if defined(BROKEN_SHARED_SCRATCH) || defined(BROKEN_LEAK_PER_CALL)
#include <stdlib.h>
#endif
#if defined(BROKEN_THREAD_LEFT_RUNNING) || defined(BROKEN_DEFERRED_CRASH)
#include <pthread.h>
#include <unistd.h>
#endif
#ifdef BROKEN_SHARED_SCRATCH
#include <pthread.h>
#include <time.h>
#endif

#include "dq/dq_plugin.h" /* the only header a plugin needs (it includes dq.h) */

#define EXAMPLE_NAME "example"
#define QK8_0 32                       /* elements per Q8_0 block */
#define Q8_0_BLOCK_BYTES (2 + QK8_0)   /* f16 scale, then 32 int8 quants */

/* ------------------------------------------------------------------ errors (rule P7)
 * Every failing call returns a status and leaves a message for last_error() on the calling
 * thread. Thread-local storage keeps concurrent callers from seeing each other's messages. */
#ifdef BROKEN_GLOBAL_ERROR
static char t_error[256]; /* shared by every thread */
#else
static _Thread_local char t_error[256];
#endif
#if defined(BROKEN_ERROR_NULL_INITIALLY) || defined(BROKEN_ERROR_NULL_AFTER_SUCCESS)
static _Thread_local const char *t_message; /* NULL until set */
#endif

#ifdef BROKEN_DEFERRED_CRASH
static _Thread_local int t_failed_before;
#endif

static int32_t fail(int32_t status, const char *message) {
  snprintf(t_error, sizeof t_error, "%s: %s", EXAMPLE_NAME, message);
#ifdef BROKEN_DEFERRED_CRASH
  t_failed_before = 1;
#endif
#if defined(BROKEN_ERROR_NULL_INITIALLY) || defined(BROKEN_ERROR_NULL_AFTER_SUCCESS)
  t_message = t_error;
#endif
  return status;
}

static int32_t ok(void) {
  t_error[0] = '\0';
#ifdef BROKEN_ERROR_NULL_AFTER_SUCCESS
  t_message = NULL;
#endif
  return DQ_OK;
}

#if defined(BROKEN_ERROR_NULL_INITIALLY) || defined(BROKEN_ERROR_NULL_AFTER_SUCCESS)
static const char *example_last_error(void) { return t_message; }
#else
static const char *example_last_error(void) { return t_error; } /* never NULL */
#endif

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

#ifdef BROKEN_ALIGNED_STORE
/* Assumes dst is 16-byte aligned: the vector type's alignment makes the store an aligned one
 * (movaps on x86), which faults on memory that is only float-aligned. */
typedef float example_v4 __attribute__((vector_size(16)));
#endif

static void dequantize_q8_0(const uint8_t *src, float *dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t *block = src + b * Q8_0_BLOCK_BYTES;
    uint16_t d_bits;
    memcpy(&d_bits, block, 2);
    const float d = f16_to_f32(d_bits);
#ifdef BROKEN_ALIGNED_STORE
    for (int j = 0; j < QK8_0; j += 4) {
      example_v4 v = {(float)(int8_t)block[2 + j] * d, (float)(int8_t)block[3 + j] * d,
                      (float)(int8_t)block[4 + j] * d, (float)(int8_t)block[5 + j] * d};
#if !defined(__x86_64__) && !defined(__i386__)
      if ((uintptr_t)&dst[b * QK8_0 + j] % 16) __builtin_trap(); /* what movaps would do */
#endif
      *(example_v4 *)&dst[b * QK8_0 + j] = v;
    }
#else
    for (int j = 0; j < QK8_0; ++j) dst[b * QK8_0 + j] = (float)(int8_t)block[2 + j] * d;
#endif
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

#ifdef BROKEN_SHARED_SCRATCH
/* One buffer for every caller: two threads converting at once overwrite each other's. */
#define SCRATCH_BLOCKS 2048
static float g_scratch[SCRATCH_BLOCKS * QK8_0];

/* The clash needs calls that overlap, which a loaded machine running each thread's call within
 * one time slice may never give: pinned to one busy core, this plugin passed
 * threads/concurrent in 1 run of 10. So the clash is made certain: a call from a thread other
 * than init()'s (the host's threads) waits after its first fill, at most 2 s, until another
 * call has filled the buffer too. init()'s thread never waits: single-threaded checks keep
 * their speed. */
static pthread_mutex_t g_scratch_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_scratch_filled = PTHREAD_COND_INITIALIZER;
static unsigned long g_scratch_fills;
static pthread_t g_init_thread;

static void count_fill_and_wait_for_another(int wait) {
  pthread_mutex_lock(&g_scratch_mutex);
  const unsigned long mine = ++g_scratch_fills;
  pthread_cond_broadcast(&g_scratch_filled);
  if (wait && !pthread_equal(pthread_self(), g_init_thread)) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 2;
    while (g_scratch_fills == mine &&
           pthread_cond_timedwait(&g_scratch_filled, &g_scratch_mutex, &deadline) == 0) {
    }
  }
  pthread_mutex_unlock(&g_scratch_mutex);
}

static void dequantize_via_scratch(const uint8_t *src, float *dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; b += SCRATCH_BLOCKS) {
    const int64_t chunk = n_blocks - b < SCRATCH_BLOCKS ? n_blocks - b : SCRATCH_BLOCKS;
    dequantize_q8_0(src + b * Q8_0_BLOCK_BYTES, g_scratch, chunk);
    count_fill_and_wait_for_another(b == 0);
    memcpy(dst + b * QK8_0, g_scratch, (size_t)chunk * QK8_0 * sizeof(float));
  }
}
#endif

#if defined(BROKEN_FLUSH_DENORMALS) || defined(BROKEN_FLUSH_IN_CALL) || \
    defined(BROKEN_FLUSH_IN_SUPPORTS)
/* Sets the calling thread's flush-to-zero and denormals-are-zero modes, as some -ffast-math
 * builds do (at load, or on the first conversion), and never puts them back. */
#ifdef BROKEN_FLUSH_DENORMALS
__attribute__((constructor))
#endif
static void example_flush_denormals(void) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned int csr;
  __asm__ volatile("stmxcsr %0" : "=m"(csr));
  csr |= 0x8040u; /* FTZ (bit 15), DAZ (bit 6) */
  __asm__ volatile("ldmxcsr %0" : : "m"(csr));
#elif defined(__aarch64__)
  uint64_t fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  fpcr |= (uint64_t)1 << 24; /* FZ */
  __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
#endif
}
#endif

#ifdef BROKEN_LEAK_PER_CALL
void *volatile example_leaked_scratch; /* (hidden, like every symbol but the entry) */
#endif

#ifdef BROKEN_THREAD_LEFT_RUNNING
/* A housekeeping thread that init starts and shutdown forgets: after the file is unloaded it
 * wakes up in unmapped code. */
static void *example_housekeeping(void *unused) {
  (void)unused;
  for (;;) usleep(10000);
  return NULL;
}
#endif

#ifdef BROKEN_DEFERRED_CRASH
/* Clean-up done later on a thread of its own, which dereferences a pointer already gone: the
 * process dies 100 ms after the call that scheduled it returned. 100 ms, not 1: the check
 * must have reported its result first, even when a loaded machine preempts the caller. */
static int *volatile example_freed_cache; /* already gone: NULL */
static void *example_deferred_cleanup(void *unused) {
  (void)unused;
  usleep(100000);
  *example_freed_cache = 0;
  return NULL;
}
static void example_schedule_cleanup(void) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, example_deferred_cleanup, NULL) == 0) pthread_detach(thread);
}
#endif

/* ------------------------------------------------------------------ the table's entries */
static const char *example_describe(void) { return "portable C, Q8_0 -> f32 only"; }

/* init must succeed also where there is no device (rule P6); this plugin has nothing to set
 * up. A GPU plugin would query its runtime here and remember why there is no device. */
static int32_t example_init(void) {
#ifdef BROKEN_SHARED_SCRATCH
  g_init_thread = pthread_self();
#endif
#ifdef BROKEN_THREAD_LEFT_RUNNING
  pthread_t thread;
  if (pthread_create(&thread, NULL, example_housekeeping, NULL) == 0) pthread_detach(thread);
#endif
  return ok();
}

/* Drains and frees everything (rule P15); nothing is held here. */
static void example_shutdown(void) {}

static int32_t example_device_count(void) { return 1; } /* device 0: the host */

static const char *example_no_device_reason(void) { return ""; }

static int32_t example_device_props(int32_t device, dq_plugin_device_props *out) {
#ifdef BROKEN_DEVICE_INDEX
  if (device > 0) return fail(DQ_ERR_INVALID_ARGUMENT, "only device 0 exists");
#else
  if (device != 0) return fail(DQ_ERR_INVALID_ARGUMENT, "only device 0 exists");
#endif
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
#ifdef BROKEN_FLUSH_IN_SUPPORTS
  example_flush_denormals();
#endif
#ifdef BROKEN_FORGET_ONE_PAIR
  if (src_type == DQ_TYPE_F16 && dst_type == DQ_TYPE_F32) return 1;
#endif
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
#ifdef BROKEN_STRUCT_SIZE_LAX
  if (a->struct_size < offsetof(dq_plugin_dequantize_args, dst))
#else
  if (a->struct_size < offsetof(dq_plugin_dequantize_args, stream) + sizeof(void *))
#endif
    return fail(DQ_ERR_INVALID_ARGUMENT, "arguments struct_size too small");
  if (!is_known_type(a->src_type)) return fail(DQ_ERR_UNKNOWN_TYPE, "unknown or retired type id");
  if (a->dst_type != DQ_TYPE_F32 && a->dst_type != DQ_TYPE_F16 && a->dst_type != DQ_TYPE_BF16)
    return fail(DQ_ERR_INVALID_ARGUMENT, "output type must be f32, f16 or bf16");
  if (!example_supports(a->src_type, a->dst_type))
    return fail(DQ_ERR_UNSUPPORTED, "only q8_0 -> f32 is implemented");
#ifdef BROKEN_FORGET_ONE_PAIR
  if (a->src_type == DQ_TYPE_F16) { /* the size checks below were never added for this pair */
    if (!a->src || !a->dst || a->n_elements <= 0)
      return fail(DQ_ERR_INVALID_ARGUMENT, "bad f16 arguments");
    for (int64_t i = 0; i < a->n_elements; ++i) {
      uint16_t h;
      memcpy(&h, (const uint8_t *)a->src + 2 * i, 2);
      ((float *)a->dst)[i] = f16_to_f32(h);
    }
    return ok();
  }
#endif
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
#ifdef BROKEN_READ_BEFORE_SOURCE
  { /* "is there a header before the data?" */
    volatile uint8_t before = ((const uint8_t *)a->src)[-1];
    (void)before;
  }
#endif
#ifdef BROKEN_WRITES_SOURCE
  { /* uses the first scale's bytes as scratch, then puts them back */
    volatile uint8_t *s = (volatile uint8_t *)(uintptr_t)a->src;
    const uint8_t keep = s[0];
    s[0] = 0;
    s[0] = keep;
  }
#endif
#ifdef BROKEN_FLUSH_IN_CALL
  example_flush_denormals(); /* "faster kernels", left on for the caller's thread */
#endif
#ifdef BROKEN_DEFERRED_CRASH
  if (t_failed_before) { /* the first success after a failure: "clean up the failed call" */
    t_failed_before = 0;
    example_schedule_cleanup();
  }
#endif
#ifdef BROKEN_LEAK_PER_CALL
  example_leaked_scratch = malloc(64); /* overwritten every call, never freed */
#endif
#ifdef BROKEN_IGNORE_COUNT
  dequantize_q8_0((const uint8_t *)a->src, (float *)a->dst, 8);
#elif defined(BROKEN_SHARED_SCRATCH)
  dequantize_via_scratch((const uint8_t *)a->src, (float *)a->dst, (int64_t)n_blocks);
#else
  dequantize_q8_0((const uint8_t *)a->src, (float *)a->dst, (int64_t)n_blocks);
#endif
#ifdef BROKEN_WRITE_PAST_OUTPUT
  memset((uint8_t *)a->dst + n * sizeof(float), 0, a->dst_bytes - n * sizeof(float));
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
#ifdef EXAMPLE_ABI_1_0
    /* An ABI 1.0 table: it ends where 1.1 appended host_register. */
    .abi_minor = 0,
    .struct_size = offsetof(dq_plugin_api, host_register),
#else
    .abi_minor = DQ_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(dq_plugin_api),
#endif
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
