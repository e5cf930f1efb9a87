"""dq.patch_gguf(): gguf-py's dequantize served by dq, for every existing caller.

gguf-py exposes one function under two names, gguf.quants.dequantize and gguf.dequantize
(`from .quants import *`). transformers imports it inside its loading function
(`from gguf import GGUFReader, dequantize`), so it picks up the patched name at call time.
Modules that bound the original earlier (`from gguf import dequantize` at import time) are
found in sys.modules and patched too, and restored by unpatch_gguf().
"""
from __future__ import annotations

import contextlib
import sys
import threading

import numpy as np

from . import _types
from ._dequantize import dequantize

_lock = threading.Lock()
_original = None  # the function patch_gguf() replaced; None while not patched
_fallback = None  # the same, kept after unpatching for replacements someone still holds
_patched_names: list[tuple[object, str]] = []  # (module, attribute) we replaced

_F32 = 0  # gguf-py returns a view of the input for F32: keep that (and its cost, none)


def _dq_serves(data, qtype) -> bool:
    try:
        qt = int(qtype)
    except (TypeError, ValueError):
        return False
    # LazyNumpyTensor and other array-likes keep gguf-py's own path (memmaps are arrays).
    return (isinstance(data, np.ndarray) and qt != _F32 and _types.cpu_dequantizes(qt)
            and (data.dtype.itemsize == 1 or (qt, data.dtype.name) in
                 ((1, "float16"), (30, "uint16"), (30, "bfloat16"))))


def gguf_dequantize(data, qtype):
    """Replacement for gguf.quants.dequantize: dq for the types it does, else the original."""
    if _fallback is not None and not _dq_serves(data, qtype):
        return _fallback(data, qtype)
    return dequantize(data, qtype)


def _modules_holding(func):
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for attr, value in list(namespace.items()):
            if value is func:
                yield module, attr


def patch_gguf() -> None:
    """Routes gguf.quants.dequantize and gguf.dequantize (and names bound to them) to dq.
    Idempotent. Raises ImportError when gguf is not installed."""
    global _original, _fallback
    import gguf.quants
    with _lock:
        if _original is not None:
            return
        original = gguf.quants.dequantize
        for module, attr in _modules_holding(original):
            setattr(module, attr, gguf_dequantize)
            _patched_names.append((module, attr))
        _original = _fallback = original


def unpatch_gguf() -> None:
    """Puts the original function back everywhere patch_gguf() replaced it."""
    global _original
    with _lock:
        if _original is None:
            return
        for module, attr in _patched_names:
            if getattr(module, attr, None) is gguf_dequantize:
                setattr(module, attr, _original)
        _patched_names.clear()
        _original = None


def is_patched() -> bool:
    return _original is not None


@contextlib.contextmanager
def patched_gguf():
    """`with dq.patched_gguf():` patches for the block; leaves a patch made before alone."""
    was = is_patched()
    patch_gguf()
    try:
        yield
    finally:
        if not was:
            unpatch_gguf()
