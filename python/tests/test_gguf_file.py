"""dq.GGUFFile against gguf-py's GGUFReader, and bad files."""
from __future__ import annotations

import gc
import shutil

import numpy as np
import pytest
from conftest import FILES, NO_TESTDATA, TESTDATA, same_bits

import dq


@pytest.fixture
def testdata():
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    return TESTDATA


def reader_or_skip(gguf, path):
    try:
        return gguf.GGUFReader(path)
    except Exception as e:  # gguf-py refuses some files (GGUF v1, types it lacks)
        pytest.skip(f"gguf-py cannot read {path.name}: {e}")


@pytest.mark.parametrize("name", FILES)
def test_matches_gguf_py_reader(name, gguf):
    path = TESTDATA / name
    reader = reader_or_skip(gguf, path)
    with dq.GGUFFile(path) as f:
        assert f.version == reader.fields["GGUF.version"].contents()
        # Metadata: every key in order, with the same values (nested arrays: see below).
        keys = [k for k in reader.fields if not k.startswith("GGUF.")]
        assert list(f.metadata) == keys
        for key in keys:
            field = reader.fields[key]
            if len(field.types) > 2:  # arrays of arrays: gguf-py's contents() flattens them
                continue
            ours, theirs = f.metadata[key], field.contents()
            if isinstance(theirs, float):
                assert np.float32(ours) == np.float32(theirs), key
            else:
                assert ours == theirs, key
        assert [t.name for t in f] == [t.name for t in reader.tensors]
        for ours, theirs in zip(f, reader.tensors):
            assert ours.type == int(theirs.tensor_type)
            assert ours.shape == tuple(reversed(theirs.shape.tolist()))
            assert ours.n_elements == int(theirs.n_elements)
            assert ours.n_bytes == int(theirs.n_bytes)
            assert ours.offset == int(theirs.data_offset)
            assert same_bits(ours.data, np.asarray(theirs.data)), ours.name


def test_nested_arrays(testdata):
    with dq.GGUFFile(testdata / "metadata-nested-arrays.gguf") as f:
        nested = [v for v in f.metadata.values() if isinstance(v, list) and v
                  and isinstance(v[0], list)]
        assert nested, "expected arrays of arrays"


def test_metadata_value_kinds(testdata):
    with dq.GGUFFile(testdata / "all-types.gguf") as f:
        kinds = {type(v) for v in f.metadata.values()}
        assert {int, float, bool, str, list} <= kinds
        assert f.metadata["test.arr.empty_i32"] == []
        assert f["t.q4_0"].type_name == "q4_0"
        assert "t.q4_0" in f and "nope" not in f
        with pytest.raises(KeyError, match="nope"):
            f["nope"]


def test_views_outlive_close_and_are_read_only(testdata):
    f = dq.GGUFFile(testdata / "all-types.gguf")
    view = f["t.q4_0"].data
    expected = view.copy()
    f.close()
    del f
    gc.collect()
    assert np.array_equal(view, expected)  # the mapping stays while a view needs it
    assert not view.flags.writeable


def test_legacy_v1_is_refused_with_the_file_named(testdata):
    path = testdata / "legacy-v1-ggml-vocab-llama.gguf"
    with pytest.raises(dq.DQError, match="legacy-v1-ggml-vocab-llama.gguf"):
        dq.GGUFFile(path)


def test_truncated_file(testdata, tmp_path):
    src = testdata / "all-types.gguf"
    data = src.read_bytes()
    for cut in (10, 100, len(data) // 2, len(data) - 1):
        bad = tmp_path / f"cut{cut}.gguf"
        bad.write_bytes(data[:cut])
        with pytest.raises(dq.DQError, match=f"cut{cut}.gguf"):
            dq.GGUFFile(bad)


# Truncated by another writer after the open: the tensor's pages are gone. dequantize()
# read them through the mapping, so the process died of SIGBUS; a subprocess keeps such a
# crash out of the test session.
_TRUNCATED_WHILE_OPEN = """
import os, sys
import dq
path = sys.argv[1]
with dq.GGUFFile(path) as f:
    t = f.tensors[-1]
    assert t.offset + t.n_bytes > 8192
    t.dequantize()
    os.truncate(path, 8192)
    try:
        t.dequantize()
    except dq.DQError as e:
        print("DQError:", e)
"""


def test_dequantize_of_a_file_truncated_while_open_is_an_error(testdata, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path
    path = tmp_path / "shrinks.gguf"
    shutil.copyfile(testdata / "mini-llama-q4_k_m.gguf", path)
    package_dir = str(Path(dq.__file__).resolve().parent.parent)
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([package_dir, os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-c", _TRUNCATED_WHILE_OPEN, str(path)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-4000:]}"
    assert "DQError: " in r.stdout and "shrinks.gguf" in r.stdout, r.stdout
    assert "the file ends early" in r.stdout, r.stdout


def test_hostile_files(tmp_path):
    cases = {"garbage.gguf": b"not a gguf file at all" * 10,
             "empty.gguf": b"",
             # magic, version 3, then 2^62 tensors and 2^62 keys
             "huge-counts.gguf": b"GGUF" + (3).to_bytes(4, "little") +
             (1 << 62).to_bytes(8, "little") * 2}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(dq.DQError, match=name):
            dq.GGUFFile(tmp_path / name)
    with pytest.raises(dq.DQError, match="missing.gguf"):
        dq.GGUFFile(tmp_path / "missing.gguf")


def write_split_model(gguf, folder):
    """Two parts written by gguf-py's splitting writer: a-00001-of-00002.gguf, ...-00002."""
    writer = gguf.GGUFWriter(folder / "a.gguf", "llama", split_max_tensors=1)
    writer.add_uint32("test.value", 7)
    first = np.arange(64, dtype=np.float32).reshape(2, 32)
    second = np.arange(96, dtype=np.float16).reshape(3, 32)
    writer.add_tensor("first", first)
    writer.add_tensor("second", second)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    parts = sorted(folder.glob("a-*-of-*.gguf"))
    assert len(parts) == 2, parts
    return parts, first, second


def test_split_model_opens_as_one(gguf, tmp_path):
    parts, first, second = write_split_model(gguf, tmp_path)
    with dq.GGUFFile(parts[0]) as f:
        assert f.split_count == 2
        assert [t.name for t in f] == ["first", "second"]
        assert [t.split for t in f] == [0, 1]
        assert f.metadata["test.value"] == 7
        assert np.array_equal(f["first"].data, first)
        assert np.array_equal(f["second"].data, second)
    out = dq.load_file(parts[0], dtype="float32", progress=False)
    assert np.array_equal(out["first"], first)
    assert np.array_equal(out["second"], second.astype(np.float32))
    # A missing part is named.
    shutil.move(parts[1], tmp_path / "elsewhere.gguf")
    with pytest.raises(dq.DQError, match="00002"):
        dq.GGUFFile(parts[0])
