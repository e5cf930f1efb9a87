"""Shared fixtures: the test-data folder, its GGUF files and tensors, CUDA presence.

Test data: $DQ_TESTDATA, else ../shared/testdata beside the repository; tests that need it
skip with the reason when neither exists. Run from the repository root with dq installed:
    python3 -m pytest python/tests -v
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

import dq

REPO = Path(__file__).resolve().parents[2]


def testdata_dir() -> Path | None:
    env = os.environ.get("DQ_TESTDATA")
    for candidate in ([Path(env)] if env else []) + [REPO.parent / "shared" / "testdata"]:
        if (candidate / "manifest.tsv").is_file():
            return candidate
    return None


TESTDATA = testdata_dir()
NO_TESTDATA = "no test data: set DQ_TESTDATA or put it at ../shared/testdata"


def manifest_rows() -> list[dict]:
    if TESTDATA is None:
        return []
    with open(TESTDATA / "manifest.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


MANIFEST = manifest_rows()
MODEL_FILES = sorted({row["file"] for row in MANIFEST})
# Every (file, tensor) of the test data, as pytest parameters.
TENSORS = [pytest.param(row, id=f"{row['file']}:{row['tensor']}") for row in MANIFEST
           if row["tensor"]] or \
    [pytest.param(None, marks=pytest.mark.skip(reason=NO_TESTDATA), id="no-testdata")]
FILES = [pytest.param(name, id=name) for name in MODEL_FILES] or \
    [pytest.param(None, marks=pytest.mark.skip(reason=NO_TESTDATA), id="no-testdata")]
# The files that hold tensors.
TENSOR_FILES = [pytest.param(name, id=name) for name in MODEL_FILES
                if any(r["file"] == name and r["tensor"] for r in MANIFEST)] or \
    [pytest.param(None, marks=pytest.mark.skip(reason=NO_TESTDATA), id="no-testdata")]


# The fake asynchronous device plugin (tests/loader) of a CMake build tree, if there is one:
# $DQ_TEST_FAKEASYNC_DIR, else build/tests/loader/fakeplugins of this checkout. Tests use it
# in subprocesses (DQ_PLUGIN_PATH is read when the library starts).
FAKE_DIR = Path(os.environ.get("DQ_TEST_FAKEASYNC_DIR") or
                REPO / "build" / "tests" / "loader" / "fakeplugins")
HAVE_FAKE = (FAKE_DIR / "libdq-fakeasync.so").is_file()


def cuda_devices() -> int:
    for backend in dq.backends():
        if backend.name == "cuda" and backend.loaded:
            return len(backend.devices)
    return 0


def cuda_skip_reason() -> str:
    for backend in dq.backends():
        if backend.name == "cuda":
            return f"no CUDA device: cuda backend: {backend.status or 'no device'}"
    return "no CUDA device: dq found no cuda plugin (wheel built without nvcc, or no GPU)"


HAVE_CUDA = cuda_devices() > 0
requires_cuda = pytest.mark.skipif(not HAVE_CUDA, reason=cuda_skip_reason())

_open_files: dict[str, dq.GGUFFile] = {}


def open_model(name: str) -> dq.GGUFFile:
    """One dq.GGUFFile per test-data file for the whole session."""
    if name not in _open_files:
        _open_files[name] = dq.GGUFFile(TESTDATA / name)
    return _open_files[name]


def golden(row: dict) -> np.ndarray | None:
    """ggml's own f32 output for the tensor (None when the manifest lists none)."""
    if not row.get("golden"):
        return None
    return np.fromfile(TESTDATA / row["golden"], dtype="<f4")


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bit for bit (NaN payloads and the sign of zero included)."""
    return a.shape == b.shape and a.dtype == b.dtype and \
        np.array_equal(np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8))


@pytest.fixture(scope="session")
def gguf():
    return pytest.importorskip("gguf", reason="gguf-py (pip install gguf) is not installed")


@pytest.fixture(scope="session")
def ml_dtypes():
    return pytest.importorskip("ml_dtypes", reason="ml_dtypes is not installed")
