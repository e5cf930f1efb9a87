"""dq.load_file on the host: the same values as dq.dequantize, row ranges, errors."""
from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import HAVE_CUDA, NO_TESTDATA, TENSOR_FILES, TESTDATA, open_model, same_bits

import dq
from dq import _types


@pytest.fixture
def testdata():
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    return TESTDATA


def expected(tensor, dtype):
    """What load_file must give for a tensor: dequantized, or kept (integer tensors)."""
    if _types.cpu_dequantizes(tensor.type):
        return tensor.dequantize(dtype=dtype)
    return tensor.data


@pytest.mark.parametrize("dtype", ["float16", "float32", "bfloat16"])
@pytest.mark.parametrize("name", TENSOR_FILES)
def test_cpu_load_equals_dequantize(name, dtype, ml_dtypes):
    model = open_model(name)
    loaded = dq.load_file(TESTDATA / name, dtype=dtype, progress=False)
    assert list(loaded) == [t.name for t in model]
    for t in model:
        out = loaded[t.name]
        assert isinstance(out, np.ndarray) and out.flags.c_contiguous and out.flags.writeable
        assert same_bits(out, expected(t, dtype)), t.name


def test_keep_gives_the_file_bytes(testdata):
    model = open_model("all-types.gguf")
    loaded = dq.load_file(testdata / "all-types.gguf", dtype="keep", progress=False)
    for t in model:
        # The bytes as they are; typed like GGUFReader (BF16 as bfloat16 rather than bytes).
        assert loaded[t.name].tobytes() == t.data.tobytes(), t.name
        assert loaded[t.name].size * loaded[t.name].itemsize == t.n_bytes


def test_names_and_rows(testdata):
    path = testdata / "all-types.gguf"
    model = open_model("all-types.gguf")
    full = dq.load_file(path, dtype="float32", progress=False)
    some = dq.load_file(path, dtype="float32", names=["t.q6_k", "t.q4_0"], progress=False)
    assert list(some) == ["t.q6_k", "t.q4_0"]
    assert same_bits(some["t.q4_0"], full["t.q4_0"])
    rows = {"t.q4_0": (3, 7), "t.q8_0": range(10, 60), "t.q4_k": slice(5, None)}
    part = dq.load_file(path, dtype="float32", rows=rows, progress=False)
    assert list(part) == [t.name for t in model]  # rows without names: every tensor
    for name, (begin, end) in {"t.q4_0": (3, 7), "t.q8_0": (10, 60), "t.q4_k": (5, None)}.items():
        row_len = model[name].shape[-1]
        want = full[name].reshape(-1, row_len)[begin:end]
        assert same_bits(part[name], want), name
    assert same_bits(part["t.q6_k"], full["t.q6_k"])  # no range: whole, in its own shape


def test_unknown_name_is_named(testdata):
    with pytest.raises(dq.DQError, match="no.such.tensor"):
        dq.load_file(testdata / "all-types.gguf", names=["no.such.tensor"], progress=False)


def test_rows_out_of_range_name_the_tensor(testdata):
    with pytest.raises(dq.DQError, match="t.q4_0"):
        dq.load_file(testdata / "all-types.gguf", rows={"t.q4_0": (0, 10**6)}, progress=False)
    with pytest.raises(dq.DQError, match="t.q4_0"):
        dq.load_file(testdata / "all-types.gguf", rows={"t.q4_0": (-1, 2)}, progress=False)
    with pytest.raises(dq.DQError, match="not loaded"):
        dq.load_file(testdata / "all-types.gguf", names=["t.q6_k"], rows={"t.q4_0": (0, 1)},
                     progress=False)


@pytest.mark.parametrize("rows", [(0, -2), (0, -5), slice(0, -1), slice(2, -3), range(0, -1),
                                  (2**64, 2**64 + 3), (2, 2**64 - 1)])
def test_rows_that_would_load_other_rows_are_refused(testdata, rows):
    # A negative end other than a pair's -1 used to load every row, and numbers past int64
    # wrapped into other rows (2**64 -> 0), with no error.
    refused = r"rows of 't.q4_0': (end -\d+ counts|(begin|end) \d+ is past)"
    with pytest.raises(dq.DQError, match=refused):
        dq.load_file(testdata / "all-types.gguf", names=["t.q4_0"], rows={"t.q4_0": rows},
                     progress=False)


@pytest.mark.parametrize("device", ["cuda:4294967296", "vulkan:4294967296", "cuda:2147483648"])
def test_device_numbers_past_int32_are_refused(testdata, device):
    # The C int32 wrapped them: vulkan:4294967296 loaded onto vulkan:0 without an error.
    with pytest.raises(dq.DQError, match=f"device '{device}': no backend has device"):
        dq.load_file(testdata / "all-types.gguf", device=device, names=["t.q4_0"],
                     progress=False)


def test_names_that_would_load_other_tensors_are_refused(testdata):
    path = testdata / "all-types.gguf"
    # A string was taken a character at a time ("tensor t not found").
    with pytest.raises(dq.DQError, match="names must be a list of tensor names"):
        dq.load_file(path, names="t.q4_0", progress=False)
    # C read up to the NUL: "t.q4_0\0x" loaded t.q4_0 (under another name), and a path with a
    # NUL opened the file named by its first part.
    with pytest.raises(dq.DQError, match="NUL"):
        dq.load_file(path, names=["t.q4_0\0x"], progress=False)
    with pytest.raises(dq.DQError, match="NUL"):
        dq.load_file(str(path) + "\0.other", names=["t.q4_0"], progress=False)
    with pytest.raises(dq.DQError, match="NUL"):
        dq.GGUFFile(str(path) + "\0.other")


def test_truncated_file_is_named(testdata, tmp_path):
    data = (testdata / "mini-llama-q4_k_m.gguf").read_bytes()
    bad = tmp_path / "short.gguf"
    bad.write_bytes(data[: len(data) - 4096])
    with pytest.raises(dq.DQError, match="short.gguf"):
        dq.load_file(bad, progress=False)


@pytest.mark.skipif(HAVE_CUDA, reason="this machine has a CUDA device")
def test_missing_cuda_device(testdata):
    with pytest.raises(dq.DQError, match="cuda") as e:
        dq.load_file(testdata / "all-types.gguf", device="cuda:0", progress=False)
    assert "all-types.gguf" in str(e.value)


@pytest.mark.parametrize("device", ["tpu:x", "cpu:1", "cuda:-1", ":0"])
def test_bad_device_strings(testdata, device):
    with pytest.raises(dq.DQError, match="device"):
        dq.load_file(testdata / "all-types.gguf", device=device, progress=False)


def test_bad_dtype(testdata):
    with pytest.raises(dq.DQError, match="int8"):
        dq.load_file(testdata / "all-types.gguf", dtype="int8", progress=False)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal(testdata, monkeypatch):
    import sys
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    dq.load_file(testdata / "all-types.gguf", progress=True)
    assert "100.0%" in terminal.getvalue() and terminal.getvalue().endswith("\n")
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    dq.load_file(testdata / "all-types.gguf", progress=True)
    assert pipe.getvalue() == ""
    monkeypatch.setattr(sys, "stderr", terminal)
    before = terminal.getvalue()
    dq.load_file(testdata / "all-types.gguf", progress=False)
    assert terminal.getvalue() == before
