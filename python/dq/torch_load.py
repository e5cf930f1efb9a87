"""dq.torch.load_file: dq_load writing straight into torch-allocated tensors."""
from __future__ import annotations

import os

import numpy as np
import torch

from ._backends import backends, device_info
from ._gguf_file import _Model
from ._lib import DQ_LOAD_KEEP, DQError, LoadedTensor, Location, check, lib
from ._load import _load_into, _loaded_tensors, _parse_device, _shape_of

_TORCH_OF_NUMPY = {np.dtype(np.uint8): torch.uint8, np.dtype(np.int8): torch.int8,
                   np.dtype("<i2"): torch.int16, np.dtype("<i4"): torch.int32,
                   np.dtype("<i8"): torch.int64, np.dtype("<f8"): torch.float64,
                   np.dtype("<f4"): torch.float32, np.dtype("<f2"): torch.float16}
_OUTPUT_TYPES = {torch.float32: 0, torch.float16: 1, torch.bfloat16: 30}


def _output_type(dtype) -> int:
    if isinstance(dtype, str):
        if dtype.lower() == "keep":
            return DQ_LOAD_KEEP
        dtype = getattr(torch, dtype.lower(), dtype)
    if dtype not in _OUTPUT_TYPES:
        raise DQError(f"dtype {dtype!r} is not torch.float32, torch.float16, torch.bfloat16 "
                      "or \"keep\"")
    return _OUTPUT_TYPES[dtype]


def _torch_dtype(t: LoadedTensor, np_shape_dtype) -> torch.dtype:
    if int(t.type) == 30:  # BF16 (numpy needs ml_dtypes for it; torch has its own)
        return torch.bfloat16
    return _TORCH_OF_NUMPY[np.dtype(np_shape_dtype)]


def _shape_and_dtype(t: LoadedTensor):
    if int(t.type) == 30:
        ne = [int(t.ne[d]) for d in range(max(1, t.n_dims))]
        return tuple(reversed(ne)), torch.bfloat16
    shape, np_dtype = _shape_of(t)
    return shape, _TORCH_OF_NUMPY[np.dtype(np_dtype)]


def dq_backend_of_torch_gpu() -> str:
    """The dq backend that holds torch's "cuda" tensors: "hip" on a ROCm build of torch
    (whose "cuda" device is a HIP device), "cuda" otherwise."""
    return "hip" if getattr(torch.version, "hip", None) else "cuda"


def _require_dq_device(dq_backend: str, index: int, device) -> None:
    """A DQError naming what is missing when dq cannot reach torch's GPU `index`, before
    torch allocates anything there."""
    if device_info(dq_backend, index) is not None:
        return
    found = [b for b in backends() if b.name == dq_backend]
    why = found[0].status if found and found[0].status else \
        (f"it has {len(found[0].devices)} device(s)" if found else "the plugin was not found")
    rocm = " (a ROCm build of torch: its cuda devices are HIP devices)" \
        if dq_backend == "hip" else ""
    raise DQError(f"dq.torch.load_file: device '{device}'{rocm}: dq's {dq_backend} backend "
                  f"has no device {index}: {why}")


def load_file(path, device="cuda:0", dtype=torch.float16, names=None, rows=None,
              progress: bool = False, shard=None) -> dict:
    """Loads tensors of a GGUF file into torch tensors that torch allocated.

    device: "cpu", "cuda" (torch's current device) or "cuda:N" (or a torch.device). dtype: torch.float16 (default),
    torch.float32, torch.bfloat16, or "keep": quantized tensors come back as their uint8
    blocks (rows of bytes) for consumers that dequantize later (dq.torch.dequantize).
    Integer tensors are always kept. names and rows: as in dq.load_file.
    shard: dq.torch.tensor_parallel(rank, world_size) loads only this rank's slice of each
    weight (column-parallel ones cut along dim 0, row-parallel ones along the last dim,
    norms whole), e.g. one process per GPU under torchrun (docs/MULTI_GPU.md).
    Returns {name: tensor} in file order. Raises DQError naming the file or tensor.
    """
    path = os.fspath(path)
    backend, device_index = _parse_device(device)
    if backend == "cuda" and ":" not in str(device) and torch.cuda.is_initialized():
        # "cuda" is torch's current device (torch.cuda.set_device under torchrun), as for
        # torch.empty; before CUDA starts that is device 0, so nothing is started to ask.
        device_index = torch.cuda.current_device()
    if backend not in (None, "cuda"):
        # torch's own "vulkan" (or any other) tensors are not dq memory: dq would write its
        # own kind of address into them.
        raise DQError(f"dq.torch.load_file: device '{device}': torch tensors are loaded on "
                      f"'cpu' or 'cuda:N'; for {backend} memory use "
                      f"dq.load_file(path, device='{backend}:{device_index}')")
    torch_device = torch.device("cpu") if backend is None else torch.device(backend,
                                                                             device_index)
    output_type = _output_type(dtype)
    dq_backend = None if backend is None else dq_backend_of_torch_gpu()
    if dq_backend is not None:
        _require_dq_device(dq_backend, device_index, device)
    model = _Model(path)

    def allocate(nbytes: int):
        # Every destination is a torch tensor of bytes on the target device, so torch's
        # allocator owns it; the loader writes into it and nothing is copied afterwards.
        # 64 spare bytes so the start can be moved to a 64-byte boundary (the cpu kernels'
        # streaming stores want it; torch's allocators already give it).
        raw = torch.empty(nbytes + 64, dtype=torch.uint8, device=torch_device)
        skip = (-raw.data_ptr()) % 64
        buf = raw[skip:skip + nbytes]
        return buf, buf.data_ptr()

    def before_load():
        if torch_device.type == "cuda":  # the buffers' allocation is ordered before dq's writes
            torch.cuda.synchronize(torch_device)

    return _load_into(path, model, dq_backend, device_index, output_type, shard, names, rows,
                      progress, allocate,
                      lambda loaded, buffers: _collect(loaded, buffers, torch_device, model.ctx),
                      before_load)


def _collect(loaded: int, buffers: dict, torch_device, ctx) -> dict:
    result = {}
    for name, t, buf in _loaded_tensors(loaded, buffers, ctx):
        shape, dtype = _shape_and_dtype(t)
        nbytes = int(t.n_bytes)
        if buf is None:  # the loader's own memory: copy out before dq_loaded_free releases it
            buf = torch.empty(nbytes, dtype=torch.uint8, device=torch_device)
            if nbytes:
                where = Location(None, 0) if torch_device.type == "cpu" else \
                    Location(dq_backend_of_torch_gpu().encode(), torch_device.index or 0)
                check(lib.dq_memcpy(ctx, buf.data_ptr(), where, t.data, t.where, nbytes),
                      ctx, name)
        result[name] = buf[:nbytes].view(dtype).reshape(shape)
    return result
