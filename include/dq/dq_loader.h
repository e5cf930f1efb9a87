/*
 * dq_loader.h: loading a whole GGUF (or chosen tensors / row ranges) onto a device.
 * Included by dq.h; do not include on its own. Owned by the model-loader work.
 *
 * The loader uploads the quantized bytes (0.5 to 1 byte per weight) through a ring of pinned
 * staging buffers and dequantizes on the device while the next chunk is in flight, instead of
 * dequantizing on the host and uploading 2 or 4 bytes per weight. Tensors too small to be worth
 * the GPU (the registry's DQ_GPU_MIN_BYTES rule), types the device backend lacks, and machines
 * without a GPU go through the CPU plugin. Same rules as dq.h: C99, struct_size first,
 * fields only appended, every free accepts NULL.
 *
 * Typical use:
 *   dq_load_options o;
 *   dq_load_options_init(&o);                  // f16, host, 256 MiB staging
 *   o.device.backend = "cuda"; o.device.device = 0;
 *   dq_loaded_model *lm;
 *   if (dq_load(ctx, model, &o, &lm) != DQ_OK) puts(dq_last_error(ctx));
 *   for (int64_t i = 0; i < dq_loaded_count(lm); ++i) { dq_loaded_tensor t; ... }
 *   dq_loaded_free(lm);                        // frees every device buffer it allocated
 */
#ifndef DQ_DQ_LOADER_H
#define DQ_DQ_LOADER_H

