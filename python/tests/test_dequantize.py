"""dq.dequantize against gguf-py's gguf.quants.dequantize and ggml's golden outputs."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import TENSORS, golden, open_model, same_bits

import dq


def gguf_reference(gguf, data, type_id):
    """gguf-py's result, or None for a type gguf-py lacks (Q8_K, Q1_0, Q2_0, ...)."""
    try:
        qtype = gguf.GGMLQuantizationType(type_id)
    except ValueError:
        return None
    if qtype not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16) and \
            qtype not in gguf.quants._type_traits:
        return None
    assert not dq._patch.is_patched()
    return gguf.quants.dequantize(data, qtype)


def tensor_of(row):
    return open_model(row["file"])[row["tensor"]]


@pytest.mark.parametrize("row", TENSORS)
def test_f32_matches_gguf_py_and_golden(row, gguf):
    t = tensor_of(row)
    ours = dq.dequantize(t.data, t.type)
    assert ours.dtype == np.float32 and ours.shape == t.shape
    ref = gguf_reference(gguf, t.data, t.type)
    if ref is not None:
        assert same_bits(ours, ref), f"{row['tensor']}: differs from gguf-py"
    gold = golden(row)
    if gold is not None:
        assert same_bits(ours.reshape(-1), gold), f"{row['tensor']}: differs from ggml's golden"
    assert ref is not None or gold is not None


@pytest.mark.parametrize("row", TENSORS)
def test_f16_and_bf16_are_rne_of_f32(row, ml_dtypes):
    t = tensor_of(row)
    f32 = dq.dequantize(t.data, t.type)
    with np.errstate(over="ignore"):  # f32 values past f16's range round to inf, as they must
        assert same_bits(dq.dequantize(t.data, t.type, dtype=np.float16), f32.astype(np.float16))
    assert same_bits(dq.dequantize(t.data, t.type, dtype=ml_dtypes.bfloat16),
                     f32.astype(ml_dtypes.bfloat16))
    assert same_bits(dq.dequantize(t.data, t.type, dtype="bf16"), f32.astype(ml_dtypes.bfloat16))


@pytest.mark.parametrize("row", TENSORS)
def test_thread_counts_agree(row):
    t = tensor_of(row)
    whole = dq.dequantize(t.data, t.type)
    for threads in (1, 3):
        assert same_bits(dq.dequantize(t.data, t.type, threads=threads), whole)


def _all_types_rows(name):
    model = open_model("all-types.gguf")
    return model[name].data, model[name].type


@pytest.fixture
def all_types():
    from conftest import TESTDATA, NO_TESTDATA
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    return open_model("all-types.gguf")


@pytest.mark.parametrize("name", ["t.q4_0", "t.q4_k", "t.iq2_xs", "t.tq1_0", "t.mxfp4"])
def test_shapes_and_views_behave_like_gguf_py(all_types, gguf, name):
    t = all_types[name]
    data = t.data  # 2-D: rows of bytes
    block_bytes = dq._types.block_size(t.type)[1]
    views = {
        "2-D rows": data,
        "1-D bytes": data.reshape(-1),
        "3-D": data.reshape(2, -1, data.shape[-1]),
        "rows reversed": data[::-1],
        "every other row": data[::2],
        "first blocks of each row": data[:, : 2 * block_bytes],
        "fortran order": np.asfortranarray(data),
        "int8 bytes": data.view(np.int8),
    }
    for what, view in views.items():
        ours = dq.dequantize(view, t.type)
        ref = gguf_reference(gguf, view, t.type)
        assert same_bits(ours, ref), f"{name}, {what}: differs from gguf-py"
    assert same_bits(dq.dequantize(data, gguf.GGMLQuantizationType(t.type)),
                     dq.dequantize(data, t.type))
    assert same_bits(dq.dequantize(data, t.type_name), dq.dequantize(data, t.type))


def test_float_inputs_of_f32_f16_bf16(all_types, gguf, ml_dtypes):
    f32 = all_types["t.f32"].data  # float32 elements, as GGUFReader gives them
    f16 = all_types["t.f16"].data  # float16 elements
    bf16 = all_types["t.bf16"].data  # uint8 bytes
    for data, qtype in ((f32, 0), (f32[::3], 0), (f16, 1), (f16[:, ::2], 1), (bf16, 30),
                        (bf16.view(np.uint16), 30), (bf16.view(ml_dtypes.bfloat16), 30)):
        ours = dq.dequantize(data, qtype)
        if data.dtype != np.uint8 and qtype == 30:
            # gguf-py takes BF16 as bytes only: compare with the bytes of the same values.
            ref = gguf_reference(gguf, np.ascontiguousarray(data).view(np.uint8), qtype)
        else:
            ref = gguf_reference(gguf, data, qtype)
        assert same_bits(ours, ref)
    # The bytes of an F32 tensor give the same values as its float32 elements.
    assert same_bits(dq.dequantize(f32.view(np.uint8), 0), dq.dequantize(f32, 0))


def test_empty_input_gives_empty_output():
    out = dq.dequantize(np.zeros((3, 0), np.uint8), 2)
    assert out.shape == (3, 0) and out.dtype == np.float32


