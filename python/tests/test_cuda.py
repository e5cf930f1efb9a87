"""dq.load_file(device="cuda:N"): the CPU's values, zero-copy hand-over to torch and cupy,
device memory released with the last reference. Skipped without a CUDA device."""
from __future__ import annotations

import gc

import numpy as np
import pytest
from conftest import HAVE_CUDA, TENSOR_FILES, TESTDATA, cuda_skip_reason, same_bits

import dq
from dq import _backends, _dlpack

pytestmark = pytest.mark.skipif(not HAVE_CUDA, reason=cuda_skip_reason())


def free_device_memory() -> int:
    return _backends.device_info("cuda", 0).free_memory


@pytest.mark.parametrize("dtype", ["float16", "float32", "bfloat16", "keep"])
@pytest.mark.parametrize("name", TENSOR_FILES)
def test_cuda_load_equals_cpu(name, dtype, ml_dtypes):
    path = TESTDATA / name
    cpu = dq.load_file(path, dtype=dtype, progress=False)
    gpu = dq.load_file(path, device="cuda:0", dtype=dtype, progress=False)
    assert list(gpu) == list(cpu)
    for key, host in cpu.items():
        dev = gpu[key]
        assert isinstance(dev, dq.CudaArray) and dev.device == 0
        assert dev.shape == host.shape and dev.dtype == host.dtype, key
        assert same_bits(dev.numpy(), host), f"{name}:{key} ({dtype})"


def test_cuda_rows_equal_cpu_rows():
    path = TESTDATA / "all-types.gguf"
    rows = {"t.q4_0": (3, 7), "t.q8_0": (10, 60), "t.iq2_xs": (1, None)}
    cpu = dq.load_file(path, dtype="float32", rows=rows, progress=False)
    gpu = dq.load_file(path, device="cuda:0", dtype="float32", rows=rows, progress=False)
    for key in cpu:
        assert same_bits(gpu[key].numpy(), cpu[key]), key


def test_missing_device_index_is_an_error():
    with pytest.raises(dq.DQError, match="device"):
        dq.load_file(TESTDATA / "all-types.gguf", device="cuda:99", progress=False)


@pytest.mark.parametrize("dtype", ["float16", "float32", "bfloat16"])
def test_torch_takes_the_arrays_without_a_copy(dtype):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    path = TESTDATA / "all-types.gguf"
    cpu = dq.load_file(path, dtype="float32", progress=False)
    gpu = dq.load_file(path, device="cuda:0", dtype=dtype, progress=False)
    for key, arr in gpu.items():
        if arr.dtype.kind != "f" and arr.dtype.name != "bfloat16":
            continue
        t = torch.from_dlpack(arr)
        assert t.data_ptr() == arr.data_ptr, key
        assert t.device == torch.device("cuda", 0) and tuple(t.shape) == arr.shape
        assert str(t.dtype) == f"torch.{dtype}"
        want = cpu[key].astype(np.float32)
        got = t.float().cpu().numpy()
        if dtype == "float32":
            assert same_bits(got, want), key
        else:  # rounded once, from the same f32
            # As 16-bit words: numpy has no bfloat16 for torch to hand over.
            expected = torch.from_numpy(want).to(t.dtype)
            assert torch.equal(t.cpu().view(torch.int16), expected.view(torch.int16)), key
    # The legacy capsule path (torch.utils.dlpack on a bare capsule) shares the pointer too.
    arr = gpu["t.q4_0"]
    legacy = torch.utils.dlpack.from_dlpack(arr.__dlpack__())
    assert legacy.data_ptr() == arr.data_ptr


def test_cupy_takes_the_arrays_without_a_copy():
    cupy = pytest.importorskip("cupy", reason="cupy is not installed")
    path = TESTDATA / "all-types.gguf"
    for dtype in ("float16", "float32"):
        cpu = dq.load_file(path, dtype=dtype, progress=False)
        gpu = dq.load_file(path, device="cuda:0", dtype=dtype, progress=False)
        for key, arr in gpu.items():
            via_dlpack = cupy.from_dlpack(arr)
            via_cai = cupy.asarray(arr)  # __cuda_array_interface__
            assert via_dlpack.data.ptr == arr.data_ptr == via_cai.data.ptr, key
            assert same_bits(cupy.asnumpy(via_dlpack), cpu[key]), key
            assert same_bits(cupy.asnumpy(via_cai), cpu[key]), key


def test_versioned_and_legacy_capsules():
    gpu = dq.load_file(TESTDATA / "all-types.gguf", device="cuda:0", dtype="float16",
                       names=["t.q4_0"], progress=False)
    arr = gpu["t.q4_0"]
    assert arr.__dlpack_device__() == (2, 0)
    live = _dlpack.live_count()
    legacy = arr.__dlpack__()
    versioned = arr.__dlpack__(max_version=(1, 0))
    assert "dltensor" in repr(legacy) and "dltensor_versioned" in repr(versioned)
    assert _dlpack.live_count() == live + 2
    del legacy, versioned  # never consumed: the capsules' destructors release them
    gc.collect()
    assert _dlpack.live_count() == live
    with pytest.raises(BufferError):
        arr.__dlpack__(copy=True)


def write_big_model(gguf, path):
    """One F16 tensor of 16M elements: 32 MB in the file, 64 MB as f32 on the device."""
    writer = gguf.GGUFWriter(path, "llama")
    rng = np.random.default_rng(1)
    writer.add_tensor("w", rng.standard_normal((4096, 4096), dtype=np.float32).astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_device_memory_is_released_with_the_last_reference(gguf, tmp_path, capsys):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    path = tmp_path / "big.gguf"
    write_big_model(gguf, path)
    size = 4096 * 4096 * 4
    torch.zeros(1, device="cuda:0")  # torch's own context and allocator, before measuring
    warm = dq.load_file(path, device="cuda:0", dtype="float32", progress=False)
    del warm
    gc.collect()
    torch.cuda.synchronize()

    before = free_device_memory()
    out = dq.load_file(path, device="cuda:0", dtype="float32", progress=False)
    loaded = free_device_memory()
    t = torch.from_dlpack(out["w"])
    del out  # torch's tensor still holds the memory through the DLPack deleter
    gc.collect()
    held = free_device_memory()
    checksum = float(t.double().sum())
    del t
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()  # the 128 MiB double copy above stays in torch's cache otherwise
    after = free_device_memory()
    with capsys.disabled():
        print(f"\n  device free memory: before {before / 2**20:.0f} MiB, loaded "
              f"{loaded / 2**20:.0f} MiB, torch holding {held / 2**20:.0f} MiB, "
              f"after the last reference {after / 2**20:.0f} MiB (tensor {size / 2**20:.0f} MiB)")
    assert np.isfinite(checksum)
    assert before - loaded >= size * 0.95
    assert before - held >= size * 0.95
    assert before - after < size * 0.1


def test_cuda_array_interface_fields():
    gpu = dq.load_file(TESTDATA / "all-types.gguf", device="cuda:0", dtype="float16",
                       names=["t.q8_0"], progress=False)
    arr = gpu["t.q8_0"]
    cai = arr.__cuda_array_interface__
    assert cai["shape"] == arr.shape == (4, 16, 1024)
    assert cai["typestr"] == "<f2" and cai["data"] == (arr.data_ptr, False)
    assert cai["version"] == 3
