"""dq.load_file: a whole GGUF (or chosen tensors / row ranges) as arrays, through dq_load."""
from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterator
from ctypes import POINTER, byref, c_char_p, c_int64, c_void_p
from typing import TypeVar

import numpy as np

from . import _types
from ._cuda_array import DeviceArray, DeviceBuffer
from ._gguf_file import GGUFFile, _Model
from ._lib import (BUFFER_FN, DQ_LOAD_KEEP, PROGRESS_FN, DQError, LoadedTensor, LoadOptions,
                   Location, check, init_load_options, lib, text)
from ._progress import ProgressBar
from ._shard import set_shard

_HOST_ALIGNMENT = 64  # the cpu kernels stream (non-temporal stores) into 64-byte-aligned output


_Collected = TypeVar("_Collected")


def _parse_device(device) -> tuple[str | None, int]:
    """"cpu" -> (None, 0) (host memory); "cuda" -> ("cuda", 0); "cuda:1" -> ("cuda", 1)."""
    spec = str(device).strip()
    backend, _, index = spec.partition(":")
    try:
        number = int(index) if index else 0
    except ValueError:
        raise DQError(f"device '{device}': expected 'cpu', 'cuda' or 'cuda:N'") from None
    if backend in ("cpu", "host"):
        if number != 0:
            raise DQError(f"device '{device}': host memory has only device 0")
        return None, 0
    if not backend or number < 0:
        raise DQError(f"device '{device}': expected 'cpu', 'cuda' or 'cuda:N'")
    if number >= 2**31:  # the C int32 would wrap it silently to another device (2**32 -> 0)
        raise DQError(f"device '{device}': no backend has device {number}")
    return backend, number


def _parse_rows(value, name: str) -> tuple[int, int]:
    """(begin, end) with end -1 meaning "to the last row"; accepts a pair, range or slice."""
    pair = not isinstance(value, (slice, range))
    if isinstance(value, slice):
        if value.step not in (None, 1):
            raise DQError(f"rows of '{name}': a slice with a step is not a row range")
        begin, end = value.start, value.stop
    elif isinstance(value, range):
        if value.step != 1:
            raise DQError(f"rows of '{name}': a range with a step is not a row range")
        begin, end = value.start, value.stop
    else:
        try:
            begin, end = value
        except (TypeError, ValueError):
            raise DQError(f"rows of '{name}': expected (begin, end), a range or a slice, "
                          f"not {value!r}") from None
    begin = 0 if begin is None else int(begin)
    # The loader reads any negative end as "to the last row": a slice's -1 or -2 (all but the
    # last rows, in Python) or a pair's -5 would load every row. Only a pair's -1 means that.
    if end is not None and int(end) < (-1 if pair else 0):
        raise DQError(f"rows of '{name}': end {int(end)} counts from the last row, which "
                      "rows= does not do; give the row number (or None for the last row)")
    end = -1 if end is None else int(end)
    if begin < 0:
        raise DQError(f"rows of '{name}': begin {begin} is negative")
    # ctypes would wrap numbers past int64 silently into other rows.
    for which, number in (("begin", begin), ("end", end)):
        if number >= 2**63:
            raise DQError(f"rows of '{name}': {which} {number} is past any tensor's rows")
    return begin, end


def _aligned_host_bytes(nbytes: int) -> np.ndarray:
    raw = np.empty(nbytes + _HOST_ALIGNMENT, dtype=np.uint8)
    skip = (-raw.ctypes.data) % _HOST_ALIGNMENT
    return raw[skip:skip + nbytes]


def _output_type(dtype) -> int:
    if isinstance(dtype, str) and dtype.lower() == "keep":
        return DQ_LOAD_KEEP
    return _types.output_type(dtype)[0]


