"""dq.dequantize_batch: one library call for many tensors, the same bytes as dq.dequantize."""
from __future__ import annotations

import numpy as np
import pytest

import dq


def _q8_0_rows(rows: int, blocks: int, seed: int) -> np.ndarray:
    """Valid q8_0 rows: f16 scale 1.0 (0x3C00), then 32 random int8 per block."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(rows, blocks, 34), dtype=np.uint8)
    data[:, :, 0], data[:, :, 1] = 0x00, 0x3C
    return data.reshape(rows, blocks * 34)


def _q4_k_rows(rows: int, blocks: int, seed: int) -> np.ndarray:
    """q4_K rows with small normal f16 scales (d, dmin) so every value is finite."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(rows, blocks, 144), dtype=np.uint8)
    data[:, :, 0:4] = np.frombuffer(np.array([0.01, 0.002], dtype=np.float16).tobytes(), np.uint8)
    return data.reshape(rows, blocks * 144)


def _items():
    f16 = np.random.default_rng(3).standard_normal((4, 64)).astype(np.float16)
    return [(_q8_0_rows(3, 5, 1), "q8_0"), (_q4_k_rows(2, 3, 2), "q4_K"), (f16, "F16"),
            (_q8_0_rows(1, 4096, 4), 8)]


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_batch_equals_single_calls(dtype):
    items = _items()
    outs = dq.dequantize_batch(items, dtype=dtype)
    assert len(outs) == len(items)
    for (data, qtype), out in zip(items, outs):
        single = dq.dequantize(data, qtype, dtype=dtype)
        assert out.shape == single.shape and out.dtype == single.dtype
        np.testing.assert_array_equal(out, single)


def test_empty_batch_and_empty_tensor():
    assert dq.dequantize_batch([]) == []
    empty = np.zeros((0, 34), dtype=np.uint8)
    outs = dq.dequantize_batch([(empty, "q8_0"), (_q8_0_rows(1, 2, 5), "q8_0")])
    assert outs[0].shape == (0, 32)
    np.testing.assert_array_equal(outs[1], dq.dequantize(_q8_0_rows(1, 2, 5), "q8_0"))


def test_bad_item_names_its_index_and_nothing_runs():
    good = _q8_0_rows(1, 2, 6)
    with pytest.raises(dq.DQError, match=r"item 2 \(q4_K\): 100 bytes per row"):
        dq.dequantize_batch([(good, "q8_0"), (good, "q8_0"), (np.zeros(100, np.uint8), "q4_K")])
    # Caught by the library itself (a retired type), the index is the caller's item even
    # after an empty tensor that made no request.
    with pytest.raises(dq.DQError, match=r"item 2: src_type: type 4 \(q4_2\) is retired"):
        dq.dequantize_batch([(np.zeros((0, 34), np.uint8), "q8_0"), (good, "q8_0"),
                             (np.zeros(18, np.uint8), 4)])
    with pytest.raises(dq.DQError, match="item 0 is not a"):
        dq.dequantize_batch([good])
