"""dq.dequantize: gguf.quants.dequantize's contract, through the C library."""
from __future__ import annotations

import ctypes
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _buffers, _types
from ._lib import DQ_TYPE_BF16, DQ_TYPE_F16, DQ_TYPE_F32, DequantizeRequest, DQError, check, \
    context, lib

# threads=N splits the work into calls of fewer output elements than the cpu plugin
# parallelizes on its own (kParallelMinElements = 2^17 in plugins/cpu/dispatch.hpp), so each
# call runs on the thread that makes it and N Python threads (the GIL is released during
# the foreign call) use N cores.
_SERIAL_CALL_ELEMENTS = (1 << 17) - 1

# Element dtypes accepted besides bytes: gguf-py hands F32/F16 tensors as float arrays.
_OWN_DTYPES = {DQ_TYPE_F32: ("float32",), DQ_TYPE_F16: ("float16",),
               DQ_TYPE_BF16: ("bfloat16", "uint16", "int16")}


def _byte_rows(data, qtype: int, what: str) -> np.ndarray:
    """The input as C-contiguous uint8 rows: same leading shape, last axis in bytes."""
    arr = np.asarray(data)
    if arr.ndim == 0:
        raise DQError(f"{what}: data is a scalar; expected an array whose last axis holds "
                      "the bytes of each row")
    if arr.dtype.itemsize == 1 and arr.dtype.kind in "ui":
        return np.ascontiguousarray(arr).view(np.uint8)
    own = _OWN_DTYPES.get(qtype, ())
    if arr.dtype.byteorder not in ">" and arr.dtype.name in own:
        return np.ascontiguousarray(arr).view(np.uint8)
    expected = "uint8" + "".join(f" or {name}" for name in own)
    raise DQError(f"{what}: data has dtype {arr.dtype}; expected {expected}")


def _request(qtype: int, out_type: int, backend: bytes | None) -> DequantizeRequest:
    req = DequantizeRequest()
    req.struct_size = ctypes.sizeof(DequantizeRequest)
    req.src_type = qtype
    req.dst_type = out_type
    req.backend = backend
    return req


def _run_once(ctx, req, src: int, src_bytes: int, n: int, dst: int, dst_bytes: int) -> int:
    req.src, req.src_bytes, req.n_elements = src, src_bytes, n
    req.dst, req.dst_bytes = dst, dst_bytes
    return lib.dq_dequantize(ctx, ctypes.byref(req))


def _run_threads(ctx, qtype, out_type, backend, raw, out, n_blocks, block_elems, block_bytes,
                 threads: int, what: str) -> None:
    """Block-aligned pieces over `threads` Python threads, each piece one serial call."""
    out_block = block_elems * out.itemsize
    # Pieces of whole 64-element groups keep every piece's output 64-byte aligned, as the
    # SIMD kernels want it.
    group = max(1, 64 // block_elems)
    per_call = max(group, _SERIAL_CALL_ELEMENTS // block_elems // group * group)
    src0, dst0 = raw.ctypes.data, out.ctypes.data
    n_calls = -(-n_blocks // per_call)
    threads = min(threads, n_calls)
    errors: list[DQError] = []

    def work(part: int) -> None:
        req = _request(qtype, out_type, backend)
        first = n_calls * part // threads
        last = n_calls * (part + 1) // threads
        for c in range(first, last):
            b0 = c * per_call
            nb = min(per_call, n_blocks - b0)
            status = _run_once(ctx, req, src0 + b0 * block_bytes, nb * block_bytes,
                               nb * block_elems, dst0 + b0 * out_block, nb * out_block)
            if status:
                try:
                    check(status, ctx, what)  # dq_last_error is per thread: read it here
                except DQError as e:
                    errors.append(e)
                return

    if threads <= 1:
        work(0)
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dq") as pool:
            list(pool.map(work, range(threads)))
    if errors:
        raise errors[0]


def dequantize(data, qtype, *, dtype=np.float32, threads: int | None = None,
               backend: str | None = None) -> np.ndarray:
    """Dequantizes `data` like gguf.quants.dequantize(data, qtype), on dq's kernels.

    data: uint8 array (or float32 / float16 / bfloat16 for F32 / F16 / BF16), any leading
    shape, last axis in bytes; views that are not contiguous are copied first.
    qtype: int, gguf.GGMLQuantizationType or a name ("q4_K"). Every type dq knows,
    including Q8_K, Q1_0 and Q2_0, which gguf-py lacks.
    dtype: numpy.float32 (default), numpy.float16 or ml_dtypes.bfloat16 (round to nearest
    even of the f32 value).
    threads: None uses the library's own threads (DQ_THREADS, else all cores; on a machine
    with a GPU the registry may choose it for large tensors); N runs on exactly N CPU
    threads (the cpu backend).
    backend: force a backend ("cpu", "cuda"); None lets dq choose.
    Returns a new array: the same leading shape, the last axis in elements.
    Raises DQError (a ValueError) with the library's message on bad input.
    """
    qt = _types.resolve_qtype(qtype)
    name = _types.type_name(qt)
    what = f"dequantize {name}"
    out_type, out_dtype = _types.output_type(dtype)
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise DQError(f"{what}: threads must be a positive int or None, not {threads!r}")
    if threads is not None and backend is None:
        backend = "cpu"  # a thread count means CPU threads
    backend_b = backend.encode() if backend else None
    raw = _byte_rows(data, qt, what)
    ctx = context()
    block_elems, block_bytes = _types.block_size(qt)
    if block_elems <= 0:
        # Unknown or retired id: let the library say so in its own words.
        scratch = np.empty(16, dtype=np.float32)
        status = _run_once(ctx, _request(qt, out_type, backend_b), raw.ctypes.data,
                           raw.nbytes, 1, scratch.ctypes.data, scratch.nbytes)
        check(status or 2, ctx, what)
    row_bytes = raw.shape[-1]
    if row_bytes % block_bytes:
        raise DQError(f"{what}: {row_bytes} bytes per row (the last axis) are not a whole "
                      f"number of {block_bytes}-byte blocks")
    out_shape = raw.shape[:-1] + (row_bytes // block_bytes * block_elems,)
    out = _buffers.empty(out_shape, out_dtype)
    n_blocks = raw.size // block_bytes
    if n_blocks == 0:
        return out
    if threads is None or (threads == default_threads() and backend in (None, "cpu")):
        # One call: the library's own pool runs it on its threads (all cores, or DQ_THREADS).
        status = _run_once(ctx, _request(qt, out_type, backend_b), raw.ctypes.data,
                           raw.nbytes, n_blocks * block_elems, out.ctypes.data, out.nbytes)
        check(status, ctx, what)
    else:
        _run_threads(ctx, qt, out_type, backend_b, raw, out, n_blocks, block_elems,
                     block_bytes, threads, what)
    return out


def default_threads() -> int:
    """Cores the library uses by default: DQ_THREADS, else all cores."""
    env = os.environ.get("DQ_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return os.cpu_count() or 1