def _shape_of(t: LoadedTensor) -> tuple[tuple[int, ...], np.dtype]:
    """numpy shape and dtype of a loaded tensor's data (uint8 byte rows for kept quants)."""
    ne = [int(t.ne[d]) for d in range(max(1, t.n_dims))]
    shape = tuple(reversed(ne))
    dtype = _types.numpy_dtype_of(int(t.type))
    block_elems, block_bytes = _types.block_size(int(t.type))
    if dtype == np.uint8 and block_elems > 0 and int(t.type) != 24:
        shape = shape[:-1] + (shape[-1] // block_elems * block_bytes,)
    return shape, dtype


def _set_names_and_rows(opts, model, path: str, names, rows) -> list:
    """Fills opts.names/n_names and the row ranges (parallel to the names); returns the ctypes
    arrays that must stay alive until dq_load returns."""
    keep_alive: list = []
    if rows:
        if names is None:
            names = [text(n) for n in _tensor_names(model)]
        unknown_rows = set(rows) - set(names)
        if unknown_rows:
            raise DQError(f"{path}: rows given for tensors not loaded: {sorted(unknown_rows)}")
    if isinstance(names, (str, bytes)):  # would be taken a character at a time
        raise DQError(f"{path}: names must be a list of tensor names, not the string "
                      f"{names!r}")
    if names is not None:
        names = [str(n) for n in names]
        for n in names:  # C would read only up to the NUL: another tensor's name
            if "\0" in n:
                raise DQError(f"{path}: tensor name {n!r} holds a NUL character")
        encoded = [n.encode() for n in names]
        c_names = (c_char_p * max(1, len(encoded)))(*encoded)
        keep_alive += [encoded, c_names]
        opts.names = ctypes.cast(c_names, POINTER(c_char_p))
        opts.n_names = len(encoded)
        if rows:
            ranges = [_parse_rows(rows[n], n) if n in rows else (0, -1) for n in names]
            begin = (c_int64 * len(ranges))(*[b for b, _ in ranges])
            end = (c_int64 * len(ranges))(*[e for _, e in ranges])
            keep_alive += [begin, end]
            opts.row_begin = ctypes.cast(begin, POINTER(c_int64))
            opts.row_end = ctypes.cast(end, POINTER(c_int64))
    return keep_alive


def _options_for(backend: str | None, device_index: int) -> LoadOptions:
    """The library's default load options with the destination set."""
    opts = LoadOptions()
    init_load_options(opts)
    opts.device = Location(backend.encode() if backend else None, device_index)
    return opts


def _prepare(model: _Model, opts: LoadOptions, what: str) -> None:
    """dq_load_prepare(ctx, model, opts); nothing on a core without it (it is only a hint).
    Raises DQError naming `what` for options dq_load would refuse as well."""
    if hasattr(lib, "dq_load_prepare"):
        check(lib.dq_load_prepare(model.ctx, model.handle, byref(opts)), model.ctx, what)


def prepare_load(model: str | os.PathLike[str] | GGUFFile, *, device: object = "cuda:0") -> None:
    """Hints that `model` is about to be loaded to `device` (dq_load_prepare): the loader's
    host staging (up to 32 MiB of huge pages) starts being faulted in on a background thread,
    so it overlaps what the caller does before the load, e.g. torch's CUDA start. No effect on
    what any load returns; load_file and dq.torch.load_file already do this themselves right
    after opening the file, so call it only to start earlier than that.

    model: a dq.GGUFFile (open) or a path (opened and closed here).
    device: as in load_file ("cuda:N", or a torch.device). Does nothing for "cpu", for a
    device without a staging ring to prepare, or with DQ_LOAD_PREPARE=0 in the environment;
    a device the load would refuse (no such backend) is the load's error, not this one's.
    The next load in this process that needs no more staging adopts what was prepared;
    a load that needs more (or none) leaves it to be freed.
    Raises DQError for a closed file, a missing or bad file, or a bad device string.
    """
    backend, device_index = _parse_device(device)
    if isinstance(model, GGUFFile):
        opened, path = model._model, model.path
        if opened is None:
            raise DQError(f"prepare_load: {path}: file is closed")
    else:
        try:
            path = os.fspath(model)
        except TypeError:
            raise DQError(f"prepare_load: expected a path or a dq.GGUFFile, not {model!r}") \
                from None
        opened = _Model(path)
    if backend is not None:  # host memory has no staging ring
        _prepare(opened, _options_for(backend, device_index), path)


def load_file(path, *, device="cpu", dtype="float16", names=None, rows=None,
              progress: bool = True, shard=None) -> dict:
    """Loads tensors of a GGUF file, dequantized, in the spirit of safetensors.load_file.

    device: "cpu" (numpy arrays), or "cuda:N" (dq.DeviceArray: __dlpack__ and
    __cuda_array_interface__, freed when the last reference goes), or another backend's
    "name:N" ("hip:N": DLPack as ROCm memory; "vulkan:N": no export, .numpy() copies).
    dtype: "float16" (default), "float32", "bfloat16" (numpy dtypes too), or "keep" for the
    file's bytes (quantized tensors as uint8 rows). Integer tensors are always kept.
    names: tensor names to load (default: all, in file order).
    rows: {name: (begin, end)} row ranges (a row is the last axis; end None or -1: to the
    end; other negative ends, and a slice's or range's negative stop, raise DQError), for
    tensor-parallel shards; a ranged tensor comes back as (rows, row length).
    progress: a progress bar on stderr when it is a terminal.
    shard: dq.tensor_parallel(rank, world_size): only this rank's slice of each tensor
    (instead of names/rows; see docs/MULTI_GPU.md).
    Returns {name: array}. Raises DQError naming the file or tensor on failure.
    """
    path = os.fspath(path)
    backend, device_index = _parse_device(device)
    output_type = _output_type(dtype)
    model = _Model(path)

    def allocate(nbytes: int):
        # Caller-owned destinations: numpy arrays on the host, one allocation per tensor on a
        # device, so each array owns (and frees) exactly its memory.
        if backend is None:
            buf = _aligned_host_bytes(nbytes)
            return buf, buf.ctypes.data
        dev = DeviceBuffer(backend, device_index, nbytes)
        return dev, dev.address

    return _load_into(path, model, backend, device_index, output_type, shard, names, rows,
                      progress, allocate,
                      lambda loaded, buffers: _collect(loaded, buffers, backend, device_index,
                                                       model.ctx))


def _load_into(path: str, model: _Model, backend: str | None, device_index: int,
               output_type: int, shard: object, names: object, rows: object, progress: bool,
               allocate: Callable[[int], tuple[object, int]],
               collect: Callable[[int, dict[str, object]], _Collected],
               before_load: Callable[[], None] | None = None) -> _Collected:
    """dq_load of `model` into destinations the caller allocates (load_file and
    dq.torch.load_file): allocate(nbytes) -> (buffer, address) for each tensor, called from
    dq_load's buffer callback; before_load(), if given, runs right before dq_load. Returns
    collect(loaded, {name: buffer}), called before the loaded model is freed. Raises DQError
    naming the file or tensor, or the first exception a callback raised."""
    ctx = model.ctx
    opts = _options_for(backend, device_index)
    opts.output_type = output_type
    if backend is not None:
        # Start faulting in the staging ring now, on a background thread, so it overlaps
        # what comes before dq_load needs it: the shard plan, before_load (torch's CUDA
        # start), the destinations' allocation and the device's start inside dq_load.
        _prepare(model, opts, path)
    plan = set_shard(opts, ctx, model, path, shard, names, rows)
    keep_alive = [plan] if plan else _set_names_and_rows(opts, model, path, names, rows)

    buffers: dict[str, object] = {}
    callback_errors: list[BaseException] = []

    def buffer_fn(_user, tensor, _out_type, _row_begin, _row_end, nbytes):
        try:
            name = text(tensor.contents.name)
            buffers[name], address = allocate(nbytes)
            return address
        except BaseException as e:  # noqa: BLE001 - reported after dq_load returns
            callback_errors.append(e)
            return None

    c_buffer_fn = BUFFER_FN(buffer_fn)
    opts.buffer_fn = c_buffer_fn
    bar = ProgressBar(f"dq: {os.path.basename(path)}") if progress else None
    if bar is not None and bar.enabled:
        c_progress = PROGRESS_FN(lambda _user, done, total: bar.update(done, total))
        opts.progress = c_progress
        keep_alive.append(c_progress)
    if before_load is not None:
        before_load()

    loaded = c_void_p()
    try:
        status = lib.dq_load(ctx, model.handle, byref(opts), byref(loaded))
    finally:
        if bar is not None:
            bar.close()
    try:
        if callback_errors:
            raise callback_errors[0]
        check(status, ctx, path)
        return collect(loaded.value, buffers)
    finally:
        lib.dq_loaded_free(loaded.value)
        if plan:
            plan.close()


def _tensor_names(model: _Model) -> list[bytes]:
    from ._lib import TensorInfo
    out = []
    for i in range(lib.dq_model_tensor_count(model.handle)):
        info = TensorInfo(struct_size=ctypes.sizeof(TensorInfo))
        check(lib.dq_model_tensor_info(model.handle, i, byref(info)), model.ctx, model.path)
        out.append(info.name)
    return out


def _loaded_tensors(loaded: int, buffers: dict,
                    ctx: object) -> Iterator[tuple[str, LoadedTensor, object]]:
    """(name, tensor, buffer) for each tensor of a load, in file order: buffer is the caller's
    from `buffers`, or None where the tensor is in the loader's own memory (to be copied out
    before dq_loaded_free releases it)."""
    for i in range(lib.dq_loaded_count(loaded)):
        t = LoadedTensor(struct_size=ctypes.sizeof(LoadedTensor))
        check(lib.dq_loaded_get_tensor(loaded, i, byref(t)), ctx, "loaded tensors")
        name = text(t.name)
        yield name, t, buffers[name] if t.caller_owned and name in buffers else None


def _collect(loaded: int, buffers: dict, backend, device_index: int, ctx) -> dict:
    result = {}
    for name, t, buf in _loaded_tensors(loaded, buffers, ctx):
        shape, dtype = _shape_of(t)
        nbytes = int(t.n_bytes)
        if buf is None and backend is None:  # the loader's own memory: copy out before it is freed
            buf = np.empty(nbytes, dtype=np.uint8)
            ctypes.memmove(buf.ctypes.data, t.data, nbytes)
        elif buf is None:
            buf = DeviceBuffer(backend, device_index, nbytes)
            check(lib.dq_memcpy(ctx, buf.address, buf.where, t.data, t.where, nbytes), ctx, name)
        if backend is None:
            result[name] = buf[:nbytes].view(dtype).reshape(shape)
        else:
            result[name] = DeviceArray(buf, shape, dtype)
    return result
