"""dq.integrations.transformers.enable(): both GGUF paths of transformers run on dq.

- The older path (every architecture but Qwen3.5): `load_gguf_checkpoint` imports gguf-py's
  `dequantize` when it runs, so dq.patch_gguf() serves it (numpy in, numpy out, bit-identical).
- The newer path keeps blocks packed and unpacks them with
  `transformers.integrations.gguf.kernels._dequantize_chunk` (a torch port, or a hub kernel
  on a GPU); it is replaced by torch.ops.dq.dequantize on the tensor's device (so on a GPU
  the weights are dequantized there), and the type tables gain every type dq knows.
Anything dq cannot do (other dtypes, gathered rows, a device without a dq backend) goes to
the original function. disable() undoes all of it.

Two more changes make the older path's end-to-end time follow dq's (measured in
docs/PERFORMANCE.md), both leaving every result bit-identical:
- For architectures whose tensor processor only renames or moves data (llama and the
  default one), `load_gguf_checkpoint(return_tensors=True)` reads the tensors with
  dq.torch.load_file straight into torch tensors of the target dtype (f16/bf16: round to
  nearest even of the f32 value, exactly the `.to(dtype)` transformers applies), then runs
  transformers' own processor on them; the f32 copy, `np.copy` and the cast disappear.
  Other architectures keep transformers' loop, with gguf-py's dequantize on dq.
- gguf-py's `get_tensor_name_map(arch, n_blocks)` is cached: transformers builds the same
  map once per submodule (371 times for a 28-layer llama, 6 s on 2 cores).
"""
from __future__ import annotations

import functools

import numpy as np
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


def _fast_load(original, path, model_to_load, torch_dtype):
    """load_gguf_checkpoint(return_tensors=True) with the tensors read by dq.torch.load_file
    (straight into torch tensors of the target dtype); None when this file or model needs
    transformers' own loop (a processor that computes, integer tensors, a dtype dq lacks)."""
    from transformers import modeling_gguf_pytorch_utils as utils

    from .. import GGUFFile
    from ..torch import load_file
    if torch_dtype not in (None, torch.float32, torch.float16, torch.bfloat16):
        return None
    with GGUFFile(path) as f:
        architecture = f.metadata.get("general.architecture")
        types = {t.name: t.type for t in f.tensors}
    processor_class = utils.TENSOR_PROCESSORS.get(architecture, utils.TensorProcessor)
    # Processors that only rename or move data; others compute on the values (log, -1...)
    # in the dtype transformers gives them, which dq does not second-guess.
    if processor_class not in (utils.TensorProcessor,
                               getattr(utils, "LlamaTensorProcessor", utils.TensorProcessor)):
        return None
    if any(t in (24, 25, 26, 27, 28) for t in types.values()):  # integer or f64 tensors
        return None
    parsed = original(path, return_tensors=False, model_to_load=model_to_load,
                      torch_dtype=torch_dtype)
    processor = processor_class(config=parsed.get("config", {}))
    key_map = utils.get_gguf_hf_weights_map(model_to_load, processor)
    names = [n for n in types if n in key_map]
    out_dtype = torch_dtype or torch.float32
    loaded = load_file(path, device="cpu", dtype=out_dtype, names=names)
    tensors = {}
    for name in names:
        weights = loaded.pop(name)
        # numpy has no bfloat16: the processors only move data, so move the bits as int16
        as_numpy = weights.view(torch.int16) if weights.dtype == torch.bfloat16 else weights
        result = processor.process(weights=as_numpy.numpy(), name=name,
                                   tensor_key_mapping=key_map, parsed_parameters=parsed)
        if result.name not in key_map:
            continue
        tensor = torch.from_numpy(np.ascontiguousarray(result.weights))
        if weights.dtype == torch.bfloat16:
            tensor = tensor.view(torch.bfloat16)
        tensors[key_map[result.name]] = tensor
    parsed["tensors"] = tensors
    return parsed


def _wrap_load(original):
    @functools.wraps(original)
    def load_gguf_checkpoint(gguf_checkpoint_path, return_tensors=False, model_to_load=None,
                             torch_dtype=None):
        if return_tensors and model_to_load is not None:
            try:
                parsed = _fast_load(original, gguf_checkpoint_path, model_to_load, torch_dtype)
            except (ImportError, AttributeError, KeyError, TypeError):
                parsed = None  # another transformers: its own loop (gguf-py patched to dq)
            if parsed is not None:
                return parsed
        return original(gguf_checkpoint_path, return_tensors=return_tensors,
                        model_to_load=model_to_load, torch_dtype=torch_dtype)
    return load_gguf_checkpoint


def _patch_older_path() -> None:
    import gguf
    from gguf import tensor_mapping
    from transformers import modeling_gguf_pytorch_utils as utils
    cached = functools.lru_cache(maxsize=16)(tensor_mapping.get_tensor_name_map)
    _patches.replace(gguf, "get_tensor_name_map", cached)
    _patches.replace(tensor_mapping, "get_tensor_name_map", cached)
    _patches.replace(utils, "load_gguf_checkpoint", _wrap_load(utils.load_gguf_checkpoint))


def enable() -> None:
    """Routes transformers' GGUF dequantization through dq. Idempotent."""
    global _patched_gguf
    if is_enabled():
        return
    if not _patch.is_patched():
        _patch.patch_gguf()
        _patched_gguf = True
    try:
        _patch_older_path()
    except (ImportError, AttributeError):  # another transformers layout: patch_gguf is enough
        pass
    try:
        from transformers.integrations.gguf import dequant, kernels
    except ImportError:  # a transformers without the packed path: the older path is enough
        return
    _patches.replace(kernels, "_dequantize_chunk", _dq_chunk(kernels._dequantize_chunk))
    from .._types import cpu_dequantizes, type_name
    # Only types dq dequantizes: an entry here makes transformers treat the tensor as blocks,
    # so integer tensors (I8..I64, F64) or Q8_1 would trade its "not supported" error at read
    # for a KeyError in its own dequantizer on the CPU fallback.
    served = {t: b for t, b in _BLOCKS.items() if cpu_dequantizes(t)}
    _patching.add_entries(dequant.GGML_BLOCK, served, _added)
    _patching.add_entries(dequant.GGML_NAME, {t: type_name(t).upper() for t in served},
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
