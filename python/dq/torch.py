"""dq for PyTorch: the custom op torch.ops.dq.dequantize and dq.torch.load_file.

    import torch, dq.torch
    w = dq.torch.dequantize(blocks, "q4_K", shape=(4096, 4096), dtype=torch.float16)
    w = torch.ops.dq.dequantize(blocks, 12, [4096, 4096], torch.float16)   # the same op
    weights = dq.torch.load_file("model.gguf", device="cuda:0", dtype=torch.float16)

The op is registered with torch.library.custom_op (no libtorch ABI is built against, so
one wheel serves every torch version) and has a fake implementation, so it traces under
torch.compile(fullgraph=True). It runs where its input is: CPU tensors on dq's cpu plugin,
CUDA tensors on the cuda plugin (the hip plugin under a ROCm build of torch), on torch's
current stream. The output comes from
torch.empty, so torch's allocator owns it. Importing dq alone never imports torch.
See docs/PYTHON.md.
"""
from __future__ import annotations

import ctypes
import operator

import torch

from . import _types
from ._lib import (DQ_TYPE_BF16, DQ_TYPE_F16, DQ_TYPE_F32, DequantizeRequest, DQError,
                   Location, check, context, lib)
from ._shard import TensorParallel, tensor_parallel
from .torch_load import dq_backend_of_torch_gpu, load_file

__all__ = ["dequantize", "load_file", "block_size", "TORCH_DTYPES", "tensor_parallel",
           "TensorParallel"]

# Output dtypes and their dq ids.
TORCH_DTYPES = {torch.float32: DQ_TYPE_F32, torch.float16: DQ_TYPE_F16,
                torch.bfloat16: DQ_TYPE_BF16}

# Block geometry and names of every type, read once: the wrapper below looks them up in
# plain dicts, which torch.compile traces without a graph break (a ctypes call would break
# the graph).
_BLOCKS: dict[int, tuple[int, int]] = {}
_NAMES: dict[str, int] = {}
for _id in range(_types.TYPE_COUNT):
    _elems, _bytes = _types.block_size(_id)
    if _elems > 0:
        _BLOCKS[_id] = (_elems, _bytes)
        _NAMES[_types.type_name(_id).lower()] = _id


def block_size(qtype: int) -> tuple[int, int]:
    """(elements, bytes) per block of a type id dq knows; DQError for any other id."""
    found = _BLOCKS.get(qtype)
    if found is None:
        raise DQError(f"type {qtype} is unknown (ids 0..{_types.TYPE_COUNT - 1})", 2)
    return found


def _type_name(qtype: int) -> str:
    return _types.type_name(qtype) if qtype in _BLOCKS else f"type {qtype}"


def _check_call(data: torch.Tensor, qtype: int, shape, dtype, real: bool = True) -> int:
    """Validates the op's arguments; returns the number of output elements."""
    elems, nbytes = block_size(qtype)
    what = f"dq.dequantize {_type_name(qtype)}"
    if data.dtype != torch.uint8:
        raise DQError(f"{what}: data has dtype {data.dtype}; expected torch.uint8 (the "
                      "tensor's bytes)")
    if dtype not in TORCH_DTYPES:
        raise DQError(f"{what}: dtype {dtype} is not torch.float32, torch.float16 or "
                      "torch.bfloat16")
    # No int() on the sizes: under torch.export / dynamic compiles they are SymInts, and int()
    # would pin a dynamic dimension to its example value; the checks below stay symbolic.
    if any(s < 0 for s in shape):
        raise DQError(f"{what}: shape {list(shape)} has a negative size")
    n = 1
    for s in shape:
        n *= s
    if n % elems:
        raise DQError(f"{what}: shape {list(shape)} holds {n} elements, not a whole number "
                      f"of {elems}-element blocks")
    if data.numel() != n // elems * nbytes:
        raise DQError(f"{what}: data has {data.numel()} bytes; shape {list(shape)} needs "
                      f"{n // elems * nbytes} ({n // elems} blocks of {nbytes} bytes)")
    if real and data.device.type not in ("cpu", "cuda"):  # the fake impl also runs on meta
        raise DQError(f"{what}: device {data.device} is not supported (cpu or cuda)")
    return n


@torch.library.custom_op("dq::dequantize", mutates_args=())
def _dequantize_op(data: torch.Tensor, qtype: int, shape: list[int],
                   dtype: torch.dtype) -> torch.Tensor:
    n = _check_call(data, qtype, shape, dtype)
    out = torch.empty(shape, dtype=dtype, device=data.device)
    if n == 0:
        return out
    src = data.contiguous()
    req = DequantizeRequest()
    req.struct_size = ctypes.sizeof(DequantizeRequest)
    req.src_type, req.dst_type = qtype, TORCH_DTYPES[dtype]
    req.src, req.src_bytes, req.n_elements = src.data_ptr(), src.numel(), n
    req.dst, req.dst_bytes = out.data_ptr(), out.numel() * out.element_size()
    if data.device.type == "cuda":
        # Device pointers on the tensor's device, queued on torch's current stream: no
        # allocation and no synchronization inside dq, so it also runs under CUDA graph
        # capture.
        index = data.device.index if data.device.index is not None else \
            torch.cuda.current_device()
        backend = dq_backend_of_torch_gpu().encode()  # "hip" under ROCm torch
        where = Location(backend, index)
        req.src_where, req.dst_where = where, where
        req.stream = torch.cuda.current_stream(data.device).cuda_stream
        req.backend = backend
    else:
        req.backend = b"cpu"
    ctx = context()
    check(lib.dq_dequantize(ctx, ctypes.byref(req)), ctx,
          f"dq.dequantize {_type_name(qtype)}")
    return out


@_dequantize_op.register_fake
def _(data, qtype, shape, dtype):
    _check_call(data, qtype, shape, dtype, real=False)
    return data.new_empty(shape, dtype=dtype)


def _resolve(qtype) -> int:
    if isinstance(qtype, str):
        found = _NAMES.get(qtype.lower())
        if found is None:
            raise DQError(f"unknown tensor type name '{qtype}'")
        return found
    try:  # an int or a gguf.GGMLQuantizationType; a float is refused as dq.dequantize does
        return operator.index(qtype)
    except TypeError:
        raise DQError(f"qtype must be an int, a gguf.GGMLQuantizationType or a type name, "
                      f"not {type(qtype).__name__}") from None


def dequantize(data: torch.Tensor, qtype, shape=None, dtype=torch.float32) -> torch.Tensor:
    """torch.ops.dq.dequantize with friendlier arguments.

    data: uint8 tensor of blocks (CPU or CUDA). qtype: int, gguf.GGMLQuantizationType or a
    name ("q4_K"). shape: the output's shape; None: data's leading shape with the last axis
    (bytes) turned into elements, as gguf.quants.dequantize does. dtype: torch.float32,
    torch.float16 or torch.bfloat16.
    """
    qt = _resolve(qtype)
    if shape is None:
        elems, nbytes = block_size(qt)
        if data.dim() == 0 or data.shape[-1] % nbytes:
            raise DQError(f"dq.dequantize {_type_name(qt)}: the last axis of data "
                          f"({tuple(data.shape)}) is not a whole number of {nbytes}-byte "
                          "blocks")
        shape = list(data.shape[:-1]) + [data.shape[-1] // nbytes * elems]
    return torch.ops.dq.dequantize(data, qt, list(shape), dtype)
