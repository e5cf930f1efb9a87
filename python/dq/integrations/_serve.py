"""What the torch op can take over from another project's dequantizer."""
from __future__ import annotations

import functools

import torch

from .. import _types
from .._backends import device_info
from .._lib import context, lib
from ..torch import _BLOCKS, TORCH_DTYPES, dq_backend_of_torch_gpu


@functools.lru_cache(maxsize=None)
def _gpu_serves(backend: str, qt: int, dst: int) -> bool:
    """dq's `backend` has a device and a kernel for qt -> dst: what the op needs for torch's
    GPU tensors ("hip" under a ROCm build of torch, whose "cuda" devices are HIP devices)."""
    ctx = context()
    b = lib.dq_backend_find(ctx, backend.encode())
    return b >= 0 and device_info(backend, 0) is not None and \
        bool(lib.dq_backend_supports(ctx, b, qt, dst))


def dq_serves(data, qtype, dtype) -> bool:
    """True when torch.ops.dq.dequantize can dequantize `data` (uint8 blocks) of this type
    into `dtype` on data's device; everything else goes to the original code."""
    try:
        qt = int(qtype)
    except (TypeError, ValueError):
        return False
    if not isinstance(data, torch.Tensor) or data.dtype != torch.uint8:
        return False
    if dtype not in TORCH_DTYPES or qt not in _BLOCKS or qt == 0:  # F32: nothing to do
        return False
    if data.numel() % _BLOCKS[qt][1]:
        return False  # the original raises its own error
    if data.device.type == "cpu":
        return _types.cpu_dequantizes(qt)
    return data.device.type == "cuda" and \
        _gpu_serves(dq_backend_of_torch_gpu(), qt, TORCH_DTYPES[dtype])


def elements_of(data: torch.Tensor, qtype: int) -> int:
    elems, nbytes = _BLOCKS[int(qtype)]
    return data.numel() // nbytes * elems
