/*
 * dq.h: the public C API of libdq-core.
 *
 * Stability rules (see "C API rules" in docs/ARCHITECTURE.md):
 *  - C99 only; callable from Rust, Python (ctypes/cffi) or anything with a C FFI.
 *  - Status values are pinned numbers and never change meaning.
 *  - Every struct the caller fills or receives starts with `struct_size`, set by the caller
 *    to sizeof the struct of the header it compiled with. Fields are only appended.
 *    Input structs: the library reads only the fields the caller's size covers; fields past
 *    it count as zero/NULL. A size below the struct's DQ_<STRUCT>_MIN_SIZE is refused with
 *    DQ_ERR_INVALID_ARGUMENT and a message naming that minimum. A larger size (a newer
 *    header) is accepted; fields this library does not know are ignored.
 *    Output structs: the library writes only the bytes the caller's size covers and keeps
 *    the caller's struct_size; their minimum is sizeof(size_t).
 *  - NULL context: every function taking a dq_context refuses a NULL one, and does nothing
 *    else: DQ_ERR_INVALID_ARGUMENT from functions returning dq_status (dq_free included),
 *    0 from dq_backend_count/dq_backend_supports, -1 from dq_backend_find.
 *  - Opaque handles; every destroy/close/free of a handle (dq_context_destroy,
 *    dq_model_close, dq_loaded_free, dq_loader_destroy) accepts NULL, and dq_free accepts a
 *    NULL pointer (with a valid context).
 *  - Indices (backend, device, tensor, loaded tensor) out of range give
 *    DQ_ERR_INVALID_ARGUMENT; DQ_ERR_NOT_FOUND is only for names and keys.
 *  - Errors: a failing call that takes a context leaves a message for dq_last_error. Calls
 *    without a context (dq_model_*, dq_value_*, dq_loaded_*) report by status only.
 *  - Strings returned by the library stay valid as long as their owner (context or model).
 */
#ifndef DQ_DQ_H
#define DQ_DQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define DQ_API __declspec(dllexport)
#else
#define DQ_API __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------- versions */
#define DQ_VERSION_MAJOR 0
#define DQ_VERSION_MINOR 1
#define DQ_VERSION_PATCH 0
#define DQ_VERSION_NUMBER (DQ_VERSION_MAJOR * 10000 + DQ_VERSION_MINOR * 100 + DQ_VERSION_PATCH)

/* The library's own version (may differ from the header the caller compiled with). */
DQ_API uint32_t dq_version_number(void);
DQ_API const char *dq_version_string(void);

/* ----------------------------------------------------------------- status */
typedef enum dq_status {
  DQ_OK = 0,
  DQ_ERR_INVALID_ARGUMENT = 1, /* null pointer, zero count, bad enum value, index out of range */
  DQ_ERR_UNKNOWN_TYPE = 2,     /* type id unknown or retired */
  DQ_ERR_UNSUPPORTED = 3,      /* known type / output pair this backend does not do */
  DQ_ERR_SIZE = 4,             /* element count not a block multiple, buffer too small, overflow */
  DQ_ERR_NO_BACKEND = 5,       /* named backend absent, or no loaded backend can do the job */
  DQ_ERR_NO_DEVICE = 6,        /* backend loaded but has no usable device */
  DQ_ERR_OUT_OF_MEMORY = 7,
  DQ_ERR_IO = 8,               /* open/read/mmap failed */
  DQ_ERR_BAD_FILE = 9,         /* malformed or hostile GGUF */
  DQ_ERR_NOT_FOUND = 10,       /* tensor or key not found by name (indices: INVALID_ARGUMENT) */
  DQ_ERR_ABI = 11,             /* plugin built for another ABI major version */
  DQ_ERR_BACKEND = 12,         /* device runtime error (its text is in the message) */
  DQ_ERR_TYPE_MISMATCH = 13,   /* metadata value read with a getter of another type */
  DQ_ERR_INTERNAL = 14
} dq_status;

/* Short constant description of a status ("invalid argument", ...). Never NULL. */
DQ_API const char *dq_status_string(dq_status status);

