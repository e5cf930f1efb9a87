"""dq.prepare_load (dq_load_prepare): a hint that changes no result, called by load_file and
dq.torch.load_file before the work that starts the device, and its argument errors. The
hint's effect (a prepared staging ring, adopted by the load) is checked in a subprocess on
the fake asynchronous device of the C++ tests when its plugin is built."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import (FAKE_DIR, HAVE_CUDA, HAVE_FAKE, NO_TESTDATA, TESTDATA, requires_cuda,
                      same_bits)

import dq
from dq import _lib, _load

MODEL = "mini-llama-q4_k_m.gguf"


@pytest.fixture
def model_path() -> Path:
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    return TESTDATA / MODEL


def assert_same_tensors(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        assert same_bits(np.asarray(a[name]), np.asarray(b[name])), name


class CallLog:
    """Records the library calls a load makes (by wrapping lib's functions) in order."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple] = []
        self._monkeypatch = monkeypatch

    def wrap(self, name: str) -> None:
        real = getattr(_lib.lib, name)

        def spy(*args):
            entry = (name,)
            if name == "dq_load_prepare":  # (ctx, model, byref(options))
                where = args[2]._obj.device
                entry += (where.backend, where.device)
            self.calls.append(entry)
            return real(*args)

        self._monkeypatch.setattr(_lib.lib, name, spy)

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


def test_prepare_then_load_equals_load(model_path):
    plain = dq.load_file(model_path, dtype="float32", progress=False)
    with dq.GGUFFile(model_path) as f:
        assert dq.prepare_load(f, device="cuda:0") is None  # unused: the loads are on the host
        dq.prepare_load(f, device="cpu")
    dq.prepare_load(model_path, device="cuda:0")  # a path: opened and closed
    dq.prepare_load(str(model_path), device="no-such-backend:3")  # the load's error, not this
    assert_same_tensors(dq.load_file(model_path, dtype="float32", progress=False), plain)


@requires_cuda
def test_prepare_then_cuda_load_equals_cpu(model_path):
    cpu = dq.load_file(model_path, dtype="float16", progress=False)
    with dq.GGUFFile(model_path) as f:
        dq.prepare_load(f, device="cuda:0")
    gpu = dq.load_file(model_path, device="cuda:0", dtype="float16", progress=False)
    assert_same_tensors({n: a.numpy() for n, a in gpu.items()}, cpu)


def test_off_by_environment_loads_the_same(model_path, monkeypatch):
    plain = dq.load_file(model_path, dtype="float16", progress=False)
    monkeypatch.setenv("DQ_LOAD_PREPARE", "0")
    dq.prepare_load(model_path, device="cuda:0")
    assert_same_tensors(dq.load_file(model_path, dtype="float16", progress=False), plain)


def test_load_file_hints_before_the_load(model_path, monkeypatch):
    log = CallLog(monkeypatch)
    log.wrap("dq_load_prepare")
    log.wrap("dq_load")
    dq.load_file(model_path, device="cpu", progress=False)
    assert log.names() == ["dq_load"]  # host memory: no staging, no hint
    log.calls.clear()
    try:
        dq.load_file(model_path, device="cuda:0", progress=False)
    except dq.DQError:
        assert not HAVE_CUDA  # no cuda backend: the load (not the hint) says so
    assert log.calls[0] == ("dq_load_prepare", b"cuda", 0)
    assert log.names() == ["dq_load_prepare", "dq_load"]


def test_torch_load_file_hints_before_torch_starts_cuda(model_path, monkeypatch):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import dq.torch  # noqa: F401 - registers dq.torch.load_file
    log = CallLog(monkeypatch)
    log.wrap("dq_load_prepare")
    log.wrap("dq_load")
    real_sync = torch.cuda.synchronize

    def synchronize(device=None):
        log.calls.append(("torch.cuda.synchronize",))
        if HAVE_CUDA:
            real_sync(device)

    monkeypatch.setattr(torch.cuda, "synchronize", synchronize)
    if not HAVE_CUDA:
        # Without a cuda device load_file refuses before any of these calls; skip that check
        # so the order is still checked here (the load itself then fails in dq_load).
        import dq.torch_load
        monkeypatch.setattr(dq.torch_load, "_require_dq_device", lambda *args: None)
    try:
        dq.torch.load_file(model_path, device="cuda:0", progress=False)
    except dq.DQError:
        assert not HAVE_CUDA  # no cuda backend: the load says so
    assert log.names() == ["dq_load_prepare", "torch.cuda.synchronize", "dq_load"]
    assert log.calls[0][1] == b"cuda"


def test_closed_file_is_refused(model_path):
    f = dq.GGUFFile(model_path)
    f.close()
    with pytest.raises(dq.DQError, match=f"prepare_load: .*{MODEL}: file is closed"):
        dq.prepare_load(f, device="cuda:0")


@pytest.mark.parametrize("device", ["tpu:x", "cpu:1", "cuda:-1", ":0", "cuda:4294967296"])
def test_bad_device_strings(model_path, device):
    with pytest.raises(dq.DQError, match=f"device '{device}'"):
        dq.prepare_load(model_path, device=device)


def test_not_a_model(tmp_path):
    with pytest.raises(dq.DQError, match="expected a path or a dq.GGUFFile, not 42"):
        dq.prepare_load(42)
    missing = tmp_path / "missing.gguf"
    with pytest.raises(dq.DQError, match="missing.gguf"):
        dq.prepare_load(missing)
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all")
    with pytest.raises(dq.DQError, match="bad.gguf"):
        dq.prepare_load(bad, device="cuda:0")


def test_library_errors_carry_status_and_message(model_path):
    # Options the load would refuse are refused by the hint too, with the library's message;
    # the public function never sets them, so this goes through the internal call.
    model = _load._Model(str(model_path))
    opts = _load._options_for("cuda", 0)
    opts.staging_budget = 4096
    with pytest.raises(dq.DQError, match=f"{MODEL}: staging_budget of 4096 bytes") as e:
        _load._prepare(model, opts, str(model_path))
    assert e.value.status == 4  # DQ_ERR_SIZE


# Loads MODEL to fakeasync:0 after a hint and compares it with a host load; prints how many
# staging-preparing threads ran right after the hint.
FAKE_SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import dq

    def preparing_threads():
        n = 0
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/comm") as f:
                n += f.read().strip() == "dq-prep-staging"
        return n

    path = sys.argv[1]
    host = dq.load_file(path, dtype="float16", progress=False)
    with dq.GGUFFile(path) as f:
        dq.prepare_load(f, device="fakeasync:0")
    print("preparing threads after the hint:", preparing_threads())
    dev = dq.load_file(path, device="fakeasync:0", dtype="float16", progress=False)
    same = list(dev) == list(host) and all(
        np.array_equal(dev[n].numpy().view(np.uint8), host[n].view(np.uint8)) for n in host)
    print("tensors:", len(host), "same:", same, flush=True)
""")


@pytest.mark.skipif(not HAVE_FAKE, reason=f"no fake device plugin at {FAKE_DIR} (build the "
                    "C++ tests, or set DQ_TEST_FAKEASYNC_DIR)")
@pytest.mark.parametrize("prepare", ["1", "0"])
def test_fake_device_adopts_the_prepared_ring(model_path, prepare):
    env = dict(os.environ, DQ_PLUGIN_PATH=str(FAKE_DIR), DQ_FAKEASYNC_HOST_REGISTER="1",
               DQ_LOAD_TRACE="1", DQ_LOAD_PREPARE=prepare,
               # The preparing thread waits this long first, so the load has to wait for it.
               DQ_LOAD_PREPARE_DELAY_MS="1000")
    r = subprocess.run([sys.executable, "-c", FAKE_SCRIPT, str(model_path)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr[-4000:]}"
    assert "same: True" in r.stdout, r.stdout
    if prepare == "1":
        assert "preparing threads after the hint: 1" in r.stdout, r.stdout
        assert "prepared on a background thread" in r.stderr, r.stderr[-4000:]
        waited = float(r.stderr.split("the load waited ")[1].split(" ms")[0])
        assert waited >= 200, r.stderr[-4000:]  # it adopted the hint's ring, still held back
    else:
        assert "preparing threads after the hint: 0" in r.stdout, r.stdout
        assert "prepared on a background thread" not in r.stderr, r.stderr[-4000:]
