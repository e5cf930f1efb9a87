"""dq: GGUF dequantization and model loading on libdq-core (a drop-in for gguf-py's
dequantize, and whole models as numpy or device arrays).

    import dq
    x = dq.dequantize(data, qtype)            # like gguf.quants.dequantize, much faster
    with dq.patched_gguf(): ...               # gguf-py callers (transformers) get dq
    dq.prepare_load("model.gguf", device="cuda:0")  # optional hint: staging faulted in early
    weights = dq.load_file("model.gguf", device="cuda:0", dtype="float16")

See docs/PYTHON.md.
"""
from ._lib import DQError
from ._dequantize import dequantize
from ._dequantize_batch import dequantize_batch
from ._backends import Backend, Device, backends, version
from ._patch import patch_gguf, patched_gguf, unpatch_gguf
from ._gguf_file import GGUFFile, GGUFTensor
from ._load import load_file, prepare_load
from ._shard import TensorParallel, tensor_parallel
from ._cuda_array import CudaArray, DeviceArray

__version__ = "0.1.0"

__all__ = ["DQError", "dequantize", "dequantize_batch", "backends", "Backend", "Device", "version",
           "patch_gguf", "unpatch_gguf", "patched_gguf", "GGUFFile", "GGUFTensor", "load_file",
           "prepare_load", "DeviceArray", "CudaArray", "tensor_parallel", "TensorParallel"]