/* ------------------------------------------------------------ tensor types */
/* ggml's numbering, so GGUF tensor types map directly. Ids 4, 5, 31-33, 36-38 are retired. */
typedef enum dq_type {
  DQ_TYPE_F32 = 0,
  DQ_TYPE_F16 = 1,
  DQ_TYPE_Q4_0 = 2,
  DQ_TYPE_Q4_1 = 3,
  DQ_TYPE_Q5_0 = 6,
  DQ_TYPE_Q5_1 = 7,
  DQ_TYPE_Q8_0 = 8,
  DQ_TYPE_Q8_1 = 9,
  DQ_TYPE_Q2_K = 10,
  DQ_TYPE_Q3_K = 11,
  DQ_TYPE_Q4_K = 12,
  DQ_TYPE_Q5_K = 13,
  DQ_TYPE_Q6_K = 14,
  DQ_TYPE_Q8_K = 15,
  DQ_TYPE_IQ2_XXS = 16,
  DQ_TYPE_IQ2_XS = 17,
  DQ_TYPE_IQ3_XXS = 18,
  DQ_TYPE_IQ1_S = 19,
  DQ_TYPE_IQ4_NL = 20,
  DQ_TYPE_IQ3_S = 21,
  DQ_TYPE_IQ2_S = 22,
  DQ_TYPE_IQ4_XS = 23,
  DQ_TYPE_I8 = 24,
  DQ_TYPE_I16 = 25,
  DQ_TYPE_I32 = 26,
  DQ_TYPE_I64 = 27,
  DQ_TYPE_F64 = 28,
  DQ_TYPE_IQ1_M = 29,
  DQ_TYPE_BF16 = 30,
  DQ_TYPE_TQ1_0 = 34,
  DQ_TYPE_TQ2_0 = 35,
  DQ_TYPE_MXFP4 = 39,
  DQ_TYPE_NVFP4 = 40,
  DQ_TYPE_Q1_0 = 41,
  DQ_TYPE_Q2_0 = 42,
  DQ_TYPE_COUNT = 43
} dq_type;

/* "q4_K"-style ggml name; for the retired ids ggml's name in retired(): 4 "retired(Q4_2)",
 * 5 "retired(Q4_3)", 31 "retired(Q4_0_4_4)", 32 "retired(Q4_0_4_8)", 33 "retired(Q4_0_8_8)",
 * 36 "retired(IQ4_NL_4_4)", 37 "retired(IQ4_NL_4_8)", 38 "retired(IQ4_NL_8_8)"; NULL when
 * unknown. */
DQ_API const char *dq_type_name(int32_t type);
/* Id for a name (case-insensitive, "q6_k" or "Q6_K"); -1 when unknown or retired (neither
 * "q4_2" nor "retired(Q4_2)" gives an id). */
DQ_API int32_t dq_type_from_name(const char *name);
/* Elements and bytes per block; 0 for unknown or retired ids. */
DQ_API int64_t dq_type_block_elements(int32_t type);
DQ_API size_t dq_type_block_bytes(int32_t type);
/* Bytes that n_elements of `type` occupy. DQ_ERR_UNKNOWN_TYPE, or DQ_ERR_SIZE when n is not a
 * multiple of the block or the product overflows. */
DQ_API dq_status dq_type_nbytes(int32_t type, int64_t n_elements, uint64_t *out_bytes);

/* ---------------------------------------------------------------- context */
typedef struct dq_context dq_context;

/* Creates a context. Plugins are discovered on first use (DQ_PLUGIN_PATH, DQ_BACKEND, DQ_LOG,
 * DQ_GPU_MIN_BYTES are read then). */
DQ_API dq_status dq_context_create(dq_context **out);
DQ_API void dq_context_destroy(dq_context *ctx);

/* Message of the last FAILED call made on `ctx` by the calling thread, naming what was wrong
 * ("" when none has failed). A successful call does not clear it (like errno): read it only
 * after a call returned an error. Valid until the next failed call on ctx from this thread
 * or the context's destruction. "ctx is NULL" for a NULL ctx. */
