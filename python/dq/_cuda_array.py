"""Device arrays returned by dq.load_file(device="cuda:N").

Each CudaArray owns its own allocation (dq_malloc on the backend's device), freed with
dq_free when the last reference goes: the array itself, or any torch / cupy / JAX tensor
made from it with from_dlpack (zero-copy: same pointer), which holds the allocation through
the DLPack deleter.
"""
from __future__ import annotations

import ctypes

import numpy as np

from . import _dlpack
from ._lib import Location, check, context, lib


class DeviceBuffer:
    """One allocation of `nbytes` on device `device` of `backend`, freed on collection."""

    def __init__(self, backend: str, device: int, nbytes: int):
        self.ctx = context()
        self._backend = backend.encode()  # the Location below points into this bytes
        self.where = Location(self._backend, device)
        self.nbytes = nbytes
        ptr = ctypes.c_void_p()
        check(lib.dq_malloc(self.ctx, self.where, max(1, nbytes), ctypes.byref(ptr)), self.ctx,
              f"allocating {nbytes} bytes on {backend}:{device}")
        self.address = ptr.value

    def __del__(self):
        address, self.address = getattr(self, "address", None), None
        if address:
            lib.dq_free(self.ctx, self.where, address)


class CudaArray:
    """A C-contiguous array in device memory. Hand it to torch.from_dlpack,
    cupy.from_dlpack, jax.dlpack.from_dlpack (or anything reading
    __cuda_array_interface__); .numpy() copies it to the host."""

    def __init__(self, buffer: DeviceBuffer, shape: tuple[int, ...], dtype: np.dtype):
        self._buffer = buffer
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)

    @property
    def device(self) -> int:
        return self._buffer.where.device

    @property
    def data_ptr(self) -> int:
        return self._buffer.address

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def __cuda_array_interface__(self) -> dict:
        # bfloat16 has no typestr consumers know ('<V2'): take bf16 through DLPack.
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self.data_ptr, False),
                "version": 3, "strides": None, "stream": None}

    def __dlpack_device__(self) -> tuple[int, int]:
        return (_dlpack.KDL_CUDA, self.device)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        # The data was complete when load_file returned (dq_load waits for its streams),
        # so any consumer stream may read it at once: nothing to order against `stream`.
        if copy:
            raise BufferError("dq.CudaArray: DLPack export never copies (copy=True asked)")
        if dl_device is not None and tuple(dl_device) != self.__dlpack_device__():
            raise BufferError(f"dq.CudaArray lives on {self.__dlpack_device__()}, "
                              f"not {tuple(dl_device)}")
        versioned = max_version is not None and tuple(max_version) >= (1, 0)
        return _dlpack.make_capsule(self.data_ptr, self.shape, self.dtype, _dlpack.KDL_CUDA,
                                    self.device, self._buffer, versioned)

    def numpy(self) -> np.ndarray:
        """A host copy."""
        out = np.empty(self.shape, dtype=self.dtype)
        if self.nbytes:
            ctx = self._buffer.ctx
            check(lib.dq_memcpy(ctx, out.ctypes.data, Location(None, 0), self.data_ptr,
                                self._buffer.where, self.nbytes), ctx, "copying to the host")
        return out

    get = numpy  # cupy's spelling

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("dq.CudaArray: a host array is always a copy")
        out = self.numpy()
        return out if dtype is None else out.astype(dtype)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self) -> str:
        return (f"CudaArray(shape={self.shape}, dtype={self.dtype}, device='cuda:{self.device}', "
                f"ptr=0x{self.data_ptr:x})")

