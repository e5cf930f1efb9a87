"""What the torch op can take over from another project's dequantizer."""
from __future__ import annotations

import functools

import torch

from .. import _types
from ..torch import _BLOCKS, TORCH_DTYPES


@functools.lru_cache(maxsize=None)
def _cuda_backend() -> bool:
    from .._backends import backends
    return any(b.name == "cuda" and b.loaded and b.devices for b in backends())


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
    return data.device.type == "cuda" and _cuda_backend()


def elements_of(data: torch.Tensor, qtype: int) -> int:
    elems, nbytes = _BLOCKS[int(qtype)]
    return data.numel() // nbytes * elems
