"""dq.integrations.diffusers against the installed diffusers, and dq.integrations.comfyui
against ComfyUI-GGUF's calling convention. ComfyUI-GGUF is not on PyPI, so
`comfy_dequantize` below is a faithful copy of its calling convention (dequant.py:
`dequantize(data, qtype, oshape, dtype)` reshaping bytes into (n_blocks, type_size) blocks and
calling `dequantize_functions[qtype](blocks, block_size, type_size, dtype)`), written here
from its description, not copied code. Every type must equal gguf-py's result."""
from __future__ import annotations

import types

import numpy as np
import pytest
from conftest import NO_TESTDATA, TENSORS, TESTDATA, open_model

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
gguf = pytest.importorskip("gguf", reason="gguf-py is not installed")

import dq  # noqa: E402
from dq import _types  # noqa: E402
from dq.integrations import comfyui  # noqa: E402


def gguf_case(row):
    """(tensor, gguf-py's f32 result) or a skip with the reason."""
    t = open_model(row["file"])[row["tensor"]]
    try:
        qtype = gguf.GGMLQuantizationType(t.type)
    except ValueError:
        pytest.skip(f"{t.type_name}: gguf-py does not know it")
    if t.type in (0, 1) or not _types.cpu_dequantizes(t.type) or \
            qtype not in gguf.quants._type_traits:
        pytest.skip(f"{t.type_name}: not a block type both dq and gguf-py dequantize")
    return t, qtype, gguf.quants.dequantize(t.data, qtype)


def comfy_dequantize(table, data, qtype, oshape, dtype=None):
    """ComfyUI-GGUF's calling convention for its table."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    rows = data.reshape((-1, data.shape[-1])).view(torch.uint8)
    n_blocks = rows.numel() // type_size
    blocks = rows.reshape((n_blocks, type_size))
    return table[qtype](blocks, block_size, type_size, dtype).reshape(oshape)


def same_f32(a: torch.Tensor, b: np.ndarray) -> bool:
    return a.dtype == torch.float32 and np.array_equal(
        a.numpy().reshape(-1).view(np.uint32), np.ascontiguousarray(b).reshape(-1).view(np.uint32))


@pytest.mark.parametrize("row", TENSORS)
def test_comfyui_table_equals_gguf_py(row):
    t, qtype, want = gguf_case(row)
    data = torch.from_numpy(np.ascontiguousarray(t.data).copy())
    got = comfy_dequantize(comfyui.dequantize_functions, data, qtype, want.shape)
    assert same_f32(got, want), t.name
    half = comfy_dequantize(comfyui.dequantize_functions, data, qtype, want.shape, torch.float16)
    assert half.dtype == torch.float16


def test_comfyui_table_covers_every_type_and_names_bad_blocks():
    covered = {int(k) for k in comfyui.dequantize_functions}
    assert {2, 6, 12, 16, 19, 29, 34, 35, 39} <= covered  # incl. IQ1/IQ2, TQ, MXFP4
    assert 0 not in covered and 1 not in covered  # F32/F16 stay plain tensors in ComfyUI
    with pytest.raises(ValueError, match="cannot dequantize q4_0"):
        comfyui.dequantize_functions[2](torch.zeros(4, 18, dtype=torch.int8), 32, 18, None)


def test_comfyui_enable_installs_and_restores():
    original_q8 = object()
    fake = types.ModuleType("fake_comfyui_gguf_dequant")  # ComfyUI-GGUF's dequant.py's shape
    fake.TORCH_COMPATIBLE_QTYPES = (None, gguf.GGMLQuantizationType.F32,
                                    gguf.GGMLQuantizationType.F16)
    fake.dequantize_functions = {gguf.GGMLQuantizationType.Q8_0: original_q8}
    try:
        assert comfyui.enable(fake) == 1
        table = fake.dequantize_functions
        assert gguf.GGMLQuantizationType.IQ2_XXS in table and table[8] is not original_q8
        blocks = torch.zeros(2, 34, dtype=torch.uint8)
        assert torch.equal(table[gguf.GGMLQuantizationType.Q8_0](blocks, 32, 34, None),
                           torch.zeros(2, 32))
    finally:
        comfyui.disable()
    assert fake.dequantize_functions == {gguf.GGMLQuantizationType.Q8_0: original_q8}


def test_gpu_tensors_go_to_dqs_backend_for_torchs_gpus(monkeypatch):
    """The hooks' dq_serves: on a ROCm build of torch, "cuda" tensors are HIP memory, so dq's
    hip backend serves them (the cuda plugin never does); and only types with a kernel."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from dq.integrations import _serve
    with FakeTensorMode():  # a "cuda" tensor without a GPU: dq_serves reads only metadata
        blocks = torch.empty(4, 144, dtype=torch.uint8, device="cuda")
    asked = []
    monkeypatch.setattr(_serve, "_gpu_serves",
                        lambda backend, qt, dst: asked.append((backend, qt, dst)) or True)
    monkeypatch.setattr(torch.version, "hip", "6.2.41133", raising=False)
    assert _serve.dq_serves(blocks, 12, torch.float16) and asked == [("hip", 12, 1)]
    monkeypatch.setattr(torch.version, "hip", None, raising=False)
    assert _serve.dq_serves(blocks, 12, torch.bfloat16) and asked[-1] == ("cuda", 12, 30)
    monkeypatch.undo()
    # The real check, on the one backend every machine has: a device and a kernel.
    assert _serve._gpu_serves("cpu", 12, 1)
    assert not _serve._gpu_serves("cpu", 24, 0)  # I8: no backend dequantizes it
    assert not _serve._gpu_serves("no-such-backend", 12, 1)


