"""dq.GGUFFile: a GGUF model through the C reader (metadata, tensors, zero-copy bytes)."""
from __future__ import annotations

import ctypes
import os
from ctypes import byref, c_double, c_int32, c_int64, c_uint64, c_void_p
from dataclasses import dataclass, field

import numpy as np

from . import _types
from ._lib import DQError, TensorInfo, check, context, lib, text

# dq_value_type numbers (GGUF spec) -> little-endian numpy element type.
_VALUE_DTYPES = {0: "u1", 1: "i1", 2: "<u2", 3: "<i2", 4: "<u4", 5: "<i4", 6: "<f4",
                 7: "u1", 10: "<u8", 11: "<i8", 12: "<f8"}
_BOOL, _STRING, _ARRAY, _UINT64, _FLOAT32, _FLOAT64 = 7, 8, 9, 10, 6, 12


class _Model:
    """Owns one dq_model. Views of its mapped bytes hold a reference to it, so the mapping
    lives until the file is closed and the last view is gone."""

    def __init__(self, path: str):
        self.path = path
        if "\0" in path:  # C would open the file named by the part before the NUL
            raise DQError(f"{path!r}: a path with a NUL character")
        self.ctx = context()
        handle = c_void_p()
        check(lib.dq_model_open(self.ctx, os.fsencode(path), byref(handle)), self.ctx, path)
        self.handle = handle.value

    def __del__(self):
        handle, self.handle = getattr(self, "handle", None), None
        if handle:
            lib.dq_model_close(handle)


class _MappedBytes:
    """numpy reads `data` through this object's __array_interface__ and keeps it (and so
    the model) alive as the array's base."""

    def __init__(self, model: _Model, address: int, nbytes: int):
        self._model = model
        self.__array_interface__ = {"data": (address, True), "shape": (nbytes,),
                                    "typestr": "|u1", "version": 3}


def _string(value) -> str:
    ptr, length = c_void_p(), c_uint64()
    lib.dq_value_get_string(value, byref(ptr), byref(length))
    if not length.value:
        return ""
    return ctypes.string_at(ptr.value, length.value).decode("utf-8", "replace")


def _scalar(value, vtype: int):
    if vtype == _STRING:
        return _string(value)
    if vtype == _BOOL:
        out = c_int32()
        lib.dq_value_get_bool(value, byref(out))
        return bool(out.value)
    if vtype in (_FLOAT32, _FLOAT64):
        out = c_double()
        lib.dq_value_get_f64(value, byref(out))
        return out.value
    if vtype == _UINT64:
        out = c_uint64()
        lib.dq_value_get_u64(value, byref(out))
        return out.value
    out = c_int64()
    lib.dq_value_get_i64(value, byref(out))
    return out.value


def _value(value):
    """A metadata value as Python: int, float, bool, str, or a list of those (nested)."""
    vtype = lib.dq_value_get_type(value)
    if vtype != _ARRAY:
        return _scalar(value, vtype)
    etype = lib.dq_value_array_type(value)
    count = lib.dq_value_array_count(value)
    if etype in _VALUE_DTYPES:
        ptr, nbytes = c_void_p(), c_uint64()
        lib.dq_value_array_data(value, byref(ptr), byref(nbytes))
        if not nbytes.value:
            return []
        items = np.frombuffer(ctypes.string_at(ptr.value, nbytes.value),
                              dtype=_VALUE_DTYPES[etype])
        return [bool(x) for x in items] if etype == _BOOL else items.tolist()
    return [_value(lib.dq_value_array_get(value, i)) for i in range(count)]


