"""dq.DeviceArray on backends other than cuda: load_file(device="vulkan:0") (or any non-CUDA
device) must never hand its memory out as CUDA memory. A Vulkan "pointer" is an address in dq's
own scheme; exported through __cuda_array_interface__ or DLPack as kDLCUDA, torch or cupy
would read (or write) whatever lies at that address on the GPU.

Checked in subprocesses (the backends are chosen when the library starts): on the fake
asynchronous device of the C++ tests, and on Vulkan through lavapipe when the package carries
the vulkan plugin and Mesa is installed."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import FAKE_DIR, HAVE_FAKE, NO_TESTDATA, TESTDATA

import dq

MODEL = "mini-llama-q4_k_m.gguf"

# Loads MODEL to DEVICE and checks what the arrays export; prints "checked N" at the end, or
# "no device: ..." when the backend has none in this process.
SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import dq

    path, device = sys.argv[1], sys.argv[2]
    backend = device.split(":")[0]
    found = [b for b in dq.backends() if b.name == backend and b.loaded and b.devices]
    if not found:
        print("no device:", [(b.name, b.loaded, b.status) for b in dq.backends()])
        sys.exit(0)
    host = dq.load_file(path, dtype="float16", progress=False)
    dev = dq.load_file(path, device=device, dtype="float16", progress=False)
    assert list(dev) == list(host)
    try:
        import torch
    except ImportError:
        torch = None
    for name, a in dev.items():
        assert isinstance(a, dq.DeviceArray) and isinstance(a, dq.CudaArray), type(a)
        assert (a.backend, a.device) == (backend, 0), (a.backend, a.device)
        assert f"device='{device}'" in repr(a), repr(a)
        assert not hasattr(a, "__cuda_array_interface__"), name
        for export in (a.__dlpack_device__, a.__dlpack__):
            try:
                export()
            except BufferError as e:
                assert f"on {device}" in str(e) and ".numpy()" in str(e), str(e)
            else:
                raise AssertionError(f"{name}: {export.__name__} exported {backend} memory")
        if torch is not None:
            try:
                t = torch.from_dlpack(a)
            except (BufferError, RuntimeError, TypeError, AttributeError):
                pass
            else:
                raise AssertionError(f"{name}: torch.from_dlpack made {t.device} tensor")
        assert np.array_equal(a.numpy().view(np.uint8), host[name].view(np.uint8)), name
        assert np.array_equal(np.asarray(a).view(np.uint8), host[name].view(np.uint8)), name
    print("checked", len(dev), flush=True)
""")


def run_script(device: str, env: dict) -> str:
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(TESTDATA / MODEL), device],
                       env=dict(os.environ, **env), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr[-4000:]}"
    if r.stdout.startswith("no device:"):
        pytest.skip(f"{device}: {r.stdout.strip()}")
    assert "checked " in r.stdout, r.stdout
    return r.stdout


@pytest.mark.skipif(not HAVE_FAKE, reason=f"no fake device plugin at {FAKE_DIR} (build the "
                    "C++ tests, or set DQ_TEST_FAKEASYNC_DIR)")
def test_fake_device_arrays_export_nothing():
    run_script("fakeasync:0", {"DQ_PLUGIN_PATH": str(FAKE_DIR)})


def test_vulkan_arrays_export_nothing():
    # lavapipe (Mesa's CPU Vulkan) is used only when asked for.
    run_script("vulkan:0", {"DQ_VULKAN_CPU": "1"})


def test_torch_load_file_refuses_devices_torch_cannot_hold_for_dq(monkeypatch):
    torch_load = pytest.importorskip("dq.torch_load")
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    opened = []
    monkeypatch.setattr(torch_load, "_Model", lambda path: opened.append(path))
    with pytest.raises(dq.DQError, match=r"device 'vulkan:0'.*dq\.load_file"):
        torch_load.load_file(TESTDATA / MODEL, device="vulkan:0")
    assert not opened  # refused before the file is opened or torch allocates anything


# Loads to vulkan:0 from several threads at once. One load's stream_destroy deleted a stream
# that another thread's drain_streams (host_unregister at the end of its load) had listed and
# was waiting on: a segfault on nearly every run. In a subprocess, so a crash is a failure.
CONCURRENT_SCRIPT = textwrap.dedent("""
    import sys, threading
    import numpy as np
    import dq

    path = sys.argv[1]
    if not [b for b in dq.backends() if b.name == "vulkan" and b.loaded and b.devices]:
        print("no device:", [(b.name, b.loaded, b.status) for b in dq.backends()])
        sys.exit(0)
    host = dq.load_file(path, dtype="float32", progress=False)
    wrong = []

    def work():
        for _ in range(8):
            dev = dq.load_file(path, device="vulkan:0", dtype="float32", progress=False)
            wrong.extend(n for n in host if not np.array_equal(dev[n].numpy(), host[n]))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("checked", len(host), "wrong:", wrong[:3], flush=True)
""")


def test_vulkan_loads_from_several_threads():
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    r = subprocess.run([sys.executable, "-c", CONCURRENT_SCRIPT, str(TESTDATA / MODEL)],
                       env=dict(os.environ, DQ_VULKAN_CPU="1"), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr[-4000:]}"
    if r.stdout.startswith("no device:"):
        pytest.skip(f"vulkan:0: {r.stdout.strip()}")
    assert "wrong: []" in r.stdout, r.stdout