diffusers = pytest.importorskip("diffusers", reason="diffusers is not installed")


@pytest.fixture
def dq_diffusers():
    from dq.integrations import diffusers as integration
    integration.disable()
    yield integration
    integration.disable()


@pytest.mark.parametrize("row", TENSORS)
def test_diffusers_dequantize_equals_gguf_py(row, dq_diffusers):
    from diffusers.quantizers.gguf import utils
    t, qtype, want = gguf_case(row)
    dq_diffusers.enable()
    if qtype not in utils.SUPPORTED_GGUF_QUANT_TYPES:
        pytest.fail(f"{t.type_name} not accepted at load after enable()")
    param = utils.GGUFParameter(torch.from_numpy(np.ascontiguousarray(t.data).copy()),
                                quant_type=qtype)
    got = utils.dequantize_gguf_tensor(param)
    assert tuple(got.shape) == want.shape and same_f32(got, want), t.name


def test_diffusers_enable_disable_restore(dq_diffusers):
    from diffusers.quantizers.gguf import gguf_quantizer, utils
    original = utils.dequantize_gguf_tensor
    supported = list(utils.SUPPORTED_GGUF_QUANT_TYPES)
    functions = dict(utils.dequantize_functions)
    assert gguf.GGMLQuantizationType.IQ2_XXS not in supported
    dq_diffusers.enable()
    assert utils.dequantize_gguf_tensor is not original
    assert gguf_quantizer.dequantize_gguf_tensor is utils.dequantize_gguf_tensor
    assert gguf.GGMLQuantizationType.IQ2_XXS in utils.SUPPORTED_GGUF_QUANT_TYPES
    assert gguf.GGMLQuantizationType.MXFP4 in utils.dequantize_functions
    plain = torch.ones(3)
    assert utils.dequantize_gguf_tensor(plain) is plain  # not a GGUF parameter: unchanged
    dq_diffusers.disable()
    assert utils.dequantize_gguf_tensor is original
    assert gguf_quantizer.dequantize_gguf_tensor is original
    assert utils.SUPPORTED_GGUF_QUANT_TYPES == supported
    assert utils.dequantize_functions == functions


def test_diffusers_gguf_linear_forward(dq_diffusers):
    """GGUFLinear.forward_native (the per-step path) runs on dq and matches diffusers."""
    from diffusers.quantizers.gguf import utils
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    t = open_model("all-types.gguf")["t.q4_k"]
    rows, cols = t.shape
    layer = utils.GGUFLinear(cols, rows, bias=False, compute_dtype=torch.float32)
    layer.weight = utils.GGUFParameter(torch.from_numpy(np.ascontiguousarray(t.data).copy()),
                                       quant_type=gguf.GGMLQuantizationType.Q4_K)
    x = torch.randn(2, cols)
    want = torch.nn.functional.linear(x, torch.from_numpy(t.dequantize()))
    dq_diffusers.enable()
    assert torch.equal(layer.forward_native(x), want)


def test_diffusers_kernel_forward_takes_types_enable_added(dq_diffusers):
    """GGUFLinear.forward_cuda (taken with diffusers' hub kernels on a GPU; called directly
    here) on a type enable() made loadable and the kernel lacks: dq, not NotImplementedError."""
    from diffusers.quantizers.gguf import utils
    qtype = gguf.GGMLQuantizationType.TQ1_0
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    data = torch.from_numpy(np.random.default_rng(5).integers(0, 256, (4, type_size),
                                                              dtype=np.uint8))
    data[:, -2:] = torch.tensor([0x00, 0x3c], dtype=torch.uint8)  # f16 scale 1.0
    layer = utils.GGUFLinear(block_size, 4, bias=False, compute_dtype=torch.float32)
    layer.weight = utils.GGUFParameter(data, quant_type=qtype)
    x = torch.randn(3, block_size)
    want = x @ dq.torch.dequantize(data, int(qtype)).T
    dq_diffusers.enable()
    assert torch.equal(layer.forward_cuda(x), want)
    plain = torch.randn(4, block_size)  # a type diffusers has: its own code, unchanged
    assert torch.equal(utils._fused_mul_mat_gguf(x, plain, gguf.GGMLQuantizationType.F32),
                       x @ plain.T)
    dq_diffusers.disable()
    assert not hasattr(utils._fused_mul_mat_gguf, "__wrapped__")
