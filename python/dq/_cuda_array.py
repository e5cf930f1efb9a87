"""Device arrays returned by dq.load_file(device="cuda:N") (or "hip:N", "vulkan:N").

Each DeviceArray owns its own allocation (dq_malloc on the backend's device), freed with
dq_free when the last reference goes: the array itself, or any torch / cupy / JAX tensor
made from it with from_dlpack (zero-copy: same pointer), which holds the allocation through
the DLPack deleter.

Only memory that other libraries can address is exported: cuda memory as DLPack kDLCUDA and
__cuda_array_interface__, hip memory as DLPack kDLROCM. A Vulkan backend's "pointer" is an
address in dq's own scheme (a buffer and an offset), not one any CUDA or ROCm library can
read, so those arrays export nothing: .numpy() copies them to the host.
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


# The DLPack device type of each backend whose memory other libraries can address.
_DLPACK_DEVICE_TYPES = {"cuda": _dlpack.KDL_CUDA, "hip": _dlpack.KDL_ROCM}


class DeviceArray:
    """A C-contiguous array in device memory. On cuda, hand it to torch.from_dlpack,
    cupy.from_dlpack, jax.dlpack.from_dlpack (or anything reading
    __cuda_array_interface__); on hip, to a ROCm build's from_dlpack; on any backend,
    .numpy() copies it to the host."""

    def __init__(self, buffer: DeviceBuffer, shape: tuple[int, ...], dtype: np.dtype):
        self._buffer = buffer
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)

    @property
    def backend(self) -> str:
        """The dq backend whose memory holds the array: "cuda", "hip", "vulkan", ..."""
        return self._buffer._backend.decode()

    @property
    def device(self) -> int:
        """The device index within the backend."""
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

    def _not_shareable(self, what: str) -> str:
        return (f"dq.DeviceArray on {self.backend}:{self.device}: {what}: {self.backend} memory "
                f"is addressed through dq only (no CUDA or ROCm pointer); .numpy() copies it "
                f"to the host")

    @property
    def __cuda_array_interface__(self) -> dict:
        # An AttributeError, so that hasattr() (how consumers probe for it) answers False
        # for memory that is not CUDA memory.
        if self.backend != "cuda":
            raise AttributeError(self._not_shareable("no __cuda_array_interface__"))
        # bfloat16 has no typestr consumers know ('<V2'): take bf16 through DLPack.
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self.data_ptr, False),
                "version": 3, "strides": None, "stream": None}

    def __dlpack_device__(self) -> tuple[int, int]:
        device_type = _DLPACK_DEVICE_TYPES.get(self.backend)
        if device_type is None:
            raise BufferError(self._not_shareable("no DLPack device"))
        return (device_type, self.device)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        # The data was complete when load_file returned (dq_load waits for its streams),
        # so any consumer stream may read it at once: nothing to order against `stream`.
        device_type, device = self.__dlpack_device__()  # BufferError where nothing can read it
        if copy:
            raise BufferError("dq.DeviceArray: DLPack export never copies (copy=True asked)")
        if dl_device is not None and tuple(dl_device) != (device_type, device):
            raise BufferError(f"dq.DeviceArray lives on {(device_type, device)}, "
                              f"not {tuple(dl_device)}")
        versioned = max_version is not None and tuple(max_version) >= (1, 0)
        return _dlpack.make_capsule(self.data_ptr, self.shape, self.dtype, device_type,
                                    device, self._buffer, versioned)

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
            raise ValueError("dq.DeviceArray: a host array is always a copy")
        out = self.numpy()
        return out if dtype is None else out.astype(dtype)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self) -> str:
        return (f"DeviceArray(shape={self.shape}, dtype={self.dtype}, "
                f"device='{self.backend}:{self.device}', ptr=0x{self.data_ptr:x})")


# The name of releases before hip and vulkan arrays: isinstance(x, dq.CudaArray) still holds.
CudaArray = DeviceArray