@dataclass
class GGUFTensor:
    """One tensor. `shape` is in numpy order (rows last axis), like gguf-py's GGUFReader;
    `ne` is ggml's order (ne[0] fastest). `data` is a read-only, zero-copy view of the
    mapped file: float32/float16/f64/int arrays of `shape` for those types, else uint8
    rows of bytes (shape[:-1] + (bytes per row,)), as GGUFReader gives it."""
    name: str
    type: int
    type_name: str
    shape: tuple[int, ...]
    ne: tuple[int, ...]
    n_elements: int
    n_bytes: int
    offset: int  # absolute byte offset of the data in its file
    split: int   # which part file holds it (0 for a single file)
    _model: _Model = field(repr=False)
    _address: int = field(repr=False)
    _index: int = field(repr=False, default=-1)  # in the model, for dq_model_read_tensor

    @property
    def data(self) -> np.ndarray:
        return self._typed(np.asarray(_MappedBytes(self._model, self._address, self.n_bytes)))

    def _read(self) -> np.ndarray:
        """A copy of the bytes read with pread: a file truncated since it was opened is a
        DQError here, where a read through the mapping (`data`) raises SIGBUS."""
        if self._index < 0 or not hasattr(lib, "dq_model_read_tensor"):
            return self.data
        raw = np.empty(self.n_bytes, dtype=np.uint8)
        ctx = self._model.ctx
        check(lib.dq_model_read_tensor(ctx, self._model.handle, self._index, 0,
                                       raw.ctypes.data, self.n_bytes), ctx,
              f"{self._model.path}: tensor '{self.name}'")
        return self._typed(raw)

    def _typed(self, raw: np.ndarray) -> np.ndarray:
        if self.type in _types._KEPT_DTYPES:
            return raw.view(_types._KEPT_DTYPES[self.type]).reshape(self.shape)
        block_elems, block_bytes = _types.block_size(self.type)
        if block_elems <= 0:
            return raw
        row_bytes = self.shape[-1] // block_elems * block_bytes
        return raw.reshape(self.shape[:-1] + (row_bytes,))

    def dequantize(self, *, dtype=np.float32, threads=None) -> np.ndarray:
        """The tensor's values, shaped `shape`."""
        from ._dequantize import dequantize
        data = self._read()  # not through the mapping: a truncated file is an error
        try:
            return dequantize(data, self.type, dtype=dtype, threads=threads)
        except DQError as e:
            raise DQError(f"{self._model.path}: tensor '{self.name}': {e}", e.status) from None


class GGUFFile:
    """A GGUF model opened through libdq-core; a split model's first part opens all parts.

        with dq.GGUFFile("model.gguf") as f:
            f.metadata["general.architecture"], f.tensors[0].shape, f["output.weight"].data
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self._model = _Model(self.path)
        h = self._model.handle
        self.version = int(lib.dq_model_gguf_version(h))
        self.alignment = int(lib.dq_model_alignment(h))
        self.split_count = int(lib.dq_model_split_count(h))
        self.tensors: list[GGUFTensor] = []
        for i in range(lib.dq_model_tensor_count(h)):
            info = TensorInfo(struct_size=ctypes.sizeof(TensorInfo))
            check(lib.dq_model_tensor_info(h, i, byref(info)), self._model.ctx, self.path)
            ne = tuple(int(info.ne[d]) for d in range(max(1, info.n_dims)))
            self.tensors.append(GGUFTensor(
                text(info.name), int(info.type), _types.type_name(int(info.type)),
                tuple(reversed(ne)), ne, int(info.n_elements), int(info.n_bytes),
                int(info.file_offset), int(info.split), self._model, int(info.data or 0), i))
        self._by_name = {t.name: t for t in self.tensors}
        self._metadata: dict | None = None

    @property
    def metadata(self) -> dict:
        """Key -> value (int, float, bool, str or lists of them), in file order; read on
        first use (vocabularies hold hundreds of thousands of strings)."""
        if self._metadata is None:
            h = self._handle()
            self._metadata = {text(lib.dq_model_kv_key(h, i)): _value(lib.dq_model_kv_value(h, i))
                              for i in range(lib.dq_model_kv_count(h))}
        return self._metadata

    def _handle(self) -> int:
        if self._model is None:
            raise DQError(f"{self.path}: file is closed")
        return self._model.handle

    def __getitem__(self, name: str) -> GGUFTensor:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.path}: no tensor named '{name}'") from None

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __iter__(self):
        return iter(self.tensors)

    def __len__(self) -> int:
        return len(self.tensors)

    def close(self) -> None:
        """Drops this object's hold on the mapping; arrays from `data` keep it until they go."""
        self._model = None
        self.tensors = []
        self._by_name = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return (f"GGUFFile({self.path!r}, version={self.version}, tensors={len(self.tensors)}, "
                f"splits={self.split_count})")
