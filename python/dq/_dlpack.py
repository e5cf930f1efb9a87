"""DLPack capsules over device memory, built with ctypes (dlpack.h v1.0 layouts).

The capsule points to a DLManagedTensor (legacy, "dltensor") or DLManagedTensorVersioned
("dltensor_versioned"); an entry of _live, keyed by its address, holds the ctypes structs
and a reference to the producer's owner object. The consumer (torch, cupy, JAX) calls the
deleter when its tensor dies: that drops the entry, and with it our hold on the memory.
A capsule never consumed is released by its destructor, which calls the same deleter.
ctypes callbacks take the GIL themselves, so a consumer may call the deleter from any thread.
"""
from __future__ import annotations

import ctypes
import threading
from ctypes import CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_int32, c_int64, \
    c_uint8, c_uint16, c_uint32, c_uint64, c_void_p

import numpy as np

KDL_CPU, KDL_CUDA, KDL_ROCM = 1, 2, 10
_KDL_INT, _KDL_UINT, _KDL_FLOAT, _KDL_BFLOAT = 0, 1, 2, 4


class DLDevice(Structure):
    _fields_ = [("device_type", c_int32), ("device_id", c_int32)]


class DLDataType(Structure):
    _fields_ = [("code", c_uint8), ("bits", c_uint8), ("lanes", c_uint16)]


class DLTensor(Structure):
    _fields_ = [("data", c_void_p), ("device", DLDevice), ("ndim", c_int32),
                ("dtype", DLDataType), ("shape", POINTER(c_int64)),
                ("strides", POINTER(c_int64)), ("byte_offset", c_uint64)]


_DELETER = CFUNCTYPE(None, c_void_p)


class DLManagedTensor(Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", c_void_p), ("deleter", _DELETER)]


class DLPackVersion(Structure):
    _fields_ = [("major", c_uint32), ("minor", c_uint32)]


class DLManagedTensorVersioned(Structure):
    _fields_ = [("version", DLPackVersion), ("manager_ctx", c_void_p), ("deleter", _DELETER),
                ("flags", c_uint64), ("dl_tensor", DLTensor)]


_NAME = b"dltensor"
_NAME_VERSIONED = b"dltensor_versioned"

_pythonapi = ctypes.pythonapi
_pythonapi.PyCapsule_New.restype = ctypes.py_object
_pythonapi.PyCapsule_New.argtypes = [c_void_p, c_char_p, c_void_p]
_pythonapi.PyCapsule_IsValid.restype = c_int
_pythonapi.PyCapsule_IsValid.argtypes = [c_void_p, c_char_p]
_pythonapi.PyCapsule_GetPointer.restype = c_void_p
_pythonapi.PyCapsule_GetPointer.argtypes = [c_void_p, c_char_p]
_pythonapi.Py_IncRef.restype = None
_pythonapi.Py_IncRef.argtypes = [ctypes.py_object]


def _kept_until_exit(obj):
    """Never freed, not even when the interpreter tears this module down at exit. A consumer
    frees its tensor whenever its own owner goes: a torch tensor in a global, in a reference
    cycle or in a traceback is freed during finalization, after this module's globals are
    gone, and it then reads the managed struct and calls the deleter. Freed, those were a
    segfault at exit; leaked, they end with the process."""
    _pythonapi.Py_IncRef(obj)
    return obj


# Address of the managed struct -> (struct, shape, owner); entries leave when the consumer
# calls the deleter.
_live: dict[int, tuple] = _kept_until_exit({})
_live_lock = _kept_until_exit(threading.Lock())


# The callbacks reach what they use through default arguments, not module globals, which
# finalization sets to None before the last tensors are freed.
def _release(managed_address: int, live=_live, lock=_live_lock) -> None:
    with lock:
        entry = live.pop(managed_address, None)
    del entry  # the owner may go here (DeviceBuffer.__del__ frees the memory), outside the lock


@_DELETER
def _deleter(managed_address, release=_release):
    release(managed_address)


_kept_until_exit(_deleter)

_CAPSULE_DESTRUCTOR = CFUNCTYPE(None, c_void_p)


@_CAPSULE_DESTRUCTOR
def _capsule_destructor(capsule, api=_pythonapi, names=(_NAME, _NAME_VERSIONED), release=_release):
    # The raw pointer (not a py_object): the capsule is being deallocated.
    for name in names:
        if api.PyCapsule_IsValid(capsule, name):
            release(api.PyCapsule_GetPointer(capsule, name))
            return


_kept_until_exit(_capsule_destructor)


def dl_dtype(dtype: np.dtype) -> DLDataType:
    dtype = np.dtype(dtype)
    if dtype.name == "bfloat16":
        code = _KDL_BFLOAT
    elif dtype.kind == "f":
        code = _KDL_FLOAT
    elif dtype.kind == "i":
        code = _KDL_INT
    elif dtype.kind == "u":
        code = _KDL_UINT
    else:
        raise BufferError(f"dtype {dtype} has no DLPack type")
    return DLDataType(code, dtype.itemsize * 8, 1)


def make_capsule(address: int, shape: tuple[int, ...], dtype: np.dtype, device_type: int,
                 device_id: int, owner, versioned: bool):
    """A DLPack capsule over `address` (compact row-major) that keeps `owner` alive until
    the consumer's deleter runs."""
    cls = DLManagedTensorVersioned if versioned else DLManagedTensor
    managed = cls()
    shape_arr = (c_int64 * max(1, len(shape)))(*shape)
    t = managed.dl_tensor
    t.data = address
    t.device = DLDevice(device_type, device_id)
    t.ndim = len(shape)
    t.dtype = dl_dtype(dtype)
    t.shape = ctypes.cast(shape_arr, POINTER(c_int64))
    t.strides = None  # compact row-major
    t.byte_offset = 0
    address_of_managed = ctypes.addressof(managed)
    with _live_lock:
        _live[address_of_managed] = (managed, shape_arr, owner)
    managed.manager_ctx = address_of_managed
    managed.deleter = _deleter
    if versioned:
        managed.version = DLPackVersion(1, 0)
        managed.flags = 0
    destructor = ctypes.cast(_capsule_destructor, c_void_p)
    return _pythonapi.PyCapsule_New(address_of_managed,
                                    _NAME_VERSIONED if versioned else _NAME, destructor)


def live_count() -> int:
    """Capsules whose consumer has not released them yet (for tests)."""
    with _live_lock:
        return len(_live)
