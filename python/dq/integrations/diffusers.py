"""dq.integrations.diffusers.enable(): diffusers' GGUF quantizer dequantizes with
torch.ops.dq.dequantize, and accepts every type dq dequantizes at load.

diffusers keeps GGUF weights packed (GGUFParameter) and calls
`quantizers.gguf.utils.dequantize_gguf_tensor` on every forward pass; it refuses types
missing from SUPPORTED_GGUF_QUANT_TYPES (13 types) when loading. enable() replaces the
function (in every module that bound it) with one over the op, on the weight's device, and
adds the other types to the list and to diffusers' dequantize_functions table. The result is
float32 equal to gguf-py's (diffusers' own port returns the scale's dtype for some types).
disable() undoes it.
"""
from __future__ import annotations

import sys

import torch

from ..torch import _BLOCKS
from . import _patching
from ._serve import dq_serves
from .comfyui import _make, _qtype_key, dequantize_functions as _dq_table

_patches = _patching.Patches()
_added_types: list = []
_added_functions: list = []


def _dq_dequantize_gguf_tensor(original):
    def dequantize_gguf_tensor(tensor):
        quant_type = getattr(tensor, "quant_type", None)
        if quant_type is None:
            return original(tensor)
        plain = tensor.as_tensor() if hasattr(tensor, "as_tensor") else tensor
        plain = plain.view(torch.uint8)
        qt = int(quant_type)
        if plain.dim() == 0 or not dq_serves(plain, qt, torch.float32):
            return original(tensor)
        elems, nbytes = _BLOCKS[qt]
        if plain.shape[-1] % nbytes:
            return original(tensor)
        shape = [*plain.shape[:-1], plain.shape[-1] // nbytes * elems]
        return torch.ops.dq.dequantize(plain.contiguous(), qt, shape, torch.float32)
    dequantize_gguf_tensor.__wrapped__ = original
    return dequantize_gguf_tensor


def _dq_fused_mul_mat(original, dequantize):
    """GGUFLinear.forward_cuda's matmul (used with diffusers' hub kernels): the types enable()
    added and the kernel lacks raise NotImplementedError there, so they are dequantized by
    dq and multiplied as diffusers does for its unquantized types."""
    from diffusers.quantizers.gguf import utils

    def _fused_mul_mat_gguf(x, qweight, qweight_type):
        if qweight_type in _added_types and \
                qweight_type not in getattr(utils, "DEQUANT_TYPES", ()):
            return x @ dequantize(qweight).to(x.dtype).T
        return original(x, qweight, qweight_type)
    _fused_mul_mat_gguf.__wrapped__ = original
    return _fused_mul_mat_gguf


def enable() -> None:
    """Routes diffusers' GGUF dequantization through dq. Idempotent."""
    if _patches.active:
        return
    from diffusers.quantizers.gguf import utils
    original = utils.dequantize_gguf_tensor
    replacement = _dq_dequantize_gguf_tensor(original)
    for module in list(sys.modules.values()):  # every `from .utils import ...` binding
        namespace = getattr(module, "__dict__", None)
        if isinstance(namespace, dict) and namespace.get("dequantize_gguf_tensor") is original:
            _patches.replace(module, "dequantize_gguf_tensor", replacement)
    supported = utils.SUPPORTED_GGUF_QUANT_TYPES
    for key in _dq_table:
        if key not in supported and key in utils.GGML_QUANT_SIZES:
            supported.append(key)
            _added_types.append(key)
    _patching.add_entries(utils.dequantize_functions,
                          {k: _make(int(k)) for k in _added_types}, _added_functions)
    if hasattr(utils, "_fused_mul_mat_gguf"):
        _patches.replace(utils, "_fused_mul_mat_gguf",
                         _dq_fused_mul_mat(utils._fused_mul_mat_gguf, replacement))


def disable() -> None:
    """Puts diffusers' own code and type list back."""
    _patches.restore()
    if _added_types:
        from diffusers.quantizers.gguf import utils
        for key in _added_types:
            if key in utils.SUPPORTED_GGUF_QUANT_TYPES:
                utils.SUPPORTED_GGUF_QUANT_TYPES.remove(key)
        _added_types.clear()
    _patching.remove_entries(_added_functions)


def is_enabled() -> bool:
    return _patches.active


__all__ = ["enable", "disable", "is_enabled", "_qtype_key"]
