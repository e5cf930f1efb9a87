//! Raw declarations of libdq-core's C API: `include/dq/dq.h` and `include/dq/dq_loader.h`,
//! written by hand (no bindgen, no libclang at build time). `tests/layout.rs` compares every
//! struct's size and field offsets, and every constant, with what the C compiler sees in those
//! headers, so the two cannot drift apart. The rules of the C API (struct_size first, fields
//! only appended, thread rules, error messages) are documented in the headers; the safe
//! wrapper is the `dq` crate.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

// ------------------------------------------------------------------ versions
pub const DQ_VERSION_MAJOR: u32 = 0;
pub const DQ_VERSION_MINOR: u32 = 1;
pub const DQ_VERSION_PATCH: u32 = 0;
pub const DQ_VERSION_NUMBER: u32 = DQ_VERSION_MAJOR * 10000 + DQ_VERSION_MINOR * 100 + DQ_VERSION_PATCH;

// ------------------------------------------------------------------- status
/// `enum dq_status` (C enums are `int`-sized here).
pub type dq_status = c_int;
pub const DQ_OK: dq_status = 0;
pub const DQ_ERR_INVALID_ARGUMENT: dq_status = 1;
pub const DQ_ERR_UNKNOWN_TYPE: dq_status = 2;
pub const DQ_ERR_UNSUPPORTED: dq_status = 3;
pub const DQ_ERR_SIZE: dq_status = 4;
pub const DQ_ERR_NO_BACKEND: dq_status = 5;
pub const DQ_ERR_NO_DEVICE: dq_status = 6;
pub const DQ_ERR_OUT_OF_MEMORY: dq_status = 7;
pub const DQ_ERR_IO: dq_status = 8;
pub const DQ_ERR_BAD_FILE: dq_status = 9;
pub const DQ_ERR_NOT_FOUND: dq_status = 10;
pub const DQ_ERR_ABI: dq_status = 11;
pub const DQ_ERR_BACKEND: dq_status = 12;
pub const DQ_ERR_TYPE_MISMATCH: dq_status = 13;
pub const DQ_ERR_INTERNAL: dq_status = 14;

// -------------------------------------------------------------- tensor types
/// `enum dq_type`: ggml's numbering; fields that hold a type are `int32_t`.
pub type dq_type = i32;
pub const DQ_TYPE_F32: dq_type = 0;
pub const DQ_TYPE_F16: dq_type = 1;
pub const DQ_TYPE_Q4_0: dq_type = 2;
pub const DQ_TYPE_Q4_1: dq_type = 3;
pub const DQ_TYPE_Q5_0: dq_type = 6;
pub const DQ_TYPE_Q5_1: dq_type = 7;
pub const DQ_TYPE_Q8_0: dq_type = 8;
pub const DQ_TYPE_Q8_1: dq_type = 9;
pub const DQ_TYPE_Q2_K: dq_type = 10;
pub const DQ_TYPE_Q3_K: dq_type = 11;
pub const DQ_TYPE_Q4_K: dq_type = 12;
pub const DQ_TYPE_Q5_K: dq_type = 13;
pub const DQ_TYPE_Q6_K: dq_type = 14;
pub const DQ_TYPE_Q8_K: dq_type = 15;
pub const DQ_TYPE_IQ2_XXS: dq_type = 16;
pub const DQ_TYPE_IQ2_XS: dq_type = 17;
pub const DQ_TYPE_IQ3_XXS: dq_type = 18;
pub const DQ_TYPE_IQ1_S: dq_type = 19;
pub const DQ_TYPE_IQ4_NL: dq_type = 20;
pub const DQ_TYPE_IQ3_S: dq_type = 21;
pub const DQ_TYPE_IQ2_S: dq_type = 22;
pub const DQ_TYPE_IQ4_XS: dq_type = 23;
pub const DQ_TYPE_I8: dq_type = 24;
pub const DQ_TYPE_I16: dq_type = 25;
pub const DQ_TYPE_I32: dq_type = 26;
pub const DQ_TYPE_I64: dq_type = 27;
pub const DQ_TYPE_F64: dq_type = 28;
pub const DQ_TYPE_IQ1_M: dq_type = 29;
pub const DQ_TYPE_BF16: dq_type = 30;
pub const DQ_TYPE_TQ1_0: dq_type = 34;
pub const DQ_TYPE_TQ2_0: dq_type = 35;
pub const DQ_TYPE_MXFP4: dq_type = 39;
pub const DQ_TYPE_NVFP4: dq_type = 40;
pub const DQ_TYPE_Q1_0: dq_type = 41;
pub const DQ_TYPE_Q2_0: dq_type = 42;
pub const DQ_TYPE_COUNT: dq_type = 43;