DQ_API const char *dq_last_error(const dq_context *ctx);

/* --------------------------------------------------------------- backends */
typedef struct dq_backend_info {
  size_t struct_size;
  const char *name;        /* "cpu", "cuda", ... */
  const char *path;        /* plugin file that was opened */
  const char *description; /* plugin's own detail, e.g. "avx512 (auto)"; may be "" */
  uint32_t abi_major;      /* ABI the plugin reported (0 when it could not be read) */
  uint32_t abi_minor;
  int32_t loaded;          /* 1 when usable, 0 when refused or failed */
  int32_t device_count;    /* 0 when loaded but no device */
  const char *status;      /* why it failed to load, or why it has no device; "" when fine */
} dq_backend_info;
#define DQ_BACKEND_INFO_MIN_SIZE sizeof(size_t) /* output: written as far as struct_size */

typedef struct dq_device_info {
  size_t struct_size;
  const char *name;
  uint64_t total_memory;
  uint64_t free_memory;
  int32_t is_gpu;
} dq_device_info;
#define DQ_DEVICE_INFO_MIN_SIZE sizeof(size_t) /* output: written as far as struct_size */

/* Backends found (loaded, refused, failed or skipped), in search order. Several entries may
 * share a name: a file that fails to load does not hide a later file of the same name. */
DQ_API int32_t dq_backend_count(dq_context *ctx);
/* Index of the entry of that name that loaded, else of the first that failed (its status
 * says why); -1 when no file of that name was found. */
DQ_API int32_t dq_backend_find(dq_context *ctx, const char *name);
DQ_API dq_status dq_backend_get_info(dq_context *ctx, int32_t backend, dq_backend_info *out);
DQ_API dq_status dq_backend_get_device(dq_context *ctx, int32_t backend, int32_t device,
                                       dq_device_info *out);
/* 1 when the backend dequantizes src_type into dst_type (F32, F16 or BF16), else 0. */
DQ_API int32_t dq_backend_supports(dq_context *ctx, int32_t backend, int32_t src_type,
                                   int32_t dst_type);

/* --------------------------------------------------------------- memory */
/* Where bytes live. Host memory: backend NULL, "", "host" or "cpu" (the cpu plugin works on
 * host memory), with device 0; any other device of a host location is DQ_ERR_INVALID_ARGUMENT
 * in every call. Else device `device` of the named backend. The same rule holds for
 * dq_malloc, dq_free, dq_memcpy, dq_synchronize, dq_dequantize and dq_load. */
typedef struct dq_location {
  const char *backend;
  int32_t device;
} dq_location;

DQ_API dq_status dq_malloc(dq_context *ctx, dq_location where, size_t bytes, void **out);
DQ_API dq_status dq_free(dq_context *ctx, dq_location where, void *ptr);
/* Synchronous copy between any two locations (at least one host, or both on one device). */
DQ_API dq_status dq_memcpy(dq_context *ctx, void *dst, dq_location dst_where, const void *src,
                           dq_location src_where, size_t bytes);
/* Waits for work queued on `stream` (NULL: the backend's own stream) of a device. */
DQ_API dq_status dq_synchronize(dq_context *ctx, dq_location where, void *stream);

/* ------------------------------------------------------------ dequantize */
typedef struct dq_dequantize_request {
  size_t struct_size;
  int32_t src_type;     /* ggml type id */
  int32_t dst_type;     /* DQ_TYPE_F32, DQ_TYPE_F16 or DQ_TYPE_BF16 */
  const void *src;
  size_t src_bytes;     /* must be at least the type's size for n_elements */
  int64_t n_elements;   /* > 0, a multiple of the type's block */
  void *dst;
  size_t dst_bytes;     /* must be at least n_elements * sizeof(output) */
  dq_location src_where;
  dq_location dst_where;
  void *stream;         /* native stream of the device backend (cudaStream_t), or NULL */
  const char *backend;  /* force a backend for this call; NULL: per-tensor selection */
} dq_dequantize_request;
/* Smallest struct_size accepted: every field through dst_bytes. Fields past the caller's
 * size count as zero: src_where/dst_where host, stream NULL, backend NULL. */
