"""Tensor types (ggml numbering, as in dq.h) and the numpy dtypes of outputs."""
from __future__ import annotations

import functools
import operator

import numpy as np

from ._lib import DQ_TYPE_BF16, DQ_TYPE_F16, DQ_TYPE_F32, DQError, lib, text

try:  # optional: bfloat16 arrays need ml_dtypes
    import ml_dtypes
    BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - depends on the environment
    BFLOAT16 = None

TYPE_COUNT = 43  # DQ_TYPE_COUNT; ids at or past it are unknown to this binding's core too

# Integer and f64 tensors: nothing dequantizes them; loads keep them as they are.
_KEPT_DTYPES = {24: np.dtype(np.int8), 25: np.dtype("<i2"), 26: np.dtype("<i4"),
                27: np.dtype("<i8"), 28: np.dtype("<f8"), DQ_TYPE_F32: np.dtype("<f4"),
                DQ_TYPE_F16: np.dtype("<f2")}


def type_name(type_id: int) -> str:
    """ggml name ("q4_K"), or "type <id>" when dq does not know the id."""
    name = lib.dq_type_name(type_id) if -2**31 <= type_id < 2**31 else None
    return text(name) if name else f"type {type_id}"


def block_size(type_id: int) -> tuple[int, int]:
    """(elements, bytes) per block; (0, 0) for unknown or retired ids."""
    if not 0 <= type_id < 2**31:
        return 0, 0
    return int(lib.dq_type_block_elements(type_id)), int(lib.dq_type_block_bytes(type_id))


def resolve_qtype(qtype) -> int:
    """An int, a gguf.GGMLQuantizationType (an IntEnum), or a name such as "q4_K"."""
    if isinstance(qtype, str):
        found = lib.dq_type_from_name(qtype.encode())
        if found < 0:
            raise DQError(f"unknown tensor type name '{qtype}'")
        return int(found)
    try:
        type_id = operator.index(qtype)
    except TypeError:
        raise DQError(f"qtype must be an int, a gguf.GGMLQuantizationType or a type name, "
                      f"not {type(qtype).__name__}") from None
    if not -2**31 <= type_id < 2**31:  # ctypes would silently wrap it into another id
        raise DQError(f"type {type_id} is unknown (ids 0..{TYPE_COUNT - 1})", 2)
    return type_id


_OUTPUT_NAMES = {"float32": DQ_TYPE_F32, "f32": DQ_TYPE_F32, "float16": DQ_TYPE_F16,
                 "f16": DQ_TYPE_F16, "half": DQ_TYPE_F16, "bfloat16": DQ_TYPE_BF16,
                 "bf16": DQ_TYPE_BF16}


def output_type(dtype) -> tuple[int, np.dtype]:
    """(dq output type id, numpy dtype) for float32, float16 or bfloat16 given as a numpy
    dtype, a type (numpy.float16, ml_dtypes.bfloat16) or a name ("float16", "bf16")."""
    if isinstance(dtype, str):
        type_id = _OUTPUT_NAMES.get(dtype.lower())
        if type_id is None:
            raise DQError(f"dtype '{dtype}' is not float32, float16 or bfloat16")
        return type_id, numpy_dtype_of(type_id)
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        raise DQError(f"dtype {dtype!r} is not float32, float16 or bfloat16") from None
    if np_dtype == np.float32:
        return DQ_TYPE_F32, np_dtype
    if np_dtype == np.float16:
        return DQ_TYPE_F16, np_dtype
    if BFLOAT16 is not None and np_dtype == BFLOAT16:
        return DQ_TYPE_BF16, np_dtype
    raise DQError(f"dtype {np_dtype} is not float32, float16 or bfloat16")


def numpy_dtype_of(type_id: int) -> np.dtype:
    """numpy dtype of elements of an output or kept type; uint8 for quantized bytes."""
    if type_id == DQ_TYPE_BF16:
        if BFLOAT16 is None:
            raise DQError("bfloat16 arrays need the ml_dtypes package (pip install ml_dtypes)")
        return BFLOAT16
    return _KEPT_DTYPES.get(type_id, np.dtype(np.uint8))


@functools.lru_cache(maxsize=None)
def cpu_dequantizes(type_id: int) -> bool:
    """True when the cpu plugin turns this type into f32 (the types gguf callers may
    route to dq)."""
    from ._lib import context
    ctx = context()
    cpu = lib.dq_backend_find(ctx, b"cpu")
    return cpu >= 0 and 0 <= type_id < 2**31 and bool(
        lib.dq_backend_supports(ctx, cpu, type_id, DQ_TYPE_F32))


def prod(values) -> int:
    return functools.reduce(operator.mul, values, 1)
