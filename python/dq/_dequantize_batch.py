"""dq.dequantize_batch: many tensors in one dq_dequantize_batch call."""
from __future__ import annotations

import ctypes
import re

import numpy as np

from . import _buffers, _types
from ._dequantize import _byte_rows
from ._lib import DequantizeRequest, DQError, check, context, lib


def _batch_fn():
    """dq_dequantize_batch with its signature (libraries older than issue 17 lack it)."""
    f = getattr(lib, "dq_dequantize_batch", None)
    if f is None:
        raise DQError("dequantize_batch: this libdq-core has no dq_dequantize_batch "
                      "(built before it was added)")
    f.restype = ctypes.c_int32
    f.argtypes = [ctypes.c_void_p, ctypes.POINTER(DequantizeRequest), ctypes.c_size_t]
    return f


def dequantize_batch(items, *, dtype=np.float32, backend: str | None = None) -> list[np.ndarray]:
    """Dequantizes every (data, qtype) of `items` in one library call.

    Each item is what dequantize(data, qtype) takes (uint8 rows, any leading shape, or
    float arrays for F32 / F16 / BF16); each result is what it returns, in order. The
    library validates every tensor before dequantizing any: a bad one raises DQError naming
    its index ("request 2: ...") and no output is produced. A backend with a batch entry
    (cpu, cuda) serves them all in one dispatch, which saves the per-call cost on many
    small tensors.
    dtype: numpy.float32 (default), numpy.float16 or ml_dtypes.bfloat16, for all of them.
    backend: force a backend ("cpu", "cuda"); None lets dq choose per tensor.
    """
    out_type, out_dtype = _types.output_type(dtype)
    backend_b = backend.encode() if backend else None
    rows, outs, reqs = [], [], []
    item_of = []  # the item each request came from (empty tensors make no request)
    for i, item in enumerate(items):
        try:
            data, qtype = item
        except (TypeError, ValueError):
            raise DQError(f"dequantize_batch: item {i} is not a (data, qtype) pair") from None
        qt = _types.resolve_qtype(qtype)
        what = f"dequantize_batch: item {i} ({_types.type_name(qt)})"
        raw = _byte_rows(data, qt, what)
        block_elems, block_bytes = _types.block_size(qt)
        row_bytes = raw.shape[-1]
        if block_elems > 0 and row_bytes % block_bytes:
            raise DQError(f"{what}: {row_bytes} bytes per row (the last axis) are not a whole "
                          f"number of {block_bytes}-byte blocks")
        # Unknown or retired ids go to the library with one element: its message names them.
        n = raw.size // block_bytes * block_elems if block_elems > 0 else 1
        shape = raw.shape[:-1] + ((row_bytes // block_bytes * block_elems,)
                                  if block_elems > 0 else (1,))
        out = _buffers.empty(shape, out_dtype)
        rows.append(raw)
        outs.append(out)
        if n == 0:
            continue  # nothing to do for an empty tensor (the library refuses n == 0)
        req = DequantizeRequest()
        req.struct_size = ctypes.sizeof(DequantizeRequest)
        req.src_type, req.dst_type, req.backend = qt, out_type, backend_b
        req.src, req.src_bytes, req.n_elements = raw.ctypes.data, raw.nbytes, n
        req.dst, req.dst_bytes = out.ctypes.data, out.nbytes
        reqs.append(req)
        item_of.append(i)
    if reqs:
        array = (DequantizeRequest * len(reqs))(*reqs)
        ctx = context()
        try:
            check(_batch_fn()(ctx, array, len(reqs)), ctx, "dequantize_batch")
        except DQError as e:
            # The library counts requests; name the caller's item.
            message = re.sub(r"request (\d+):", lambda m: f"item {item_of[int(m.group(1))]}:",
                             str(e), count=1)
            raise DQError(message, e.status) from None
    return outs