def test_types_gguf_py_lacks():
    from conftest import TESTDATA, NO_TESTDATA
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    extra = open_model("extra-types.gguf")
    seen = {t.type_name.lower() for t in extra}
    assert {"q1_0", "q2_0"} <= seen
    q8k = open_model("all-types.gguf")["t.q8_k"]
    assert dq.dequantize(q8k.data, 15).shape == q8k.shape


# ---------------------------------------------------------------- errors
def test_wrong_length_names_the_type():
    with pytest.raises(dq.DQError, match="q4_0.*34 bytes per row") as e:
        dq.dequantize(np.zeros((2, 34), np.uint8), 2)  # a Q4_0 block is 18 bytes
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("qtype", [4, 99, -1, 2**40])
def test_unknown_type(qtype):
    with pytest.raises(dq.DQError) as e:
        dq.dequantize(np.zeros(36, np.uint8), qtype)
    assert str(e.value)


def test_unknown_type_name():
    with pytest.raises(dq.DQError, match="q9_9"):
        dq.dequantize(np.zeros(36, np.uint8), "q9_9")


def test_types_nothing_dequantizes_say_so():
    with pytest.raises(dq.DQError, match="i32"):
        dq.dequantize(np.zeros(16, np.uint8), 26)  # I32


@pytest.mark.parametrize("data, qtype", [(np.zeros(36, np.float64), 2),
                                         (np.zeros(36, np.float32), 2),
                                         (np.zeros(8, np.float16), 0),
                                         (np.zeros(8, ">f4"), 0),
                                         (np.uint8(3), 2)])
def test_wrong_input_dtype(data, qtype):
    with pytest.raises(dq.DQError, match="dtype|scalar"):
        dq.dequantize(data, qtype)


@pytest.mark.parametrize("dtype", [np.int32, np.float64, "f8", "nonsense"])
def test_wrong_output_dtype(dtype):
    with pytest.raises(dq.DQError, match="not float32, float16 or bfloat16"):
        dq.dequantize(np.zeros(18, np.uint8), 2, dtype=dtype)


@pytest.mark.parametrize("threads", [0, -2, 1.5, "4"])
def test_bad_thread_count(threads):
    with pytest.raises(dq.DQError, match="threads"):
        dq.dequantize(np.zeros(18, np.uint8), 2, threads=threads)


def test_unknown_backend_is_named():
    with pytest.raises(dq.DQError, match="nosuch"):
        dq.dequantize(np.zeros(18, np.uint8), 2, backend="nosuch")


def test_backends_lists_cpu():
    names = [b.name for b in dq.backends()]
    assert "cpu" in names
    cpu = next(b for b in dq.backends() if b.name == "cpu")
    assert cpu.loaded and cpu.devices and not cpu.devices[0].is_gpu


def test_recycled_output_memory_is_never_shared_with_a_live_array():
    from dq import _buffers
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, size=(64, 18 * 256), dtype=np.uint8)  # 2 MiB of f32 output
    a[:, ::18] = 0  # finite f16 scales (low byte 0)
    b = a.copy()
    b[:, 2:18] ^= 0x5A
    first = dq.dequantize(a, 2)
    expected_first = first.copy()
    second = dq.dequantize(b, 2)
    assert not np.shares_memory(first, second)
    assert same_bits(first, expected_first)  # untouched by the second call
    address = first.ctypes.data
    del first
    assert _buffers.cached_bytes() > 0
    third = dq.dequantize(a, 2)  # reuses the freed buffer: same values as a fresh one
    assert third.ctypes.data == address
    assert same_bits(third, expected_first)
    assert third.flags.writeable and third.flags.c_contiguous


# A recycled result freed while the cache's lock is held, as when the cyclic GC finalizes it
# at an allocation dq makes under that lock (the release then waited for its own thread:
# a hang). Run in a subprocess: a hang must not take the test session with it.
_FREED_UNDER_THE_LOCK = """
import numpy as np, dq
from dq import _buffers
data = np.zeros((64, 144 * 16), np.uint8)  # q4_K, 1 MiB of f32 output: recycled
out = dq.dequantize(data, "q4_K")
address = out.ctypes.data
with _buffers._lock:
    del out
again = dq.dequantize(data, "q4_K")  # the freed block is still reused, not lost
print("reused:", again.ctypes.data == address)
"""


def test_result_freed_under_the_cache_lock_does_not_hang():
    import os
    import subprocess
    import sys
    from pathlib import Path
    package_dir = str(Path(dq.__file__).resolve().parent.parent)
    env = dict(os.environ, DQ_PY_RECYCLE_MB="1024",
               PYTHONPATH=os.pathsep.join([package_dir, os.environ.get("PYTHONPATH", "")]))
    try:
        r = subprocess.run([sys.executable, "-c", _FREED_UNDER_THE_LOCK], env=env,
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("freeing a result under dq._buffers._lock hung")
    assert r.returncode == 0, r.stderr[-4000:]
    assert "reused: True" in r.stdout, r.stdout