// -------------------------------------------------------------- metadata values
/// `enum dq_value_type` (GGUF spec numbering).
pub type dq_value_type = c_int;
pub const DQ_VALUE_UINT8: dq_value_type = 0;
pub const DQ_VALUE_INT8: dq_value_type = 1;
pub const DQ_VALUE_UINT16: dq_value_type = 2;
pub const DQ_VALUE_INT16: dq_value_type = 3;
pub const DQ_VALUE_UINT32: dq_value_type = 4;
pub const DQ_VALUE_INT32: dq_value_type = 5;
pub const DQ_VALUE_FLOAT32: dq_value_type = 6;
pub const DQ_VALUE_BOOL: dq_value_type = 7;
pub const DQ_VALUE_STRING: dq_value_type = 8;
pub const DQ_VALUE_ARRAY: dq_value_type = 9;
pub const DQ_VALUE_UINT64: dq_value_type = 10;
pub const DQ_VALUE_INT64: dq_value_type = 11;
pub const DQ_VALUE_FLOAT64: dq_value_type = 12;

// -------------------------------------------------------------- loader constants
pub const DQ_LOAD_KEEP: i32 = -1;
pub const DQ_LOAD_DEFAULT_BUDGET: u64 = 256 << 20;

// -------------------------------------------------------------- opaque handles
#[repr(C)]
pub struct dq_context {
    _private: [u8; 0],
}
#[repr(C)]
pub struct dq_model {
    _private: [u8; 0],
}
#[repr(C)]
pub struct dq_value {
    _private: [u8; 0],
}
#[repr(C)]
pub struct dq_loaded_model {
    _private: [u8; 0],
}
#[repr(C)]
pub struct dq_loader {
    _private: [u8; 0],
}
/// A placement built by `dq_plan_tensor_parallel` / `dq_plan_layers` (owns its parts).
#[repr(C)]
pub struct dq_load_plan {
    _private: [u8; 0],
}

