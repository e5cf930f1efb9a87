"""DLPack capsules outliving the interpreter's teardown of dq's modules.

A consumer frees its tensor whenever its own owner goes. A torch tensor made from a dq array
and kept in a global (of a module torn down after dq's) is freed during finalization, after dq._dlpack's
globals are gone; torch then reads the managed struct and calls its deleter. With those freed first, the process died
at exit (SIGSEGV or SIGILL: seen on the H100 after the CUDA tests, reproduced here on the CPU).

Each case runs in a subprocess, so a crash at exit is a failure. The capsules here describe
host memory (kDLCPU), which CPU torch consumes; dq exports device memory the same way."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch", reason="torch is not installed")

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import torch
    from dq import _dlpack

    def capsule():
        a = np.arange(1 << 16, dtype=np.float32)
        return _dlpack.make_capsule(a.ctypes.data, a.shape, a.dtype, _dlpack.KDL_CPU, 0, a,
                                    versioned=False)

    how = sys.argv[1]
    if how == "global":
        sys.kept = torch.utils.dlpack.from_dlpack(capsule())  # sys outlives dq's modules
    elif how == "unconsumed":
        sys.kept = capsule()  # its destructor releases it
    assert float(torch.utils.dlpack.from_dlpack(capsule()).sum()) == sum(range(1 << 16))
    print("done", how, flush=True)
""")


@pytest.mark.parametrize("how", ["global", "unconsumed"])
def test_a_tensor_alive_at_exit_ends_the_process_cleanly(how):
    r = subprocess.run([sys.executable, "-X", "faulthandler", "-c", SCRIPT, how],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert f"done {how}" in r.stdout
    assert "Exception ignored" not in r.stderr and "Fatal" not in r.stderr, r.stderr