#ifdef __cplusplus
extern "C" {
#endif

/* Output type value meaning "keep the file's bytes as they are" (quantized or not). */
#define DQ_LOAD_KEEP (-1)
/* Default staging budget: pinned host memory the loader may hold at once. It is a ceiling:
 * the ring uses min(budget, 32 MiB) unless DQ_LOAD_RING_MIB says otherwise, a size that
 * stays in the CPU's last-level cache (measured fastest, docs/PERFORMANCE.md). */
#define DQ_LOAD_DEFAULT_BUDGET (256ull << 20)

/* Output type for one tensor: return DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16 or DQ_LOAD_KEEP.
 * `proposed` is what the defaults and overrides chose. */
typedef int32_t (*dq_load_type_fn)(void *user, const dq_tensor_info *tensor, int32_t proposed);

/* Progress: bytes of the file read so far and in total. Called from the loading thread. */
typedef void (*dq_load_progress_fn)(void *user, uint64_t bytes_done, uint64_t bytes_total);

/* Caller-provided destination: return memory of at least `bytes` at the load's device (host
 * memory for host/cpu loads, device memory of that backend otherwise) for `tensor`'s output
 * (`out_type`: the type written, the file's own type when the tensor is kept),
 * or NULL to let the loader allocate it. Memory returned here stays the caller's: the loader
 * never frees it. */
typedef void *(*dq_load_buffer_fn)(void *user, const dq_tensor_info *tensor, int32_t out_type,
                                   int64_t row_begin, int64_t row_end, uint64_t bytes);

typedef struct dq_load_options {
  size_t struct_size;
  /* Where the tensors go: {"cuda", 0}, or host memory: {NULL/""/"host"/"cpu", 0} (dq.h,
   * dq_location: a host location with another device is DQ_ERR_INVALID_ARGUMENT). */
  dq_location device;
  /* Output type for every tensor: DQ_TYPE_F16 (default), DQ_TYPE_BF16, DQ_TYPE_F32 or
   * DQ_LOAD_KEEP. Integer tensors (i8..i64, f64), which nothing dequantizes, are kept. */
  int32_t output_type;
  /* Per-name output types, applied over output_type (parallel arrays of n_overrides). */
  const char *const *override_names;
  const int32_t *override_types;
  size_t n_overrides;
  /* Called per tensor after the overrides; NULL: none. */
  dq_load_type_fn type_fn;
  void *type_user;

  /* Tensors to load, by name; NULL: every tensor of the model, in file order. */
  const char *const *names;
  size_t n_names;
  /* Row ranges, parallel to names (NULL: whole tensors). A row is ne[0] elements; rows are
   * counted over ne[1..3] (ne[1] for a matrix): tensor i loads rows [row_begin[i],
   * row_end[i]). row_end[i] < 0 means "to the last row". For a tensor-parallel shard. */
  const int64_t *row_begin;
  const int64_t *row_end;

  /* Pinned host staging memory the loader may hold at once; 0: DQ_LOAD_DEFAULT_BUDGET.
   * At least 1 MiB (DQ_ERR_SIZE otherwise, for host loads too, which pin nothing), and at
   * least two slots of the largest block of the model. */
  uint64_t staging_budget;
  /* Host threads reading the file into staging; 0: automatic (three quarters of the cores,
   * at most 16). How they read: environment DQ_LOAD_COPY=memcpy (default: plain copies from
   * the mapping, so the slot stays in the CPU cache for the upload), stream (non-temporal
   * stores), prefetch, pread (read() from the file), or hybrid (experimental: part of the
   * file uploaded from pinned windows of the mapping; measured slower, docs/PERFORMANCE.md). */
  int32_t copy_threads;
  int32_t reserved0;
  /* Device loads: tensors under this many file bytes are dequantized by the CPU plugin and
   * uploaded as output. -1 (default): DQ_GPU_MIN_BYTES when set, else 256 KiB. 0: none. */
  int64_t gpu_min_bytes;

  dq_load_progress_fn progress;
  void *progress_user;

  dq_load_buffer_fn buffer_fn;
  void *buffer_user;

  /* Added after 1.0 (check struct_size; docs/MULTI_GPU.md): one load over several devices.
   * n_devices > 0: `devices` are the destinations and `device` is ignored; the same location
   * may appear twice (two pipelines to one device). Each device gets its own staging ring
   * (staging_budget applies per device), streams and copy threads (copy_threads in total,
   * shared out evenly; 0: three quarters of the cores, at most 16 per device), and all run
   * at once. buffer_fn is not called for loads of 2 or more devices. */
  const dq_location *devices;
  size_t n_devices;
  /* Which device gets what (NULL: names/row ranges as above). Every part is loaded; a tensor
   * may have several parts (replicated, or split in rows/columns). Not together with names.
   * dq_plan_tensor_parallel and dq_plan_layers build the usual ones. */
  const struct dq_load_part *parts;
  size_t n_parts;
} dq_load_options;

/* One piece of a placement: rows [row_begin, row_end) (rows over ne[1..3], a split of ne[1]
 * for a matrix) and columns [col_begin, col_end) (elements of ne[0]) of tensor `name`, to
 * devices[device] (device 0 when n_devices is 0). An end < 0 means "to the last". Columns cut
 * at whole blocks of the tensor's type (a q4_K column split at multiples of 256 elements),
 * gathered from the strided rows of the file; the part is stored row-major, ne = {columns,
 * rows}. An illegal cut is DQ_ERR_SIZE naming the tensor and the block size. An array of
 * parts is read with the stride of parts[0].struct_size (every element the same size). */
typedef struct dq_load_part {
  size_t struct_size;
  const char *name;
  int32_t device;
  int32_t reserved;
  int64_t row_begin, row_end;
  int64_t col_begin, col_end;
} dq_load_part;
#define DQ_LOAD_PART_MIN_SIZE sizeof(dq_load_part)

/* Smallest struct_size dq_load/dq_loader_create/dq_loader_load accept: through output_type.
 * Fields past the caller's size take their defaults (those of dq_load_options_init).
 * options == NULL means every default. */
#define DQ_LOAD_OPTIONS_MIN_SIZE (offsetof(dq_load_options, output_type) + sizeof(int32_t))

/* Fills the defaults into the first struct_size bytes of *options and sets
 * options->struct_size = struct_size; bytes past struct_size are not touched, so a caller
 * built with an older, shorter dq_load_options is served. Defaults: host, DQ_TYPE_F16,
 * 256 MiB budget, gpu_min_bytes -1, everything else zero (also fields of a newer header
 * than this library). DQ_ERR_INVALID_ARGUMENT for NULL or struct_size < sizeof(size_t). */
DQ_API dq_status dq_load_options_init_sized(dq_load_options *options, size_t struct_size);

/* dq_load_options_init(&o) is dq_load_options_init_sized(&o, sizeof(dq_load_options)) with
 * the sizeof of the header the caller compiles with. The exported function of that name,
 * which binaries built before this macro call, writes the dq 0.1 layout (every field through
 * buffer_user) and never more. */
DQ_API void dq_load_options_init(dq_load_options *options);
#define dq_load_options_init(options) \
  ((void)dq_load_options_init_sized((options), sizeof(dq_load_options)))

typedef struct dq_loaded_model dq_loaded_model;

typedef struct dq_loaded_tensor {
  size_t struct_size;
  const char *name;       /* owned by the loaded model */
  void *data;             /* at `where` */
  dq_location where;      /* backend and device of data ({"host",0} for host memory) */
  int32_t type;           /* type of data: F32/F16/BF16, or the file's type when kept */
  int32_t src_type;       /* type in the file */
  uint32_t n_dims;
  int64_t ne[4];          /* shape of data: the file's shape, or {ne[0], rows} for a range */
  int64_t n_elements;
  uint64_t n_bytes;       /* bytes at data */
  uint64_t file_bytes;    /* bytes read from the file for it */
  int64_t row_begin;      /* rows loaded (all rows for a whole tensor) */
  int64_t row_end;
  const char *backend;    /* who produced it: "cuda", "cpu" (dequantized on the host), "copy" */
  int32_t caller_owned;   /* 1 when data came from dq_load_buffer_fn */
  int32_t reserved;
  /* Added after 1.0 (check struct_size): columns loaded (all of ne[0] unless a part cut
   * them) and the index of its device in dq_load_options.devices (0 for one device). */
  int64_t col_begin;
  int64_t col_end;
  int32_t device_index;
  int32_t reserved2;
} dq_loaded_tensor;
#define DQ_LOADED_TENSOR_MIN_SIZE sizeof(size_t) /* output: written as far as struct_size */

typedef struct dq_load_stats {
  size_t struct_size;
  uint64_t file_bytes;          /* bytes read from the model file(s) */
  uint64_t output_bytes;        /* bytes written at the destination */
  int64_t tensors;
  int64_t tensors_device;       /* dequantized on the device backend */
  int64_t tensors_cpu;          /* dequantized by the CPU plugin */
  int64_t tensors_copied;       /* kept as they are */
  uint64_t file_bytes_device;   /* file bytes per route, as above */
  uint64_t file_bytes_cpu;
  uint64_t file_bytes_copied;
  double seconds_total;         /* the whole dq_load call */
  double seconds_setup;         /* allocations of staging, streams, destination */
  double seconds_pipeline;      /* first read to last byte on the device */
  uint64_t staging_budget;      /* bytes the load was allowed */
  uint64_t staging_high_water;  /* most pinned staging bytes held at once */
  uint64_t device_staging_bytes;/* device-side staging (quantized chunks before dequantizing) */
  int64_t chunks;               /* staging slot fills */
  int32_t copy_threads;         /* host threads used for the staging copies */
  int32_t reserved;
  const char *device_backend;   /* backend of the destination ("cuda", "host") */
  const char *copy_method;      /* how file bytes reached staging (DQ_LOAD_COPY): "memcpy"
                                   (from the mapping), "stream", "prefetch", "pread" (read()),
                                   "hybrid" */
  /* Added after 1.0 (check struct_size): seconds_setup split in its two parts. */
  double seconds_setup_staging; /* pinned staging, streams, threads (0 for a reused dq_loader) */
  double seconds_setup_outputs; /* allocating the destination the caller did not give */
  const char *staging_pinned;   /* how the staging slots were pinned: "registered" (anonymous
                                   memory, host_register), "allocated" (host_alloc_pinned),
                                   "mixed", or "none" (host destination) */
} dq_load_stats;
#define DQ_LOAD_STATS_MIN_SIZE sizeof(size_t) /* output: written as far as struct_size */

/* Loads tensors of an open model. The model may be closed after this returns. On failure
 * nothing is left allocated and dq_last_error(ctx) names the tensor and the problem:
 * DQ_ERR_NOT_FOUND (unknown name), DQ_ERR_SIZE (row range out of bounds or rows not made of
 * whole blocks, budget too small), DQ_ERR_INVALID_ARGUMENT (bad output type, duplicate name),
 * DQ_ERR_NO_BACKEND / DQ_ERR_NO_DEVICE (destination not available), device errors. */
DQ_API dq_status dq_load(dq_context *ctx, const dq_model *model, const dq_load_options *options,
                         dq_loaded_model **out);
/* Optional hint, before dq_load(ctx, model, options): starts faulting in the host staging
 * memory that load will pin (no device calls) on a background thread, so that it overlaps what
 * the caller does before the load, e.g. the device's start-up (in a fresh process it is most of
 * the load's set-up: docs/PERFORMANCE.md). The next load in this process that needs no more
 * adopts it, waiting for it if not ready yet; one left unused is freed at exit or by a load that
 * needs more. DQ_OK and nothing done for host destinations, loads over several devices, devices
 * that cannot register host memory, or DQ_LOAD_PREPARE=0; errors only for bad arguments. */
DQ_API dq_status dq_load_prepare(dq_context *ctx, const dq_model *model,
                                 const dq_load_options *options);
/* Opens `path`, loads, closes. */
DQ_API dq_status dq_load_file(dq_context *ctx, const char *path, const dq_load_options *options,
                              dq_loaded_model **out);

/* A reusable loader: the staging ring, streams and copy threads of one destination, set up
 * once (pinning staging costs 10-35 ms) and used by several loads, e.g. the
 * shards or parts of one model. Fast path for repeated loads: this plus destination buffers
 * from buffer_fn, made once; freeing and allocating gigabytes of outputs between loads slows
 * the next load (measured in docs/PERFORMANCE.md). Takes device, staging_budget and copy_threads from options;
 * dq_loader_load ignores those fields of its own options. Destroy before its context. */
typedef struct dq_loader dq_loader;
DQ_API dq_status dq_loader_create(dq_context *ctx, const dq_load_options *options,
                                  dq_loader **out);
DQ_API dq_status dq_loader_load(dq_loader *loader, const dq_model *model,
                                const dq_load_options *options, dq_loaded_model **out);
DQ_API void dq_loader_destroy(dq_loader *loader);

DQ_API int64_t dq_loaded_count(const dq_loaded_model *loaded);
DQ_API int64_t dq_loaded_find(const dq_loaded_model *loaded, const char *name); /* or -1 */
/* DQ_ERR_INVALID_ARGUMENT for an index outside 0..count-1 (as every index in dq.h). */
DQ_API dq_status dq_loaded_get_tensor(const dq_loaded_model *loaded, int64_t index,
                                      dq_loaded_tensor *out);
DQ_API dq_status dq_loaded_get_stats(const dq_loaded_model *loaded, dq_load_stats *out);
/* Loads over several devices: one dq_load_stats per entry of dq_load_options.devices (file
 * and output bytes, pipeline seconds of that device's pipeline, its staging); 1 and the
 * whole load's stats for a one-device load. dq_loaded_get_stats gives the sums, with
 * seconds_pipeline from the first read to the last device finished. */
DQ_API int32_t dq_loaded_device_count(const dq_loaded_model *loaded);
DQ_API dq_status dq_loaded_get_device_stats(const dq_loaded_model *loaded, int32_t index,
                                            dq_load_stats *out);

/* Placements built from tensor names (llama-style GGUF names, docs/MULTI_GPU.md). A plan
 * owns its parts and the names they point at; pass dq_load_plan_parts to
 * dq_load_options.parts. Errors name the tensor (dq_last_error(ctx)).
 *
 * dq_plan_tensor_parallel: tensor parallelism over n_devices. Column-parallel weights
 * (attn_q/k/v, ffn_gate/up, output, token_embd: out-features = ne[1]) are split in rows;
 * row-parallel ones (attn_output, ffn_down: in-features = ne[0]) in columns, at whole blocks;
 * their biases follow the output split; the rest (norms, ...) is replicated. `rank` < 0: the
 * parts of every device (devices 0..n-1, for one process); rank >= 0: only that rank's parts,
 * all on device 0 (for one process per rank, as torch.distributed runs). A split that cannot
 * be cut evenly at whole blocks is DQ_ERR_SIZE naming the tensor and its block size.
 * dq_plan_layers: whole tensors, blocks blk.N.* in n_devices even runs of layers;
 * token_embd and other tensors without a layer on device 0, output and output_norm on the
 * last. */
typedef struct dq_load_plan dq_load_plan;
DQ_API dq_status dq_plan_tensor_parallel(dq_context *ctx, const dq_model *model, int32_t n_devices,
                                         int32_t rank, dq_load_plan **out);
DQ_API dq_status dq_plan_layers(dq_context *ctx, const dq_model *model, int32_t n_devices,
                                dq_load_plan **out);
DQ_API const dq_load_part *dq_load_plan_parts(const dq_load_plan *plan, size_t *n_parts);
DQ_API void dq_load_plan_free(dq_load_plan *plan);

/* Frees every buffer the loader allocated (not caller-owned ones). The context must still be
 * alive. Accepts NULL. */
DQ_API void dq_loaded_free(dq_loaded_model *loaded);

/* Measures host-to-device bandwidth from pinned memory on `device` (bytes per second), with
 * `bytes` per copy (0: 256 MiB), the median of `repeats` copies (0: 5). For reporting load
 * throughput against the bus. DQ_ERR_UNSUPPORTED for host/cpu. */
DQ_API dq_status dq_measure_h2d_bandwidth(dq_context *ctx, dq_location device, uint64_t bytes,
                                          int32_t repeats, double *bytes_per_second);

#ifdef __cplusplus
}
#endif

#endif /* DQ_DQ_LOADER_H */
