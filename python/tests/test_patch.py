"""dq.patch_gguf(): gguf-py callers get dq's results, identical to gguf-py's own."""
from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import TENSOR_FILES, TESTDATA, NO_TESTDATA, same_bits

import dq
from dq import _patch


def reader_or_skip(gguf, name):
    try:
        return gguf.GGUFReader(TESTDATA / name)
    except Exception as e:  # gguf-py refuses some files (GGUF v1, types it lacks)
        pytest.skip(f"gguf-py cannot read {name}: {e}")


def supported_by_gguf_py(gguf, qtype):
    return qtype in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16) or \
        qtype in gguf.quants._type_traits


@pytest.mark.parametrize("name", TENSOR_FILES)
def test_reader_code_gets_identical_arrays(name, gguf, monkeypatch):
    reader = reader_or_skip(gguf, name)
    tensors = [t for t in reader.tensors if supported_by_gguf_py(gguf, t.tensor_type)]
    if not tensors:
        pytest.skip(f"{name} has no tensors")
    expected = [gguf.dequantize(t.data, t.tensor_type) for t in tensors]
    served = []
    real = _patch.dequantize
    monkeypatch.setattr(_patch, "dequantize", lambda *a, **k: served.append(1) or real(*a, **k))
    original = gguf.quants.dequantize
    with dq.patched_gguf():
        assert gguf.dequantize is not original and gguf.quants.dequantize is gguf.dequantize
        got = [gguf.dequantize(t.data, t.tensor_type) for t in tensors]
        got_quants = [gguf.quants.dequantize(t.data, t.tensor_type) for t in tensors]
    assert gguf.dequantize is original and gguf.quants.dequantize is original
    for t, e, g, q in zip(tensors, expected, got, got_quants):
        assert same_bits(g, e), t.name
        assert same_bits(q, e), t.name
    non_f32 = sum(int(t.tensor_type) != 0 for t in tensors)
    assert len(served) == 2 * non_f32  # dq served every tensor but F32 (a view, as before)


def test_names_bound_before_patching_are_patched_and_restored(gguf):
    consumer = types.ModuleType("dq_test_consumer")
    consumer.dequantize = gguf.dequantize  # as `from gguf import dequantize` at import time
    consumer.deq = gguf.quants.dequantize
    sys.modules[consumer.__name__] = consumer
    try:
        original = gguf.quants.dequantize
        dq.patch_gguf()
        try:
            assert consumer.dequantize is _patch.gguf_dequantize
            assert consumer.deq is _patch.gguf_dequantize
            dq.patch_gguf()  # idempotent
        finally:
            dq.unpatch_gguf()
        assert consumer.dequantize is original and consumer.deq is original
        dq.unpatch_gguf()  # harmless when not patched
    finally:
        del sys.modules[consumer.__name__]


def test_nested_context_keeps_an_outer_patch(gguf):
    original = gguf.dequantize
    dq.patch_gguf()
    try:
        with dq.patched_gguf():
            assert gguf.dequantize is _patch.gguf_dequantize
        assert gguf.dequantize is _patch.gguf_dequantize  # the outer patch stays
    finally:
        dq.unpatch_gguf()
    assert gguf.dequantize is original


def test_types_dq_does_not_do_fall_back_to_gguf_py(gguf):
    data = np.arange(16, dtype=np.int32)
    with pytest.raises(NotImplementedError) as unpatched:
        gguf.dequantize(data.view(np.uint8), gguf.GGMLQuantizationType.I32)
    with dq.patched_gguf():
        with pytest.raises(NotImplementedError) as patched:
            gguf.dequantize(data.view(np.uint8), gguf.GGMLQuantizationType.I32)
    assert str(patched.value) == str(unpatched.value)


def test_f32_stays_a_view_as_in_gguf_py(gguf):
    data = np.arange(8, dtype=np.float32).view(np.uint8)
    with dq.patched_gguf():
        out = gguf.dequantize(data, gguf.GGMLQuantizationType.F32)
    assert np.shares_memory(out, data) and out.dtype == np.float32


def test_transformers_gguf_loading_gets_dq(gguf, monkeypatch):
    """transformers' GGUF loader (present on the GPU machine) through the patch."""
    utils = pytest.importorskip("transformers.modeling_gguf_pytorch_utils",
                                reason="transformers is not installed")
    pytest.importorskip("torch", reason="torch is not installed")
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    path = str(TESTDATA / "mini-llama-lq-q4_k_m.gguf")
    # transformers 5 maps tensor names through the model it loads into: give it one.
    import transformers
    config = transformers.AutoConfig.from_pretrained(TESTDATA, gguf_file=Path(path).name)
    model = transformers.AutoModelForCausalLM.from_config(config)
    plain = utils.load_gguf_checkpoint(path, return_tensors=True, model_to_load=model)["tensors"]
    served = []
    real = _patch.dequantize
    monkeypatch.setattr(_patch, "dequantize", lambda *a, **k: served.append(1) or real(*a, **k))
    with dq.patched_gguf():
        patched = utils.load_gguf_checkpoint(path, return_tensors=True,
                                             model_to_load=model)["tensors"]
    assert served, "transformers did not call gguf's dequantize through the patch"
    assert plain.keys() == patched.keys()
    for key in plain:
        assert same_bits(plain[key].numpy(), patched[key].numpy()), key
