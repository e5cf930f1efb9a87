"""dq.load_file(shard=dq.tensor_parallel(rank, world)) without torch: the shards of every rank,
put back together along the cut dimension, equal the whole tensor."""
from __future__ import annotations

import numpy as np
import pytest

import dq
from conftest import NO_TESTDATA, TESTDATA


@pytest.mark.skipif(TESTDATA is None, reason=NO_TESTDATA)
@pytest.mark.parametrize("name,world", [("stories260K.gguf", 2), ("stories260K.gguf", 4),
                                        ("stories260K-q4_k_m.gguf", 2)])
@pytest.mark.parametrize("dtype", ["float32", "keep"])
def test_shards_reassemble_to_the_whole(name, world, dtype):
    path = TESTDATA / name
    whole = dq.load_file(path, dtype=dtype, progress=False)
    shards = [dq.load_file(path, dtype=dtype, progress=False,
                           shard=dq.tensor_parallel(r, world)) for r in range(world)]
    split = 0
    for tensor, full in whole.items():
        parts = [s[tensor] for s in shards]
        dim = dq.TensorParallel.dim_of(full.shape, parts[0].shape)
        if dim is None:
            for p in parts:
                np.testing.assert_array_equal(p, full, err_msg=tensor)
            continue
        split += 1
        assert sum(p.shape[dim] for p in parts) == full.shape[dim], tensor
        np.testing.assert_array_equal(np.concatenate(parts, axis=dim), full, err_msg=tensor)
    assert split > 20  # most weights are cut, not loaded whole by every rank


def test_a_bad_shard_is_refused():
    with pytest.raises(dq.DQError, match="rank -1 of a world of 2"):
        dq.tensor_parallel(-1, 2)
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    with pytest.raises(dq.DQError, match="shard must come from tensor_parallel"):
        dq.load_file(TESTDATA / "stories260K.gguf", shard=(0, 2))
