"""Output memory for dq.dequantize: large buffers are recycled once their array is gone.

Writing a fresh 64 MB numpy array costs more in page faults (the kernel zeroing and mapping
16,384 pages) than dq's kernels take to fill it (measured: docs/PERFORMANCE.md). Loops that
dequantize tensor after tensor, letting each result go (converted, copied to a device,
saved), get already-mapped memory back instead. A freed buffer waits in a small cache:
at most DQ_PY_RECYCLE_MB megabytes in all (default 1024; 0 turns recycling off), oldest
dropped first. Results are always new arrays: a buffer is reused only after every array
that used it is gone.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict

import numpy as np

_ALIGNMENT = 64  # the cpu kernels stream (non-temporal stores) into 64-byte-aligned output
_MIN_RECYCLED = 1 << 20  # smaller arrays come from numpy's allocator (malloc reuses them)
_GRANULE = 2 << 20  # sizes are rounded up to 2 MiB so similar tensors share buffers


def _limit_bytes() -> int:
    try:
        return max(0, int(os.environ.get("DQ_PY_RECYCLE_MB", "1024"))) << 20
    except ValueError:
        return 1024 << 20


_lock = threading.Lock()
_free: OrderedDict[int, list[np.ndarray]] = OrderedDict()  # size -> free blocks, oldest first
_free_bytes = 0
# Blocks given back while _lock was taken. A finalizer must never wait for the lock: the
# cyclic GC runs finalizers at whatever allocation crosses its threshold, including one
# made while this thread holds _lock, which would then wait for itself. Whoever holds the
# lock files these before letting it go (list.append and list.pop are atomic).
_returned: list[np.ndarray] = []


class _Lease:
    """Base object of a returned array: gives its block back when the array is gone."""

    def __init__(self, block: np.ndarray, nbytes: int):
        self._block = block
        self.__array_interface__ = {"data": (block.ctypes.data, False), "shape": (nbytes,),
                                    "typestr": "|u1", "version": 3}

    def __del__(self):
        block, self._block = getattr(self, "_block", None), None
        if block is not None:
            try:
                _give_back(block)
            except Exception:  # noqa: BLE001 - interpreter shutdown: let the memory go
                pass


def _give_back(block: np.ndarray) -> None:
    """Files `block` for reuse now, or leaves it to the lock's holder; never blocks."""
    _returned.append(block)
    if _lock.acquire(blocking=False):
        _release()


def _release() -> None:
    """Files the returned blocks, then releases _lock (which the caller holds)."""
    try:
        _file_returned_locked()
    finally:
        _lock.release()


def _file_returned_locked() -> None:
    while _returned:
        _file_locked(_returned.pop())


def _file_locked(block: np.ndarray) -> None:
    global _free_bytes
    limit = _limit_bytes()
    size = block.nbytes
    if size > limit:
        return
    _free.setdefault(size, []).append(block)
    _free.move_to_end(size)
    _free_bytes += size
    while _free_bytes > limit and _free:
        oldest_size, blocks = next(iter(_free.items()))
        blocks.pop(0)
        _free_bytes -= oldest_size
        if not blocks:
            del _free[oldest_size]


def _take(size: int) -> np.ndarray | None:
    global _free_bytes
    _lock.acquire()
    try:
        _file_returned_locked()
        blocks = _free.get(size)
        if not blocks:
            return None
        block = blocks.pop()
        if not blocks:
            del _free[size]
        _free_bytes -= size
        return block
    finally:
        _release()


def _aligned(nbytes: int) -> np.ndarray:
    raw = np.empty(nbytes + _ALIGNMENT, dtype=np.uint8)
    skip = (-raw.ctypes.data) % _ALIGNMENT
    return raw[skip:skip + nbytes]


def empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialized C-contiguous array, 64-byte aligned, from recycled memory when a
    freed buffer of its size class is waiting."""
    dtype = np.dtype(dtype)
    count = 1
    for d in shape:
        count *= d
    nbytes = count * dtype.itemsize
    if nbytes < _MIN_RECYCLED or _limit_bytes() == 0:
        return _aligned(nbytes).view(dtype).reshape(shape)
    size = -(-nbytes // _GRANULE) * _GRANULE
    block = _take(size)
    if block is None:
        block = _aligned(size)
    return np.asarray(_Lease(block, nbytes)).view(dtype).reshape(shape)


def cached_bytes() -> int:
    """Bytes of freed buffers waiting for reuse (for tests)."""
    with _lock:
        return _free_bytes


def clear() -> None:
    """Drops every waiting buffer."""
    global _free_bytes
    with _lock:
        _returned.clear()
        _free.clear()
        _free_bytes = 0
