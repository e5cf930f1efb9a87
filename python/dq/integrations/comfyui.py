"""dq.integrations.comfyui: ComfyUI-GGUF's table `dequantize_functions[qtype](blocks,
block_size, type_size, dtype)` for every type dq dequantizes, and enable() to install it.

ComfyUI-GGUF (github.com/city96/ComfyUI-GGUF, dequant.py) reshapes a tensor's bytes into
`blocks`, a (n_blocks, type_size) uint8 tensor, calls `dequantize_functions[qtype](blocks,
block_size, type_size, dtype)` and reshapes the (n_blocks, block_size) result to the
tensor's shape; `dtype` may be None (ComfyUI casts afterwards). Types missing from its table
(IQ1-IQ3, TQ, MXFP4...) fall back to gguf-py's numpy code, one minute per step in a reported
case (ComfyUI-GGUF#255): with enable() every type runs on dq, on the blocks' device.
"""
from __future__ import annotations

import sys

import torch

from .. import _types
from ..torch import _BLOCKS, TORCH_DTYPES
from ._serve import dq_serves

_KEEP_TORCH_NATIVE = (0, 1)  # F32, F16: ComfyUI-GGUF uses them as plain tensors


def _qtype_key(type_id: int):
    """gguf.GGMLQuantizationType when gguf-py knows the id (ComfyUI's keys), else the int
    (equal and hashing alike, so either finds the entry)."""
    try:
        import gguf
        return gguf.GGMLQuantizationType(type_id)
    except (ImportError, ValueError):
        return type_id


def _make(type_id: int, fallback=None):
    def dequantize_blocks(blocks, block_size, type_size, dtype=None):
        out_dtype = dtype if dtype in TORCH_DTYPES else torch.float32
        if (block_size, type_size) == _BLOCKS[type_id] and blocks.dim() == 2 and \
                dq_serves(blocks, type_id, out_dtype):
            out = torch.ops.dq.dequantize(blocks.contiguous(), type_id,
                                          [blocks.shape[0], block_size], out_dtype)
            return out if dtype is None or dtype == out_dtype else out.to(dtype)
        if fallback is not None:
            return fallback(blocks, block_size, type_size, dtype)
        raise ValueError(f"dq: cannot dequantize {_types.type_name(type_id)} blocks of "
                         f"shape {tuple(blocks.shape)} ({blocks.dtype}, {blocks.device}) "
                         f"with block_size {block_size}, type_size {type_size}")
    dequantize_blocks.__name__ = f"dequantize_blocks_{_types.type_name(type_id).upper()}"
    return dequantize_blocks


def _table() -> dict:
    return {_qtype_key(t): _make(t) for t in sorted(_BLOCKS)
            if t not in _KEEP_TORCH_NATIVE and _types.cpu_dequantizes(t)}


dequantize_functions = _table()

_installed: list[tuple[dict, object, object]] = []  # (table, key, original or _ABSENT)
_ABSENT = object()


def _comfy_dequant_modules():
    for module in list(sys.modules.values()):
        table = getattr(module, "dequantize_functions", None)
        if isinstance(table, dict) and hasattr(module, "TORCH_COMPATIBLE_QTYPES") and \
                table is not dequantize_functions:
            yield module


def enable(module=None) -> int:
    """Installs dq's functions into ComfyUI-GGUF's `dequantize_functions` (of `module`, else
    of every imported module that has that table and TORCH_COMPATIBLE_QTYPES, as
    ComfyUI-GGUF's dequant.py does). Entries it had keep their function as the fallback.
    Returns the number of tables changed."""
    modules = [module] if module is not None else list(_comfy_dequant_modules())
    for mod in modules:
        table = mod.dequantize_functions
        if any(t is table for t, _, _ in _installed):
            continue
        for t in sorted(_BLOCKS):
            if t in _KEEP_TORCH_NATIVE or not _types.cpu_dequantizes(t):
                continue
            key = _qtype_key(t)
            original = table.get(key, _ABSENT)
            table[key] = _make(t, None if original is _ABSENT else original)
            _installed.append((table, key, original))
    return len(modules)


def disable() -> None:
    """Puts every table enable() changed back as it was."""
    for table, key, original in reversed(_installed):
        if original is _ABSENT:
            table.pop(key, None)
        else:
            table[key] = original
    _installed.clear()
