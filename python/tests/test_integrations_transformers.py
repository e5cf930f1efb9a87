"""dq.integrations.transformers against the installed transformers: from_pretrained on the
mini llama gives the same state_dict and logits with and without enable(); the packed path's
dequantizer equals gguf-py for every type, the types transformers lacks included."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import NO_TESTDATA, TENSORS, TESTDATA, open_model

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
transformers = pytest.importorskip("transformers", reason="transformers is not installed")
pytest.importorskip("accelerate", reason="accelerate (transformers needs it for GGUF) is "
                    "not installed")
gguf = pytest.importorskip("gguf", reason="gguf-py is not installed")

import dq  # noqa: E402
from dq import _types  # noqa: E402
from dq.integrations import transformers as dq_transformers  # noqa: E402


@pytest.fixture
def disabled():
    dq_transformers.disable()
    yield
    dq_transformers.disable()


def load(model_dir, name, **kwargs):
    return transformers.AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=name,
                                                             **kwargs).eval()


# (stories260K's config does not load in transformers at all: padding_idx out of range.)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32],
                         ids=lambda d: str(d).split(".")[-1])
@pytest.mark.parametrize("name", ["mini-llama-q4_k_m.gguf", "mini-llama-lq-q4_k_m.gguf"])
def test_from_pretrained_dtypes_same_state_dict(name, dtype, disabled, monkeypatch):
    """dq writes f16/bf16 directly; must equal transformers' f32-then-cast."""
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    plain = load(TESTDATA, name, dtype=dtype)
    import dq.torch
    calls = []
    real_load_file = dq.torch.load_file
    monkeypatch.setattr(dq.torch, "load_file",
                        lambda *a, **k: calls.append(k.get("dtype")) or real_load_file(*a, **k))
    dq_transformers.enable()
    ours = load(TESTDATA, name, dtype=dtype)
    assert calls == [dtype], "the llama fast path (dq.torch.load_file) did not run"
    dq_transformers.disable()
    a, b = plain.state_dict(), ours.state_dict()
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key


def test_from_pretrained_same_state_dict_and_logits(disabled):
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    name = "mini-llama-q4_k_m.gguf"
    plain = load(TESTDATA, name)
    dq_transformers.enable()
    assert dq.patch_gguf is not None and dq._patch.is_patched()
    ours = load(TESTDATA, name)
    dq_transformers.disable()
    assert not dq._patch.is_patched()
    a, b = plain.state_dict(), ours.state_dict()
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key
    prompt = torch.tensor([[1, 15, 200, 33, 7, 411]])
    with torch.no_grad():
        assert torch.equal(plain(prompt).logits, ours(prompt).logits)


def test_enable_disable_restore_transformers(disabled):
    import gguf as gguf_module
    from transformers import modeling_gguf_pytorch_utils as utils
    from transformers.integrations.gguf import dequant, kernels
    original = kernels._dequantize_chunk
    originals = (gguf_module.dequantize, gguf_module.get_tensor_name_map,
                 utils.load_gguf_checkpoint, utils.get_gguf_hf_weights_map)
    blocks_before = dict(dequant.GGML_BLOCK)
    dq_transformers.enable()
    dq_transformers.enable()  # idempotent
    assert kernels._dequantize_chunk is not original
    assert 6 in dequant.GGML_BLOCK and 39 in dequant.GGML_BLOCK  # Q5_0, MXFP4
    assert 0 not in dequant.GGML_BLOCK  # F32 stays a plain tensor type
    assert gguf_module.get_tensor_name_map is not originals[1]
    dq_transformers.disable()
    assert kernels._dequantize_chunk is original
    assert (gguf_module.dequantize, gguf_module.get_tensor_name_map, utils.load_gguf_checkpoint,
            utils.get_gguf_hf_weights_map) == originals
    assert dequant.GGML_BLOCK == blocks_before


def test_enable_adds_only_types_dq_dequantizes(disabled):
    """Integer tensors (and Q8_1) must not become "blocks": transformers' reader keeps
    refusing them with its own message instead of a KeyError in its dequantizer later."""
    from transformers.integrations.gguf import dequant, reader
    dq_transformers.enable()
    for t in (9, 24, 25, 26, 27, 28):  # Q8_1, I8, I16, I32, I64, F64
        assert t not in dequant.GGML_BLOCK and t not in dequant.GGML_NAME
        with pytest.raises(ValueError, match="not supported yet"):
            reader._byte_count(t, 32, "model.gguf")


@pytest.mark.parametrize("row", TENSORS)
def test_packed_path_equals_gguf_py(row, disabled):
    """kernels.dequantize_blocks (the packed path's entry) on dq, against gguf-py."""
    from transformers.integrations.gguf import kernels
    t = open_model(row["file"])[row["tensor"]]
    try:
        qtype = gguf.GGMLQuantizationType(t.type)
    except ValueError:
        pytest.skip(f"{t.type_name}: gguf-py does not know it")
    if t.type in (0, 1, 30) or not _types.cpu_dequantizes(t.type) or \
            qtype not in gguf.quants._type_traits:
        pytest.skip(f"{t.type_name}: not a block type both dq and gguf-py dequantize")
    want = gguf.quants.dequantize(t.data, qtype).reshape(-1, t.shape[-1])
    data = torch.from_numpy(np.ascontiguousarray(t.data).copy()).reshape(want.shape[0], -1)
    dq_transformers.enable()
    got = kernels.dequantize_blocks(data, t.type, want.shape[0], want.shape[1], torch.float32)
    assert np.array_equal(got.numpy().view(np.uint32), want.view(np.uint32)), t.name


def test_packed_path_falls_back_for_gathered_rows(disabled):
    from transformers.integrations.gguf import kernels
    t = open_model("all-types.gguf")["t.q4_k"] if TESTDATA else pytest.skip(NO_TESTDATA)
    data = torch.from_numpy(np.ascontiguousarray(t.data).copy())
    rows = torch.tensor([3, 1])
    want = kernels.dequantize_blocks(data, t.type, 2, t.shape[-1], torch.float32, indices=rows)
    dq_transformers.enable()
    got = kernels.dequantize_blocks(data, t.type, 2, t.shape[-1], torch.float32, indices=rows)
    assert torch.equal(got, want)
