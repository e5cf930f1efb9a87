"""ctypes binding of libdq-core's C ABI (include/dq/dq.h, dq_loader.h): the one contract.

The wheel carries the core at dq/lib/libdq-core.so.0 and its plugins in dq/lib/dq/, where
the core looks for them. DQ_LIBRARY=/path/to/libdq-core.so overrides the location (for a
build tree). Structs mirror the headers field for field; every struct the library reads
starts with struct_size, which we set to our (possibly older) size so a newer core reads
only the fields we know.
"""
from __future__ import annotations

import ctypes
import os
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int32, c_int64,
                    c_size_t, c_uint32, c_uint64, c_void_p)
from pathlib import Path


class DQError(ValueError):
    """An error reported by dq: bad input, unknown type, missing device, bad file.

    `status` is the library's dq_status number (None for checks made in Python)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


# dq_status values (dq.h; pinned numbers).
DQ_OK = 0
DQ_ERR_UNKNOWN_TYPE = 2
DQ_ERR_UNSUPPORTED = 3
DQ_ERR_NO_BACKEND = 5
DQ_ERR_NO_DEVICE = 6

DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_BF16 = 0, 1, 30
DQ_LOAD_KEEP = -1


class Location(Structure):
    _fields_ = [("backend", c_char_p), ("device", c_int32)]


class BackendInfo(Structure):
    _fields_ = [("struct_size", c_size_t), ("name", c_char_p), ("path", c_char_p),
                ("description", c_char_p), ("abi_major", c_uint32), ("abi_minor", c_uint32),
                ("loaded", c_int32), ("device_count", c_int32), ("status", c_char_p)]


class DeviceInfo(Structure):
    _fields_ = [("struct_size", c_size_t), ("name", c_char_p), ("total_memory", c_uint64),
                ("free_memory", c_uint64), ("is_gpu", c_int32)]


class DequantizeRequest(Structure):
    _fields_ = [("struct_size", c_size_t), ("src_type", c_int32), ("dst_type", c_int32),
                ("src", c_void_p), ("src_bytes", c_size_t), ("n_elements", c_int64),
                ("dst", c_void_p), ("dst_bytes", c_size_t), ("src_where", Location),
                ("dst_where", Location), ("stream", c_void_p), ("backend", c_char_p)]


class TensorInfo(Structure):
    _fields_ = [("struct_size", c_size_t), ("name", c_char_p), ("type", c_int32),
                ("n_dims", c_uint32), ("ne", c_int64 * 4), ("n_elements", c_int64),
                ("n_bytes", c_uint64), ("split", c_uint32), ("file_offset", c_uint64),
                ("data", c_void_p)]


TYPE_FN = CFUNCTYPE(c_int32, c_void_p, POINTER(TensorInfo), c_int32)
PROGRESS_FN = CFUNCTYPE(None, c_void_p, c_uint64, c_uint64)
BUFFER_FN = CFUNCTYPE(c_void_p, c_void_p, POINTER(TensorInfo), c_int32, c_int64, c_int64,
                      c_uint64)


class LoadOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("device", Location), ("output_type", c_int32),
                ("override_names", POINTER(c_char_p)), ("override_types", POINTER(c_int32)),
                ("n_overrides", c_size_t), ("type_fn", TYPE_FN), ("type_user", c_void_p),
                ("names", POINTER(c_char_p)), ("n_names", c_size_t),
                ("row_begin", POINTER(c_int64)), ("row_end", POINTER(c_int64)),
                ("staging_budget", c_uint64), ("copy_threads", c_int32),
                ("reserved0", c_int32), ("gpu_min_bytes", c_int64),
                ("progress", PROGRESS_FN), ("progress_user", c_void_p),
                ("buffer_fn", BUFFER_FN), ("buffer_user", c_void_p),
                # Added after 1.0: several devices and placements (dq_load_part).
                ("devices", POINTER(Location)), ("n_devices", c_size_t),
                ("parts", c_void_p), ("n_parts", c_size_t)]


class LoadPart(Structure):
    """dq_load_part: rows and columns of one tensor for one device of a load."""
    _fields_ = [("struct_size", c_size_t), ("name", c_char_p), ("device", c_int32),
                ("reserved", c_int32), ("row_begin", c_int64), ("row_end", c_int64),
                ("col_begin", c_int64), ("col_end", c_int64)]


class LoadedTensor(Structure):
    _fields_ = [("struct_size", c_size_t), ("name", c_char_p), ("data", c_void_p),
                ("where", Location), ("type", c_int32), ("src_type", c_int32),
                ("n_dims", c_uint32), ("ne", c_int64 * 4), ("n_elements", c_int64),
                ("n_bytes", c_uint64), ("file_bytes", c_uint64), ("row_begin", c_int64),
                ("row_end", c_int64), ("backend", c_char_p), ("caller_owned", c_int32),
                ("reserved", c_int32), ("col_begin", c_int64), ("col_end", c_int64),
                ("device_index", c_int32), ("reserved2", c_int32)]


class LoadStats(Structure):
    _fields_ = [("struct_size", c_size_t), ("file_bytes", c_uint64),
                ("output_bytes", c_uint64), ("tensors", c_int64), ("tensors_device", c_int64),
                ("tensors_cpu", c_int64), ("tensors_copied", c_int64),
                ("file_bytes_device", c_uint64), ("file_bytes_cpu", c_uint64),
                ("file_bytes_copied", c_uint64), ("seconds_total", c_double),
                ("seconds_setup", c_double), ("seconds_pipeline", c_double),
                ("staging_budget", c_uint64), ("staging_high_water", c_uint64),
                ("device_staging_bytes", c_uint64), ("chunks", c_int64),
                ("copy_threads", c_int32), ("reserved", c_int32),
                ("device_backend", c_char_p), ("copy_method", c_char_p)]


def _library_path() -> str:
    override = os.environ.get("DQ_LIBRARY")
    if override:
        return override
    return str(Path(__file__).resolve().parent / "lib" / "libdq-core.so.0")


def _load_library() -> ctypes.CDLL:
    path = _library_path()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(f"dq: cannot load libdq-core ({path}): {e}") from None

    def fn(name, restype, *argtypes):
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)
        return f

    ctx_p = c_void_p
    fn("dq_version_string", c_char_p)
    fn("dq_status_string", c_char_p, c_int32)
    fn("dq_type_name", c_char_p, c_int32)
    fn("dq_type_from_name", c_int32, c_char_p)
    fn("dq_type_block_elements", c_int64, c_int32)
    fn("dq_type_block_bytes", c_size_t, c_int32)
    fn("dq_context_create", c_int32, POINTER(c_void_p))
    fn("dq_context_destroy", None, ctx_p)
    fn("dq_last_error", c_char_p, ctx_p)
    fn("dq_backend_count", c_int32, ctx_p)
    fn("dq_backend_find", c_int32, ctx_p, c_char_p)
    fn("dq_backend_get_info", c_int32, ctx_p, c_int32, POINTER(BackendInfo))
    fn("dq_backend_get_device", c_int32, ctx_p, c_int32, c_int32, POINTER(DeviceInfo))
    fn("dq_backend_supports", c_int32, ctx_p, c_int32, c_int32, c_int32)
    fn("dq_malloc", c_int32, ctx_p, Location, c_size_t, POINTER(c_void_p))
    fn("dq_free", c_int32, ctx_p, Location, c_void_p)
    fn("dq_memcpy", c_int32, ctx_p, c_void_p, Location, c_void_p, Location, c_size_t)
    fn("dq_synchronize", c_int32, ctx_p, Location, c_void_p)
    fn("dq_dequantize", c_int32, ctx_p, POINTER(DequantizeRequest))
    fn("dq_last_backend", c_char_p, ctx_p)
    model_p = c_void_p
    value_p = c_void_p
    fn("dq_model_open", c_int32, ctx_p, c_char_p, POINTER(c_void_p))
    fn("dq_model_close", None, model_p)
    fn("dq_model_gguf_version", c_uint32, model_p)
    fn("dq_model_alignment", c_uint32, model_p)
    fn("dq_model_split_count", c_uint32, model_p)
    fn("dq_model_kv_count", c_int64, model_p)
    fn("dq_model_kv_key", c_char_p, model_p, c_int64)
    fn("dq_model_kv_value", value_p, model_p, c_int64)
    fn("dq_value_get_type", c_int32, value_p)
    fn("dq_value_get_i64", c_int32, value_p, POINTER(c_int64))
    fn("dq_value_get_u64", c_int32, value_p, POINTER(c_uint64))
    fn("dq_value_get_f64", c_int32, value_p, POINTER(c_double))
    fn("dq_value_get_bool", c_int32, value_p, POINTER(c_int32))
    fn("dq_value_get_string", c_int32, value_p, POINTER(c_void_p), POINTER(c_uint64))
    fn("dq_value_array_type", c_int32, value_p)
    fn("dq_value_array_count", c_uint64, value_p)
    fn("dq_value_array_get", value_p, value_p, c_uint64)
    fn("dq_value_array_data", c_int32, value_p, POINTER(c_void_p), POINTER(c_uint64))
    fn("dq_model_tensor_count", c_int64, model_p)
    fn("dq_model_tensor_info", c_int32, model_p, c_int64, POINTER(TensorInfo))
    if hasattr(lib, "dq_model_read_tensor"):  # pread of a tensor's bytes (no SIGBUS)
        fn("dq_model_read_tensor", c_int32, ctx_p, model_p, c_int64, c_uint64, c_void_p,
           c_uint64)
    # dq_load_options_init became a macro over dq_load_options_init_sized (the old symbol
    # stays, filling the 1.0 size): use the sized one where the core has it.
    if hasattr(lib, "dq_load_options_init_sized"):
        fn("dq_load_options_init_sized", c_int32, POINTER(LoadOptions), c_size_t)
    fn("dq_load_options_init", None, POINTER(LoadOptions))
    fn("dq_load", c_int32, ctx_p, model_p, POINTER(LoadOptions), POINTER(c_void_p))
    # The staging hint (cores from dq_load_prepare on; without it the hint does nothing).
    if hasattr(lib, "dq_load_prepare"):
        fn("dq_load_prepare", c_int32, ctx_p, model_p, POINTER(LoadOptions))
    loaded_p = c_void_p
    fn("dq_loaded_count", c_int64, loaded_p)
    fn("dq_loaded_get_tensor", c_int32, loaded_p, c_int64, POINTER(LoadedTensor))
    fn("dq_loaded_get_stats", c_int32, loaded_p, POINTER(LoadStats))
    fn("dq_loaded_free", None, loaded_p)
    # Placements (cores from issue 20 on; dq.torch.tensor_parallel says so when absent).
    if hasattr(lib, "dq_plan_tensor_parallel"):
        fn("dq_plan_tensor_parallel", c_int32, ctx_p, model_p, c_int32, c_int32,
           POINTER(c_void_p))
        fn("dq_plan_layers", c_int32, ctx_p, model_p, c_int32, POINTER(c_void_p))
        fn("dq_load_plan_parts", c_void_p, c_void_p, POINTER(c_size_t))
        fn("dq_load_plan_free", None, c_void_p)
    return lib


lib = _load_library()

_context: int | None = None
_context_lock = threading.Lock()


def context() -> int:
    """The process-wide dq_context, created on first use and never destroyed: arrays that
    own device memory and loaded models outlive any point where destroying it would be
    safe, and the process's exit releases it."""
    global _context
    if _context is None:
        with _context_lock:
            if _context is None:
                handle = c_void_p()
                status = lib.dq_context_create(ctypes.byref(handle))
                if status != DQ_OK:
                    raise DQError("dq: creating the context failed: " +
                                  lib.dq_status_string(status).decode(), status)
                # Discover the plugins now, under the lock, before threads share the context.
                lib.dq_backend_count(handle)
                _context = handle.value
    return _context


def init_load_options(options: LoadOptions) -> None:
    """dq_load_options_init for the fields this binding knows."""
    if hasattr(lib, "dq_load_options_init_sized"):
        lib.dq_load_options_init_sized(ctypes.byref(options), ctypes.sizeof(LoadOptions))
    else:
        lib.dq_load_options_init(ctypes.byref(options))
    options.struct_size = ctypes.sizeof(LoadOptions)


def text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def last_error(ctx: int) -> str:
    """The library's message for this thread's last failed call on ctx."""
    return text(lib.dq_last_error(ctx))


def check(status: int, ctx: int, what: str = "") -> None:
    """Raises DQError carrying the library's message when status is not DQ_OK; `what`
    (a file or tensor) is put in front unless the message already names it."""
    if status == DQ_OK:
        return
    message = last_error(ctx) or text(lib.dq_status_string(status))
    if what and what not in message:
        message = f"{what}: {message}"
    raise DQError(message, status)