// -------------------------------------------------------------- structs
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dq_backend_info {
    pub struct_size: usize,
    pub name: *const c_char,
    pub path: *const c_char,
    pub description: *const c_char,
    pub abi_major: u32,
    pub abi_minor: u32,
    pub loaded: i32,
    pub device_count: i32,
    pub status: *const c_char,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dq_device_info {
    pub struct_size: usize,
    pub name: *const c_char,
    pub total_memory: u64,
    pub free_memory: u64,
    pub is_gpu: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dq_location {
    pub backend: *const c_char,
    pub device: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dq_dequantize_request {
    pub struct_size: usize,
    pub src_type: i32,
    pub dst_type: i32,
    pub src: *const c_void,
    pub src_bytes: usize,
    pub n_elements: i64,
    pub dst: *mut c_void,
    pub dst_bytes: usize,
    pub src_where: dq_location,
    pub dst_where: dq_location,
    pub stream: *mut c_void,
    pub backend: *const c_char,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dq_tensor_info {
    pub struct_size: usize,
    pub name: *const c_char,
    /// `type` in C.
    pub type_: i32,
    pub n_dims: u32,
    pub ne: [i64; 4],
    pub n_elements: i64,
    pub n_bytes: u64,
    pub split: u32,
    pub file_offset: u64,
    pub data: *const c_void,
}

pub type dq_load_type_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, tensor: *const dq_tensor_info, proposed: i32) -> i32>;
pub type dq_load_progress_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, bytes_done: u64, bytes_total: u64)>;
pub type dq_load_buffer_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        tensor: *const dq_tensor_info,
        out_type: i32,
        row_begin: i64,
        row_end: i64,
        bytes: u64,
    ) -> *mut c_void,
>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dq_load_options {
    pub struct_size: usize,
    pub device: dq_location,
    pub output_type: i32,
    pub override_names: *const *const c_char,
    pub override_types: *const i32,
    pub n_overrides: usize,
    pub type_fn: dq_load_type_fn,
    pub type_user: *mut c_void,
    pub names: *const *const c_char,
    pub n_names: usize,
    pub row_begin: *const i64,
    pub row_end: *const i64,
    pub staging_budget: u64,
    pub copy_threads: i32,
    pub reserved0: i32,
    pub gpu_min_bytes: i64,
    pub progress: dq_load_progress_fn,
    pub progress_user: *mut c_void,
    pub buffer_fn: dq_load_buffer_fn,
    pub buffer_user: *mut c_void,
    /// Added after 1.0 (one load over several devices; zero means one device).
    pub devices: *const dq_location,
    pub n_devices: usize,
    pub parts: *const dq_load_part,
    pub n_parts: usize,
}

/// One piece of a placement (`dq_load_part`): rows and columns of a tensor to a device.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dq_load_part {
    pub struct_size: usize,
    pub name: *const c_char,
    pub device: i32,
    pub reserved: i32,
    pub row_begin: i64,
    pub row_end: i64,
    pub col_begin: i64,
    pub col_end: i64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dq_loaded_tensor {
    pub struct_size: usize,
    pub name: *const c_char,
    pub data: *mut c_void,
    pub where_: dq_location,
    /// `type` in C.
    pub type_: i32,
    pub src_type: i32,
    pub n_dims: u32,
    pub ne: [i64; 4],
    pub n_elements: i64,
    pub n_bytes: u64,
    pub file_bytes: u64,
    pub row_begin: i64,
    pub row_end: i64,
    pub backend: *const c_char,
    pub caller_owned: i32,
    pub reserved: i32,
    /// Added after 1.0: the columns loaded and the index of the tensor's device.
    pub col_begin: i64,
    pub col_end: i64,
    pub device_index: i32,
    pub reserved2: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dq_load_stats {
    pub struct_size: usize,
    pub file_bytes: u64,
    pub output_bytes: u64,
    pub tensors: i64,
    pub tensors_device: i64,
    pub tensors_cpu: i64,
    pub tensors_copied: i64,
    pub file_bytes_device: u64,
    pub file_bytes_cpu: u64,
    pub file_bytes_copied: u64,
    pub seconds_total: f64,
    pub seconds_setup: f64,
    pub seconds_pipeline: f64,
    pub staging_budget: u64,
    pub staging_high_water: u64,
    pub device_staging_bytes: u64,
    pub chunks: i64,
    pub copy_threads: i32,
    pub reserved: i32,
    pub device_backend: *const c_char,
    pub copy_method: *const c_char,
    pub seconds_setup_staging: f64,
    pub seconds_setup_outputs: f64,
    pub staging_pinned: *const c_char,
}

// Minimum struct sizes (the C macros DQ_*_MIN_SIZE).
pub const DQ_BACKEND_INFO_MIN_SIZE: usize = std::mem::size_of::<usize>();
pub const DQ_DEVICE_INFO_MIN_SIZE: usize = std::mem::size_of::<usize>();
pub const DQ_TENSOR_INFO_MIN_SIZE: usize = std::mem::size_of::<usize>();
pub const DQ_LOADED_TENSOR_MIN_SIZE: usize = std::mem::size_of::<usize>();
pub const DQ_LOAD_STATS_MIN_SIZE: usize = std::mem::size_of::<usize>();
pub const DQ_DEQUANTIZE_REQUEST_MIN_SIZE: usize =
    std::mem::offset_of!(dq_dequantize_request, dst_bytes) + std::mem::size_of::<usize>();
pub const DQ_LOAD_OPTIONS_MIN_SIZE: usize =
    std::mem::offset_of!(dq_load_options, output_type) + std::mem::size_of::<i32>();
pub const DQ_LOAD_PART_MIN_SIZE: usize = std::mem::size_of::<dq_load_part>();

// -------------------------------------------------------------- functions
extern "C" {
    pub fn dq_version_number() -> u32;
    pub fn dq_version_string() -> *const c_char;
    pub fn dq_status_string(status: dq_status) -> *const c_char;

    pub fn dq_type_name(type_: i32) -> *const c_char;
    pub fn dq_type_from_name(name: *const c_char) -> i32;
    pub fn dq_type_block_elements(type_: i32) -> i64;
    pub fn dq_type_block_bytes(type_: i32) -> usize;
    pub fn dq_type_nbytes(type_: i32, n_elements: i64, out_bytes: *mut u64) -> dq_status;

    pub fn dq_context_create(out: *mut *mut dq_context) -> dq_status;
    pub fn dq_context_destroy(ctx: *mut dq_context);
    pub fn dq_last_error(ctx: *const dq_context) -> *const c_char;

    pub fn dq_backend_count(ctx: *mut dq_context) -> i32;
    pub fn dq_backend_find(ctx: *mut dq_context, name: *const c_char) -> i32;
    pub fn dq_backend_get_info(ctx: *mut dq_context, backend: i32, out: *mut dq_backend_info) -> dq_status;
    pub fn dq_backend_get_device(
        ctx: *mut dq_context,
        backend: i32,
        device: i32,
        out: *mut dq_device_info,
    ) -> dq_status;
    pub fn dq_backend_supports(ctx: *mut dq_context, backend: i32, src_type: i32, dst_type: i32) -> i32;

    pub fn dq_malloc(ctx: *mut dq_context, where_: dq_location, bytes: usize, out: *mut *mut c_void) -> dq_status;
    pub fn dq_free(ctx: *mut dq_context, where_: dq_location, ptr: *mut c_void) -> dq_status;
    pub fn dq_memcpy(
        ctx: *mut dq_context,
        dst: *mut c_void,
        dst_where: dq_location,
        src: *const c_void,
        src_where: dq_location,
        bytes: usize,
    ) -> dq_status;
    pub fn dq_synchronize(ctx: *mut dq_context, where_: dq_location, stream: *mut c_void) -> dq_status;

    pub fn dq_dequantize(ctx: *mut dq_context, req: *const dq_dequantize_request) -> dq_status;
    pub fn dq_last_backend(ctx: *const dq_context) -> *const c_char;
    /// `n` requests of element size `reqs[0].struct_size`, validated before any runs.
    pub fn dq_dequantize_batch(ctx: *mut dq_context, reqs: *const dq_dequantize_request, n: usize) -> dq_status;

    pub fn dq_model_open(ctx: *mut dq_context, path: *const c_char, out: *mut *mut dq_model) -> dq_status;
    pub fn dq_model_close(model: *mut dq_model);
    pub fn dq_model_gguf_version(model: *const dq_model) -> u32;
    pub fn dq_model_alignment(model: *const dq_model) -> u32;
    pub fn dq_model_split_count(model: *const dq_model) -> u32;
    pub fn dq_model_data_offset(model: *const dq_model, split: u32) -> u64;
    pub fn dq_model_kv_count(model: *const dq_model) -> i64;
    pub fn dq_model_kv_find(model: *const dq_model, key: *const c_char) -> i64;
    pub fn dq_model_kv_key(model: *const dq_model, index: i64) -> *const c_char;
    pub fn dq_model_kv_value(model: *const dq_model, index: i64) -> *const dq_value;

    pub fn dq_value_get_type(value: *const dq_value) -> dq_value_type;
    pub fn dq_value_get_i64(value: *const dq_value, out: *mut i64) -> dq_status;
    pub fn dq_value_get_u64(value: *const dq_value, out: *mut u64) -> dq_status;
    pub fn dq_value_get_f64(value: *const dq_value, out: *mut f64) -> dq_status;
    pub fn dq_value_get_bool(value: *const dq_value, out: *mut i32) -> dq_status;
    pub fn dq_value_get_string(value: *const dq_value, out: *mut *const c_char, len: *mut u64) -> dq_status;
    pub fn dq_value_array_type(value: *const dq_value) -> dq_value_type;
    pub fn dq_value_array_count(value: *const dq_value) -> u64;
    pub fn dq_value_array_get(value: *const dq_value, index: u64) -> *const dq_value;
    pub fn dq_value_array_data(value: *const dq_value, out: *mut *const c_void, bytes: *mut u64) -> dq_status;

    pub fn dq_model_tensor_count(model: *const dq_model) -> i64;
    pub fn dq_model_tensor_find(model: *const dq_model, name: *const c_char) -> i64;
    pub fn dq_model_tensor_info(model: *const dq_model, index: i64, out: *mut dq_tensor_info) -> dq_status;
    pub fn dq_model_read_tensor(
        ctx: *mut dq_context,
        model: *const dq_model,
        index: i64,
        offset: u64,
        dst: *mut c_void,
        bytes: u64,
    ) -> dq_status;

    // dq_loader.h
    pub fn dq_load_options_init_sized(options: *mut dq_load_options, struct_size: usize) -> dq_status;
    /// The exported 0.1 function (in C a macro calls `dq_load_options_init_sized` instead).
    pub fn dq_load_options_init(options: *mut dq_load_options);
    pub fn dq_load(
        ctx: *mut dq_context,
        model: *const dq_model,
        options: *const dq_load_options,
        out: *mut *mut dq_loaded_model,
    ) -> dq_status;
    /// A hint before `dq_load(ctx, model, options)`: faults in the host staging that load will
    /// pin on a background thread (DQ_OK and nothing done where there is none to prepare).
    pub fn dq_load_prepare(ctx: *mut dq_context, model: *const dq_model, options: *const dq_load_options)
        -> dq_status;
    pub fn dq_load_file(
        ctx: *mut dq_context,
        path: *const c_char,
        options: *const dq_load_options,
        out: *mut *mut dq_loaded_model,
    ) -> dq_status;
    pub fn dq_loader_create(ctx: *mut dq_context, options: *const dq_load_options, out: *mut *mut dq_loader) -> dq_status;
    pub fn dq_loader_load(
        loader: *mut dq_loader,
        model: *const dq_model,
        options: *const dq_load_options,
        out: *mut *mut dq_loaded_model,
    ) -> dq_status;
    pub fn dq_loader_destroy(loader: *mut dq_loader);
    pub fn dq_loaded_count(loaded: *const dq_loaded_model) -> i64;
    pub fn dq_loaded_find(loaded: *const dq_loaded_model, name: *const c_char) -> i64;
    pub fn dq_loaded_get_tensor(loaded: *const dq_loaded_model, index: i64, out: *mut dq_loaded_tensor) -> dq_status;
    pub fn dq_loaded_get_stats(loaded: *const dq_loaded_model, out: *mut dq_load_stats) -> dq_status;
    pub fn dq_loaded_device_count(loaded: *const dq_loaded_model) -> i32;
    pub fn dq_loaded_get_device_stats(loaded: *const dq_loaded_model, index: i32, out: *mut dq_load_stats) -> dq_status;
    pub fn dq_plan_tensor_parallel(
        ctx: *mut dq_context,
        model: *const dq_model,
        n_devices: i32,
        rank: i32,
        out: *mut *mut dq_load_plan,
    ) -> dq_status;
    pub fn dq_plan_layers(ctx: *mut dq_context, model: *const dq_model, n_devices: i32, out: *mut *mut dq_load_plan)
        -> dq_status;
    pub fn dq_load_plan_parts(plan: *const dq_load_plan, n_parts: *mut usize) -> *const dq_load_part;
    pub fn dq_load_plan_free(plan: *mut dq_load_plan);
    pub fn dq_loaded_free(loaded: *mut dq_loaded_model);
    pub fn dq_measure_h2d_bandwidth(
        ctx: *mut dq_context,
        device: dq_location,
        bytes: u64,
        repeats: i32,
        bytes_per_second: *mut f64,
    ) -> dq_status;
}