#define DQ_DEQUANTIZE_REQUEST_MIN_SIZE \
  (offsetof(dq_dequantize_request, dst_bytes) + sizeof(size_t))

/* Dequantizes one tensor. With host source and destination and no forced backend, the
 * registry chooses per tensor (DQ_BACKEND, DQ_GPU_MIN_BYTES). Device memory implies its
 * backend. On a device with a stream the call may return before the work finishes. */
DQ_API dq_status dq_dequantize(dq_context *ctx, const dq_dequantize_request *req);
/* Name of the backend that served this thread's last dq_dequantize on ctx ("" before any);
 * after dq_dequantize_batch, the backend of its last request. */
DQ_API const char *dq_last_backend(const dq_context *ctx);

/* Dequantizes n tensors, each request as in dq_dequantize, so that a backend can serve many
 * tensors in one or a few launches (the per-step dequantization of resident weights).
 *  - Every request is validated first, and each one's backend chosen, before any runs. If
 *    one is bad nothing runs, nothing is written, and the error names the request:
 *    "dq_dequantize_batch: request 3: n_elements 100 is not a multiple of q4_K's block of 256".
 *    Host buffers of different requests must not overlap (two requests may read the same
 *    source; no destination may overlap another request's source or destination).
 *  - struct_size: the array's element size is reqs[0].struct_size (the caller's sizeof); every
 *    request carries that same value, with dq_dequantize's rules (at least
 *    DQ_DEQUANTIZE_REQUEST_MIN_SIZE; fields past it count as zero).
 *  - Requests are grouped by the backend that serves them; a backend that has a batch entry
 *    gets its group in one call, otherwise the core calls it once per request. Device work is
 *    queued on each request's stream (NULL: the backend's own) and may still be running when
 *    the call returns, exactly as with dq_dequantize; on a CUDA device with device memory and
 *    a caller stream the call allocates nothing, never synchronizes and is legal during stream
 *    capture. If a backend fails while working, requests of other groups may already be done.
 *  - n == 0 succeeds and does nothing (reqs may then be NULL); n > 0 with reqs NULL is
 *    DQ_ERR_INVALID_ARGUMENT, as is a NULL ctx. */
DQ_API dq_status dq_dequantize_batch(dq_context *ctx, const dq_dequantize_request *reqs,
                                     size_t n);

/* ------------------------------------------------------------ GGUF models */
typedef struct dq_model dq_model;
typedef struct dq_value dq_value;

/* GGUF metadata value types (numbering of the GGUF spec). */
typedef enum dq_value_type {
  DQ_VALUE_UINT8 = 0,
  DQ_VALUE_INT8 = 1,
  DQ_VALUE_UINT16 = 2,
  DQ_VALUE_INT16 = 3,
  DQ_VALUE_UINT32 = 4,
  DQ_VALUE_INT32 = 5,
  DQ_VALUE_FLOAT32 = 6,
  DQ_VALUE_BOOL = 7,
  DQ_VALUE_STRING = 8,
  DQ_VALUE_ARRAY = 9,
  DQ_VALUE_UINT64 = 10,
  DQ_VALUE_INT64 = 11,
  DQ_VALUE_FLOAT64 = 12
} dq_value_type;

/* Opens a GGUF file (memory-mapped). A split model's first part ("x-00001-of-00003.gguf")
 * opens every part as one model. Errors go to dq_last_error(ctx). */
DQ_API dq_status dq_model_open(dq_context *ctx, const char *path, dq_model **out);
DQ_API void dq_model_close(dq_model *model);

DQ_API uint32_t dq_model_gguf_version(const dq_model *model);
DQ_API uint32_t dq_model_alignment(const dq_model *model);
DQ_API uint32_t dq_model_split_count(const dq_model *model); /* 1 for a single file */
/* Data section offset of split part `split` (0 for a single file). */
DQ_API uint64_t dq_model_data_offset(const dq_model *model, uint32_t split);

