"""dq.integrations.transformers.enable(): both GGUF paths of transformers run on dq.

- The older path (every architecture but Qwen3.5): `load_gguf_checkpoint` imports gguf-py's
  `dequantize` when it runs, so dq.patch_gguf() serves it (numpy in, numpy out, bit-identical).
- The newer path keeps blocks packed and unpacks them with
  `transformers.integrations.gguf.kernels._dequantize_chunk` (a torch port, or a hub kernel
  on a GPU); it is replaced by torch.ops.dq.dequantize on the tensor's device (so on a GPU
  the weights are dequantized there), and the type tables gain every type dq knows.
Anything dq cannot do (other dtypes, gathered rows, a device without a dq backend) goes to
the original function. disable() undoes all of it.
"""
from __future__ import annotations

import torch

from .. import _patch
from ..torch import _BLOCKS
from . import _patching
from ._serve import dq_serves

_patches = _patching.Patches()
_added: list = []
_patched_gguf = False


def _dq_chunk(original):
    def dequantize_chunk(weight, ggml_type, rows, cols, dtype, indices=None):
        if indices is None and dq_serves(weight, ggml_type, dtype) and \
                weight.numel() // _BLOCKS[int(ggml_type)][1] * _BLOCKS[int(ggml_type)][0] == \
                rows * cols:
            return torch.ops.dq.dequantize(weight.contiguous(), int(ggml_type), [rows, cols],
                                           dtype)
        return original(weight, ggml_type, rows, cols, dtype, indices)
    dequantize_chunk.__wrapped__ = original
    return dequantize_chunk


def enable() -> None:
    """Routes transformers' GGUF dequantization through dq. Idempotent."""
    global _patched_gguf
    if is_enabled():
        return
    if not _patch.is_patched():
        _patch.patch_gguf()
        _patched_gguf = True
    try:
        from transformers.integrations.gguf import dequant, kernels
    except ImportError:  # a transformers without the packed path: the older path is enough
        return
    _patches.replace(kernels, "_dequantize_chunk", _dq_chunk(kernels._dequantize_chunk))
    from .._types import type_name
    _patching.add_entries(dequant.GGML_BLOCK, dict(_BLOCKS), _added)
    _patching.add_entries(dequant.GGML_NAME, {t: type_name(t).upper() for t in _BLOCKS},
                          _added)
    for table in (dequant.GGML_BLOCK, dequant.GGML_NAME):
        for t in (0, 1, 30):  # F32/F16/BF16 are read as tensors, not blocks: keep them out
            if (table, t) in _added:
                table.pop(t, None)
                _added.remove((table, t))


def disable() -> None:
    """Puts transformers' own code back."""
    global _patched_gguf
    _patches.restore()
    _patching.remove_entries(_added)
    if _patched_gguf:
        _patch.unpatch_gguf()
        _patched_gguf = False


def is_enabled() -> bool:
    return _patches.active or _patched_gguf