/* Metadata. Keys of split parts after the first are not repeated. */
DQ_API int64_t dq_model_kv_count(const dq_model *model);
DQ_API int64_t dq_model_kv_find(const dq_model *model, const char *key); /* index or -1 */
DQ_API const char *dq_model_kv_key(const dq_model *model, int64_t index);
DQ_API const dq_value *dq_model_kv_value(const dq_model *model, int64_t index);

DQ_API dq_value_type dq_value_get_type(const dq_value *value);
/* Integer getters accept any integer (and bool) type whose value fits; DQ_ERR_TYPE_MISMATCH
 * otherwise (or DQ_ERR_SIZE when it does not fit). f64 accepts FLOAT32, FLOAT64. */
DQ_API dq_status dq_value_get_i64(const dq_value *value, int64_t *out);
DQ_API dq_status dq_value_get_u64(const dq_value *value, uint64_t *out);
DQ_API dq_status dq_value_get_f64(const dq_value *value, double *out);
DQ_API dq_status dq_value_get_bool(const dq_value *value, int32_t *out);
/* Not NUL-terminated in the file: use *len. *out points into the model's memory. */
DQ_API dq_status dq_value_get_string(const dq_value *value, const char **out, uint64_t *len);
/* Arrays: element type, count, element j (nested arrays are values of type ARRAY). */
DQ_API dq_value_type dq_value_array_type(const dq_value *value);
DQ_API uint64_t dq_value_array_count(const dq_value *value);
/* Element `index`, valid until the model is closed. NULL for an index out of range (or a
 * value that is not an array) or when memory for the element record cannot be had: records
 * of a number array are made on first access, a few thousand elements at a time, so reading
 * them all costs ~56 bytes per element (dq_value_array_data reads them in place). */
DQ_API const dq_value *dq_value_array_get(const dq_value *value, uint64_t index);
/* Raw little-endian element bytes of an array of fixed-size numbers (not strings/arrays). */
DQ_API dq_status dq_value_array_data(const dq_value *value, const void **out, uint64_t *bytes);

/* Output: written field by field as far as struct_size; minimum DQ_TENSOR_INFO_MIN_SIZE. */
#define DQ_TENSOR_INFO_MIN_SIZE sizeof(size_t)
typedef struct dq_tensor_info {
  size_t struct_size;
  const char *name;
  int32_t type;           /* ggml type id */
  uint32_t n_dims;
  int64_t ne[4];          /* ne[0] fastest; unused dims are 1 */
  int64_t n_elements;
  uint64_t n_bytes;
  uint32_t split;         /* which part file holds it */
  uint64_t file_offset;   /* absolute byte offset in that file */
  const void *data;       /* mapped bytes (zero-copy view). A read through it raises SIGBUS if
                             another process truncates the file meanwhile; use
                             dq_model_read_tensor for reads that must survive that. */
} dq_tensor_info;

DQ_API int64_t dq_model_tensor_count(const dq_model *model);
DQ_API int64_t dq_model_tensor_find(const dq_model *model, const char *name); /* index or -1 */
/* DQ_ERR_INVALID_ARGUMENT for an index outside 0..count-1. */
DQ_API dq_status dq_model_tensor_info(const dq_model *model, int64_t index, dq_tensor_info *out);

/* Copies `bytes` bytes of tensor `index`'s data, starting `offset` bytes into it, to `dst`.
 * Reads the file with pread(), not through the mapping: a file truncated or removed by
 * another process meanwhile gives DQ_ERR_IO naming the file, never a signal (a read through
 * dq_tensor_info.data of such a file raises SIGBUS). DQ_ERR_SIZE when offset + bytes passes
 * the tensor's end. A model opened from memory is copied from that memory. */
DQ_API dq_status dq_model_read_tensor(dq_context *ctx, const dq_model *model, int64_t index,
                                      uint64_t offset, void *dst, uint64_t bytes);

#ifdef __cplusplus
}
#endif

#include "dq/dq_loader.h" /* model loader API (issue: whole GGUF onto the GPU) */

#endif /* DQ_DQ_H */
